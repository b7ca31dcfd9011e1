//! Validation and canonical forms of observable values.
//!
//! Every decoder and the pattern extractor sends raw values through [`observable`], so one value
//! has one spelling whatever the source: IPs parsed and printed canonically (IPv6 per RFC 5952),
//! networks with host bits cleared, domains lower-cased without a trailing dot, hashes lower-case
//! hex of the right length, URLs trimmed but otherwise verbatim. A value that cannot be made valid
//! is an [`Error`] with [`Code::Value`] whose message says what was expected.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Code, Error, quote};
use crate::model::{HashAlgorithm, Observable, ObservableType};

/// Validates and normalises a raw value of `kind` (with `algorithm` for files and certificates)
/// into an [`Observable`].
///
/// For addresses the value's shape decides the type: a network prefix shorter than the address
/// (`10.0.0.0/8`) gives a `cidr` observable, a full-length one (`/32`, `/128`) the plain address.
pub fn observable(kind: ObservableType, algorithm: Option<HashAlgorithm>, raw: &str) -> Result<Observable, Error> {
    let raw = raw.trim();
    match kind {
        ObservableType::Ipv4 => address(raw, Family::V4),
        ObservableType::Ipv6 => address(raw, Family::V6),
        ObservableType::Cidr => address(raw, Family::Any),
        ObservableType::Domain => domain(raw).map(|v| Observable::new(kind, v)),
        ObservableType::Url => url(raw).map(|v| Observable::new(kind, v)),
        ObservableType::Email => email(raw).map(|v| Observable::new(kind, v)),
        ObservableType::EmailSubject => non_empty(raw, "an email subject").map(|v| Observable::new(kind, v)),
        ObservableType::Asn => asn(raw).map(|n| Observable::new(kind, n.to_string())),
        ObservableType::RegistryKey => registry_key(raw).map(|v| Observable::new(kind, v)),
        ObservableType::File | ObservableType::Certificate => {
            let Some(algorithm) = algorithm else {
                return Err(Error::new(
                    Code::Missing,
                    format!("missing hash algorithm for {kind} value {}", quote(raw)),
                ));
            };
            hash(algorithm, raw).map(|v| Observable::hashed(kind, algorithm, v))
        }
    }
}

/// An IP address or network of either family, typed by its shape: `ipv4`, `ipv6` or `cidr`.
pub fn ip(raw: &str) -> Result<Observable, Error> {
    address(raw.trim(), Family::Any)
}

/// A network destination whose type is not declared (STIX `network-traffic:dst_ref.value`,
/// ThreatConnect summaries): an IP address or network if it parses as one, else a domain name.
pub fn host(raw: &str) -> Result<Observable, Error> {
    let raw = raw.trim();
    if looks_like_ip(raw) { ip(raw) } else { domain(raw).map(|v| Observable::new(ObservableType::Domain, v)) }
}

/// A bare value whose type nobody declared (the generic envelope's `"indicators": ["..."]`), typed
/// by its shape: an IP address or network; a hash by its hex length (MD5, SHA-1, SHA-256, SHA-512);
/// an email address; a URL (has `://`); else a domain name.
pub fn guess(raw: &str) -> Result<Observable, Error> {
    let raw = raw.trim();
    if looks_like_ip(raw) && ip(raw).is_ok() {
        return ip(raw);
    }
    if raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        let algorithm = match raw.len() {
            32 => Some(HashAlgorithm::Md5),
            40 => Some(HashAlgorithm::Sha1),
            64 => Some(HashAlgorithm::Sha256),
            128 => Some(HashAlgorithm::Sha512),
            _ => None,
        };
        if let Some(algorithm) = algorithm {
            return hash(algorithm, raw).map(|v| Observable::hashed(ObservableType::File, algorithm, v));
        }
    }
    if raw.contains("://") {
        return url(raw).map(|v| Observable::new(ObservableType::Url, v));
    }
    if raw.contains('@') {
        return email(raw).map(|v| Observable::new(ObservableType::Email, v));
    }
    domain(raw).map(|v| Observable::new(ObservableType::Domain, v)).map_err(|_| {
        invalid(
            "indicator value",
            raw,
            "an IP address, CIDR network, domain, URL, email address or MD5/SHA-1/SHA-256/SHA-512 hash",
        )
    })
}

fn looks_like_ip(raw: &str) -> bool {
    raw.contains(':') || (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'/'))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
    Any,
}

fn address(raw: &str, family: Family) -> Result<Observable, Error> {
    let (addr, prefix) = match raw.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (raw, None),
    };
    let v4 = family != Family::V6 && !addr.contains(':');
    if v4 {
        let Ok(ip) = addr.parse::<Ipv4Addr>() else {
            let what = if family == Family::Any { "IP address or CIDR network" } else { "IPv4 address" };
            return Err(invalid(what, raw, "four decimal octets 0–255 like `203.0.113.7`, optionally with `/prefix`"));
        };
        match parse_prefix(prefix, 32, raw)? {
            None | Some(32) => Ok(Observable::new(ObservableType::Ipv4, ipv4_text(ip))),
            Some(len) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                let net = Ipv4Addr::from(u32::from(ip) & mask);
                Ok(Observable::new(ObservableType::Cidr, format!("{net}/{len}")))
            }
        }
    } else {
        let bare = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
        let Ok(ip) = bare.parse::<Ipv6Addr>() else {
            let what = if family == Family::Any { "IP address or CIDR network" } else { "IPv6 address" };
            return Err(invalid(what, raw, "eight groups of hex digits like `2001:db8::1`, optionally with `/prefix`"));
        };
        if let Some(v4) = ip.to_ipv4_mapped().filter(|_| family != Family::V6 && prefix.is_none()) {
            return Ok(Observable::new(ObservableType::Ipv4, ipv4_text(v4)));
        }
        match parse_prefix(prefix, 128, raw)? {
            None | Some(128) => Ok(Observable::new(ObservableType::Ipv6, ip.to_string())),
            Some(len) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                let net = Ipv6Addr::from(u128::from(ip) & mask);
                Ok(Observable::new(ObservableType::Cidr, format!("{net}/{len}")))
            }
        }
    }
}

/// Dotted-quad text without going through `fmt` (this runs for most indicators).
fn ipv4_text(ip: Ipv4Addr) -> String {
    let mut text = String::with_capacity(15);
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

fn parse_prefix(prefix: Option<&str>, max: u8, raw: &str) -> Result<Option<u8>, Error> {
    let Some(prefix) = prefix else { return Ok(None) };
    match prefix.parse::<u8>() {
        Ok(len) if len <= max && !prefix.starts_with('+') => Ok(Some(len)),
        _ => Err(invalid("CIDR network", raw, &format!("a prefix length from 0 to {max} after `/`"))),
    }
}

/// A domain or host name: lower-cased, without a trailing dot, labels of 1–63 characters, at most
/// 253 characters, no spaces or URL syntax. Underscores and non-ASCII (IDN) letters are accepted
/// because real malicious hosts use them.
pub fn domain(raw: &str) -> Result<String, Error> {
    let name = raw.trim().strip_suffix('.').unwrap_or(raw.trim());
    let expected = "a host name like `evil.example.com`";
    if name.is_empty() {
        return Err(invalid("domain name", raw, expected));
    }
    if name.starts_with("*.") {
        return Err(invalid(
            "domain name",
            raw,
            "a host name without wildcards (a domain indicator already covers its subdomains)",
        ));
    }
    if name.len() > 253 {
        return Err(invalid("domain name", raw, "at most 253 characters"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.chars().count() > 63 {
            return Err(invalid("domain name", raw, "dot-separated labels of 1 to 63 characters"));
        }
        if let Some(bad) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(invalid("domain name", raw, &format!("{expected}; `{bad}` is not allowed in a host name")));
        }
    }
    Ok(name.to_lowercase())
}

/// A URL: trimmed, otherwise verbatim. No whitespace or control characters inside.
pub fn url(raw: &str) -> Result<String, Error> {
    let url = raw.trim();
    if url.is_empty() {
        return Err(invalid("URL", raw, "a URL like `https://evil.example.com/path`"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("URL", raw, "no spaces or control characters (percent-encode them)"));
    }
    Ok(url.to_owned())
}

/// An email address: one `@`, a non-empty local part kept verbatim, a valid domain lower-cased.
pub fn email(raw: &str) -> Result<String, Error> {
    let addr = raw.trim();
    let expected = "an address like `user@example.com`";
    let Some((local, host)) = addr.rsplit_once('@') else {
        return Err(invalid("email address", raw, expected));
    };
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>') {
        return Err(invalid("email address", raw, expected));
    }
    let host = domain(host).map_err(|_| invalid("email address", raw, expected))?;
    Ok(format!("{local}@{host}"))
}

/// An autonomous-system number: `13335`, `AS13335`, `ASN13335`, `AS 13335`.
pub fn asn(raw: &str) -> Result<u32, Error> {
    let trimmed = raw.trim();
    let upper = trimmed.to_ascii_uppercase();
    let digits = upper.strip_prefix("ASN").or_else(|| upper.strip_prefix("AS")).unwrap_or(&upper).trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("AS number", raw, "a number like `13335` or `AS13335`"));
    }
    digits.parse::<u32>().map_err(|_| invalid("AS number", raw, "a number from 0 to 4294967295"))
}

/// A Windows registry key, verbatim but trimmed; must name a hive.
pub fn registry_key(raw: &str) -> Result<String, Error> {
    let key = non_empty(raw, "a registry key")?;
    if key.chars().any(char::is_control) {
        return Err(invalid("registry key", raw, "no control characters"));
    }
    Ok(key)
}

/// A hash of `algorithm`: hex of the algorithm's length (lower-cased), or the ssdeep / TLSH shape.
pub fn hash(algorithm: HashAlgorithm, raw: &str) -> Result<String, Error> {
    let value = raw.trim();
    let what = || format!("{} hash", algorithm.stix_name());
    match algorithm {
        HashAlgorithm::Ssdeep => {
            let mut parts = value.splitn(3, ':');
            let ok = parts.next().is_some_and(|b| !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()))
                && parts.next().is_some_and(is_base64ish)
                && parts.next().is_some_and(|rest| is_base64ish(rest.split(',').next().unwrap_or(rest)));
            if ok { Ok(value.to_owned()) } else { Err(invalid(&what(), raw, "`blocksize:hash:hash`")) }
        }
        HashAlgorithm::Tlsh => {
            let hex = value.strip_prefix("T1").or_else(|| value.strip_prefix("t1")).unwrap_or(value);
            if hex.len() == 70 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                let prefix = if hex.len() == value.len() { "" } else { "T1" };
                Ok(format!("{prefix}{}", hex.to_ascii_lowercase()))
            } else {
                Err(invalid(&what(), raw, "70 hex digits, optionally after `T1`"))
            }
        }
        _ => {
            let len = algorithm.hex_len().unwrap_or(0);
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                let found = if value.bytes().all(|b| b.is_ascii_hexdigit()) {
                    format!("{} hex digits", value.len())
                } else {
                    "non-hex characters".to_owned()
                };
                return Err(Error::new(
                    Code::Value,
                    format!("invalid {} {}: expected {len} hex digits, found {found}", what(), quote(raw)),
                ));
            }
            Ok(value.to_ascii_lowercase())
        }
    }
}

fn is_base64ish(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
}

fn non_empty(raw: &str, what: &str) -> Result<String, Error> {
    let value = raw.trim();
    if value.is_empty() {
        Err(Error::new(Code::Value, format!("invalid value: expected {what}, found an empty string")))
    } else {
        Ok(value.to_owned())
    }
}

fn invalid(what: &str, raw: &str, expected: &str) -> Error {
    Error::new(Code::Value, format!("invalid {what} {}: expected {expected}", quote(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservableType as T;

    fn ok(kind: T, raw: &str) -> (T, String) {
        let o = observable(kind, None, raw).unwrap();
        (o.kind, o.value)
    }

    #[test]
    fn addresses() {
        for (kind, raw, want_kind, want) in [
            (T::Ipv4, " 203.0.113.7 ", T::Ipv4, "203.0.113.7"),
            (T::Ipv4, "10.1.2.3/8", T::Cidr, "10.0.0.0/8"),
            (T::Ipv4, "10.1.2.3/32", T::Ipv4, "10.1.2.3"),
            (T::Ipv6, "2001:0DB8:0000:0000:0000:0000:0000:0001", T::Ipv6, "2001:db8::1"),
            (T::Ipv6, "2a03:b0c0:3:e0:0:0:341:6001", T::Ipv6, "2a03:b0c0:3:e0::341:6001"),
            (T::Ipv6, "2001:db8::1/32", T::Cidr, "2001:db8::/32"),
            (T::Ipv6, "[2001:db8::1]", T::Ipv6, "2001:db8::1"),
            (T::Cidr, "192.168.0.0/16", T::Cidr, "192.168.0.0/16"),
            (T::Cidr, "::ffff:1.2.3.4", T::Ipv4, "1.2.3.4"),
        ] {
            assert_eq!(ok(kind, raw), (want_kind, want.to_owned()), "{raw}");
        }
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        for (kind, raw, msg) in [
            (
                T::Ipv4,
                "1.2.3.999",
                "invalid IPv4 address `1.2.3.999`: expected four decimal octets 0–255 like `203.0.113.7`, optionally with `/prefix`",
            ),
            (
                T::Ipv4,
                "01.2.3.4",
                "invalid IPv4 address `01.2.3.4`: expected four decimal octets 0–255 like `203.0.113.7`, optionally with `/prefix`",
            ),
            (
                T::Ipv4,
                "1.2.3.4/33",
                "invalid CIDR network `1.2.3.4/33`: expected a prefix length from 0 to 32 after `/`",
            ),
            (
                T::Ipv6,
                "2001:db8::g",
                "invalid IPv6 address `2001:db8::g`: expected eight groups of hex digits like `2001:db8::1`, optionally with `/prefix`",
            ),
            (
                T::Domain,
                "evil .com",
                "invalid domain name `evil .com`: expected a host name like `evil.example.com`; ` ` is not allowed in a host name",
            ),
            (T::Domain, "a..b", "invalid domain name `a..b`: expected dot-separated labels of 1 to 63 characters"),
            (
                T::Domain,
                "*.evil.com",
                "invalid domain name `*.evil.com`: expected a host name without wildcards (a domain indicator already covers its subdomains)",
            ),
            (
                T::Url,
                "http://a b",
                "invalid URL `http://a b`: expected no spaces or control characters (percent-encode them)",
            ),
            (T::Email, "nobody", "invalid email address `nobody`: expected an address like `user@example.com`"),
            (T::Asn, "ASX", "invalid AS number `ASX`: expected a number like `13335` or `AS13335`"),
            (T::EmailSubject, "  ", "invalid value: expected an email subject, found an empty string"),
        ] {
            let err = observable(kind, None, raw).unwrap_err();
            assert_eq!(err.code(), Code::Value);
            assert_eq!(err.message(), msg, "{raw}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(ok(T::Domain, "Evil.Example.COM."), (T::Domain, "evil.example.com".into()));
        assert_eq!(ok(T::Domain, "under_score.example"), (T::Domain, "under_score.example".into()));
        assert_eq!(ok(T::Email, "Bad.Guy@Evil.COM"), (T::Email, "Bad.Guy@evil.com".into()));
        assert_eq!(ok(T::Url, "  https://x.test/a?b=c&d=E  "), (T::Url, "https://x.test/a?b=c&d=E".into()));
        assert_eq!(ok(T::Asn, "AS 13335"), (T::Asn, "13335".into()));
        assert_eq!(ok(T::Asn, "ASN001"), (T::Asn, "1".into()));
    }

    #[test]
    fn hashes() {
        let md5 = "912EC803B2CE49E4A541068D495AB570";
        let o = observable(T::File, Some(HashAlgorithm::Md5), md5).unwrap();
        assert_eq!(o.value, md5.to_ascii_lowercase());
        let err = observable(T::File, Some(HashAlgorithm::Sha256), md5).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid SHA-256 hash `912EC803B2CE49E4A541068D495AB570`: expected 64 hex digits, found 32 hex digits"
        );
        let err = observable(T::File, Some(HashAlgorithm::Md5), "zz2EC803B2CE49E4A541068D495AB570").unwrap_err();
        assert!(err.message().ends_with("found non-hex characters"));
        let err = observable(T::File, None, md5).unwrap_err();
        assert_eq!(err.code(), Code::Missing);
        assert!(observable(T::File, Some(HashAlgorithm::Ssdeep), "96:abc/+def:ghi").is_ok());
        assert!(observable(T::File, Some(HashAlgorithm::Ssdeep), "x:abc:def").is_err());
    }

    #[test]
    fn guesses_bare_values() {
        for (raw, kind) in [
            ("203.0.113.7", T::Ipv4),
            ("10.0.0.0/8", T::Cidr),
            ("2001:db8::1", T::Ipv6),
            ("d41d8cd98f00b204e9800998ecf8427e", T::File),
            ("https://evil.example/x", T::Url),
            ("a@evil.example", T::Email),
            ("evil.example", T::Domain),
        ] {
            assert_eq!(guess(raw).unwrap().kind, kind, "{raw}");
        }
        assert_eq!(
            guess("not a value").unwrap_err().message(),
            "invalid indicator value `not a value`: expected an IP address, CIDR network, domain, URL, email address or MD5/SHA-1/SHA-256/SHA-512 hash"
        );
    }

    proptest::proptest! {
        #[test]
        fn ipv4_text_is_display(bits: u32) {
            let ip = Ipv4Addr::from(bits);
            proptest::prop_assert_eq!(ipv4_text(ip), ip.to_string());
        }
    }

    #[test]
    fn host_guesses() {
        assert_eq!(host("1.2.3.4").unwrap().kind, T::Ipv4);
        assert_eq!(host("::1").unwrap().kind, T::Ipv6);
        assert_eq!(host("Evil.com").unwrap().value, "evil.com");
    }
}
