//! Building blocks shared by every swarm object: the `Version` counter, timestamps, durations,
//! labels, the generic `Driver` and the `TLSInfo` block.
//!
//! Timestamps follow Go's `time.Time` JSON form (RFC 3339 in UTC with the fraction of a second
//! trimmed of trailing zeros); durations are plain integers of nanoseconds, as Go's
//! `time.Duration` encodes. Depends on nothing but `encoding` (base64 fields).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

use super::encoding::{base64_bytes, is_empty_bytes};

/// A duration in nanoseconds, as the Engine API carries every duration (`"Delay": 5000000000`).
pub type DurationNs = i64;

/// Object labels. The engine emits map keys sorted, which a `BTreeMap` gives for free.
pub type Labels = BTreeMap<String, String>;

/// The optimistic-concurrency version of a swarm object: the Raft index of its last write.
///
/// `Index` is omitted when zero, so a zero version encodes as `{}` (as `JobIteration` shows).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(default)]
pub struct Version {
    #[serde(rename = "Index", skip_serializing_if = "is_zero_u64")]
    pub index: u64,
}

impl Version {
    pub const fn new(index: u64) -> Self {
        Version { index }
    }
}

/// A driver reference with options (`LogDriver`, `DriverConfiguration`, `DriverState`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct Driver {
    #[serde(rename = "Name", skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(rename = "Options", skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// The trust root and certificate issuer of a node or of the cluster.
///
/// `CertIssuerSubject` and `CertIssuerPublicKey` are DER bytes, base64 on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct TLSInfo {
    /// The root CA certificate(s), PEM.
    #[serde(rename = "TrustRoot", skip_serializing_if = "String::is_empty")]
    pub trust_root: String,
    /// The raw subject of the issuing certificate (DER).
    #[serde(
        rename = "CertIssuerSubject",
        with = "base64_bytes",
        skip_serializing_if = "is_empty_bytes"
    )]
    #[schema(value_type = String, format = Byte)]
    pub cert_issuer_subject: Vec<u8>,
    /// The raw public key of the issuing certificate (DER).
    #[serde(
        rename = "CertIssuerPublicKey",
        with = "base64_bytes",
        skip_serializing_if = "is_empty_bytes"
    )]
    #[schema(value_type = String, format = Byte)]
    pub cert_issuer_public_key: Vec<u8>,
}

pub(crate) fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

pub(crate) fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

pub(crate) fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

pub(crate) fn is_false(v: &bool) -> bool {
    !*v
}

/// Parses a boolean the way Go's `strconv.ParseBool` does (query parameters such as
/// `rotateWorkerToken=1`, `insertDefaults=True`, `force=true`).
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses the `version` query parameter of an update the way the engine does, with its
/// message on failure: `invalid service version '': strconv.ParseUint: parsing "": invalid
/// syntax`. `object` is `service`, `node`, `swarm`, `secret`, `config`. Like Go's `ParseUint`
/// (and unlike Rust's), a leading `+` is refused.
pub fn parse_version_query(object: &str, raw: &str) -> Result<u64, String> {
    let parsed = if raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<u64>().map_err(|e| *e.kind())
    } else {
        Err(std::num::IntErrorKind::InvalidDigit)
    };
    parsed.map_err(|kind| {
        let out_of_range = kind == std::num::IntErrorKind::PosOverflow;
        let reason = go_strconv_error("ParseUint", raw, out_of_range);
        format!("invalid {object} version '{raw}': {reason}")
    })
}

/// Go's `strconv` error text for `input` refused by `function` (`ParseInt`, `ParseUint`,
/// `ParseBool`): `strconv.ParseUint: parsing "+1": invalid syntax`. The quoting is Rust's
/// `{:?}`, which matches Go's `%q` for everything but control characters.
pub fn go_strconv_error(function: &str, input: &str, out_of_range: bool) -> String {
    let reason = if out_of_range {
        "value out of range"
    } else {
        "invalid syntax"
    };
    format!("strconv.{function}: parsing {input:?}: {reason}")
}

/// An instant with nanosecond precision, encoded as Go encodes `time.Time`.
///
/// Always held in UTC: a timestamp parsed with another offset is converted. The default value
/// is Go's zero time, `0001-01-01T00:00:00Z`, which the engine emits for unset times.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema)]
#[schema(value_type = String, format = DateTime, example = "2026-11-22T02:58:37.44468247Z")]
pub struct Timestamp(OffsetDateTime);

/// Why a timestamp could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("parsing time {input:?}: {reason}")]
    Parse { input: String, reason: String },
    #[error("timestamp out of range")]
    OutOfRange,
}

impl Timestamp {
    /// Go's zero `time.Time`: `0001-01-01T00:00:00Z`.
    pub const ZERO: Timestamp = Timestamp(time::macros::datetime!(0001-01-01 0:00 UTC));

    /// The current time (use the injected clock outside tests and `types`).
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// Builds a timestamp from nanoseconds since the Unix epoch.
    pub fn from_unix_nanos(nanos: i128) -> Result<Self, TimestampError> {
        OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .map(Timestamp)
            .map_err(|_| TimestampError::OutOfRange)
    }

    /// Nanoseconds since the Unix epoch (negative before 1970).
    pub fn unix_nanos(&self) -> i128 {
        self.0.unix_timestamp_nanos()
    }

    /// Whole seconds since the Unix epoch (the `time` field of events).
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// True for Go's zero time.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }

    /// This instant plus a duration, or `None` when out of range.
    pub fn checked_add_nanos(&self, nanos: DurationNs) -> Option<Self> {
        self.0
            .checked_add(time::Duration::nanoseconds(nanos))
            .map(Timestamp)
    }

    /// Nanoseconds from `earlier` to `self` (negative if `earlier` is later), saturating.
    pub fn nanos_since(&self, earlier: &Timestamp) -> DurationNs {
        let d = self.unix_nanos() - earlier.unix_nanos();
        d.clamp(i64::MIN as i128, i64::MAX as i128) as i64
    }

    /// Parses RFC 3339 with any offset (and an optional fraction of a second).
    pub fn parse(input: &str) -> Result<Self, TimestampError> {
        // Go insists on the upper-case `T` and `Z` that the `time` crate would relax.
        if input.as_bytes().get(10) != Some(&b'T') || input.ends_with('z') {
            return Err(TimestampError::Parse {
                input: input.to_owned(),
                reason: "not RFC 3339".to_owned(),
            });
        }
        OffsetDateTime::parse(input, &Rfc3339)
            .map(|t| Timestamp(t.to_offset(UtcOffset::UTC)))
            .map_err(|e| TimestampError::Parse {
                input: input.to_owned(),
                reason: e.to_string(),
            })
    }

    /// The underlying `time` value (UTC).
    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }
}

impl Default for Timestamp {
    fn default() -> Self {
        Self::ZERO
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Timestamp(t.to_offset(UtcOffset::UTC))
    }
}

impl Timestamp {
    /// Writes `YYYY-MM-DDTHH:MM:SS[.fraction]Z` for years 0..=9999 into `buf`; returns the
    /// length. (Lists serialize thousands of these: no formatter machinery, no allocation.)
    fn write_rfc3339(&self, buf: &mut [u8; 32]) -> usize {
        fn two(buf: &mut [u8], at: usize, value: u32) {
            buf[at] = b'0' + (value / 10 % 10) as u8;
            buf[at + 1] = b'0' + (value % 10) as u8;
        }
        let t = self.0;
        let year = t.year().clamp(0, 9999) as u32;
        two(buf, 0, year / 100);
        two(buf, 2, year % 100);
        buf[4] = b'-';
        two(buf, 5, u32::from(u8::from(t.month())));
        buf[7] = b'-';
        two(buf, 8, u32::from(t.day()));
        buf[10] = b'T';
        two(buf, 11, u32::from(t.hour()));
        buf[13] = b':';
        two(buf, 14, u32::from(t.minute()));
        buf[16] = b':';
        two(buf, 17, u32::from(t.second()));
        let mut len = 19;
        let mut nanos = t.nanosecond();
        if nanos != 0 {
            buf[len] = b'.';
            let mut digits = [0u8; 9];
            for digit in digits.iter_mut().rev() {
                *digit = b'0' + (nanos % 10) as u8;
                nanos /= 10;
            }
            let significant = 9 - digits.iter().rev().take_while(|d| **d == b'0').count();
            buf[len + 1..len + 1 + significant].copy_from_slice(&digits[..significant]);
            len += 1 + significant;
        }
        buf[len] = b'Z';
        len + 1
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with `Z`, the fraction trimmed of trailing zeros (Go's RFC3339Nano).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = self.0.year();
        if (0..=9999).contains(&year) {
            let mut buf = [0u8; 32];
            let len = self.write_rfc3339(&mut buf);
            return f.write_str(std::str::from_utf8(&buf[..len]).unwrap_or_default());
        }
        let t = self.0;
        if year < 0 {
            write!(f, "-{:04}", -year)?;
        } else {
            write!(f, "{year:04}")?;
        }
        write!(
            f,
            "-{:02}-{:02}T{:02}:{:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )?;
        let nanos = t.nanosecond();
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Go refuses to encode years outside [0, 9999]; so do we.
        if !(0..=9999).contains(&self.0.year()) {
            return Err(serde::ser::Error::custom(
                "Time.MarshalJSON: year outside of range [0,9999]",
            ));
        }
        let mut buf = [0u8; 32];
        let len = self.write_rfc3339(&mut buf);
        serializer.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_trimmed_fraction() {
        let t = Timestamp::parse("2026-11-22T02:58:37.444682470Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37.44468247Z");
        let t = Timestamp::parse("2026-11-22T02:58:37.000000001Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37.000000001Z");
        let t = Timestamp::parse("2026-11-22T02:58:37.5Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37.5Z");
    }

    #[test]
    fn whole_seconds_have_no_fraction() {
        let t = Timestamp::parse("2026-11-22T02:58:37.000Z").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37Z");
    }

    #[test]
    fn zero_time_round_trips() {
        let t = Timestamp::parse("0001-01-01T00:00:00Z").unwrap();
        assert!(t.is_zero());
        assert_eq!(t, Timestamp::default());
        assert_eq!(t.to_string(), "0001-01-01T00:00:00Z");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"0001-01-01T00:00:00Z\"");
        let back: Timestamp = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn parses_any_offset_into_utc() {
        let t = Timestamp::parse("2026-11-22T04:58:37.1+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37.1Z");
        let t = Timestamp::parse("2026-11-21T23:28:37-03:30").unwrap();
        assert_eq!(t.to_string(), "2026-11-22T02:58:37Z");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-11-22 02:58:37Z").is_err());
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }

    #[test]
    fn unix_nanos_round_trip() {
        let t = Timestamp::from_unix_nanos(1_795_316_693_321_490_156).unwrap();
        assert_eq!(t.unix_nanos(), 1_795_316_693_321_490_156);
        assert_eq!(t.unix_seconds(), 1_795_316_693);
        let later = t.checked_add_nanos(5_000_000_000).unwrap();
        assert_eq!(later.nanos_since(&t), 5_000_000_000);
        assert!(later > t);
    }

    #[test]
    fn version_zero_is_an_empty_object() {
        assert_eq!(serde_json::to_string(&Version::new(0)).unwrap(), "{}");
        assert_eq!(
            serde_json::to_string(&Version::new(34)).unwrap(),
            "{\"Index\":34}"
        );
    }

    #[test]
    fn version_query() {
        assert_eq!(parse_version_query("service", "34"), Ok(34));
        assert_eq!(
            parse_version_query("service", "").unwrap_err(),
            "invalid service version '': strconv.ParseUint: parsing \"\": invalid syntax"
        );
        assert_eq!(
            parse_version_query("node", "+1").unwrap_err(),
            "invalid node version '+1': strconv.ParseUint: parsing \"+1\": invalid syntax"
        );
        assert!(parse_version_query("swarm", "99999999999999999999")
            .unwrap_err()
            .ends_with("value out of range"));
    }

    #[test]
    fn go_bool() {
        for s in ["1", "t", "T", "true", "TRUE", "True"] {
            assert_eq!(parse_go_bool(s), Some(true), "{s}");
        }
        for s in ["0", "f", "F", "false", "FALSE", "False"] {
            assert_eq!(parse_go_bool(s), Some(false), "{s}");
        }
        assert_eq!(parse_go_bool("yes"), None);
        assert_eq!(parse_go_bool(""), None);
    }
}
