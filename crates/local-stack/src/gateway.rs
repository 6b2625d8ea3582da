//! An API Gateway REST API with Lambda proxy integrations (payload format
//! 1.0), and the router that also carries the Invoke API.
//!
//! A request matching a [`Route`] becomes an [`ApiGatewayProxyRequest`]
//! ([input format](https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format)),
//! the function is invoked synchronously and its [`ApiGatewayProxyResponse`]
//! ([output format](https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format))
//! becomes the HTTP response. Failures answer the way API Gateway does:
//! 403 `Missing Authentication Token` for an unknown route or method, 413 for
//! a body over 10 MB, 502 `Internal server error` when the function fails,
//! crashes, times out or returns a malformed response.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lambda_events::{
    apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext, ApiGatewayProxyResponse},
    encodings::Body as ProxyBody,
    query_map::QueryMap,
};
use axum::{
    Json, Router,
    extract::{ConnectInfo, Request, State},
    http::{
        HeaderMap, HeaderValue, Method, StatusCode,
        header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST, TRANSFER_ENCODING, USER_AGENT},
        request::Parts,
    },
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine as _, prelude::BASE64_STANDARD};
use bytes::Bytes;
use percent_encoding::percent_decode_str;

use crate::{
    ACCOUNT_ID, FunctionHost, LocalStackError,
    invoke::{self, INVOKE_PATH, read_body},
    runtime::{Invocation, Outcome, new_request_id},
};

/// Stage name used when the caller has no reason to pick another.
pub const DEFAULT_STAGE: &str = "local";

/// API Gateway's payload limit for a REST API request body.
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

/// The API id reported in `requestContext.apiId`.
const API_ID: &str = "local";

/// One method on one resource of the REST API, integrated with a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method; a method named `ANY` matches every method, as in
    /// API Gateway.
    pub method: Method,
    /// Resource template: literal segments, `{param}` segments and an
    /// optional trailing greedy `{param+}`, e.g.
    /// `/api/competitions/{competitionId}/clips/{clipId}`.
    pub path: String,
    /// Name of the function that serves it.
    pub function: String,
}

impl Route {
    pub fn new(method: Method, path: impl Into<String>, function: impl Into<String>) -> Self {
        Self { method, path: path.into(), function: function.into() }
    }
}

/// Builds the router serving the Invoke API at
/// `POST /2015-03-31/functions/{name}/invocations` and the REST API `routes`
/// (as its fallback) for `stage`.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so
/// `requestContext.identity.sourceIp` is the real peer. More routes (static
/// files) can be merged in; a router merged in must not bring its own
/// fallback, and calling `.fallback(..)` replaces the API gateway.
///
/// # Errors
///
/// [`LocalStackError::InvalidRoute`] for a malformed template or a route
/// naming a function not in `functions`, [`LocalStackError::InvalidStage`]
/// for an empty stage or one containing `/`.
pub fn gateway_router(
    functions: impl IntoIterator<Item = FunctionHost>,
    routes: Vec<Route>,
    stage: &str,
) -> Result<Router, LocalStackError> {
    if stage.is_empty() || stage.contains('/') {
        return Err(LocalStackError::InvalidStage(stage.to_owned()));
    }
    let functions: HashMap<_, _> = functions.into_iter().map(|host| (host.name().to_owned(), host)).collect();
    let routes = routes
        .into_iter()
        .map(|route| {
            if functions.contains_key(&route.function) {
                CompiledRoute::compile(route)
            } else {
                Err(LocalStackError::InvalidRoute {
                    reason: format!("function `{}` is not hosted", route.function),
                    method: route.method,
                    path: route.path,
                })
            }
        })
        .collect::<Result<_, _>>()?;
    let state = Arc::new(GatewayState { functions, routes, stage: stage.to_owned() });
    Ok(Router::new().route(INVOKE_PATH, post(invoke::invoke)).fallback(api_gateway).with_state(state))
}

/// What both HTTP surfaces share.
pub(crate) struct GatewayState {
    pub(crate) functions: HashMap<String, FunctionHost>,
    routes: Vec<CompiledRoute>,
    stage: String,
}

#[derive(Debug)]
struct CompiledRoute {
    route: Route,
    segments: Vec<Segment>,
    /// Orders overlapping matches the way API Gateway does: literal segments
    /// beat `{param}`, which beats `{param+}`, leftmost first; then a
    /// concrete method beats `ANY`.
    specificity: (Vec<u8>, bool),
    /// Stable stand-in for the API Gateway resource id.
    resource_id: String,
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 0,
            Self::Param(_) => 1,
            Self::Greedy(_) => 2,
        }
    }
}

fn is_any(method: &Method) -> bool {
    method.as_str() == "ANY"
}

impl CompiledRoute {
    /// Parses the route's template.
    fn compile(route: Route) -> Result<Self, LocalStackError> {
        let invalid = |reason: &str| LocalStackError::InvalidRoute {
            method: route.method.clone(),
            path: route.path.clone(),
            reason: reason.to_owned(),
        };
        let Some(rest) = route.path.strip_prefix('/') else {
            return Err(invalid("the path must start with `/`"));
        };
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for raw in rest.split('/') {
                let segment = match raw.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(raw.to_owned()),
                };
                let well_formed = match &segment {
                    Segment::Literal(literal) => !literal.is_empty() && !literal.contains(['{', '}']),
                    Segment::Param(name) | Segment::Greedy(name) => !name.is_empty() && !name.contains(['{', '}', '+']),
                };
                if !well_formed {
                    return Err(invalid(&format!("segment `{raw}` is malformed")));
                }
                if matches!(segments.last(), Some(Segment::Greedy(_))) {
                    return Err(invalid("a greedy `{param+}` must be the last segment"));
                }
                segments.push(segment);
            }
        }
        let specificity = (segments.iter().map(Segment::rank).collect(), is_any(&route.method));
        let resource_id = resource_id(&route.path);
        Ok(Self { route, segments, specificity, resource_id })
    }

    /// The decoded path parameters if `path` (still percent-encoded) fits.
    fn match_path(&self, path: &[&str]) -> Option<HashMap<String, String>> {
        let mut params = HashMap::new();
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Greedy(name) => {
                    let rest = path.get(index..).filter(|rest| !rest.is_empty())?;
                    params.insert(name.clone(), decode(&rest.join("/")));
                    return Some(params);
                }
                Segment::Literal(literal) => {
                    if decode(path.get(index)?) != *literal {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = path.get(index).filter(|value| !value.is_empty())?;
                    params.insert(name.clone(), decode(value));
                }
            }
        }
        (path.len() == self.segments.len()).then_some(params)
    }
}

fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// A six-character id derived from the template (FNV-1a), so it survives
/// restarts and route reordering like a deployed resource's id.
fn resource_id(template: &str) -> String {
    let hash = template
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..6).map(|i| char::from(ALPHABET[((hash >> (i * 6)) % 36) as usize])).collect()
}

async fn api_gateway(State(gateway): State<Arc<GatewayState>>, request: Request) -> Response {
    gateway.handle(request).await.unwrap_or_else(|err| error_response(&err))
}

impl GatewayState {
    fn find(&self, method: &Method, path: &str) -> Option<(&CompiledRoute, HashMap<String, String>)> {
        let trimmed = path.trim_matches('/');
        let segments: Vec<&str> = if trimmed.is_empty() { Vec::new() } else { trimmed.split('/').collect() };
        self.routes
            .iter()
            .filter(|route| route.route.method == *method || is_any(&route.route.method))
            .filter_map(|route| route.match_path(&segments).map(|params| (route, params)))
            .min_by(|(a, _), (b, _)| a.specificity.cmp(&b.specificity))
    }

    async fn handle(&self, request: Request) -> Result<Response, LocalStackError> {
        let (parts, body) = request.into_parts();
        let (route, path_parameters) = self.find(&parts.method, parts.uri.path()).ok_or_else(|| {
            LocalStackError::NoRoute { method: parts.method.clone(), path: parts.uri.path().to_owned() }
        })?;
        let body = read_body(body, MAX_REQUEST_BYTES).await?;
        let function = &route.route.function;
        let host = self.functions.get(function).ok_or_else(|| LocalStackError::FunctionNotFound(function.clone()))?;

        let event = self.proxy_request(route, path_parameters, &parts, body);
        let request_id = event.request_context.request_id.clone().unwrap_or_default();
        let payload = serde_json::to_vec(&event)
            .map_err(|source| LocalStackError::EncodeEvent { function: function.clone(), source })?;
        let invocation = host.invoke(Bytes::from(payload)).await?;
        let mut response = proxy_response(function, invocation)?;
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-amzn-requestid", value);
        }
        Ok(response)
    }

    fn proxy_request(
        &self,
        route: &CompiledRoute,
        path_parameters: HashMap<String, String>,
        parts: &Parts,
        body: Bytes,
    ) -> ApiGatewayProxyRequest {
        // The single-value maps keep the last value, as API Gateway does; the
        // multi-value maps keep all. Values that are not UTF-8 cannot be
        // represented in the JSON event and are left out.
        let mut headers = HeaderMap::new();
        let mut multi_value_headers = HeaderMap::new();
        for (name, value) in &parts.headers {
            if std::str::from_utf8(value.as_bytes()).is_ok() {
                multi_value_headers.append(name.clone(), value.clone());
                headers.insert(name.clone(), value.clone());
            }
        }
        let mut query: HashMap<String, String> = HashMap::new();
        let mut multi_value_query: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            query.insert(name.clone().into_owned(), value.clone().into_owned());
            multi_value_query.entry(name.into_owned()).or_default().push(value.into_owned());
        }
        let header_text =
            |name| parts.headers.get(name).and_then(|value: &HeaderValue| value.to_str().ok()).map(str::to_owned);
        let source_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "127.0.0.1".to_owned(), |info| info.0.ip().to_string());
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();

        let mut context = ApiGatewayProxyRequestContext::default();
        context.account_id = Some(ACCOUNT_ID.to_owned());
        context.resource_id = Some(route.resource_id.clone());
        context.stage = Some(self.stage.clone());
        context.domain_name = header_text(HOST);
        context.request_id = Some(new_request_id());
        context.protocol = Some(format!("{:?}", parts.version));
        context.identity.source_ip = Some(source_ip);
        context.identity.user_agent = header_text(USER_AGENT);
        context.resource_path = Some(route.route.path.clone());
        // The path the client called. The local gateway serves the API at the root, as a custom
        // domain without a base path does on AWS, so the stage is not part of it (on
        // execute-api's own domain it would be: `/Prod/api/clip`).
        context.path = Some(parts.uri.path().to_owned());
        context.http_method = parts.method.clone();
        context.request_time = Some(chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S %z").to_string());
        context.request_time_epoch = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
        context.apiid = Some(API_ID.to_owned());

        let (body, is_base64_encoded) = if body.is_empty() {
            (None, false)
        } else {
            match String::from_utf8(body.to_vec()) {
                Ok(text) => (Some(text), false),
                Err(_) => (Some(BASE64_STANDARD.encode(&body)), true),
            }
        };

        let mut event = ApiGatewayProxyRequest::default();
        event.resource = Some(route.route.path.clone());
        event.path = Some(parts.uri.path().to_owned());
        event.http_method = parts.method.clone();
        event.headers = headers;
        event.multi_value_headers = multi_value_headers;
        event.query_string_parameters = QueryMap::from(query);
        event.multi_value_query_string_parameters = QueryMap::from(multi_value_query);
        event.path_parameters = path_parameters;
        event.request_context = context;
        event.body = body;
        event.is_base64_encoded = is_base64_encoded;
        event
    }
}

/// Turns the function's answer into the client's response.
fn proxy_response(function: &str, invocation: Invocation) -> Result<Response, LocalStackError> {
    let payload = match invocation.outcome {
        Outcome::Response(payload) => payload,
        Outcome::FunctionError(error) => {
            return Err(LocalStackError::FunctionFailed {
                function: function.to_owned(),
                error_type: error.error_type,
                error_message: error.error_message,
            });
        }
    };
    let malformed = |reason: String| LocalStackError::MalformedProxyResponse { function: function.to_owned(), reason };
    let reply: ApiGatewayProxyResponse = serde_json::from_slice(&payload).map_err(|err| malformed(err.to_string()))?;
    let status = u16::try_from(reply.status_code)
        .ok()
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| malformed(format!("status code {} is invalid", reply.status_code)))?;
    let body = match reply.body {
        Some(ProxyBody::Text(text)) if reply.is_base64_encoded => {
            BASE64_STANDARD.decode(text).map_err(|err| malformed(format!("body is not valid base64: {err}")))?.into()
        }
        Some(ProxyBody::Text(text)) => Bytes::from(text),
        Some(ProxyBody::Binary(bytes)) => Bytes::from(bytes),
        _ => Bytes::new(),
    };

    // Both maps are merged; for a name in both, multiValueHeaders wins.
    let mut headers = reply.multi_value_headers;
    for name in reply.headers.keys() {
        if !headers.contains_key(name) {
            for value in reply.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    // Framing is the gateway's business, not the function's.
    for name in [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION] {
        headers.remove(name);
    }
    headers.entry(CONTENT_TYPE).or_insert(HeaderValue::from_static("application/json"));

    let mut response = (status, body).into_response();
    *response.headers_mut() = headers;
    Ok(response)
}

/// The API gateway's error mapping: API Gateway's status, `x-amzn-ErrorType`
/// and `{"message"}` body; the details go to the log only.
fn error_response(err: &LocalStackError) -> Response {
    let (status, error_type, message) = match err {
        LocalStackError::NoRoute { .. } => {
            (StatusCode::FORBIDDEN, "MissingAuthenticationTokenException", "Missing Authentication Token")
        }
        LocalStackError::PayloadTooLarge { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "RequestTooLargeException", "Request Too Long")
        }
        LocalStackError::ReadBody(_) => (StatusCode::BAD_REQUEST, "BadRequestException", "Bad Request"),
        LocalStackError::FunctionFailed { .. } | LocalStackError::MalformedProxyResponse { .. } => {
            (StatusCode::BAD_GATEWAY, "InternalServerErrorException", "Internal server error")
        }
        LocalStackError::ShuttingDown(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailableException", "Service Unavailable")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException", "Internal server error"),
    };
    if status.is_server_error() {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), "API gateway request failed");
    } else {
        tracing::debug!(error = %err, "API gateway request rejected");
    }
    (status, [("x-amzn-ErrorType", error_type)], Json(serde_json::json!({ "message": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(method: Method, path: &str) -> CompiledRoute {
        CompiledRoute::compile(Route::new(method, path, "f")).unwrap()
    }

    fn split(path: &str) -> Vec<&str> {
        path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect()
    }

    #[test]
    fn templates_match_and_decode_parameters() {
        let route = compiled(Method::GET, "/api/competitions/{competitionId}/clips/{clipId}");
        let params = route.match_path(&split("/api/competitions/c%201/clips/x%2Fy")).unwrap();
        assert_eq!(params["competitionId"], "c 1");
        assert_eq!(params["clipId"], "x/y");
        assert!(route.match_path(&split("/api/competitions/c1/clips")).is_none());
        assert!(route.match_path(&split("/api/competitions/c1/clips/a/b")).is_none());

        let greedy = compiled(Method::GET, "/media/{proxy+}");
        assert_eq!(greedy.match_path(&split("/media/a/b%20c.ts")).unwrap()["proxy"], "a/b c.ts");
        assert!(greedy.match_path(&split("/media")).is_none());

        let root = compiled(Method::GET, "/");
        assert!(root.match_path(&split("/")).is_some());
    }

    #[test]
    fn malformed_templates_are_rejected() {
        for path in ["api/x", "/api//x", "/{proxy+}/x", "/{}", "/a{b}", "/{a+b}"] {
            let result = CompiledRoute::compile(Route::new(Method::GET, path, "f"));
            assert!(matches!(result, Err(LocalStackError::InvalidRoute { .. })), "{path} should be rejected");
        }
    }

    #[test]
    fn literal_beats_parameter_beats_greedy() {
        let literal = compiled(Method::GET, "/clips/latest");
        let param = compiled(Method::GET, "/clips/{id}");
        let greedy = compiled(Method::GET, "/{proxy+}");
        let any = compiled(Method::from_bytes(b"ANY").unwrap(), "/clips/latest");
        assert!(literal.specificity < param.specificity);
        assert!(param.specificity < greedy.specificity);
        assert!(literal.specificity < any.specificity);
    }

    #[test]
    fn resource_ids_are_stable_and_short() {
        assert_eq!(resource_id("/api/x"), resource_id("/api/x"));
        assert_ne!(resource_id("/api/x"), resource_id("/api/y"));
        assert_eq!(resource_id("/api/x").len(), 6);
    }

    #[test]
    fn function_errors_and_malformed_replies_are_bad_gateway() {
        let invocation = |outcome| Invocation {
            request_id: "r".into(),
            outcome,
            timings: crate::Timings { queued: Default::default(), duration: Default::default(), init: None },
        };
        let failed = proxy_response(
            "f",
            invocation(Outcome::FunctionError(crate::FunctionError {
                error_type: "E".into(),
                error_message: "m".into(),
            })),
        )
        .unwrap_err();
        assert_eq!(error_response(&failed).status(), StatusCode::BAD_GATEWAY);
        let malformed = proxy_response("f", invocation(Outcome::Response(Bytes::from_static(b"[]")))).unwrap_err();
        assert_eq!(error_response(&malformed).status(), StatusCode::BAD_GATEWAY);
        let bad_status =
            proxy_response("f", invocation(Outcome::Response(Bytes::from_static(br#"{"statusCode": 7000}"#))))
                .unwrap_err();
        assert!(matches!(bad_status, LocalStackError::MalformedProxyResponse { .. }));
    }

    #[test]
    fn replies_merge_headers_and_decode_base64() {
        let reply = serde_json::json!({
            "statusCode": 201,
            "headers": { "x-single": "s", "x-both": "from-headers" },
            "multiValueHeaders": { "set-cookie": ["a=1", "b=2"], "x-both": ["from-multi"] },
            "body": BASE64_STANDARD.encode([0u8, 159, 146, 150]),
            "isBase64Encoded": true
        });
        let invocation = Invocation {
            request_id: "r".into(),
            outcome: Outcome::Response(serde_json::to_vec(&reply).unwrap().into()),
            timings: crate::Timings { queued: Default::default(), duration: Default::default(), init: None },
        };
        let response = proxy_response("f", invocation).unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let headers = response.headers();
        assert_eq!(headers["x-single"], "s");
        assert_eq!(headers.get_all("x-both").iter().collect::<Vec<_>>(), ["from-multi"]);
        assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(headers[CONTENT_TYPE], "application/json");
    }
}
