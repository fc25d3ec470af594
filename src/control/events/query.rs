//! The parameters of `GET /events`, parsed once: `since`, `until` and `filters`.
//!
//! Pure. Timestamps follow the engine (moby `daemon/internal/timestamp.ParseUnixTimestamp`):
//! `seconds` or `seconds.fraction`, the fraction padded or cut to nine digits, with the newer
//! engines' 400 texts. As an extension, an RFC 3339 time is accepted too (the engine's server
//! refuses it; the CLI converts `--since 2026-01-01T00:00:00Z` to seconds before sending).
//! An empty or absent value is unset, which differs from `0` (the epoch), as in Go.

use crate::types::filters::Filters;
use crate::types::meta::Timestamp;

/// Nanoseconds since the Unix epoch (wide enough for any `int64` seconds).
pub type EventTime = i128;

const NANOS: i128 = 1_000_000_000;
/// The longest fraction the engine accepts (a full `uint64`).
const MAX_FRACTION_DIGITS: usize = 20;

/// A validated `/events` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsRequest {
    /// Replay buffered events from this time on.
    pub since: Option<EventTime>,
    /// End the stream at this time (at once, after the replay, if it has passed).
    pub until: Option<EventTime>,
    pub filters: Filters,
}

/// A parameter the engine would refuse (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl EventsRequest {
    /// Parses the raw (URL-decoded) `since` and `until` values; `filters` is parsed already.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        filters: Filters,
    ) -> Result<Self, QueryError> {
        let raw_since = since.unwrap_or("");
        let raw_until = until.unwrap_or("");
        let since = parse_time(raw_since)
            .map_err(|e| QueryError(format!("invalid value for 'since': {e}")))?;
        let until = parse_time(raw_until)
            .map_err(|e| QueryError(format!("invalid value for 'until': {e}")))?;
        if let (Some(since), Some(until)) = (since, until) {
            if until < since {
                return Err(QueryError(format!(
                    "`since` time ({raw_since}) cannot be after `until` time ({raw_until})"
                )));
            }
        }
        Ok(EventsRequest {
            since,
            until,
            filters,
        })
    }

    /// Whether the request only asks for history: `until` has passed already. The engine then
    /// replays and ends without following live events.
    pub fn only_past(&self, now: EventTime) -> bool {
        self.until.is_some_and(|until| until < now)
    }

    /// Whether buffered history is replayed at all (the engine replays only when `since` or
    /// `until` is given; `until` alone replays everything up to it).
    pub fn replays(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Whether a buffered event at `at` falls in the replayed window ending at `cut`.
    pub fn in_replay(&self, at: EventTime, cut: EventTime) -> bool {
        self.replays() && self.since.is_none_or(|since| at >= since) && at <= cut
    }
}

/// Parses one timestamp; `""` is unset.
pub fn parse_time(value: &str) -> Result<Option<EventTime>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    match parse_unix(value) {
        Ok(nanos) => Ok(Some(nanos)),
        Err(unix_error) => {
            // The extension: an RFC 3339 time (its date always has a '-' past the sign).
            if value.get(1..).is_some_and(|rest| rest.contains('-')) {
                if let Ok(time) = Timestamp::parse(value) {
                    return Ok(Some(time.unix_nanos()));
                }
            }
            Err(format!("invalid timestamp {value:?}: {unix_error}"))
        }
    }
}

/// `seconds[.fraction]` -> nanoseconds, with the engine's error texts (without the prefix).
fn parse_unix(value: &str) -> Result<EventTime, String> {
    let (seconds, fraction) = match value.split_once('.') {
        Some((s, f)) => (s, f),
        None => (value, ""),
    };
    let seconds: i64 = seconds.parse().map_err(|e: std::num::ParseIntError| {
        let reason = match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                "value out of range"
            }
            _ => "invalid syntax",
        };
        format!("invalid seconds {seconds:?}: {reason}")
    })?;
    let seconds = i128::from(seconds) * NANOS;
    if fraction.is_empty() {
        return Ok(seconds);
    }
    if fraction.len() > MAX_FRACTION_DIGITS {
        return Err(format!(
            "invalid nanoseconds: length {} exceeds maximum {MAX_FRACTION_DIGITS}",
            fraction.len()
        ));
    }
    if let Some((position, c)) = fraction
        .bytes()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(format!(
            "invalid nanoseconds: invalid character {:?} at position {position}",
            char::from(c)
        ));
    }
    let mut digits: String = fraction.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let nanos: i128 = digits
        .parse()
        .map_err(|_| format!("invalid nanoseconds {digits:?}: invalid syntax"))?;
    // Go's time.Unix(sec, nsec): the fraction is added, also to negative seconds.
    Ok(seconds + nanos)
}

/// Formats a time the way the engine parses it: `seconds.nanoseconds` (nine digits).
pub fn format_time(nanos: EventTime) -> String {
    format!("{}.{:09}", nanos.div_euclid(NANOS), nanos.rem_euclid(NANOS))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i128 = NANOS;

    fn time(value: &str) -> Option<EventTime> {
        parse_time(value).unwrap()
    }

    #[test]
    fn unix_seconds_and_fractions() {
        assert_eq!(time(""), None);
        assert_eq!(time("0"), Some(0));
        assert_eq!(time("1136073600"), Some(1_136_073_600 * S));
        assert_eq!(time("1136073600."), Some(1_136_073_600 * S));
        assert_eq!(time("1136073600.0"), Some(1_136_073_600 * S));
        assert_eq!(time("1136073600.000000001"), Some(1_136_073_600 * S + 1));
        assert_eq!(time("1136073600.0000000010"), Some(1_136_073_600 * S + 1));
        assert_eq!(time("1136073600.0000000009"), Some(1_136_073_600 * S));
        assert_eq!(time("1136073600.00000001"), Some(1_136_073_600 * S + 10));
        assert_eq!(time("1136073600.1"), Some(1_136_073_600 * S + 100_000_000));
        assert_eq!(
            time("1136073600.00000000000000000001"),
            Some(1_136_073_600 * S)
        );
        assert_eq!(time("-6.5"), Some(-6 * S + 500_000_000));
        assert_eq!(time("+5"), Some(5 * S));
    }

    #[test]
    fn rfc3339_is_accepted_too() {
        assert_eq!(time("2006-01-01T00:00:00Z"), Some(1_136_073_600 * S));
        assert_eq!(
            time("2006-01-01T01:00:00.5+01:00"),
            Some(1_136_073_600 * S + 500_000_000)
        );
    }

    #[test]
    fn bad_timestamps_use_the_engine_texts() {
        let error = |v: &str| parse_time(v).unwrap_err();
        assert_eq!(
            error("abc"),
            r#"invalid timestamp "abc": invalid seconds "abc": invalid syntax"#
        );
        assert_eq!(
            error(" 1136073600 \t"),
            r#"invalid timestamp " 1136073600 \t": invalid seconds " 1136073600 \t": invalid syntax"#
        );
        assert_eq!(
            error("1136073600.bar"),
            r#"invalid timestamp "1136073600.bar": invalid nanoseconds: invalid character 'b' at position 0"#
        );
        assert_eq!(
            error(".0000000009"),
            r#"invalid timestamp ".0000000009": invalid seconds "": invalid syntax"#
        );
        assert_eq!(
            error("1136073600.000000000000000000001"),
            r#"invalid timestamp "1136073600.000000000000000000001": invalid nanoseconds: length 21 exceeds maximum 20"#
        );
        assert_eq!(
            error("99999999999999999999"),
            r#"invalid timestamp "99999999999999999999": invalid seconds "99999999999999999999": value out of range"#
        );
        assert!(parse_time("2006-13-01T00:00:00Z").is_err());
        assert!(parse_time("2006-01-01").is_err());
    }

    #[test]
    fn request_validation() {
        let parse = |s, u| EventsRequest::parse(s, u, Filters::new());
        assert_eq!(
            parse(Some("1795326478"), Some("1795326468"))
                .unwrap_err()
                .to_string(),
            "`since` time (1795326478) cannot be after `until` time (1795326468)"
        );
        assert_eq!(
            parse(Some("x"), None).unwrap_err().to_string(),
            r#"invalid value for 'since': invalid timestamp "x": invalid seconds "x": invalid syntax"#
        );
        assert!(parse(None, Some("1.5x"))
            .unwrap_err()
            .0
            .starts_with("invalid value for 'until': "));
        let same = parse(Some("10"), Some("10")).unwrap();
        assert_eq!((same.since, same.until), (Some(10 * S), Some(10 * S)));
    }

    #[test]
    fn replay_window() {
        let request = |s, u| EventsRequest::parse(s, u, Filters::new()).unwrap();
        // Neither: live only, no replay.
        let live = request(None, None);
        assert!(!live.replays());
        assert!(!live.in_replay(5 * S, 10 * S));
        assert!(!live.only_past(10 * S));
        // `until` in the past, no `since`: everything buffered up to `until`, then the end.
        let past = request(None, Some("8"));
        assert!(past.only_past(10 * S));
        assert!(past.in_replay(0, 8 * S));
        assert!(!past.in_replay(9 * S, 8 * S));
        // `since`: from `since` on.
        let since = request(Some("5"), None);
        assert!(!since.in_replay(4 * S, 10 * S));
        assert!(since.in_replay(5 * S, 10 * S));
        assert!(!since.only_past(10 * S));
        // `since` = 0 is the epoch, not unset.
        assert!(request(Some("0"), None).replays());
    }

    #[test]
    fn formats_for_the_engine() {
        assert_eq!(format_time(1_136_073_600 * S + 1), "1136073600.000000001");
        assert_eq!(format_time(0), "0.000000000");
        let negative = -6 * S + 500_000_000;
        assert_eq!(format_time(negative), "-6.500000000");
        assert_eq!(time(&format_time(negative)), Some(negative));
    }
}
