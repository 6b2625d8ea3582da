//! GET /api/competitions/{competitionId}/clips[/{clipId}].

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use super::{ClipView, error_response, json_response};
use crate::domain::{ClipId, ClipKey, ClipStatus, CompetitionId, FieldError};
use crate::error::ClipError;
use crate::ports::{ClipQuery, ReadClips};

const DEFAULT_LIMIT: u16 = 25;
const MAX_LIMIT: u16 = 100;
const PARAMETERS: [&str; 6] = ["limit", "cursor", "status", "from", "to", "order"];

/// The opaque `nextCursor`: the last clip id of a page, versioned so its form can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub ClipId);

const CURSOR_VERSION: &str = "v1:";

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{}", self.0))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        ClipId::parse(text.strip_prefix(CURSOR_VERSION)?).ok().map(Self)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClipList<'a> {
    clips: Vec<ClipView<'a>>,
    next_cursor: Option<String>,
}

fn competition(request: &Request) -> Result<CompetitionId, ClipError> {
    let params = request.path_parameters();
    let value = params.first("competitionId").unwrap_or_default();
    CompetitionId::parse(value).map_err(|e| ClipError::invalid("competitionId", e.to_string()))
}

/// Handles GET /api/competitions/{competitionId}/clips.
pub async fn list_clips_handler<S: ReadClips>(store: &S, request: &Request) -> Response<Body> {
    let query = competition(request).and_then(|competition| {
        let params = request.query_string_parameters();
        let pairs: Vec<(&str, Vec<&str>)> =
            params.iter().map(|(name, _)| (name, params.all(name).unwrap_or_default())).collect();
        parse_list_query(competition, &pairs.into_iter().collect())
    });
    let page = match query {
        Ok(query) => store.query(&query).await.map_err(ClipError::from),
        Err(err) => Err(err),
    };
    match page {
        Ok(page) => json_response(
            StatusCode::OK,
            "application/json",
            &ClipList {
                clips: page.clips.iter().map(ClipView::from).collect(),
                next_cursor: page.last_evaluated.map(|id| Cursor(id).encode()),
            },
        ),
        Err(err) => error_response(&err),
    }
}

/// Reads the list query string. Unknown or repeated parameters are refused, so a typo is
/// reported instead of silently returning an unfiltered list.
///
/// # Errors
/// `ClipError::Invalid` naming every bad parameter.
pub fn parse_list_query(competition: CompetitionId, params: &HashMap<&str, Vec<&str>>) -> Result<ClipQuery, ClipError> {
    let mut errors = Vec::new();
    let mut single = |name: &'static str| -> Option<&str> {
        match params.get(name).map(Vec::as_slice) {
            None | Some([]) => None,
            Some([one]) => Some(one),
            Some(_) => {
                errors.push(FieldError::new(name, "must be given once"));
                None
            }
        }
    };
    let (limit, cursor, status, from, to, order) =
        (single("limit"), single("cursor"), single("status"), single("from"), single("to"), single("order"));
    for name in params.keys().filter(|n| !PARAMETERS.contains(n)) {
        // `?=5` carries a parameter with no name, which cannot name itself.
        let (field, what) = if name.is_empty() {
            ("query", "has a parameter with no name")
        } else {
            (*name, "is not a known parameter")
        };
        errors.push(FieldError::new(field, format!("{what} (expected one of {})", PARAMETERS.join(", "))));
    }
    let mut check = |name: &str, message: &str, ok: bool| {
        if !ok {
            errors.push(FieldError::new(name, message));
        }
    };
    let limit_value = limit.map_or(Ok(DEFAULT_LIMIT), str::parse::<u16>);
    check("limit", "must be a whole number from 1 to 100", matches!(limit_value, Ok(1..=MAX_LIMIT)));
    let after = cursor.map(Cursor::decode);
    check("cursor", "is not a cursor this API returned", !matches!(after, Some(None)));
    let status_value = status.map(ClipStatus::parse);
    check("status", "must be one of HARVESTING, PACKAGING, READY, FAILED", !matches!(status_value, Some(None)));
    let parse_time = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).ok();
    let (from_value, to_value) = (from.map(parse_time), to.map(parse_time));
    check("from", "must be an RFC 3339 timestamp", !matches!(from_value, Some(None)));
    check("to", "must be an RFC 3339 timestamp", !matches!(to_value, Some(None)));
    if let (Some(Some(f)), Some(Some(t))) = (from_value, to_value) {
        check("to", "must not be before from", f <= t);
    }
    // A cursor is the last key a page read, so it lies within that listing's from/to. One from
    // another listing would be a start key outside the key condition, which DynamoDB refuses
    // as a whole query.
    if let Some(Some(Cursor(id))) = &after {
        let after_from = from_value.flatten().is_none_or(|f| id.as_str() >= ClipId::lower_bound(f).as_str());
        let before_to = to_value.flatten().is_none_or(|t| id.as_str() <= ClipId::upper_bound(t).as_str());
        check("cursor", "belongs to a listing with another from or to", after_from && before_to);
    }
    check("order", "must be asc or desc", matches!(order, None | Some("asc" | "desc")));
    if !errors.is_empty() {
        return Err(ClipError::Invalid(errors));
    }
    Ok(ClipQuery {
        competition,
        limit: limit_value.unwrap_or(DEFAULT_LIMIT),
        after: after.flatten().map(|c| c.0),
        newest_first: order != Some("asc"),
        status: status_value.flatten(),
        from: from_value.flatten(),
        to: to_value.flatten(),
    })
}

/// Handles GET /api/competitions/{competitionId}/clips/{clipId}.
pub async fn get_clip_handler<S: ReadClips>(store: &S, request: &Request) -> Response<Body> {
    let key = competition(request).and_then(|competition| {
        let params = request.path_parameters();
        // An id that cannot exist is simply not found: it names no clip.
        let id = ClipId::parse(params.first("clipId").unwrap_or_default()).map_err(|_| ClipError::NotFound)?;
        Ok(ClipKey { competition, id })
    });
    let clip = match key {
        Ok(key) => store.get(&key).await.map_err(ClipError::from).and_then(|c| c.ok_or(ClipError::NotFound)),
        Err(err) => Err(err),
    };
    match clip {
        Ok(stored) => json_response(StatusCode::OK, "application/json", &ClipView::from(&stored.clip)),
        Err(err) => error_response(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&'static str, &'static str)]) -> Result<ClipQuery, ClipError> {
        let mut params: HashMap<&str, Vec<&str>> = HashMap::new();
        for (k, v) in pairs {
            params.entry(*k).or_default().push(*v);
        }
        parse_list_query(CompetitionId::parse("final").unwrap(), &params)
    }

    fn bad_fields(pairs: &[(&'static str, &'static str)]) -> Vec<String> {
        match parse(pairs) {
            Err(ClipError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_are_newest_first_25() {
        let query = parse(&[]).unwrap();
        assert_eq!((query.limit, query.newest_first, query.after, query.status), (25, true, None, None));
    }

    #[test]
    fn every_parameter_parses() {
        let cursor = Cursor(ClipId::parse("20261121T093000Z-abcdefghjk").unwrap());
        let encoded: &'static str = Box::leak(cursor.encode().into_boxed_str());
        let query = parse(&[
            ("limit", "100"),
            ("cursor", encoded),
            ("status", "READY"),
            ("from", "2026-11-21T09:00:00Z"),
            ("to", "2026-11-21T11:00:00+01:00"),
            ("order", "asc"),
        ])
        .unwrap();
        assert_eq!(query.limit, 100);
        assert_eq!(query.after, Some(cursor.0));
        assert_eq!(query.status, Some(ClipStatus::Ready));
        assert!(!query.newest_first);
        assert_eq!(query.to.unwrap().to_rfc3339(), "2026-11-21T10:00:00+00:00");
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(bad_fields(&[("limit", "0")]), ["limit"]);
        assert_eq!(bad_fields(&[("limit", "101")]), ["limit"]);
        assert_eq!(bad_fields(&[("limit", "ten")]), ["limit"]);
        assert_eq!(bad_fields(&[("cursor", "garbage!")]), ["cursor"]);
        assert_eq!(bad_fields(&[("status", "ready")]), ["status"]);
        assert_eq!(bad_fields(&[("from", "today")]), ["from"]);
        assert_eq!(bad_fields(&[("from", "2026-11-21T10:00:00Z"), ("to", "2026-11-21T09:00:00Z")]), ["to"]);
        assert_eq!(bad_fields(&[("order", "up")]), ["order"]);
        let cursor: &'static str =
            Box::leak(Cursor(ClipId::parse("20261121T093000Z-abcdefghjk").unwrap()).encode().into_boxed_str());
        assert_eq!(bad_fields(&[("cursor", cursor), ("from", "2026-11-21T09:30:01Z")]), ["cursor"]);
        assert_eq!(bad_fields(&[("cursor", cursor), ("to", "2026-11-21T09:29:59Z")]), ["cursor"]);
        assert!(parse(&[("cursor", cursor), ("from", "2026-11-21T09:30:00Z"), ("to", "2026-11-21T09:30:00Z")]).is_ok());
        assert_eq!(bad_fields(&[("limt", "5")]), ["limt"]);
        assert_eq!(bad_fields(&[("", "5")]), ["query"]);
        assert_eq!(bad_fields(&[("limit", "5"), ("limit", "6")]), ["limit"]);
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let cursor = Cursor(ClipId::parse("20261121T093000Z-abcdefghjk").unwrap());
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v1:../../etc")), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v2:20261121T093000Z-abcdefghjk")), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
