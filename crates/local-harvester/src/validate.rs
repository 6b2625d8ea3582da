//! Input rules shared by the handlers. Ids, bucket names and keys become file names under the
//! data directory, so these checks are also what keeps clients inside it: anything that could
//! escape (`..`, absolute paths, separators in ids) is refused with a 422 naming the field.

use chrono::{DateTime, FixedOffset};

use crate::api::error::ApiError;
use crate::model::S3Object;

/// Longest id AWS accepts for MediaPackage resources.
const MAX_ID_LEN: usize = 256;
/// S3's limit on key length, in bytes.
const MAX_KEY_LEN: usize = 1024;

/// A resource id: 1–256 of `[A-Za-z0-9_-]`, which AWS accepts and which is safe as a file name.
pub fn resource_id(field: &str, value: &str) -> Result<(), ApiError> {
    let valid = !value.is_empty()
        && value.len() <= MAX_ID_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field}: '{value}' is not a valid id (1-{MAX_ID_LEN} characters of A-Z, a-z, 0-9, '_' and '-')"
        )))
    }
}

/// A bucket name by S3's naming rules.
pub fn bucket_name(field: &str, value: &str) -> Result<(), ApiError> {
    let bytes = value.as_bytes();
    let valid = (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !value.contains("..");
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "{field}: '{value}' is not a valid S3 bucket name (3-63 characters of a-z, 0-9, '.' and '-')"
        )))
    }
}

/// An object key that maps onto a relative path inside its bucket folder.
pub fn object_key(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > MAX_KEY_LEN {
        return Err(ApiError::invalid(format!("{field}: must be 1-{MAX_KEY_LEN} bytes long")));
    }
    relative_path(value).map_err(|reason| ApiError::invalid(format!("{field}: '{value}' {reason}")))
}

/// Why a `/`-separated path is not a plain relative path, if it is not.
pub fn relative_path(value: &str) -> Result<(), &'static str> {
    if value.starts_with('/') {
        return Err("must be relative, not start with '/'");
    }
    if value.contains('\\') || value.contains('\0') {
        return Err("must not contain '\\' or NUL characters");
    }
    if value.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err("must not contain empty, '.' or '..' path segments");
    }
    Ok(())
}

/// An `arn:aws:s3:::{bucket}/{key}` source ARN.
pub fn s3_object_arn(field: &str, value: &str) -> Result<S3Object, ApiError> {
    let (bucket, key) = value.strip_prefix("arn:aws:s3:::").and_then(|rest| rest.split_once('/')).ok_or_else(|| {
        ApiError::invalid(format!("{field}: '{value}' is not an S3 object ARN (arn:aws:s3:::bucket/key)"))
    })?;
    bucket_name(field, bucket)?;
    object_key(field, key)?;
    Ok(S3Object { bucket: bucket.to_owned(), key: key.to_owned() })
}

/// An ISO 8601 date-time with an offset (`Z` or `±hh:mm`), as AWS's harvest job times are.
pub fn timestamp(field: &str, value: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    DateTime::parse_from_rfc3339(value).map_err(|e| {
        ApiError::invalid(format!(
            "{field}: '{value}' is not an ISO 8601 date-time with an offset, e.g. 2024-05-01T12:00:00Z ({e})"
        ))
    })
}

/// A non-empty required string.
pub fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, ApiError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ApiError::invalid(format!("{field}: is required"))),
    }
}

/// A required id field: present and a valid resource id.
pub fn required_id<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, ApiError> {
    let id = required(field, value)?;
    resource_id(field, id)?;
    Ok(id)
}

/// Random lowercase hex, for generated ids and credentials.
pub fn random_hex(len: usize) -> String {
    (0..len).map(|_| char::from_digit(fastrand::u32(0..16), 16).expect("digit below 16")).collect()
}

/// A random UUID-shaped id (8-4-4-4-12 hex), like EventBridge event ids.
pub fn uuid_like() -> String {
    format!("{}-{}-{}-{}-{}", random_hex(8), random_hex(4), random_hex(4), random_hex(4), random_hex(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_separators_and_traversal() {
        assert!(resource_id("id", "20261121T093000Z-ab_c").is_ok());
        for bad in ["", "../x", "a/b", "a.b", "a b", &"x".repeat(257)] {
            let err = resource_id("id", bad).unwrap_err();
            assert!(err.message.starts_with("id:"), "{}", err.message);
        }
    }

    #[test]
    fn keys_refuse_traversal_and_absolute_paths() {
        assert!(object_key("manifestKey", "clips/c1/x/index.m3u8").is_ok());
        for bad in ["/etc/passwd", "a/../../b", "a//b", "./a", "a\\b", ""] {
            let err = object_key("manifestKey", bad).unwrap_err();
            assert!(err.message.starts_with("manifestKey:"), "{bad}: {}", err.message);
        }
    }

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert!(bucket_name("b", "my-bucket.1").is_ok());
        for bad in ["ab", "My-Bucket", "-abc", "abc-", "a..b", "a/b"] {
            assert!(bucket_name("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn s3_arns_split_into_bucket_and_key() {
        let object = s3_object_arn("sourceArn", "arn:aws:s3:::clips/a/b/index.m3u8").unwrap();
        assert_eq!(object, S3Object { bucket: "clips".into(), key: "a/b/index.m3u8".into() });
        assert!(s3_object_arn("sourceArn", "arn:aws:s3:::clips").is_err());
        assert!(s3_object_arn("sourceArn", "arn:aws:s3:::clips/../x").is_err());
        assert!(s3_object_arn("sourceArn", "s3://clips/x").is_err());
    }

    #[test]
    fn timestamps_need_an_offset() {
        assert!(timestamp("startTime", "2024-05-01T12:00:00Z").is_ok());
        assert!(timestamp("startTime", "2024-05-01T12:00:00.250-08:00").is_ok());
        let err = timestamp("startTime", "2024-05-01 12:00").unwrap_err();
        assert!(err.message.starts_with("startTime:"));
    }

    #[test]
    fn uuid_like_has_the_uuid_shape() {
        let id = uuid_like();
        let lengths: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }
}
