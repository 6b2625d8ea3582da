//! POST /api/clip.

use std::num::NonZeroU32;

use base64::Engine;
use chrono::{DateTime, Utc};
use http::StatusCode;
use http::header::{CONTENT_TYPE, LOCATION};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::{ClipView, clip_location, error_response, json_response, public_prefix};
use crate::config::CreateClipConfig;
use crate::domain::{CompetitionId, FieldError, WindowRequest};
use crate::error::ClipError;
use crate::ports::{Idempotency, ReadClips, StartHarvest, WriteClips};
use crate::workflow::{IdempotencyKey, NewClip, create_clip};

/// Larger bodies are refused before parsing: a clip request is a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
const MAX_TITLE_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2000;
const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;
const FIELDS: [&str; 6] = ["competition", "title", "description", "start", "end", "duration"];

/// Handles POST /api/clip: 202 with the HARVESTING clip and its `Location`, or a problem.
pub async fn create_clip_handler<S, H>(
    store: &S,
    harvester: &H,
    config: &CreateClipConfig,
    request: &Request,
    now: DateTime<Utc>,
) -> Response<Body>
where
    S: ReadClips + WriteClips + Idempotency,
    H: StartHarvest,
{
    let result = match parse_create_request(request) {
        Ok((new_clip, idempotency)) => create_clip(store, harvester, config, new_clip, idempotency, now).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(clip) => {
            let mut response = json_response(StatusCode::ACCEPTED, "application/json", &ClipView::from(&clip));
            if let Ok(location) = http::HeaderValue::from_str(&clip_location(&clip, &public_prefix(request))) {
                response.headers_mut().insert(LOCATION, location);
            }
            response
        }
        Err(err) => error_response(&err),
    }
}

/// Turns the HTTP request into a `NewClip`, checking everything a client controls.
///
/// # Errors
/// `ClipError::Invalid` naming each bad field, or the media-type and size refusals.
pub fn parse_create_request(request: &Request) -> Result<(NewClip, Option<IdempotencyKey>), ClipError> {
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ClipError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ClipError::UnsupportedMediaType);
    }
    let idempotency = idempotency_key(request, body)?;
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ClipError::invalid("body", format!("is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ClipError::invalid("body", "must be a JSON object"));
    };
    Ok((parse_fields(&fields)?, idempotency))
}

fn idempotency_key(request: &Request, body: &[u8]) -> Result<Option<IdempotencyKey>, ClipError> {
    let Some(value) = request.headers().get("idempotency-key") else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ClipError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"),
            )
        })?;
    let fingerprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(body));
    Ok(Some(IdempotencyKey { key: key.to_owned(), fingerprint }))
}

fn parse_fields(fields: &Map<String, Value>) -> Result<NewClip, ClipError> {
    let mut errors = Vec::new();
    for name in fields.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.push(FieldError::new(
            name.as_str(),
            format!("is not a known field (expected one of {})", FIELDS.join(", ")),
        ));
    }
    let competition = match fields.get("competition") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("competition", "is required"));
            None
        }
        Some(Value::String(s)) => {
            CompetitionId::parse(s).map_err(|e| errors.push(FieldError::new("competition", e.to_string()))).ok()
        }
        Some(_) => {
            errors.push(FieldError::new("competition", "must be a string"));
            None
        }
    };
    let title = text(fields, "title", MAX_TITLE_CHARS, &mut errors);
    let description = text(fields, "description", MAX_DESCRIPTION_CHARS, &mut errors);
    let start = instant(fields, "start", &mut errors);
    let end = instant(fields, "end", &mut errors);
    let duration = match fields.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64().map(u32::try_from) {
            Some(Ok(seconds)) => NonZeroU32::new(seconds).or_else(|| {
                errors.push(FieldError::new("duration", "must be at least 1 second"));
                None
            }),
            _ => {
                errors.push(FieldError::new("duration", "must be a whole number of seconds"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("duration", "must be a whole number of seconds"));
            None
        }
    };
    match competition {
        Some(competition) if errors.is_empty() => {
            Ok(NewClip { competition, title, description, window: WindowRequest { start, end, duration } })
        }
        _ => Err(ClipError::Invalid(errors)),
    }
}

fn text(fields: &Map<String, Value>, name: &str, max_chars: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() > max_chars => {
            errors.push(FieldError::new(name, format!("must be at most {max_chars} characters")));
            None
        }
        Some(Value::String(s)) if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            errors.push(FieldError::new(name, "must not contain control characters"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(FieldError::new(name, "must be a string"));
            None
        }
    }
}

fn instant(fields: &Map<String, Value>, name: &str, errors: &mut Vec<FieldError>) -> Option<DateTime<Utc>> {
    match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => Some(t.with_timezone(&Utc)),
            Err(_) => {
                errors.push(FieldError::new(name, "must be an RFC 3339 timestamp, e.g. 2026-11-21T09:30:00Z"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(name, "must be an RFC 3339 timestamp string"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Request as HttpRequest;

    fn request(body: &str, content_type: Option<&str>) -> Request {
        let mut builder = HttpRequest::builder().method("POST").uri("/api/clip");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    fn fields_of(result: Result<(NewClip, Option<IdempotencyKey>), ClipError>) -> Vec<String> {
        match result {
            Err(ClipError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_full_request_parses() {
        let (clip, key) = parse_create_request(&request(
            r#"{"competition":"final","title":"Gold","description":"d","start":"2026-11-21T09:30:00+01:00","duration":30}"#,
            Some("application/json; charset=utf-8"),
        ))
        .unwrap();
        assert_eq!(clip.competition.as_str(), "final");
        assert_eq!(clip.title.as_deref(), Some("Gold"));
        assert_eq!(clip.window.start.unwrap().to_rfc3339(), "2026-11-21T08:30:00+00:00");
        assert_eq!(clip.window.duration, NonZeroU32::new(30));
        assert_eq!(key, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{}"#, vec!["competition"]),
            (r#"{"competition":"a/b"}"#, vec!["competition"]),
            (r#"{"competition":7}"#, vec!["competition"]),
            (r#"{"competition":"a","extra":1}"#, vec!["extra"]),
            (r#"{"competition":"a","start":"yesterday"}"#, vec!["start"]),
            (r#"{"competition":"a","end":1700000000}"#, vec!["end"]),
            (r#"{"competition":"a","duration":"30"}"#, vec!["duration"]),
            (r#"{"competition":"a","duration":1.5}"#, vec!["duration"]),
            (r#"{"competition":"a","duration":-1}"#, vec!["duration"]),
            (r#"{"competition":"a","duration":0}"#, vec!["duration"]),
            (r#"{"competition":"a","duration":99999999999}"#, vec!["duration"]),
            (r#"{"competition":"a","title":5}"#, vec!["title"]),
            (r#"[1]"#, vec!["body"]),
            (r#"{"competition":"a""#, vec!["body"]),
        ];
        for (body, expected) in cases {
            assert_eq!(fields_of(parse_create_request(&request(body, Some("application/json")))), expected, "{body}");
        }
        let long_title = format!(r#"{{"competition":"a","title":"{}"}}"#, "é".repeat(201));
        assert_eq!(fields_of(parse_create_request(&request(&long_title, Some("application/json")))), ["title"]);
        let ok_title = format!(r#"{{"competition":"a","title":"{}"}}"#, "é".repeat(200));
        assert!(parse_create_request(&request(&ok_title, Some("application/json"))).is_ok());
        let long_description = format!(r#"{{"competition":"a","description":"{}"}}"#, "x".repeat(2001));
        assert_eq!(
            fields_of(parse_create_request(&request(&long_description, Some("application/json")))),
            ["description"]
        );
    }

    #[test]
    fn wrong_media_types_and_sizes_are_refused() {
        for ct in [None, Some("text/plain"), Some("application/jsonx")] {
            assert!(matches!(parse_create_request(&request("{}", ct)), Err(ClipError::UnsupportedMediaType)), "{ct:?}");
        }
        let big = format!(r#"{{"competition":"a","description":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            parse_create_request(&request(&big, Some("application/json"))),
            Err(ClipError::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn locations_keep_the_prefix_the_client_called() {
        // On execute-api's own domain the stage is in the called path but not the resource's.
        let aws = lambda_http::request::from_str(include_str!("../../../../events/api-create-clip.json")).unwrap();
        assert_eq!(public_prefix(&aws), "/Prod");
        let local = request("{}", Some("application/json"));
        assert_eq!(public_prefix(&local), "");
    }

    #[test]
    fn idempotency_keys_fingerprint_the_body() {
        let with_key = |key: &str, body: &str| {
            let mut r = request(body, Some("application/json"));
            r.headers_mut().insert("idempotency-key", key.parse().unwrap());
            parse_create_request(&r)
        };
        let a = with_key("k1", r#"{"competition":"a"}"#).unwrap().1.unwrap();
        let b = with_key("k1", r#"{"competition":"a"}"#).unwrap().1.unwrap();
        let c = with_key("k1", r#"{"competition":"b"}"#).unwrap().1.unwrap();
        assert_eq!(a, b);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(fields_of(with_key(&"k".repeat(256), r#"{"competition":"a"}"#)), ["Idempotency-Key"]);
    }
}
