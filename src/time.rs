//! Timestamps: parsed from what sources send, printed the one way STIX and the Microsoft APIs want.
//!
//! The core never reads the clock; a [`Timestamp`] is always something a payload or a host gave it.
//! Parsing and printing are written out here (proleptic Gregorian calendar, years 0000–9999) rather
//! than taken from a date library: they run several times per indicator, and the tests check them
//! against `chrono` on random inputs.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Code, Error, quote};

/// An instant in UTC with millisecond precision, printed as RFC 3339 with a `Z`
/// (`2024-01-01T00:00:00.000Z`), as STIX 2.1 and all three Microsoft APIs accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const MS_PER_DAY: i64 = 86_400_000;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z in Unix milliseconds.
const MIN_MS: i64 = -62_167_219_200_000;
const MAX_MS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// Parses an RFC 3339 timestamp (`2023-09-19T14:51:51Z`, `…+02:00`, `….123456Z`), also with a
    /// space instead of `T`, without an offset (taken as UTC, as TIP exports mean it), or a bare
    /// date (`2023-09-19`, midnight UTC).
    ///
    /// Sub-millisecond digits are truncated, so that printing and parsing again is the identity.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_common(text).or_else(|| parse_rfc3339(text.trim().as_bytes()).map(Self)).ok_or_else(|| {
            Error::new(
                Code::Value,
                format!("invalid timestamp {}: expected RFC 3339, like `2024-01-31T12:00:00Z`", quote(text)),
            )
        })
    }

    /// The form nearly every source sends, `YYYY-MM-DDThh:mm:ss[.fff]Z`, read eight bytes at a time
    /// (the same instant [`Timestamp::parse`] reads from it); `None` for any other text, valid or
    /// not.
    #[inline(never)]
    pub(crate) fn parse_common(text: &str) -> Option<Self> {
        // The text, as the 24-byte form (`…:ss` + `.000Z` when it has no fraction).
        let mut form = *b"0000-00-00T00:00:00.000Z";
        match text.as_bytes() {
            whole if whole.len() == 24 => form.copy_from_slice(whole),
            [head @ .., b'Z'] if head.len() == 19 => form.get_mut(..19)?.copy_from_slice(head),
            _ => return None,
        }
        let (words, []) = form.as_chunks::<8>() else { return None };
        let [w0, w1, w2] = words else { return None };
        // Each word with the form's separators and digits' high nibbles cleared: digits become their
        // values, and anything but the form's byte or a digit where it has one leaves a bit in `mask`
        // (a high nibble, or a byte of 10 to 15).
        let digits = |word: &[u8; 8], form: &[u8; 8], mask: u64| -> Option<u64> {
            let x = u64::from_le_bytes(*word) ^ u64::from_le_bytes(*form);
            let bad = (x & mask) | (x.wrapping_add(0x0606_0606_0606_0606) & 0x1010_1010_1010_1010);
            // Each byte, its value times ten plus the next byte's: the two-digit numbers.
            (bad == 0).then(|| x.wrapping_mul(10).wrapping_add(x >> 8))
        };
        // Byte by byte (lowest first): digit positions 0xf0, separators 0xff.
        let d0 = digits(w0, b"0000-00-", 0xff_f0_f0_ff_f0_f0_f0_f0)?;
        let d1 = digits(w1, b"00T00:00", 0xf0_f0_ff_f0_f0_ff_f0_f0)?;
        let d2 = digits(w2, b":00.000Z", 0xff_f0_f0_f0_ff_f0_f0_ff)?;
        // Unsigned from here (every field is a few digits): division by a constant is then a
        // multiplication, without the fix-ups for negatives.
        let byte = |word: u64, at: u32| u32::from((word >> (8 * at)) as u8);
        let year = byte(d0, 0) * 100 + byte(d0, 2);
        let (month, day) = (byte(d0, 5), byte(d1, 0));
        let (hour, minute, second) = (byte(d1, 3), byte(d1, 6), byte(d2, 1));
        // `d2`'s byte 6 is the last digit times ten plus `Z`'s cleared byte: that digit's ten.
        let millis = byte(d2, 4) * 10 + byte(d2, 6) / 10;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let month_days = match month {
            2 => 28 + u32::from(leap),
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if !(1..=12).contains(&month) || day < 1 || day > month_days {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        // [`days_from_civil`], one 400-year era later (so that nothing is negative), then back.
        let y = year + 400 - u32::from(month <= 2);
        let (era, year_of_era) = (y / 400, y % 400);
        let march_month = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * march_month + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = i64::from(era * 146_097 + day_of_era) - 719_468 - 146_097;
        let ms_of_day = ((hour * 60 + minute) * 60 + second.min(59)) * 1000 + millis;
        Self::in_range(days * MS_PER_DAY + i64::from(ms_of_day))
    }

    /// Seconds since the Unix epoch (MISP sends these, as strings).
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, Error> {
        seconds.checked_mul(1000).and_then(Self::in_range).ok_or_else(|| {
            Error::new(Code::Value, format!("invalid epoch timestamp `{seconds}`: expected a date in years 0000–9999"))
        })
    }

    /// Milliseconds since the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Result<Self, Error> {
        Self::in_range(millis).ok_or_else(|| {
            Error::new(
                Code::Value,
                format!("invalid epoch timestamp `{millis}` ms: expected a date in years 0000–9999"),
            )
        })
    }

    fn in_range(millis: i64) -> Option<Self> {
        (MIN_MS..=MAX_MS).contains(&millis).then_some(Self(millis))
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// This instant plus a (possibly negative) number of milliseconds, saturating at the
    /// representable range (years 0000–9999).
    #[must_use]
    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis).clamp(MIN_MS, MAX_MS))
    }
}

impl Timestamp {
    /// RFC 3339 UTC with milliseconds (`2025-06-01T12:00:00.000Z`) as ASCII bytes: what `Display`
    /// and `Serialize` write. Written by hand: this runs for every timestamp of every planned object.
    /// Every field is in range (years 0000–9999, as parsed), so the arithmetic is `u32` (division
    /// by a constant is a multiplication) and digits go two at a time from a table.
    pub(crate) fn text(self) -> [u8; 24] {
        // Milliseconds since 0000-01-01T00:00:00Z: never negative.
        let ms = u64::try_from(self.0 - MIN_MS).unwrap_or(0);
        let days = ms / MS_PER_DAY.unsigned_abs();
        let ms_of_day = u32::try_from(ms - days * MS_PER_DAY.unsigned_abs()).unwrap_or(0);
        let (year, month, day) = civil_from_days(u32::try_from(days).unwrap_or(0));
        let mut text = *b"0000-00-00T00:00:00.000Z";
        put_two(&mut text, 0, year / 100);
        put_two(&mut text, 2, year % 100);
        put_two(&mut text, 5, month);
        put_two(&mut text, 8, day);
        put_two(&mut text, 11, ms_of_day / 3_600_000);
        put_two(&mut text, 14, ms_of_day / 60_000 % 60);
        put_two(&mut text, 17, ms_of_day / 1000 % 60);
        let milli = ms_of_day % 1000;
        if let Some(slot) = text.get_mut(20) {
            // `milli / 100` is a single digit.
            *slot = b'0' + u8::try_from(milli / 100).unwrap_or(0);
        }
        put_two(&mut text, 21, milli % 100);
        text
    }
}

/// The two decimal digits of `n` (below 100) at `at` of `text`.
#[inline]
fn put_two(text: &mut [u8; 24], at: usize, n: u32) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let i = usize::try_from(n).unwrap_or(0) * 2;
    if let (Some(slot), Some(pair)) = (text.get_mut(at..at + 2), PAIRS.get(i..i + 2)) {
        slot.copy_from_slice(pair);
    }
}

/// The date of `days` since 0000-01-01, years 0000–9999: Neri and Schneider's algorithm
/// ("Euclidean affine functions and their application to calendar algorithms", 2022), in `u32`,
/// on a March-based calendar shifted by one 400-year era so that every quantity is positive. The
/// inverse of [`days_from_civil`] (the tests check it against `chrono`).
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // Days since 0400-03-01 before the shift (0000-01-01 is 60 days before 0000-03-01).
    let n = days + 146_097 - 60;
    // Century, then year of the century, then month and day, each an affine function's quotient
    // and remainder.
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let of_century = n1 % 146_097 / 4;
    let p2 = 2_939_745 * u64::from(4 * of_century + 3);
    let year_of_century = u32::try_from(p2 >> 32).unwrap_or(0);
    let day_of_year = u32::try_from(p2 & 0xffff_ffff).unwrap_or(0) / 2_939_745 / 4;
    let n3 = 2141 * day_of_year + 197_913;
    let (month, day) = (n3 >> 16, (n3 & 0xffff) / 2141 + 1);
    // January and February belong to the next year.
    let january = day_of_year >= 306;
    let year = 100 * century + year_of_century + u32::from(january);
    (year.saturating_sub(400), if january { month - 12 } else { month }, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.text()).unwrap_or_default())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `serialize_str`, not `collect_str`: no `fmt` machinery for a fixed 24-byte text.
        serializer.serialize_str(std::str::from_utf8(&self.text()).unwrap_or_default())
    }
}

/// `YYYY-MM-DD[(T|t| )hh:mm[:ss[.fff…]][Z|z|±hh:mm|±hhmm]]` into Unix milliseconds.
fn parse_rfc3339(b: &[u8]) -> Option<i64> {
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date_ms = days_from_civil(year, month, day) * MS_PER_DAY;
    if b.len() == 10 {
        return Some(date_ms);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let (second, mut rest) = if b.get(16) == Some(&b':') { (digits(b, 17, 2)?, 19) } else { (0, 16) };
    // 60 is a leap second; it is counted as the last millisecond-exact second of the minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut millis = 0;
    if b.get(rest) == Some(&b'.') {
        rest += 1;
        let start = rest;
        while b.get(rest).is_some_and(u8::is_ascii_digit) {
            if rest - start < 3 {
                millis = millis * 10 + i64::from(b.get(rest).copied().unwrap_or(b'0') - b'0');
            }
            rest += 1;
        }
        if rest == start {
            return None;
        }
        for _ in (rest - start)..3 {
            millis *= 10;
        }
    }
    let offset_minutes = match b.get(rest..)? {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] => {
            let tail = b.get(rest + 1..)?;
            let (hours, minutes) = match tail {
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (two(*h1, *h2)?, two(*m1, *m2)?),
                [h1, h2] => (two(*h1, *h2)?, 0),
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let total = hours * 60 + minutes;
            if *sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    let second = second.min(59);
    let ms = date_ms + ((hour * 60 + minute - offset_minutes) * 60 + second) * 1000 + millis;
    (MIN_MS..=MAX_MS).contains(&ms).then_some(ms)
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    b.get(at..at + len)?.iter().try_fold(0i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
}

fn two(a: u8, b: u8) -> Option<i64> {
    digits(&[a, b], 0, 2)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_canonically() {
        for (input, want) in [
            ("2023-09-19T14:51:51Z", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T14:51:51.123456Z", "2023-09-19T14:51:51.123Z"),
            ("2023-09-19T14:51:51.1Z", "2023-09-19T14:51:51.100Z"),
            ("2023-09-19T16:51:51+02:00", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T12:51:51-0200", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T14:51:51", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19 14:51:51", "2023-09-19T14:51:51.000Z"),
            ("2023-09-19T14:51", "2023-09-19T14:51:00.000Z"),
            ("2023-09-19", "2023-09-19T00:00:00.000Z"),
            ("2021-03-31T11:03:40.000000+00:00", "2021-03-31T11:03:40.000Z"),
            ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.000Z"),
            ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
            ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"),
            ("2024-02-29T00:00:00z", "2024-02-29T00:00:00.000Z"),
        ] {
            assert_eq!(Timestamp::parse(input).unwrap().to_string(), want, "{input}");
        }
    }

    #[test]
    fn rejects_garbage_with_a_clear_message() {
        let err = Timestamp::parse("yesterday").unwrap_err();
        assert_eq!(err.message(), "invalid timestamp `yesterday`: expected RFC 3339, like `2024-01-31T12:00:00Z`");
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-13-01",
            "2023-00-10",
            "2023-01-32",
            "2023-01-01T24:00:00Z",
            "2023-01-01T10:60:00Z",
            "2023-01-01T10:00:00.Z",
            "2023-01-01T10:00:00+25:00",
            "2023-01-01T10:00:00Q",
            "2023-1-01",
            "+2023-01-01",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(Timestamp::from_unix_seconds(1_617_181_920).unwrap().to_string(), "2021-03-31T09:12:00.000Z");
        assert!(Timestamp::from_unix_seconds(i64::MAX).is_err());
        assert!(Timestamp::from_unix_seconds(300_000_000_000).is_err());
    }

    #[test]
    fn prints_every_day_as_chrono_does() {
        // Every day of years 0000–9999 (the calendar's edges: leap days, centuries, 0000 and 9999),
        // each at some millisecond of it.
        for day in 0..=(MAX_MS - MIN_MS) / MS_PER_DAY {
            let ms = MIN_MS + day * MS_PER_DAY + day * 7_919_993 % MS_PER_DAY;
            let theirs = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            assert_eq!(Timestamp(ms).to_string(), theirs);
        }
    }

    #[test]
    fn round_trips_and_saturates() {
        let t = Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        assert_eq!(t.plus_millis(1).to_string(), "2024-03-01T00:00:00.000Z");
        assert_eq!(t.plus_millis(i64::MAX).to_string(), "9999-12-31T23:59:59.999Z");
    }

    proptest! {
        /// Printing agrees with chrono for every representable instant, and parsing inverts it.
        #[test]
        fn agrees_with_chrono(ms in MIN_MS..=MAX_MS) {
            let ours = Timestamp(ms).to_string();
            let theirs = chrono::DateTime::from_timestamp_millis(ms).unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            prop_assert_eq!(&ours, &theirs);
            prop_assert_eq!(Timestamp::parse(&ours).unwrap(), Timestamp(ms));
        }

        /// Offsets and fractions parse as chrono parses them.
        #[test]
        fn offsets_agree_with_chrono(ms in 0i64..4_102_444_800_000, offset in -1439i64..1440, frac in 0u32..1_000_000) {
            let sign = if offset < 0 { '-' } else { '+' };
            let base = chrono::DateTime::from_timestamp_millis(ms).unwrap().naive_utc();
            let text = format!("{}.{frac:06}{sign}{:02}:{:02}", base.format("%Y-%m-%dT%H:%M:%S"), offset.abs() / 60, offset.abs() % 60);
            let theirs = chrono::DateTime::parse_from_rfc3339(&text).unwrap().timestamp_millis();
            prop_assert_eq!(Timestamp::parse(&text).unwrap().unix_millis(), theirs);
        }

        /// The fixed-offset reading of the usual form reads what the general one reads, and
        /// declines (leaves to it) everything else: mostly near misses of that form here.
        #[test]
        fn the_common_form_reads_as_the_general_parser_does(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{0,4})?[Zz]?[0-9x:+-]{0,2}",
            ms in MIN_MS..=MAX_MS,
            edit in (0usize..24, 0u8..0x80),
        ) {
            let general = parse_rfc3339(text.as_bytes());
            if let Some(common) = Timestamp::parse_common(&text) {
                prop_assert_eq!(Some(common.unix_millis()), general);
            }
            let printed = Timestamp(ms).to_string();
            prop_assert_eq!(Timestamp::parse_common(&printed), Some(Timestamp(ms)));
            // One byte of the usual form changed (to anything ASCII).
            let mut edited = printed.clone().into_bytes();
            edited[edit.0] = edit.1;
            let edited = String::from_utf8(edited).unwrap();
            if let Some(common) = Timestamp::parse_common(&edited) {
                prop_assert_eq!(Some(common.unix_millis()), parse_rfc3339(edited.as_bytes()));
            }
            let seconds = printed.replace(".000Z", "Z");
            prop_assert_eq!(Timestamp::parse_common(&seconds).map(Timestamp::unix_millis), parse_rfc3339(seconds.as_bytes()));
        }
    }
}
