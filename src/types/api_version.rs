//! API version prefixes: `/v1.41/services` is served as `/services` at version 1.41.
//!
//! shoal advertises [`MAX`] and accepts [`MIN`]..=[`MAX`], like the engine: a newer prefix is a
//! JSON 400, an older one a plain-text 400 (the engine's own quirk), no prefix means [`MAX`].

use std::fmt;
use std::str::FromStr;

/// An Engine API version such as 1.41.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

/// The version shoal advertises (`API-Version`) and serves unversioned paths at.
pub const MAX: ApiVersion = ApiVersion::new(1, 52);
/// The oldest version shoal accepts.
pub const MIN: ApiVersion = ApiVersion::new(1, 24);

impl ApiVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
        let major = major.parse().map_err(|_| ())?;
        // `1.41.0` is accepted by the engine's pattern; only the first two parts count.
        let minor = minor
            .split('.')
            .next()
            .unwrap_or("0")
            .parse()
            .map_err(|_| ())?;
        Ok(ApiVersion { major, minor })
    }
}

/// A path split into its version prefix (if any) and the rest.
#[derive(Debug, PartialEq, Eq)]
pub struct VersionedPath<'a> {
    /// The prefix as sent (`"1.41"`), if the path had one.
    pub raw_version: Option<&'a str>,
    /// The path without the prefix, starting with `/`.
    pub rest: &'a str,
}

/// Splits `/v1.41/services` into (`1.41`, `/services`). Paths whose first segment is not
/// `v` followed by digits and dots have no prefix.
pub fn split_prefix(path: &str) -> VersionedPath<'_> {
    let unversioned = VersionedPath {
        raw_version: None,
        rest: path,
    };
    let Some(after) = path.strip_prefix("/v") else {
        return unversioned;
    };
    let end = after.find('/').unwrap_or(after.len());
    let version = &after[..end];
    let looks_like_version = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !looks_like_version {
        return unversioned;
    }
    let rest = &after[end..];
    VersionedPath {
        raw_version: Some(version),
        rest: if rest.is_empty() { "/" } else { rest },
    }
}

/// Why a version prefix was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionError {
    TooNew(String),
    TooOld(String),
}

impl VersionError {
    pub fn message(&self) -> String {
        match self {
            VersionError::TooNew(v) => {
                format!("client version {v} is too new. Maximum supported API version is {MAX}")
            }
            VersionError::TooOld(v) => format!(
                "client version {v} is too old. Minimum supported API version is {MIN}, \
                 please upgrade your client to a newer version"
            ),
        }
    }
}

/// Checks a raw prefix against [`MIN`]..=[`MAX`].
pub fn check(raw: &str) -> Result<ApiVersion, VersionError> {
    let version: ApiVersion = raw
        .parse()
        .map_err(|_| VersionError::TooOld(raw.to_string()))?;
    if version > MAX {
        Err(VersionError::TooNew(raw.to_string()))
    } else if version < MIN {
        Err(VersionError::TooOld(raw.to_string()))
    } else {
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_prefixes() {
        assert_eq!(
            split_prefix("/v1.41/services/x"),
            VersionedPath {
                raw_version: Some("1.41"),
                rest: "/services/x"
            }
        );
        assert_eq!(
            split_prefix("/v1.41"),
            VersionedPath {
                raw_version: Some("1.41"),
                rest: "/"
            }
        );
        assert_eq!(split_prefix("/_ping").raw_version, None);
        assert_eq!(split_prefix("/volumes").raw_version, None);
        assert_eq!(split_prefix("/version").raw_version, None);
        assert_eq!(split_prefix("/v").raw_version, None);
    }

    #[test]
    fn orders_versions_numerically() {
        let v = |s: &str| s.parse::<ApiVersion>().unwrap();
        assert!(v("1.9") < v("1.10"));
        assert!(v("1.52") > v("1.41"));
        assert_eq!(v("1.41.0"), v("1.41"));
        assert_eq!(v("1"), ApiVersion::new(1, 0));
    }

    #[test]
    fn checks_the_range_with_the_engines_texts() {
        assert_eq!(check("1.41"), Ok(ApiVersion::new(1, 41)));
        assert_eq!(check("1.52"), Ok(MAX));
        assert_eq!(check("1.24"), Ok(MIN));
        let too_new = check("1.53").unwrap_err();
        assert_eq!(
            too_new.message(),
            "client version 1.53 is too new. Maximum supported API version is 1.52"
        );
        let too_old = check("1.11").unwrap_err();
        assert_eq!(
            too_old.message(),
            "client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
        );
    }
}
