//! The competition a clip belongs to: the partition of the catalogue and the first segment of
//! every storage key, so its spelling is constrained to what is safe in a URL path, an S3 key and
//! a DynamoDB key alike.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A validated competition identifier, `^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CompetitionId(String);

/// Why a string is not a competition id; the message is shown to API clients as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCompetition {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 64 characters")]
    TooLong,
    #[error("must start with a letter or digit and contain only letters, digits, '_' and '-'")]
    BadCharacters,
}

impl CompetitionId {
    pub const MAX_LEN: usize = 64;

    /// # Errors
    /// When `value` breaks the pattern above.
    pub fn parse(value: &str) -> Result<Self, InvalidCompetition> {
        let mut chars = value.chars();
        let first = chars.next().ok_or(InvalidCompetition::Empty)?;
        if value.len() > Self::MAX_LEN {
            return Err(InvalidCompetition::TooLong);
        }
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !first.is_ascii_alphanumeric() || !rest_ok {
            return Err(InvalidCompetition::BadCharacters);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CompetitionId {
    type Error = InvalidCompetition;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CompetitionId> for String {
    fn from(value: CompetitionId) -> Self {
        value.0
    }
}

impl fmt::Display for CompetitionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_pattern() {
        for ok in ["a", "100m-final", "Z9_x", &"a".repeat(64)] {
            assert_eq!(CompetitionId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(CompetitionId::parse(""), Err(InvalidCompetition::Empty));
        assert_eq!(CompetitionId::parse(&"a".repeat(65)), Err(InvalidCompetition::TooLong));
        for bad in ["-a", "_a", "a/b", "a b", "../x", "é", "a.b", "a#b"] {
            assert_eq!(CompetitionId::parse(bad), Err(InvalidCompetition::BadCharacters), "{bad}");
        }
    }
}
