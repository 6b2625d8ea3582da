//! Ingest credentials: HTTP Digest, which MediaPackage's WebDAV ingest asks encoders for
//! (RFC 7616 with MD5 and `qop=auth`, as ffmpeg and WebDAV clients speak it), and Basic, which
//! simple clients send unasked.
//!
//! Nonces are stateless: the time they were issued and a keyed hash of it, so any nonce this
//! process issued verifies without a table of them; a nonce of an earlier run does not, and the
//! client is challenged again with `stale=true` (it retries with a new nonce, no new password).

use std::sync::OnceLock;

use axum::http::HeaderValue;
use base64::Engine;
use md5::{Digest, Md5};

const REALM: &str = "MediaPackage";

/// Why credentials were not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Credentials of a nonce this process did not issue: challenge again.
    Stale,
    /// Wrong or malformed credentials.
    Invalid,
}

/// The `WWW-Authenticate` challenges for a request without usable credentials, Digest first.
pub fn challenges(stale: bool) -> [HeaderValue; 2] {
    let issued = chrono::Utc::now().timestamp();
    let nonce = format!("{issued:x}.{}", keyed(issued));
    let stale = if stale { ", stale=true" } else { "" };
    let digest = format!("Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\"{stale}");
    [
        HeaderValue::from_str(&digest).expect("the challenge is ASCII"),
        HeaderValue::from_static("Basic realm=\"MediaPackage\""),
    ]
}

/// Checks an `Authorization` header of a `method` request for `request_uri` (path and query,
/// as the server saw them) against the ingest endpoint's `username` and `password`.
pub fn verify(
    authorization: &str,
    method: &str,
    request_uri: &str,
    username: &str,
    password: &str,
) -> Result<(), Refusal> {
    if let Some(encoded) = authorization.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| Refusal::Invalid)?;
        return if decoded == format!("{username}:{password}").as_bytes() { Ok(()) } else { Err(Refusal::Invalid) };
    }
    let fields = authorization.strip_prefix("Digest ").map(parameters).ok_or(Refusal::Invalid)?;
    let field = |name: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let (Some(user), Some(nonce), Some(uri), Some(response)) =
        (field("username"), field("nonce"), field("uri"), field("response"))
    else {
        return Err(Refusal::Invalid);
    };
    // A proxy in front may have taken a path prefix off the URI the client signed.
    if user != username || field("realm") != Some(REALM) || !uri.ends_with(request_uri) {
        return Err(Refusal::Invalid);
    }
    let ha1 = md5_hex(&format!("{username}:{REALM}:{password}"));
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    let expected = match (field("qop"), field("nc"), field("cnonce")) {
        (Some("auth"), Some(nc), Some(cnonce)) => md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        (None, _, _) => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
        _ => return Err(Refusal::Invalid),
    };
    if response != expected {
        return Err(Refusal::Invalid);
    }
    let issued_here = nonce
        .split_once('.')
        .is_some_and(|(issued, hash)| i64::from_str_radix(issued, 16).is_ok_and(|issued| keyed(issued) == hash));
    if issued_here { Ok(()) } else { Err(Refusal::Stale) }
}

/// `name=value` pairs of a Digest header, values unquoted; commas inside quotes are kept.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim();
    while let Some((name, after)) = rest.split_once('=') {
        let after = after.trim_start();
        let (value, remainder) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((value, remainder)) => (value, remainder),
                None => (quoted, ""),
            },
            None => after.split_once(',').map_or((after, ""), |(value, remainder)| (value.trim(), remainder)),
        };
        pairs.push((name.trim().to_owned(), value.to_owned()));
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    pairs
}

/// A hash of `issued` under this process's key.
fn keyed(issued: i64) -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    let key = KEY.get_or_init(|| crate::validate::random_hex(32));
    md5_hex(&format!("{key}:{issued}"))
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer to `challenge` as a client computes it.
    fn answer(challenge: &HeaderValue, uri: &str, password: &str) -> String {
        let fields = parameters(challenge.to_str().unwrap().strip_prefix("Digest ").unwrap());
        let nonce = &fields.iter().find(|(k, _)| k == "nonce").unwrap().1;
        let ha1 = md5_hex(&format!("user:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("PUT:{uri}"));
        let response = md5_hex(&format!("{ha1}:{nonce}:00000001:0a4f113b:auth:{ha2}"));
        format!(
            "Digest username=\"user\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{response}\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", algorithm=MD5"
        )
    }

    #[test]
    fn the_digest_of_rfc_2617_is_computed_alike() {
        // RFC 2617 section 3.5's example, "Mufasa" / "Circle Of Life".
        let ha1 = md5_hex("Mufasa:testrealm@host.com:Circle Of Life");
        let ha2 = md5_hex("GET:/dir/index.html");
        let response = md5_hex(&format!("{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}"));
        assert_eq!(response, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn a_digest_answer_to_our_challenge_verifies() {
        let [digest, basic] = challenges(false);
        assert!(basic.to_str().unwrap().starts_with("Basic"));
        let uri = "/in/v2/cam/e1/channel_0_00001.ts";
        let authorization = answer(&digest, uri, "secret");
        assert_eq!(verify(&authorization, "PUT", uri, "user", "secret"), Ok(()));
        assert_eq!(verify(&authorization, "PUT", uri, "user", "other"), Err(Refusal::Invalid));
        assert_eq!(verify(&authorization, "DELETE", uri, "user", "secret"), Err(Refusal::Invalid));
        assert_eq!(verify(&authorization, "PUT", "/in/v2/cam/e1/other.ts", "user", "secret"), Err(Refusal::Invalid));
    }

    #[test]
    fn a_nonce_not_issued_here_is_stale() {
        let forged = HeaderValue::from_static("Digest realm=\"MediaPackage\", nonce=\"65a1b2c3.0123456789abcdef\"");
        let authorization = answer(&forged, "/x.ts", "secret");
        assert_eq!(verify(&authorization, "PUT", "/x.ts", "user", "secret"), Err(Refusal::Stale));
    }

    #[test]
    fn basic_credentials_are_still_taken() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("user:secret");
        assert_eq!(verify(&format!("Basic {encoded}"), "PUT", "/x.ts", "user", "secret"), Ok(()));
        assert_eq!(verify(&format!("Basic {encoded}"), "PUT", "/x.ts", "user", "nope"), Err(Refusal::Invalid));
        assert_eq!(verify("Bearer abc", "PUT", "/x.ts", "user", "secret"), Err(Refusal::Invalid));
    }
}
