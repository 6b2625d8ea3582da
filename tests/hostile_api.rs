//! Hostile input against the whole API over real HTTP: the local stack's gateway, the real
//! function binaries and dynalite. Requests are sent byte for byte as generated (a raw HTTP/1.1
//! connection, so `..`, `%2F` and odd header bytes reach the gateway as written, not as an HTTP
//! client would tidy them).
//!
//! Every answer must be below 500. A 4xx from a function must be a problem document whose
//! `status` is the HTTP status and whose `errors[]` names the field at fault: a body member, a
//! query parameter, a path parameter or a header, each one the request sent or the API knows.
//! Two 4xx have no field to name and are checked without one: 404 (no such clip) and 422
//! (MediaPackage refused a window the API found valid). The gateway's own 403 for a path or
//! method no route serves is API Gateway's answer (`{"message"}`, not a problem) and is only
//! allowed for requests that leave the three routes. Well-formed requests must succeed.
//!
//! Beside the generated requests: retries racing with one `Idempotency-Key`, and events that
//! process-harvested-clip must acknowledge without acting on (malformed, foreign, oversized,
//! half-filled, or with a manifest key that plays path tricks).
//!
//! Needs the function binaries and dynalite, like the other stack tests:
//! `cargo build --workspace --bins && cargo test -p end-to-end --test hostile_api`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use clips::api::Cursor;
use clips::domain::ClipId;
use end_to_end::TestStack;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

/// Generated requests per run: enough to reach every refusal of every route, few enough for the
/// run (each valid clip request starts a real harvest) to stay well under a minute.
const CASES: u32 = 1000;

const BODY_FIELDS: [&str; 6] = ["competition", "title", "description", "start", "end", "duration"];
const QUERY_PARAMETERS: [&str; 6] = ["limit", "cursor", "status", "from", "to", "order"];
/// Names a problem may give besides those the request itself used.
const API_FIELDS: [&str; 6] = ["body", "competitionId", "clipId", "Content-Type", "Idempotency-Key", "query"];

/// One generated request, as sent.
#[derive(Clone)]
struct Case {
    method: &'static str,
    /// Path and query, verbatim on the request line.
    target: String,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    /// The body's member names, which a problem may name (query parameters are read off `target`).
    members: Vec<String>,
    /// The request is one of the three routes; a gateway refusal (no route) is then a failure.
    routed: bool,
    /// The request is well-formed and must succeed.
    valid: bool,
}

impl Case {
    /// A listing of `competition`'s clips with these query parameters.
    fn list(competition: &str, pairs: &[(String, String)], routed: bool, valid: bool) -> Self {
        Self {
            method: "GET",
            target: format!("/api/competitions/{competition}/clips?{}", encode_query(pairs)),
            headers: Vec::new(),
            body: Vec::new(),
            members: Vec::new(),
            routed,
            valid,
        }
    }
}

/// Bytes as text, so a failing case reads as the request it was.
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}", self.method, self.target)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", String::from_utf8_lossy(value).escape_debug())?;
        }
        writeln!(f, "(members {:?}, routed {}, valid {})", self.members, self.routed, self.valid)?;
        write!(f, "\n{}", String::from_utf8_lossy(&self.body).escape_debug())
    }
}

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

// ---------------------------------------------------------------- strategies

/// Instants near now, in RFC 3339 and in the forms people get wrong.
fn instant() -> impl Strategy<Value = String> {
    let offset = prop_oneof![-600i64..600, -200_000i64..200_000, Just(i64::from(i32::MAX))];
    let written = (offset, 0usize..8).prop_map(|(seconds, form)| {
        let at = Utc::now() - chrono::Duration::seconds(seconds.min(86_400 * 365 * 100));
        match form {
            0 => at.to_rfc3339_opts(SecondsFormat::Secs, true),
            1 => at.to_rfc3339_opts(SecondsFormat::Nanos, true),
            2 => at.with_timezone(&chrono::FixedOffset::east_opt(-9 * 3600 - 1800).unwrap()).to_rfc3339(),
            3 => at.format("%Y-%m-%d %H:%M:%S").to_string(),
            4 => at.format("%Y-%m-%dt%H:%M:%Sz").to_string(),
            5 => at.timestamp().to_string(),
            6 => at.format("%Y-%m-%d").to_string(),
            _ => at.to_rfc2822(),
        }
    });
    prop_oneof![
        4 => written,
        1 => prop::sample::select(vec![
            "2026-02-30T00:00:00Z",
            "2026-12-31T23:59:60Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "-2026-11-21T09:30:00Z",
            "2026-11-21T09:30:00+24:00",
            "",
            "now",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Text as clients send it: ordinary, unicode, control characters, or very long.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 _-]{0,30}",
        "\\PC{0,40}",
        "[\\x00-\\x1f\\u{7f}\\u{2028}\\u{feff}a]{1,10}",
        (150usize..2500, prop::sample::select(vec!["x", "é", "🏃", "\u{301}"])).prop_map(|(n, s)| s.repeat(n)),
    ]
}

fn competition() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9_-]{0,20}"
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        text().prop_map(Value::from),
        instant().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value for one body member: mostly of the member's own kind, sometimes anything.
fn member(name: &str) -> BoxedStrategy<Value> {
    let own = match name {
        "competition" => prop_oneof![competition().prop_map(Value::from), text().prop_map(Value::from)].boxed(),
        "title" | "description" => text().prop_map(Value::from).boxed(),
        "start" | "end" => instant().prop_map(Value::from).boxed(),
        "duration" => prop_oneof![
            (-5i64..100_000).prop_map(Value::from),
            Just(json!(86_401)),
            Just(json!(1.5)),
            Just(json!(u64::MAX)),
            Just(json!("30")),
        ]
        .boxed(),
        _ => json_value().boxed(),
    };
    prop_oneof![4 => own, 1 => json_value()].boxed()
}

fn body_object() -> impl Strategy<Value = Map<String, Value>> {
    let names = prop_oneof![
        6 => prop::sample::select(BODY_FIELDS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["Competition", "extra", "__proto__", "dürätion", "", "start "]).prop_map(str::to_owned),
    ];
    prop::collection::vec(names, 0..7).prop_flat_map(|names| {
        let values: Vec<_> = names.iter().map(|n| member(n)).collect();
        (Just(names), values).prop_map(|(names, values)| names.into_iter().zip(values).collect())
    })
}

/// A body: a generated object, or bytes no JSON reader takes, or one past the size limit.
fn create_body() -> impl Strategy<Value = (Vec<u8>, Vec<String>)> {
    let names_of = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    prop_oneof![
        6 => body_object().prop_map(move |m| (Value::Object(m.clone()).to_string().into_bytes(), names_of(&m))),
        1 => body_object().prop_map(move |m| {
            let text = Value::Object(m.clone()).to_string();
            (text.as_bytes()[..text.len() / 2].to_vec(), names_of(&m))
        }),
        1 => prop::sample::select(vec![
            "", "null", "[]", "\"competition\"", "{\"competition\":\"a\",\"competition\":\"b\"}",
            "\u{feff}{\"competition\":\"bom\"}", "{\"duration\":1e400,\"competition\":\"a\"}", "{'competition':'a'}",
        ])
        .prop_map(|s| (s.as_bytes().to_vec(), Vec::new())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| (b, Vec::new())),
        1 => (1usize..6000).prop_map(|depth| (format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes(), Vec::new())),
        1 => (16_385usize..40_000).prop_map(|n| (format!("{{\"competition\":\"big\",\"title\":\"{}\"}}", "x".repeat(n)).into_bytes(), Vec::new())),
    ]
}

fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        6 => Just(Some(b"application/json".to_vec())),
        3 => prop::sample::select(vec![
            "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "", "application/problem+json",
            "application/jsonx", "multipart/form-data; boundary=x", "application/json; charset=latin1",
        ])
        .prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => Just(None),
        1 => Just(Some(b"application/\xffjson".to_vec())),
    ]
}

fn idempotency_key() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        4 => Just(None),
        2 => "[!-~]{1,40}".prop_map(|k| Some(k.into_bytes())),
        1 => prop::sample::select(vec!["", "has space", "tab\there"]).prop_map(|k| Some(k.as_bytes().to_vec())),
        1 => Just(Some("k".repeat(256).into_bytes())),
        1 => Just(Some(b"caf\xc3\xa9".to_vec())),
    ]
}

/// Headers no route asks for, which must change nothing.
fn stray_headers() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    prop::collection::vec(
        prop::sample::select(vec![
            ("accept", b"application/xml".to_vec()),
            ("content-encoding", b"gzip".to_vec()),
            ("x-forwarded-for", b"not an address".to_vec()),
            ("x-api-key", b"\x80\xff".to_vec()),
            ("cookie", "a=".repeat(2000).into_bytes()),
            ("idempotency-key", b"second-key".to_vec()),
        ]),
        0..3,
    )
}

fn create_case() -> impl Strategy<Value = Case> {
    (create_body(), content_type(), idempotency_key(), stray_headers()).prop_map(|((body, members), ct, key, stray)| {
        let mut headers: Vec<_> = ct.into_iter().map(|v| ("content-type", v)).collect();
        headers.extend(key.map(|k| ("idempotency-key", k)));
        headers.extend(stray);
        Case { method: "POST", target: "/api/clip".into(), headers, body, members, routed: true, valid: false }
    })
}

/// A clip request the API must accept: a recent window inside the origin's startover window.
fn valid_create_case(startover_seconds: i64) -> impl Strategy<Value = Case> {
    let oldest = (startover_seconds - 60).clamp(61, 900);
    let window = prop_oneof![
        Just(json!({})),
        (1i64..30).prop_map(|d| json!({"duration": d})),
        (40..oldest, 1i64..30).prop_map(|(ago, d)| {
            let start = Utc::now() - chrono::Duration::seconds(ago);
            json!({
                "start": start.to_rfc3339_opts(SecondsFormat::Millis, true),
                "end": (start + chrono::Duration::seconds(d)).to_rfc3339_opts(SecondsFormat::Secs, true),
            })
        }),
    ];
    let key = prop::option::of("[A-Za-z0-9]{24}");
    (competition(), prop::option::of("[A-Za-z0-9 ]{0,40}"), window, key).prop_map(
        |(competition, title, window, key)| {
            let mut body = json!({"competition": competition, "title": title});
            body.as_object_mut().unwrap().extend(window.as_object().unwrap().clone());
            let mut headers = vec![("content-type", b"application/json".to_vec())];
            headers.extend(key.map(|k| ("idempotency-key", k.into_bytes())));
            Case {
                method: "POST",
                target: "/api/clip".into(),
                headers,
                body: body.to_string().into_bytes(),
                members: Vec::new(),
                routed: true,
                valid: true,
            }
        },
    )
}

/// Clip ids of the API's own form, for clips that mostly do not exist.
const CLIP_ID: &str = "20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])T(0[0-9]|1[0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z-[0-9a-hjkmnp-tv-z]{10}";

/// A cursor in the API's own format for a made-up clip, or a forgery.
fn cursor() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => CLIP_ID.prop_map(|id| ClipId::parse(&id).map(|id| Cursor(id).encode()).unwrap_or(id)),
        1 => "[A-Za-z0-9_=+/-]{0,40}",
    ]
}

fn query_value(name: &str) -> BoxedStrategy<String> {
    let own = match name {
        "limit" => prop_oneof![
            (0u32..150).prop_map(|n| n.to_string()),
            Just("-1".into()),
            Just("1e2".into()),
            Just("99999999999999999999".into())
        ]
        .boxed(),
        "cursor" => cursor().boxed(),
        "status" => prop::sample::select(vec!["HARVESTING", "PACKAGING", "READY", "FAILED", "ready", "DELETED"])
            .prop_map(str::to_owned)
            .boxed(),
        "from" | "to" => instant().boxed(),
        "order" => prop::sample::select(vec!["asc", "desc", "ASC", "random"]).prop_map(str::to_owned).boxed(),
        _ => text().boxed(),
    };
    prop_oneof![4 => own, 1 => text()].boxed()
}

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    let names = prop_oneof![
        6 => prop::sample::select(QUERY_PARAMETERS.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["Limit", "page", "", "status[]", "from "]).prop_map(str::to_owned),
    ];
    prop::collection::vec(names, 0..6).prop_flat_map(|names| {
        let values: Vec<_> = names.iter().map(|n| query_value(n)).collect();
        (Just(names), values).prop_map(|(names, values)| names.into_iter().zip(values).collect())
    })
}

fn encode_query(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// A path segment: a competition or clip id, a wrong one, or one that tries to leave its place.
fn segment() -> impl Strategy<Value = (String, bool)> {
    let stays = prop_oneof![
        competition(),
        "[A-Za-z0-9_~-]{60,200}",
        "%[0-9A-F]{2}[a-z]{0,3}".prop_filter("an encoded slash may leave the route", |s| !s.starts_with("%2F")),
        "\\PC{1,12}".prop_map(|s| utf8_percent_encode(&s)),
    ];
    let leaves = prop::sample::select(vec!["..", ".", "%2e%2e", "a%2Fb", "%2F", "..%2F..%2Fetc", "a/b", ""])
        .prop_map(str::to_owned);
    prop_oneof![5 => stays.prop_map(|s| (s, true)), 1 => leaves.prop_map(|s| (s, false))]
}

fn utf8_percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn list_case() -> impl Strategy<Value = Case> {
    (segment(), query()).prop_map(|((competition, routed), pairs)| Case::list(&competition, &pairs, routed, false))
}

fn valid_list_case() -> impl Strategy<Value = Case> {
    let params = (
        prop::option::of((1u32..=100).prop_map(|n| n.to_string())),
        prop::option::of(prop::sample::select(vec!["HARVESTING", "PACKAGING", "READY", "FAILED"])),
        prop::option::of(prop::sample::select(vec!["asc", "desc"])),
        prop::option::of((0i64..7200, 0i64..7200)),
    );
    (competition(), params).prop_map(|(competition, (limit, status, order, span))| {
        let mut pairs: Vec<(String, String)> = Vec::new();
        pairs.extend(limit.map(|l| ("limit".into(), l)));
        pairs.extend(status.map(|s| ("status".into(), s.into())));
        pairs.extend(order.map(|o| ("order".into(), o.into())));
        if let Some((ago, length)) = span {
            let from = Utc::now() - chrono::Duration::seconds(ago);
            pairs.push(("from".into(), from.to_rfc3339_opts(SecondsFormat::Secs, true)));
            pairs.push(("to".into(), (from + chrono::Duration::seconds(length)).to_rfc3339()));
        }
        Case::list(&competition, &pairs, true, true)
    })
}

/// A cursor with bounds, each well-formed on its own, which together may not fit.
fn bounded_cursor_case() -> impl Strategy<Value = Case> {
    let bound = prop::option::of(
        (-7200i64..7200)
            .prop_map(|ago| (Utc::now() - chrono::Duration::seconds(ago)).to_rfc3339_opts(SecondsFormat::Secs, true)),
    );
    (competition(), cursor(), bound.clone(), bound).prop_map(|(competition, cursor, from, to)| {
        let mut pairs = vec![("cursor".to_owned(), cursor)];
        pairs.extend(from.map(|f| ("from".to_owned(), f)));
        pairs.extend(to.map(|t| ("to".to_owned(), t)));
        Case::list(&competition, &pairs, true, false)
    })
}

fn get_case() -> impl Strategy<Value = Case> {
    let id = prop_oneof![
        CLIP_ID.prop_map(|id| (id, true)),
        "[0-9]{8}T[0-9]{6}Z-[0-9a-z]{10}".prop_map(|id| (id, true)),
        segment(),
    ];
    (segment(), id).prop_map(|((competition, c_routed), (id, id_routed))| Case {
        method: "GET",
        target: format!("/api/competitions/{competition}/clips/{id}"),
        headers: Vec::new(),
        body: Vec::new(),
        members: Vec::new(),
        routed: c_routed && id_routed,
        valid: false,
    })
}

/// Paths and methods beside the routes: traversal, encoded slashes, doubled slashes, case.
fn stray_case() -> impl Strategy<Value = Case> {
    let target = prop::sample::select(vec![
        "/api/competitions/../clip",
        "/api/competitions/%2e%2e/%2e%2e/clip",
        "/api/clip/../competitions/x/clips",
        "/api//clip",
        "/api/clip/",
        "/API/CLIP",
        "/api/competitions/x/clips/",
        "/api/competitions/x/clips/a/b",
        "/api/competitions/x%2Fclips",
        "/api/competitions/x/clips?limit=%ZZ&&=&",
        "/api/competitions",
        "/../../etc/passwd",
        "/api/clip?competition=x",
        "*",
    ]);
    let method = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]);
    (target, method, create_body()).prop_map(|(target, method, (body, members))| Case {
        method,
        target: target.into(),
        headers: vec![("content-type", b"application/json".to_vec())],
        body,
        members,
        routed: false,
        valid: false,
    })
}

fn any_case(startover_seconds: i64) -> impl Strategy<Value = Case> {
    prop_oneof![
        4 => create_case(),
        2 => valid_create_case(startover_seconds),
        3 => list_case(),
        2 => valid_list_case(),
        1 => bounded_cursor_case(),
        2 => get_case(),
        1 => stray_case(),
    ]
}

// ---------------------------------------------------------------- sending and judging

async fn send(api: &str, case: &Case) -> Result<Answer, String> {
    let authority = api.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&authority).await.map_err(|e| format!("connect: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder().method(case.method).uri(&case.target).header("host", authority);
    for (name, value) in &case.headers {
        request = request.header(*name, hyper::header::HeaderValue::from_bytes(value).map_err(|e| e.to_string())?);
    }
    let request = request.body(Full::new(Bytes::from(case.body.clone()))).map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(30), sender.send_request(request))
        .await
        .map_err(|_| "no answer within 30 s".to_owned())?
        .map_err(|e| format!("request: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
    Ok(Answer { status: parts.status.as_u16(), headers: parts.headers, body })
}

fn header<'a>(answer: &'a Answer, name: &str) -> &'a str {
    answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn judge(case: &Case, answer: &Answer) -> Result<(), TestCaseError> {
    let status = answer.status;
    let body = String::from_utf8_lossy(&answer.body);
    prop_assert!(status < 500, "server error {status}: {body}");
    prop_assert!(!case.valid || (200..300).contains(&status), "a well-formed request was refused, {status}: {body}");
    let json: Value = serde_json::from_slice(&answer.body)
        .map_err(|e| TestCaseError::fail(format!("{status}, not JSON ({e}): {body}")))?;
    match status {
        200 | 202 => {
            prop_assert!(header(answer, "content-type").starts_with("application/json"), "{status} content type");
            if status == 202 {
                prop_assert!(json["id"].is_string(), "a created clip has an id: {json}");
                prop_assert!(
                    header(answer, "location").ends_with(json["id"].as_str().unwrap_or("?")),
                    "Location of {json}"
                );
            }
        }
        400..=499 if answer.headers.contains_key("x-amzn-errortype") => {
            prop_assert!(!case.routed, "the gateway refused a request for a route, {status}: {body}");
            prop_assert!(json["message"].is_string(), "the gateway's answer has a message: {body}");
        }
        400..=499 => {
            prop_assert_eq!(header(answer, "content-type"), "application/problem+json");
            prop_assert_eq!(json["status"].as_u64(), Some(u64::from(status)), "problem status: {}", body);
            prop_assert!(json["type"].as_str().is_some_and(|t| t.starts_with("https://live-clips.dev/problems/")));
            prop_assert!(json["title"].is_string() && json["detail"].is_string(), "problem members: {body}");
            if status == 404 || status == 422 {
                return Ok(());
            }
            let errors = json["errors"].as_array().filter(|e| !e.is_empty());
            prop_assert!(errors.is_some(), "a {status} names no field: {body}");
            let query = case.target.split_once('?').map_or("", |(_, query)| query);
            let parameters: Vec<String> =
                url::form_urlencoded::parse(query.as_bytes()).map(|(name, _)| name.into_owned()).collect();
            let known: BTreeSet<&str> = BODY_FIELDS
                .iter()
                .chain(&QUERY_PARAMETERS)
                .chain(&API_FIELDS)
                .copied()
                .chain(case.members.iter().chain(&parameters).map(String::as_str))
                .collect();
            for error in errors.into_iter().flatten() {
                let field = error["field"].as_str().unwrap_or_default();
                prop_assert!(known.contains(field), "field {field:?} is none the request used: {body}");
                prop_assert!(
                    error["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "a field error says what is wrong: {body}"
                );
            }
        }
        _ => prop_assert!(false, "unexpected status {status}: {body}"),
    }
    Ok(())
}

#[test]
fn no_input_gets_a_server_error_and_every_refusal_names_its_field() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let test = runtime.block_on(TestStack::start());
    let api = test.stack.api_url.clone();
    let mut runner = TestRunner::new(Config { cases: CASES, failure_persistence: None, ..Config::default() });
    let seen = RefCell::new(BTreeMap::<u16, u32>::new());
    let outcome = runner.run(&any_case(i64::from(test.stack.startover_window_seconds)), |case| {
        let answer = runtime.block_on(send(&api, &case)).map_err(TestCaseError::fail)?;
        *seen.borrow_mut().entry(answer.status).or_default() += 1;
        judge(&case, &answer)
    });
    // The functions are still there after all of it.
    let (status, _) = runtime.block_on(test.get_json("/api/competitions/after-the-storm/clips"));
    runtime.block_on(test.shutdown());
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    assert_eq!(status, 200);
    // The generators reach every answer of the routes; a narrowed one would pass unnoticed.
    let seen = seen.into_inner();
    println!("answers by status: {seen:?}");
    for expected in [200, 202, 400, 403, 404, 413, 415] {
        assert!(seen.contains_key(&expected), "no case was answered {expected}: {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_idempotency_key_make_one_clip() {
    let test = Arc::new(TestStack::start().await);
    let body = json!({"competition": "retries", "duration": 5});
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let test = Arc::clone(&test);
            let body = body.to_string();
            tokio::spawn(async move {
                let response = test
                    .http
                    .post(test.api("/api/clip"))
                    .header("content-type", "application/json")
                    .header("idempotency-key", "retry-storm-1")
                    .body(body)
                    .send()
                    .await
                    .expect("POST /api/clip");
                (response.status().as_u16(), response.json::<Value>().await.expect("JSON body"))
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for attempt in attempts {
        let (status, clip) = attempt.await.expect("attempt");
        assert_eq!(status, 202, "{clip}");
        ids.insert(clip["id"].as_str().expect("clip id").to_owned());
    }
    assert_eq!(ids.len(), 1, "one key, one clip: {ids:?}");

    let other = test
        .http
        .post(test.api("/api/clip"))
        .header("content-type", "application/json")
        .header("idempotency-key", "retry-storm-1")
        .body(json!({"competition": "retries", "duration": 6}).to_string())
        .send()
        .await
        .expect("POST /api/clip");
    assert_eq!(other.status().as_u16(), 409);
    let problem: Value = other.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key", "{problem}");
    let (_, list) = test.get_json("/api/competitions/retries/clips").await;
    assert_eq!(list["clips"].as_array().map(Vec::len), Some(1), "{list}");
    Arc::into_inner(test).expect("every attempt has finished").shutdown().await;
}

/// Events process-harvested-clip must acknowledge without acting: EventBridge retries an event
/// whose invocation fails, so a refusal here would be a crash loop.
fn hostile_events(clip_key: &str) -> Vec<(&'static str, Value)> {
    let harvest = |status: &str, key: &str, message: &str| {
        let mut event = end_to_end::sample_event("harvest-failed.json");
        event["detail"]["harvest_job"]["status"] = json!(status);
        event["detail"]["harvest_job"]["s3_destination"]["manifest_key"] = json!(key);
        event["detail"]["message"] = json!(message);
        event
    };
    let (competition_id, manifest) = clip_key.split_once('/').expect("competition/id/index.m3u8");
    let mut half_filled = harvest("FAILED", clip_key, "half");
    half_filled["detail"]["harvest_job"].as_object_mut().unwrap().remove("s3_destination");
    let mut playable_without_asset = end_to_end::sample_event("vod-asset-playable.json");
    playable_without_asset["resources"] = json!([]);
    let mut untyped = end_to_end::sample_event("harvest-succeeded.json");
    untyped["detail"]["harvest_job"]["s3_destination"]["manifest_key"] = json!(42);
    vec![
        ("null", Value::Null),
        ("a string", json!("SUCCEEDED")),
        ("an array", json!([1, 2, 3])),
        ("an empty object", json!({})),
        ("a foreign event", end_to_end::sample_event("foreign-event.json")),
        ("a half-filled harvest event", half_filled),
        ("a manifest key of the wrong type", untyped),
        ("a VOD event naming no asset", playable_without_asset),
        (
            "an oversized event",
            harvest("FAILED", "clips/events/20261121T093000Z-abcdefghjk/index.m3u8", &"x".repeat(1 << 20)),
        ),
        ("a key climbing out of the prefix", harvest("FAILED", &format!("clips/../clips/{clip_key}"), "tricked")),
        ("a key climbing back in", harvest("FAILED", &format!("clips/{competition_id}/x/../{manifest}"), "tricked")),
        ("a key of another prefix", harvest("FAILED", &format!("other/{clip_key}"), "tricked")),
        ("a key with a doubled slash", harvest("FAILED", &format!("clips//{clip_key}"), "tricked")),
        ("an absolute key", harvest("FAILED", &format!("/clips/{clip_key}"), "tricked")),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_events_are_acknowledged_and_path_tricks_touch_no_clip() {
    let test = TestStack::start().await;
    let (status, location, clip) = test.post_clip(&json!({"competition": "events", "duration": 5})).await;
    assert_eq!(status, 202, "{clip}");
    let location = location.expect("Location");
    let clip_key = format!("events/{}/index.m3u8", clip["id"].as_str().expect("id"));
    for (what, event) in hostile_events(&clip_key) {
        let (status, error, body) = test.invoke("process-harvested-clip", &event).await;
        assert_eq!((status, error.as_deref()), (200, None), "{what}: {body}");
    }
    let clip = test.wait_until_final(&location, Duration::from_secs(60)).await;
    assert_eq!(clip["status"], "READY", "only the clip's own harvest moved it: {clip}");
    test.shutdown().await;
}
