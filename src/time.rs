//! Timestamps: parsed from what sources send, printed the one way STIX and the Microsoft APIs want.
//!
//! The core never reads the clock; a [`Timestamp`] is always something a payload or a host gave it.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Serialize, Serializer};

use crate::error::{Code, Error, quote};

/// An instant in UTC with millisecond precision, printed as RFC 3339 with a `Z`
/// (`2024-01-01T00:00:00.000Z`), as STIX 2.1 and all three Microsoft APIs accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Parses an RFC 3339 timestamp (`2023-09-19T14:51:51Z`, `…+02:00`, `….123456Z`), also with a
    /// space instead of `T`, or a bare date (`2023-09-19`, midnight UTC).
    ///
    /// Sub-millisecond digits are truncated, so that printing and parsing again is the identity.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(trimmed) {
            return Ok(Self::from_utc(dt.with_timezone(&Utc)));
        }
        // Timestamps without an offset (`2023-09-19T14:51:51` — seen in TIP exports) are UTC.
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(trimmed, fmt) {
                return Ok(Self::from_utc(naive.and_utc()));
            }
        }
        if let Ok(date) = NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
            if let Some(naive) = date.and_hms_opt(0, 0, 0) {
                return Ok(Self::from_utc(naive.and_utc()));
            }
        }
        Err(Error::new(
            Code::Value,
            format!("invalid timestamp {}: expected RFC 3339, like `2024-01-31T12:00:00Z`", quote(text)),
        ))
    }

    /// Seconds since the Unix epoch (MISP sends these, as strings).
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, Error> {
        DateTime::from_timestamp(seconds, 0).map(Self::from_utc).ok_or_else(|| {
            Error::new(Code::Value, format!("invalid epoch timestamp `{seconds}`: out of range"))
        })
    }

    /// Milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Result<Self, Error> {
        DateTime::from_timestamp_millis(millis).map(Self::from_utc).ok_or_else(|| {
            Error::new(Code::Value, format!("invalid epoch timestamp `{millis}` ms: out of range"))
        })
    }

    fn from_utc(dt: DateTime<Utc>) -> Self {
        let millis = dt.timestamp_millis();
        // Truncate to milliseconds; the fallback cannot fail for a value that came from a DateTime.
        Self(DateTime::from_timestamp_millis(millis).unwrap_or(dt))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0.timestamp_millis()
    }

    /// This instant plus a (possibly negative) number of milliseconds, saturating at the
    /// representable range.
    #[must_use]
    pub fn plus_millis(self, millis: i64) -> Self {
        self.0
            .checked_add_signed(TimeDelta::milliseconds(millis))
            .map_or(self, Self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        for (input, want) in [
            ("2023-09-19T14:51:51Z", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T14:51:51.123456Z", "2023-09-19T14:51:51.123Z"),
            ("2023-09-19T16:51:51+02:00", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T14:51:51", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19 14:51:51", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19", "2023-09-19T00:00:00.000Z"),
            ("2021-03-31T11:03:40.000000+00:00", "2021-03-31T11:03:40.000Z"),
        ] {
            assert_eq!(Timestamp::parse(input).unwrap().to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejects_garbage_with_a_clear_message() {
        let err = Timestamp::parse("yesterday").unwrap_err();
        assert_eq!(err.message(), "invalid timestamp `yesterday`: expected RFC 3339, like `2024-01-31T12:00:00Z`");
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(Timestamp::from_unix_seconds(1_617_181_920).unwrap().to_string(), "2021-03-31T09:12:00.000Z");
    }

    #[test]
    fn round_trips() {
        let t = Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        assert_eq!(t.plus_millis(1).to_string(), "2024-03-01T00:00:00.000Z");
    }
}
