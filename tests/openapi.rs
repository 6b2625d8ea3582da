//! `openapi.yaml` against the API it describes. Fails when a route, a status, a header, a
//! parameter or a schema drifts on either side:
//!
//! - the documented routes are the ones the local stack's gateway serves and template.yaml
//!   deploys, with the same API key requirement;
//! - on a running local stack (the real function binaries behind the gateway), every documented
//!   status of every operation is provoked, and each answer's status, content type, headers and
//!   body are checked against the document; a status the document lacks fails, and so does a
//!   documented one that no case reaches (unless only API Gateway on AWS gives it);
//! - the examples in the document match their schemas.
//!
//! Objects of the document's schemas are checked closed (`additionalProperties: false` is added
//! where a schema leaves it open), so a member the functions add without documenting it fails
//! here while the published contract still lets clients ignore members they do not know.
//!
//! Needs the function binaries and dynalite, like the other stack tests:
//! `cargo build --workspace --bins && cargo test -p end-to-end --test openapi`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{SecondsFormat, Timelike, Utc};
use end_to_end::{TestStack, repo_root};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// The API's routes. The stack's gateway (crates/local-stack/src/stack.rs) and template.yaml
/// are compared with the document below; this list is what a reviewer reads.
const API_ROUTES: [(&str, &str); 3] = [
    ("POST", "/api/clip"),
    ("GET", "/api/competitions/{competitionId}/clips"),
    ("GET", "/api/competitions/{competitionId}/clips/{clipId}"),
];

/// Documented statuses that API Gateway on AWS gives before a function runs, so the local
/// stack cannot; each must be documented where it applies, but no case provokes it.
const AWS_ONLY_STATUSES: [(&str, &str); 2] = [
    ("403", "API Gateway checks the API key; the local stack has none"),
    ("429", "API Gateway's stage, method and usage plan throttling"),
];

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The competition the live cases make their clips in.
const COMPETITION: &str = "openapi-drift";

// ---------------------------------------------------------------- the document

struct Spec {
    doc: Value,
    /// `components`, closed (see the module docs), as every validator's `$ref` target.
    strict_components: Value,
    /// (METHOD, route, status) answers checked against the document so far.
    covered: RefCell<BTreeSet<(String, String, String)>>,
}

impl Spec {
    fn load() -> Self {
        let path = repo_root().join("openapi.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "OpenAPI 3.1 (JSON Schema 2020-12)");
        let mut strict_components = doc["components"].clone();
        close_objects(&mut strict_components);
        Self { doc, strict_components, covered: RefCell::default() }
    }

    fn routes(&self) -> BTreeSet<(String, String)> {
        let paths = self.doc["paths"].as_object().expect("paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| (m.to_uppercase(), path.clone()))
            })
            .collect()
    }

    fn operation(&self, method: &str, route: &str) -> &Value {
        let operation = &self.doc["paths"][route][method.to_lowercase()];
        assert!(operation.is_object(), "openapi.yaml has no {method} {route}");
        operation
    }

    /// Follows local `$ref`s (`#/components/...`) to the object they name.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("only local $refs: {reference}"));
            value = self.doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"));
        }
        value
    }

    /// The parameters of an operation, `$ref`s resolved, by name.
    fn parameters(&self, method: &str, route: &str) -> BTreeMap<String, &Value> {
        let listed = self.operation(method, route)["parameters"].as_array().into_iter().flatten();
        listed
            .map(|p| {
                let parameter = self.resolve(p);
                (parameter["name"].as_str().expect("parameter name").to_owned(), parameter)
            })
            .collect()
    }

    /// A validator for `schema`, whose `$ref`s point into `#/components`.
    fn validator(&self, schema: &Value) -> jsonschema::Validator {
        let mut schema = schema.clone();
        close_objects(&mut schema);
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.strict_components,
            "allOf": [schema],
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("openapi.yaml holds a schema that does not compile: {e}\n{root:#}"))
    }

    fn component_schema(&self, name: &str) -> Value {
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    /// Every reason `instance` breaks `schema`; empty when it fits.
    fn violations(&self, schema: &Value, instance: &Value) -> Vec<String> {
        self.validator(schema).iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// Checks one answer of `method route` against the document and returns its JSON body.
    fn check(&self, method: &str, route: &str, status: u16, headers: &HeaderMap, body: &[u8]) -> Value {
        let text = String::from_utf8_lossy(body).into_owned();
        let operation = self.operation(method, route);
        let documented: Vec<&String> = operation["responses"].as_object().expect("responses").keys().collect();
        let Some(response) = operation["responses"].get(status.to_string()) else {
            panic!("{method} {route} answered {status}, which openapi.yaml does not list ({documented:?}): {text}")
        };
        let response = self.resolve(response);
        let content = response["content"].as_object().expect("documented responses have content");
        assert_eq!(content.len(), 1, "{method} {route} {status}: one media type per answer");
        let (media_type, media) = content.iter().next().expect("one media type");
        let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        assert_eq!(essence, media_type, "{method} {route} {status}: Content-Type {content_type:?}");
        let json: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {route} {status}: body is not JSON ({e}): {text}"));
        let violations = self.violations(&media["schema"], &json);
        assert!(
            violations.is_empty(),
            "{method} {route} {status}: body breaks openapi.yaml:\n{violations:#?}\n{json:#}"
        );
        for (name, header) in response["headers"].as_object().into_iter().flatten() {
            let header = self.resolve(header);
            match headers.get(name.as_str()).map(|v| v.to_str().expect("ASCII header")) {
                Some(value) => {
                    let violations = self.violations(&header["schema"], &json!(value));
                    assert!(violations.is_empty(), "{method} {route} {status}: header {name}: {violations:?}");
                }
                None => assert!(header["required"] != true, "{method} {route} {status}: no {name} header"),
            }
        }
        self.covered.borrow_mut().insert((method.to_owned(), route.to_owned(), status.to_string()));
        json
    }

    /// Every (METHOD, route, status) the document lists.
    fn documented_answers(&self) -> BTreeSet<(String, String, String)> {
        self.routes()
            .into_iter()
            .flat_map(|(method, route)| {
                let statuses: Vec<String> = self.operation(&method, &route)["responses"]
                    .as_object()
                    .expect("responses")
                    .keys()
                    .cloned()
                    .collect();
                statuses.into_iter().map(move |status| (method.clone(), route.clone(), status))
            })
            .collect()
    }
}

/// Closes every object schema that lists its properties and says nothing of others.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let object_schema = map.get("type") == Some(&json!("object")) && map.contains_key("properties");
            if object_schema && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".to_owned(), json!(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

// ---------------------------------------------------------------- routes, without a stack

#[test]
fn the_documented_routes_are_the_ones_served_and_deployed() {
    let spec = Spec::load();
    let listed: BTreeSet<(String, String)> =
        API_ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(spec.routes(), listed, "openapi.yaml's routes (left) are not the API's (right)");
    assert_eq!(local_stack_routes(), listed, "crates/local-stack/src/stack.rs serves other routes than API_ROUTES");

    let deployed = template_routes();
    let documented: BTreeMap<(String, String), bool> = spec
        .routes()
        .into_iter()
        .map(|(method, route)| {
            let security = spec.operation(&method, &route).get("security").unwrap_or(&spec.doc["security"]);
            let needs_key = security.as_array().is_some_and(|s| s.iter().any(|r| r.get("apiKey").is_some()));
            ((method, route), needs_key)
        })
        .collect();
    assert_eq!(documented, deployed, "routes and API key requirement: openapi.yaml (left), template.yaml (right)");
}

/// The `Route::new(Method::X, "path", ..)` lines of the local stack: the gateway exposes no list.
fn local_stack_routes() -> BTreeSet<(String, String)> {
    let path = repo_root().join("crates/local-stack/src/stack.rs");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let routes: BTreeSet<(String, String)> = source
        .split("Route::new(Method::")
        .skip(1)
        .map(|rest| {
            let method = rest.split(',').next().expect("a method").trim().to_owned();
            let route = rest.split('"').nth(1).expect("a quoted path").to_owned();
            (method, route)
        })
        .collect();
    assert!(!routes.is_empty(), "no `Route::new(Method::..` in {}: update this scan", path.display());
    routes
}

/// The `Api` events of template.yaml's functions, with whether each requires the API key.
fn template_routes() -> BTreeMap<(String, String), bool> {
    let path = repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut routes = BTreeMap::new();
    for resource in resources.values().filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function")) {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else { continue };
        for event in events.values().filter(|e| e["Type"].as_str() == Some("Api")) {
            let properties = &event["Properties"];
            let method = properties["Method"].as_str().expect("Api event Method").to_uppercase();
            let route = properties["Path"].as_str().expect("Api event Path").to_owned();
            let needs_key = properties["Auth"]["ApiKeyRequired"].as_bool().unwrap_or(false);
            routes.insert((method, route), needs_key);
        }
    }
    routes
}

#[test]
fn the_documents_examples_match_their_schemas() {
    let spec = Spec::load();
    let mut checked = 0;
    let mut check = |what: String, schema: &Value, example: &Value| {
        let violations = spec.violations(schema, example);
        assert!(violations.is_empty(), "{what}: example breaks its schema: {violations:#?}");
        checked += 1;
    };
    for (name, schema) in spec.doc["components"]["schemas"].as_object().expect("schemas") {
        for example in schema["examples"].as_array().into_iter().flatten() {
            check(format!("schema {name}"), &spec.component_schema(name), example);
        }
    }
    let mut media_types = Vec::new();
    for (method, route) in spec.routes() {
        for (name, parameter) in spec.parameters(&method, &route) {
            if let Some(example) = parameter.get("example") {
                check(format!("{method} {route} parameter {name}"), &parameter["schema"], example);
            }
        }
        let operation = spec.operation(&method, &route);
        media_types.extend(operation["requestBody"]["content"].as_object().into_iter().flatten().map(|(_, m)| m));
        for response in operation["responses"].as_object().expect("responses").values() {
            media_types.extend(spec.resolve(response)["content"].as_object().into_iter().flatten().map(|(_, m)| m));
        }
    }
    for media in media_types {
        let examples = media["examples"].as_object().into_iter().flatten().map(|(_, e)| &e["value"]);
        for example in media.get("example").into_iter().chain(examples) {
            check("a media type".to_owned(), &media["schema"], example);
        }
    }
    assert!(checked >= 10, "only {checked} examples checked");
}

// ---------------------------------------------------------------- answers, on the local stack

/// Sends `request` and checks the answer against `method route` in the document.
async fn call(spec: &Spec, method: &str, route: &str, request: RequestBuilder) -> (u16, HeaderMap, Value) {
    let response = request.send().await.unwrap_or_else(|e| panic!("{method} {route}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body");
    let json = spec.check(method, route, status, &headers, &body);
    (status, headers, json)
}

fn with_query<K: AsRef<str>, V: AsRef<str>>(url: &str, pairs: &[(K, V)]) -> reqwest::Url {
    let pairs = pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref()));
    reqwest::Url::parse_with_params(url, pairs).expect("valid URL")
}

/// The fields a problem's `errors[]` names.
fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect()
}

async fn inject_fault(test: &TestStack, error_type: &str, count: u32) {
    let response = test
        .http
        .post(format!("{}/_local/faults", test.stack.harvester_url))
        .json(&json!({"operation": "CreateHarvestJob", "errorType": error_type, "count": count}))
        .send()
        .await
        .expect("fault switch");
    assert!(response.status().is_success(), "{:?}", response.text().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_answer_is_what_the_api_answers() {
    let spec = Spec::load();
    let test = TestStack::start().await;

    let ready = create_clip_answers(&spec, &test).await;
    list_clips_answers(&spec, &test).await;
    get_clip_answers(&spec, &test, &ready).await;
    undocumented_methods_are_not_served(&spec, &test).await;
    outages_the_stack_cannot_cause(&spec);

    let aws_only: BTreeSet<&str> = AWS_ONLY_STATUSES.iter().map(|(status, _)| *status).collect();
    let unreached: Vec<_> = spec
        .documented_answers()
        .into_iter()
        .filter(|answer| !spec.covered.borrow().contains(answer) && !aws_only.contains(answer.2.as_str()))
        .collect();
    assert!(unreached.is_empty(), "documented answers no case reached (add a case or drop them): {unreached:?}");
    test.shutdown().await;
}

const CREATE: (&str, &str) = ("POST", "/api/clip");

fn post(test: &TestStack, content_type: Option<&str>, body: String) -> RequestBuilder {
    let request = test.http.post(test.api(CREATE.1)).body(body);
    match content_type {
        Some(content_type) => request.header("content-type", content_type),
        None => request,
    }
}

/// POST /api/clip: 202, then every refusal. Returns the first clip once READY.
async fn create_clip_answers(spec: &Spec, test: &TestStack) -> Value {
    let (method, route) = CREATE;
    let rfc3339 = |at: chrono::DateTime<Utc>| at.to_rfc3339_opts(SecondsFormat::Secs, true);

    // Every documented member, so a member the document adds and the API lacks is refused here.
    let now = Utc::now().with_nanosecond(0).expect("whole second");
    let full = json!({
        "competition": COMPETITION,
        "title": "Photo finish",
        "description": "Made by the OpenAPI drift test",
        "start": rfc3339(now - chrono::Duration::seconds(40)),
        "end": rfc3339(now - chrono::Duration::seconds(22)),
        "duration": 18,
    });
    let members: BTreeSet<&String> = full.as_object().expect("object").keys().collect();
    let request_schema = spec.component_schema("ClipRequest");
    let documented = spec.doc["components"]["schemas"]["ClipRequest"]["properties"].as_object().expect("properties");
    assert_eq!(members, documented.keys().collect(), "the full request sends every documented member");
    assert!(spec.violations(&request_schema, &full).is_empty(), "the full request fits ClipRequest");
    let (status, headers, clip) =
        call(spec, method, route, post(test, Some("application/json; charset=utf-8"), full.to_string())).await;
    assert_eq!(status, 202, "{clip}");
    assert_eq!(clip["status"], "HARVESTING");
    let location = headers.get("location").and_then(|v| v.to_str().ok()).expect("Location").to_owned();
    let ready = test.wait_until_final(&location, Duration::from_secs(60)).await;
    assert_eq!(ready["status"], "READY", "{ready}");

    // Bodies both the API and the schema refuse, each naming the member at fault.
    let title = "t".repeat(201);
    let refused = [
        (json!({}), "competition"),
        (json!({"competition": "-starts-with-a-dash"}), "competition"),
        (json!({"competition": COMPETITION, "colour": "red"}), "colour"),
        (json!({"competition": COMPETITION, "title": title}), "title"),
        (json!({"competition": COMPETITION, "start": "yesterday"}), "start"),
        (json!({"competition": COMPETITION, "duration": 0}), "duration"),
        (json!({"competition": COMPETITION, "duration": 1.5}), "duration"),
        (json!({"competition": COMPETITION, "duration": "30"}), "duration"),
        (json!([COMPETITION]), "body"),
    ];
    for (body, field) in refused {
        assert!(!spec.violations(&request_schema, &body).is_empty(), "ClipRequest accepts {body}, the API does not");
        let (status, _, problem) =
            call(spec, method, route, post(test, Some("application/json"), body.to_string())).await;
        assert_eq!((status, fields(&problem)), (400, vec![field]), "{body}: {problem}");
    }
    let (status, _, problem) = call(spec, method, route, post(test, Some("application/json"), "{".to_owned())).await;
    assert_eq!((status, fields(&problem)), (400, vec!["body"]), "{problem}");

    // Idempotency-Key: a replay is the same clip, another body is 409, a bad key is 400.
    let keyed = |key: &str, duration: u32| {
        post(test, Some("application/json"), json!({"competition": COMPETITION, "duration": duration}).to_string())
            .header("idempotency-key", key)
    };
    let (first_status, _, first) = call(spec, method, route, keyed("drift-1", 20)).await;
    let (again_status, _, again) = call(spec, method, route, keyed("drift-1", 20)).await;
    assert_eq!((first_status, again_status, &again["id"]), (202, 202, &first["id"]), "{first} {again}");
    let (status, _, problem) = call(spec, method, route, keyed("drift-1", 21)).await;
    assert_eq!((status, fields(&problem)), (409, vec!["Idempotency-Key"]), "{problem}");
    let long_key = "k".repeat(256);
    let key_schema = &spec.parameters(method, route)["Idempotency-Key"]["schema"].clone();
    assert!(!spec.violations(key_schema, &json!(long_key)).is_empty(), "the documented key pattern takes 256 chars");
    let (status, _, problem) = call(spec, method, route, keyed(&long_key, 20)).await;
    assert_eq!((status, fields(&problem)), (400, vec!["Idempotency-Key"]), "{problem}");

    // Size and media type.
    let big = json!({"competition": COMPETITION, "description": "x".repeat(16 * 1024)}).to_string();
    let (status, _, problem) = call(spec, method, route, post(test, Some("application/json"), big)).await;
    assert_eq!(status, 413, "{problem}");
    for content_type in [Some("text/plain"), None] {
        let body = json!({"competition": COMPETITION}).to_string();
        let (status, _, problem) = call(spec, method, route, post(test, content_type, body)).await;
        assert_eq!((status, fields(&problem)), (415, vec!["Content-Type"]), "{content_type:?}: {problem}");
    }

    // MediaPackage refuses the job (422), then cannot be reached past the SDK's retries (503):
    // both leave the clip FAILED in the problem's `clip` member.
    let body = || json!({"competition": COMPETITION, "duration": 10}).to_string();
    inject_fault(test, "UnprocessableEntityException", 1).await;
    let (status, _, problem) = call(spec, method, route, post(test, Some("application/json"), body())).await;
    assert_eq!((status, &problem["clip"]["status"]), (422, &json!("FAILED")), "{problem}");
    inject_fault(test, "ServiceUnavailableException", 10).await;
    let (status, _, problem) = call(spec, method, route, post(test, Some("application/json"), body())).await;
    assert_eq!((status, &problem["clip"]["status"]), (503, &json!("FAILED")), "{problem}");
    test.http.delete(format!("{}/_local/faults", test.stack.harvester_url)).send().await.expect("clear faults");
    ready
}

/// GET /api/competitions/{competitionId}/clips: pages, every documented parameter, refusals.
async fn list_clips_answers(spec: &Spec, test: &TestStack) {
    let (method, route) = ("GET", "/api/competitions/{competitionId}/clips");
    let url = |competition: &str| test.api(&format!("/api/competitions/{competition}/clips"));

    // One clip a page, following nextCursor to the end.
    let mut cursor: Option<String> = None;
    let mut seen = 0;
    for _ in 0..20 {
        let mut query = vec![("limit", "1".to_owned())];
        query.extend(cursor.take().map(|c| ("cursor", c)));
        let (status, _, page) = call(spec, method, route, test.http.get(with_query(&url(COMPETITION), &query))).await;
        assert_eq!(status, 200, "{page}");
        seen += page["clips"].as_array().map_or(0, Vec::len);
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(seen >= 4 && cursor.is_none(), "{seen} clips; pages did not end");

    // Every documented query parameter at its documented example is accepted (the API refuses
    // parameters it does not know), and each one's bad values are refused by both sides.
    let parameters = spec.parameters(method, route);
    let query: Vec<(String, String)> = parameters
        .iter()
        .filter(|(_, p)| p["in"] == "query")
        .map(|(name, p)| {
            let example = p.get("example").unwrap_or_else(|| panic!("query parameter {name} has no example"));
            (name.clone(), example.as_str().map_or_else(|| example.to_string(), str::to_owned))
        })
        .collect();
    let (status, _, page) = call(spec, method, route, test.http.get(with_query(&url(COMPETITION), &query))).await;
    assert_eq!(status, 200, "{query:?}: {page}");

    // Every documented enum value and integer bound is accepted, one past a bound is refused.
    for (name, parameter) in parameters.iter().filter(|(_, p)| p["in"] == "query") {
        let schema = spec.resolve(&parameter["schema"]);
        let mut accepted: Vec<String> =
            schema["enum"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
        let mut past_bounds = Vec::new();
        if let (Some(min), Some(max)) = (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
            accepted.extend([min.to_string(), max.to_string()]);
            past_bounds.extend([(min - 1).to_string(), (max + 1).to_string()]);
        }
        for value in &accepted {
            let request = test.http.get(with_query(&url(COMPETITION), &[(name, value)]));
            let (status, _, page) = call(spec, method, route, request).await;
            assert_eq!(status, 200, "{name}={value}: {page}");
        }
        for value in &past_bounds {
            let request = test.http.get(with_query(&url(COMPETITION), &[(name, value)]));
            let (status, _, problem) = call(spec, method, route, request).await;
            assert_eq!((status, fields(&problem)), (400, vec![name.as_str()]), "{name}={value}: {problem}");
        }
    }

    let refused: [(&str, &str, &str); 7] = [
        ("limit", "ten", "limit"),
        ("cursor", "not-a-cursor", "cursor"),
        ("status", "ready", "status"),
        ("from", "today", "from"),
        ("to", "today", "to"),
        ("order", "up", "order"),
        ("colour", "red", "colour"),
    ];
    let refused_names: BTreeSet<&str> = refused.iter().map(|(name, _, _)| *name).collect();
    for (name, parameter) in &parameters {
        assert!(parameter["in"] != "query" || refused_names.contains(name.as_str()), "no refusal case for {name}");
    }
    for (name, value, field) in refused {
        // The cursor is opaque: its schema cannot tell a forged one.
        if let Some(parameter) = parameters.get(name).filter(|_| name != "cursor") {
            let as_json = value.parse::<i64>().map_or_else(|_| json!(value), |n| json!(n));
            assert!(!spec.violations(&parameter["schema"], &as_json).is_empty(), "{name}={value} fits its schema");
        }
        let (status, _, problem) =
            call(spec, method, route, test.http.get(with_query(&url(COMPETITION), &[(name, value)]))).await;
        assert_eq!((status, fields(&problem)), (400, vec![field]), "{name}={value}: {problem}");
    }
    let twice = test.http.get(with_query(&url(COMPETITION), &[("limit", "5"), ("limit", "6")]));
    let (status, _, problem) = call(spec, method, route, twice).await;
    assert_eq!((status, fields(&problem)), (400, vec!["limit"]), "{problem}");
    let (status, _, problem) = call(spec, method, route, test.http.get(url("_underscore-first"))).await;
    assert_eq!((status, fields(&problem)), (400, vec!["competitionId"]), "{problem}");
}

/// GET /api/competitions/{competitionId}/clips/{clipId}: 200, 404 and 400.
async fn get_clip_answers(spec: &Spec, test: &TestStack, ready: &Value) {
    let (method, route) = ("GET", "/api/competitions/{competitionId}/clips/{clipId}");
    let url = |competition: &str, id: &str| test.api(&format!("/api/competitions/{competition}/clips/{id}"));
    let id = ready["id"].as_str().expect("id");
    let (status, _, clip) = call(spec, method, route, test.http.get(url(COMPETITION, id))).await;
    assert_eq!((status, &clip["status"]), (200, &json!("READY")), "{clip}");
    for missing in ["20200101T000000Z-abcdefghjk", "not-a-clip-id"] {
        let (status, _, problem) = call(spec, method, route, test.http.get(url(COMPETITION, missing))).await;
        assert_eq!(status, 404, "{missing}: {problem}");
    }
    let (status, _, problem) = call(spec, method, route, test.http.get(url("_underscore-first", id))).await;
    assert_eq!((status, fields(&problem)), (400, vec!["competitionId"]), "{problem}");
}

/// API Gateway answers a method a resource does not have with 403 `Missing Authentication
/// Token` before any function runs; the local gateway does the same. Each documented path must
/// serve exactly its documented methods.
async fn undocumented_methods_are_not_served(spec: &Spec, test: &TestStack) {
    let documented = spec.routes();
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for route in paths {
        let concrete = route.replace("{competitionId}", COMPETITION).replace("{clipId}", "20200101T000000Z-abcdefghjk");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let response = test
                .http
                .request(Method::from_bytes(method.as_bytes()).expect("method"), test.api(&concrete))
                .send()
                .await
                .expect("probe");
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let refused_by_gateway = status == 403 && body.contains("Missing Authentication Token");
            let is_documented = documented.contains(&(method.to_owned(), route.clone()));
            assert_eq!(
                !refused_by_gateway, is_documented,
                "{method} {route}: documented {is_documented}, but the API answered {status} {body}"
            );
        }
    }
}

/// A catalogue outage (503 `store-unavailable`) needs DynamoDB to go away under a running
/// function, which the stack does not offer; the problem the functions would answer is made by
/// the same function they call (`clips::api::error_response`) and checked against each route.
fn outages_the_stack_cannot_cause(spec: &Spec) {
    use clips::error::{ClipError, StoreError};
    for (method, route) in API_ROUTES {
        let response = clips::api::error_response(&ClipError::Store(StoreError::Unavailable("dynamodb down".into())));
        let status = response.status().as_u16();
        let problem = spec.check(method, route, status, response.headers(), response.body().as_ref());
        assert_eq!(problem["type"], "https://live-clips.dev/problems/store-unavailable");
    }
}
