-- wrk script of scripts/load.sh. `-- create` makes each request a POST /api/clip of a short
-- window in a competition of its own (so no two requests share a DynamoDB partition or an id);
-- without it, wrk sends its plain GET. Either way one summary line closes the run.
local create = false
local sent = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  create = args[1] == "create"
end

function request()
  if not create then
    return wrk.request()
  end
  sent = sent + 1
  local body = string.format('{"competition":"load-%d-%d","duration":1}', id, sent)
  return wrk.format("POST", "/api/clip", { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local failed = errors.status + errors.connect + errors.read + errors.write + errors.timeout
  io.write(string.format("summary requests=%d seconds=%.1f rps=%.0f p50_ms=%.1f p99_ms=%.1f errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, failed))
end
