//! Observable extraction, rule by rule (SPEC §4).

// Tests fail by panicking, index into results they have just checked, and hold long tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::too_many_lines)]

// One module named like the file, so that `cargo test pattern` selects these tests too.
mod pattern_extract {
    use ti_relay::model::{HashAlgorithm, Observable, ObservableType as T};
    use ti_relay::pattern::{Extraction, extract, parse};
    use ti_relay::{Code, Error};

    fn run(pattern: &str) -> Extraction {
        extract(&parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}")))
    }

    fn obs(kind: T, value: &str) -> Observable {
        Observable::new(kind, value)
    }

    fn hashed(kind: T, algorithm: HashAlgorithm, value: &str) -> Observable {
        Observable::hashed(kind, algorithm, value)
    }

    #[track_caller]
    fn test_atomic(cases: &[(&str, &[Observable])]) {
        for (pattern, want) in cases {
            match run(pattern) {
                Extraction::Atomic(got) => {
                    let got: Vec<Observable> =
                        got.into_iter().map(|r| r.unwrap_or_else(|e| panic!("{pattern}: {e}"))).collect();
                    assert_eq!(&got, want, "{pattern}");
                }
                Extraction::NotAtomic(reason) => panic!("{pattern}: not atomic: {reason}"),
            }
        }
    }

    #[track_caller]
    fn test_not_atomic(cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (pattern, want) in cases {
            match run(pattern) {
                Extraction::NotAtomic(reason) if reason == *want => {}
                other => failures.push(format!("{pattern}\n   want: {want}\n    got: {other:?}")),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn one_equality_is_one_observable() {
        test_atomic(&[
            ("[ipv4-addr:value = '198.51.100.1']", &[obs(T::Ipv4, "198.51.100.1")]),
            ("[ipv4-addr:value = '198.51.100.1/32']", &[obs(T::Ipv4, "198.51.100.1")]),
            ("[ipv4-addr:value = '198.51.100.7/24']", &[obs(T::Cidr, "198.51.100.0/24")]),
            ("[ipv6-addr:value = '2001:DB8:0::1']", &[obs(T::Ipv6, "2001:db8::1")]),
            ("[domain-name:value = 'Evil.Example.COM.']", &[obs(T::Domain, "evil.example.com")]),
            ("[hostname:value = 'c2.example.net']", &[obs(T::Domain, "c2.example.net")]),
            ("[url:value = 'http://example.com/foo']", &[obs(T::Url, "http://example.com/foo")]),
            (
                "[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']",
                &[hashed(
                    T::File,
                    HashAlgorithm::Sha256,
                    "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
                )],
            ),
            (
                "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
                &[hashed(T::File, HashAlgorithm::Md5, "cead3f77f6cda6ec00f57d76c9a6879f")],
            ),
            (
                "[x509-certificate:hashes.'SHA-1' = '9e0ec5e1c1b5e1e5a0b1c2d3e4f5a6b7c8d9e0f1']",
                &[hashed(T::Certificate, HashAlgorithm::Sha1, "9e0ec5e1c1b5e1e5a0b1c2d3e4f5a6b7c8d9e0f1")],
            ),
            ("[email-addr:value = 'jdoe@Example.com']", &[obs(T::Email, "jdoe@example.com")]),
            ("[email-message:from_ref.value = 'a@example.com']", &[obs(T::Email, "a@example.com")]),
            ("[email-message:sender_ref.value = 'b@example.com']", &[obs(T::Email, "b@example.com")]),
            ("[email-message:subject = 'Conference Info']", &[obs(T::EmailSubject, "Conference Info")]),
            ("[autonomous-system:number = 64496]", &[obs(T::Asn, "64496")]),
            ("[autonomous-system:number = 'AS64496']", &[obs(T::Asn, "64496")]),
            (
                r"[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\Software\\Evil']",
                &[obs(T::RegistryKey, r"HKEY_LOCAL_MACHINE\Software\Evil")],
            ),
            ("[network-traffic:dst_ref.value = 'Example.com']", &[obs(T::Domain, "example.com")]),
            ("[network-traffic:dst_ref.value = '203.0.113.33/32']", &[obs(T::Ipv4, "203.0.113.33")]),
            // Keywords in any case, `==`, comments and parentheses change nothing.
            ("( [ ( url:value == 'http://a/' ) ] ) /* c */", &[obs(T::Url, "http://a/")]),
        ]);
    }

    #[test]
    fn ors_split_into_one_observable_each() {
        test_atomic(&[
            (
                "[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']",
                &[obs(T::Url, "http://example.com/foo"), obs(T::Url, "http://example.com/bar")],
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] OR [domain-name:value = 'evil.example'] or ([url:value = 'http://x/'] OR [email-addr:value = 'a@b.example'])",
                &[
                    obs(T::Ipv4, "1.2.3.4"),
                    obs(T::Domain, "evil.example"),
                    obs(T::Url, "http://x/"),
                    obs(T::Email, "a@b.example"),
                ],
            ),
            (
                "[(ipv4-addr:value = '1.2.3.4' OR (ipv6-addr:value = '::1' OR ipv4-addr:value = '5.6.7.8'))]",
                &[obs(T::Ipv4, "1.2.3.4"), obs(T::Ipv6, "::1"), obs(T::Ipv4, "5.6.7.8")],
            ),
            (
                r"[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\CryptoLocker\\Files' OR windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Microsoft\\CurrentVersion\\Run\\CryptoLocker_0388']",
                &[
                    obs(T::RegistryKey, r"HKEY_CURRENT_USER\Software\CryptoLocker\Files"),
                    obs(T::RegistryKey, r"HKEY_CURRENT_USER\Software\Microsoft\CurrentVersion\Run\CryptoLocker_0388"),
                ],
            ),
            // The same observable twice is listed once.
            ("[url:value = 'http://a/'] OR [url:value = ' http://a/ ']", &[obs(T::Url, "http://a/")]),
        ]);
    }

    #[test]
    fn network_traffic_conjunctions_carry_port_and_protocol() {
        let with = |mut o: Observable, port: Option<u16>, protocol: Option<&str>| {
            o.port = port;
            o.protocol = protocol.map(str::to_owned);
            o
        };
        test_atomic(&[
            (
                "[network-traffic:dst_ref.value = '203.0.113.33' AND network-traffic:dst_port = 443]",
                &[with(obs(T::Ipv4, "203.0.113.33"), Some(443), None)],
            ),
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33' AND network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'TCP']",
                &[with(obs(T::Ipv4, "203.0.113.33"), Some(443), Some("tcp"))],
            ),
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.33/32']",
                &[obs(T::Ipv4, "203.0.113.33")],
            ),
            (
                "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'Example.com'] ",
                &[obs(T::Domain, "example.com")],
            ),
            (
                "[network-traffic:dst_ref.value = '2001:db8::1' AND (network-traffic:dst_port = '8443' AND network-traffic:protocols[0] = 'udp')]",
                &[with(obs(T::Ipv6, "2001:db8::1"), Some(8443), Some("udp"))],
            ),
            (
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 80] OR [network-traffic:dst_ref.value = '5.6.7.8' AND network-traffic:dst_port = 8080]",
                &[with(obs(T::Ipv4, "1.2.3.4"), Some(80), None), with(obs(T::Ipv4, "5.6.7.8"), Some(8080), None)],
            ),
        ]);
    }

    #[test]
    fn registry_conjunctions_carry_the_value() {
        let mut full = obs(T::RegistryKey, r"HKEY_CURRENT_USER\Software\Run");
        full.value_name = Some("evil".into());
        full.value_type = Some("REG_SZ".into());
        let mut named = obs(T::RegistryKey, r"HKEY_CURRENT_USER\Software\Run");
        named.value_name = Some("evil".into());
        test_atomic(&[
            (
                r"[windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Run' AND windows-registry-key:values[*].name = 'evil' AND windows-registry-key:values[*].data_type = 'REG_SZ']",
                &[full],
            ),
            (
                r"[windows-registry-key:values[*].name = 'evil' AND windows-registry-key:key = 'HKEY_CURRENT_USER\\Software\\Run']",
                &[named],
            ),
        ]);
    }

    /// Hex digits of one kind, so that each algorithm's value is recognisable in the results.
    fn hex(digit: char, algorithm: HashAlgorithm) -> String {
        digit.to_string().repeat(algorithm.hex_len().unwrap())
    }

    const SSDEEP: &str = "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C";

    fn tlsh() -> String {
        format!("T1{}", "ab".repeat(35))
    }

    #[test]
    fn hash_conjunctions_give_one_observable_per_hash_strongest_first() {
        use HashAlgorithm::{Md5, Sha1, Sha3_256, Sha3_512, Sha224, Sha256, Sha384, Sha512, Ssdeep, Tlsh};
        let file = |algorithm, value: &str| hashed(T::File, algorithm, value);
        let (md5, sha1, sha256) = (hex('d', Md5), hex('1', Sha1), hex('2', Sha256));
        let all_ten = format!(
            "[file:hashes.TLSH = '{}' AND file:hashes.SSDEEP = '{SSDEEP}' AND file:hashes.MD5 = '{md5}' \
             AND file:hashes.'SHA3-512' = '{}' AND file:hashes.'SHA3-256' = '{}' AND file:hashes.'SHA-224' = '{}' \
             AND file:hashes.'SHA-384' = '{}' AND file:hashes.'SHA-512' = '{}' AND file:hashes.'SHA-1' = '{sha1}' \
             AND file:hashes.'SHA-256' = '{sha256}']",
            tlsh(),
            hex('e', Sha3_512),
            hex('c', Sha3_256),
            hex('a', Sha224),
            hex('b', Sha384),
            hex('5', Sha512),
        );
        let cases: Vec<(String, Vec<Observable>)> = vec![
            // The MISP export shape: two hashes of one file.
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:hashes.'SHA-256' = '{sha256}']"),
                vec![file(Sha256, &sha256), file(Md5, &md5)],
            ),
            // With the file's name and size, which are ignored; any nesting of ANDs.
            (
                format!(
                    "[file:name = 'evil.exe' AND file:hashes.MD5 = '{md5}' AND (file:hashes.'SHA-1' = '{sha1}' \
                     AND file:size = 1024) AND file:hashes.'SHA-256' = '{}']",
                    sha256.to_uppercase()
                ),
                vec![file(Sha256, &sha256), file(Sha1, &sha1), file(Md5, &md5)],
            ),
            (format!("[file:hashes.MD5 = '{md5}' AND file:name = 'a.exe']"), vec![file(Md5, &md5)]),
            // Every spelling `HashAlgorithm::from_name` reads.
            (
                format!(
                    "[file:hashes.md5 = '{md5}' AND file:hashes.SHA1 = '{sha1}' AND file:hashes.sha_256 = '{sha256}']"
                ),
                vec![file(Sha256, &sha256), file(Sha1, &sha1), file(Md5, &md5)],
            ),
            (
                all_ten,
                vec![
                    file(Sha256, &sha256),
                    file(Sha1, &sha1),
                    file(Sha512, &hex('5', Sha512)),
                    file(Sha384, &hex('b', Sha384)),
                    file(Sha224, &hex('a', Sha224)),
                    file(Sha3_256, &hex('c', Sha3_256)),
                    file(Sha3_512, &hex('e', Sha3_512)),
                    file(Md5, &md5),
                    file(Ssdeep, SSDEEP),
                    file(Tlsh, &tlsh()),
                ],
            ),
            // Certificates: hashes only.
            (
                format!(
                    "[x509-certificate:hashes.'SHA-1' = '{sha1}' AND x509-certificate:hashes.'SHA-256' = '{sha256}']"
                ),
                vec![hashed(T::Certificate, Sha256, &sha256), hashed(T::Certificate, Sha1, &sha1)],
            ),
            // Alternatives of conjunctions; the same hash twice is listed once.
            (
                format!(
                    "[file:hashes.MD5 = '{md5}' AND file:hashes.'SHA-1' = '{sha1}'] OR [file:hashes.'SHA-256' = '{sha256}'] \
                     OR [file:hashes.MD5 = '{}' OR url:value = 'http://a/']",
                    md5.to_uppercase()
                ),
                vec![file(Sha1, &sha1), file(Md5, &md5), file(Sha256, &sha256), obs(T::Url, "http://a/")],
            ),
        ];
        let cases: Vec<(&str, &[Observable])> = cases.iter().map(|(p, o)| (p.as_str(), o.as_slice())).collect();
        test_atomic(&cases);
    }

    #[test]
    fn hash_conjunctions_that_are_not_atomic() {
        let (md5, sha1) = (hex('d', HashAlgorithm::Md5), hex('1', HashAlgorithm::Sha1));
        let cases: Vec<(String, &str)> = vec![
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:hashes.MD5 = 'ffffffffffffffffffffffffffffffff']"),
                "the pattern requires `file:hashes.MD5` and `file:hashes.MD5` to match together, which no destination can express as a single indicator",
            ),
            (
                format!("[file:hashes.SHA1 = '{sha1}' AND file:name = 'a' AND file:hashes.'SHA-1' = '{sha1}']"),
                "the pattern requires `file:hashes.SHA1` and `file:hashes.'SHA-1'` to match together, which no destination can express as a single indicator",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:name = 'a' AND file:mime_type = 'application/x-dosexec']"),
                "the pattern requires `file:hashes.MD5` and `file:mime_type` to match together, which no destination can express as a single indicator",
            ),
            (
                format!("[file:parent_directory_ref.path = 'C:\\\\Temp' AND file:hashes.MD5 = '{md5}']"),
                "the pattern requires `file:parent_directory_ref.path` and `file:hashes.MD5` to match together, which no destination can express as a single indicator",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:hashes[*] = '{md5}']"),
                "the pattern requires `file:hashes.MD5` and `file:hashes[*]` to match together, which no destination can express as a single indicator",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND x509-certificate:hashes.'SHA-1' = '{sha1}']"),
                "the pattern requires `file:hashes.MD5` and `x509-certificate:hashes.'SHA-1'` to match together, which no destination can express as a single indicator",
            ),
            // `name` and `size` are ignored beside a file's hashes only.
            (
                format!("[x509-certificate:hashes.'SHA-1' = '{sha1}' AND x509-certificate:serial_number = '01']"),
                "the pattern requires `x509-certificate:hashes.'SHA-1'` and `x509-certificate:serial_number` to match together, which no destination can express as a single indicator",
            ),
            (
                "[file:name = 'a.exe' AND file:size = 10 AND file:name = 'b.exe']".to_owned(),
                "the pattern requires `file:name` and `file:size` to match together, which no destination can express as a single indicator",
            ),
            (
                "[file:hashes.CRC32 = 'abcd1234' AND file:name = 'a.exe']".to_owned(),
                "the pattern uses the hash algorithm `CRC32`, which no destination takes as an indicator",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:hashes.'SHA-1' != '{sha1}']"),
                "the pattern compares `file:hashes.'SHA-1'` with `!=`; only `=` comparisons become indicators",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:size > 10]"),
                "the pattern compares `file:size` with `>`; only `=` comparisons become indicators",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND (file:hashes.'SHA-1' = '{sha1}' OR file:name = 'a')]"),
                "the pattern mixes AND and OR inside one observation, which no destination can match as a single indicator",
            ),
            (
                format!("[file:hashes.MD5 = '{md5}' AND file:hashes.'SHA-1' = '{sha1}'] AND [file:name = 'a']"),
                "the pattern joins observations with AND, which no destination can match as a single indicator",
            ),
        ];
        let cases: Vec<(&str, &str)> = cases.iter().map(|(p, r)| (p.as_str(), *r)).collect();
        test_not_atomic(&cases);
    }

    #[test]
    fn hash_conjunction_errors_are_in_place() {
        let sha256 = hex('2', HashAlgorithm::Sha256);
        let results = |pattern: &str| -> Vec<Result<Observable, (Code, String)>> {
            let Extraction::Atomic(list) = run(pattern) else { panic!("{pattern}: not atomic") };
            list.into_iter().map(|r| r.map_err(|e| (e.code(), e.to_string()))).collect()
        };
        // An invalid value is an error in its place among the hashes, strongest first.
        let got = results(&format!("[file:hashes.MD5 = 'zz' AND file:hashes.'SHA-256' = '{sha256}']"));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok(hashed(T::File, HashAlgorithm::Sha256, &sha256)));
        assert_eq!(got[1].as_ref().unwrap_err().0, Code::Value);
        // An algorithm no destination takes is an error after the others, as for a `file` object.
        let got = results(&format!(
            "[file:hashes.CRC32 = 'abcd1234' AND file:hashes.'SHA-256' = '{sha256}' AND file:hashes.'x-imphash' = 'ab']"
        ));
        assert_eq!(
            got,
            [
                Ok(hashed(T::File, HashAlgorithm::Sha256, &sha256)),
                Err((
                    Code::Unsupported,
                    "hash algorithm `CRC32` of `file:hashes.CRC32` is not supported: expected SHA-256, SHA-1, SHA-512, SHA-384, SHA-224, SHA3-256, SHA3-512, MD5, SSDEEP or TLSH".to_owned()
                )),
                Err((
                    Code::Unsupported,
                    "hash algorithm `x-imphash` of `file:hashes.'x-imphash'` is not supported: expected SHA-256, SHA-1, SHA-512, SHA-384, SHA-224, SHA3-256, SHA3-512, MD5, SSDEEP or TLSH".to_owned()
                )),
            ]
        );
    }

    #[test]
    fn everything_else_is_not_atomic_with_a_reason() {
        test_not_atomic(&[
            (
                "[file:name = 'a.exe'] FOLLOWEDBY [file:name = 'b.exe']",
                "the pattern joins observations with FOLLOWEDBY, which no destination can match as a single indicator",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'a.example']",
                "the pattern joins observations with AND, which no destination can match as a single indicator",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] OR [url:value = 'http://a/'] AND [url:value = 'http://b/']",
                "the pattern joins observations with AND, which no destination can match as a single indicator",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS",
                "the pattern qualifies an observation with `WITHIN 300 SECONDS`, which no destination can enforce on an indicator",
            ),
            (
                "[url:value = 'http://a/'] OR [ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES",
                "the pattern qualifies an observation with `REPEATS 5 TIMES`, which no destination can enforce on an indicator",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
                "the pattern qualifies an observation with `START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'`, which no destination can enforce on an indicator",
            ),
            (
                "[ipv4-addr:value != '1.2.3.4']",
                "the pattern compares `ipv4-addr:value` with `!=`; only `=` comparisons become indicators",
            ),
            ("[file:size > 1024]", "the pattern compares `file:size` with `>`; only `=` comparisons become indicators"),
            (
                "[ipv4-addr:value IN ('1.2.3.4', '5.6.7.8')]",
                "the pattern compares `ipv4-addr:value` with `IN`; only `=` comparisons become indicators",
            ),
            (
                "[url:value LIKE 'http://%']",
                "the pattern compares `url:value` with `LIKE`; only `=` comparisons become indicators",
            ),
            (
                "[domain-name:value MATCHES '^evil']",
                "the pattern compares `domain-name:value` with `MATCHES`; only `=` comparisons become indicators",
            ),
            (
                "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
                "the pattern compares `ipv4-addr:value` with `ISSUBSET`; only `=` comparisons become indicators",
            ),
            (
                "[ipv4-addr:value NOT = '1.2.3.4']",
                "the pattern negates a comparison (`ipv4-addr:value NOT =`), which no destination can match as an indicator",
            ),
            (
                "[EXISTS windows-registry-key:values]",
                "the pattern tests whether `windows-registry-key:values` exists, which no destination can match as an indicator",
            ),
            (
                "[process:name = 'evil.exe']",
                "the pattern compares `process:name`, which no destination takes as an indicator",
            ),
            (
                "[ipv4-addr:value = '1.2.3.4' OR process:name = 'evil.exe']",
                "the pattern compares `process:name`, which no destination takes as an indicator",
            ),
            (
                "[file:hashes.CRC32 = 'abcd1234']",
                "the pattern uses the hash algorithm `CRC32`, which no destination takes as an indicator",
            ),
            (
                "[file:hashes[*] = 'cead3f77f6cda6ec00f57d76c9a6879f']",
                "the pattern compares `file:hashes[*]`, which no destination takes as an indicator",
            ),
            (
                "[file:name = 'foo.dll' AND file:size = 1024]",
                "the pattern requires `file:name` and `file:size` to match together, which no destination can express as a single indicator",
            ),
            (
                "[network-traffic:dst_ref.value = '1.2.3.4' AND ipv4-addr:value = '1.2.3.4']",
                "the pattern requires `network-traffic:dst_ref.value` and `ipv4-addr:value` to match together, which no destination can express as a single indicator",
            ),
            (
                "[network-traffic:dst_port = 443 AND network-traffic:protocols[*] = 'tcp']",
                "the pattern requires `network-traffic:dst_port` and `network-traffic:protocols[*]` to match together, which no destination can express as a single indicator",
            ),
            (
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:src_port = 443]",
                "the pattern requires `network-traffic:dst_ref.value` and `network-traffic:src_port` to match together, which no destination can express as a single indicator",
            ),
            (
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 80 AND network-traffic:dst_port = 443]",
                "the pattern requires `network-traffic:dst_ref.value` and `network-traffic:dst_port` to match together, which no destination can express as a single indicator",
            ),
            (
                "[network-traffic:dst_ref.type = 'mac-addr' AND network-traffic:dst_ref.value = '00:11:22:33:44:55']",
                "the pattern's destination is of type `mac-addr`, which no destination takes as an indicator",
            ),
            (
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port NOT = 443]",
                "the pattern negates a comparison (`network-traffic:dst_port NOT =`), which no destination can match as an indicator",
            ),
            (
                "[windows-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\x' AND windows-registry-key:values[*].data = 'x']",
                "the pattern requires `windows-registry-key:key` and `windows-registry-key:values[*].data` to match together, which no destination can express as a single indicator",
            ),
            (
                "[(ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8') AND network-traffic:dst_port = 443]",
                "the pattern mixes AND and OR inside one observation, which no destination can match as a single indicator",
            ),
        ]);
    }

    #[test]
    fn a_bad_value_does_not_sink_the_others() {
        let Extraction::Atomic(list) =
            run("[ipv4-addr:value = '1.2.3.4'] OR [ipv4-addr:value = '999.1.1.1'] OR [url:value = 'http://a/']")
        else {
            panic!("not atomic")
        };
        assert_eq!(list.len(), 3);
        assert_eq!(list[0], Ok(obs(T::Ipv4, "1.2.3.4")));
        assert_eq!(list[1].as_ref().map_err(Error::code), Err(Code::Value));
        assert_eq!(list[2], Ok(obs(T::Url, "http://a/")));
    }

    #[test]
    fn values_of_the_wrong_kind_are_errors_in_place() {
        let errors = |pattern: &str| -> Vec<Option<String>> {
            let Extraction::Atomic(list) = run(pattern) else { panic!("{pattern}: not atomic") };
            list.into_iter().map(|r| r.err().map(|e| e.to_string())).collect()
        };
        assert_eq!(
            errors(
                "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 70000] OR [url:value = 'http://a/']"
            ),
            [Some("expected a port in 0–65535 for `network-traffic:dst_port`, found `70000`".to_owned()), None]
        );
        assert_eq!(
            errors("[ipv4-addr:value = 5]"),
            [Some("expected a string for `ipv4-addr:value`, found `5`".to_owned())]
        );
        assert_eq!(
            errors("[autonomous-system:number = 4294967296]"),
            [Some(
                "expected an autonomous system number in 0–4294967295 for `autonomous-system:number`, found `4294967296`"
                    .to_owned()
            )]
        );
        assert_eq!(
            errors("[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:protocols[*] = 6]"),
            [Some("expected a string for `network-traffic:protocols`, found `6`".to_owned())]
        );
        let hash = errors("[file:hashes.'SHA-256' = 'f00']");
        assert!(hash[0].is_some(), "{hash:?}");
    }

    #[test]
    fn every_spec_example_extracts_without_panicking() {
        for line in include_str!("conformance/stix21_spec_examples.txt").lines().filter(|l| !l.trim().is_empty()) {
            let _ = run(line);
        }
        // The spec's own atomic examples.
        assert!(
            matches!(run("[url:value = 'http://example.com/foo' OR url:value = 'http://example.com/bar']"), Extraction::Atomic(l) if l.len() == 2)
        );
    }
}
