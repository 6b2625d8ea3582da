//! Ingest credentials: HTTP Digest, which MediaPackage's WebDAV ingest asks encoders for
//! (RFC 7616 with MD5 and `qop=auth`, as ffmpeg and WebDAV clients speak it, checked with
//! `digest_auth`), and Basic, which simple clients send unasked.
//!
//! Nonces are stateless: the time they were issued and a keyed hash of it, so any nonce this
//! process issued verifies without a table of them; a nonce of an earlier run does not, and the
//! client is challenged again with `stale=true` (it retries with a new nonce, no new password).

use std::sync::OnceLock;

use axum::http::HeaderValue;
use base64::Engine;
use digest_auth::{AuthContext, AuthorizationHeader};
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
///
/// Digest's hashing is `digest_auth`'s: the answer is computed again from the password, the way
/// the client computed it, and compared.
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
    if !authorization.starts_with("Digest ") {
        return Err(Refusal::Invalid);
    }
    let claimed = AuthorizationHeader::parse(authorization).map_err(|_| Refusal::Invalid)?;
    // A proxy in front may have taken a path prefix off the URI the client signed.
    if claimed.username != username || claimed.realm != REALM || !claimed.uri.ends_with(request_uri) {
        return Err(Refusal::Invalid);
    }
    let mut expected = claimed.clone();
    let body: Option<&[u8]> = None;
    expected.digest(&AuthContext::new_with_method(username, password, claimed.uri.as_str(), body, method.into()));
    if expected.response != claimed.response {
        return Err(Refusal::Invalid);
    }
    let issued_here = claimed
        .nonce
        .split_once('.')
        .is_some_and(|(issued, hash)| i64::from_str_radix(issued, 16).is_ok_and(|issued| keyed(issued) == hash));
    if issued_here { Ok(()) } else { Err(Refusal::Stale) }
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
    use digest_auth::WwwAuthenticateHeader;

    use super::*;

    /// An answer to `challenge` as a client computes it (`digest_auth`'s client side).
    fn answer(challenge: &HeaderValue, uri: &str, password: &str) -> String {
        let mut prompt = WwwAuthenticateHeader::parse(challenge.to_str().unwrap()).unwrap();
        let body: Option<&[u8]> = None;
        let context = AuthContext::new_with_method("user", password, uri, body, "PUT".into());
        prompt.respond(&context).unwrap().to_header_string()
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
