//! Conformance: the STIX specs' pattern examples and cti-pattern-validator's pass and fail cases
//! (see `tests/conformance/README.md` for where each file comes from and the differences).

// Tests fail by panicking, index into results they have just checked, and hold long tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::too_many_lines)]

// One module named like the file, so that `cargo test pattern` selects these tests too.
mod pattern_conformance {
    use ti_relay::pattern::{Pattern, SpecVersion, parse, parse_version};

    fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
        text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
    }

    /// Every line parses under `version`, prints to a form that parses back to the same tree (under
    /// 2.1 too), and printing that again changes nothing.
    fn all_parse_and_round_trip(file: &str, text: &str, version: SpecVersion) -> usize {
        let mut count = 0;
        for (line, pattern) in lines(text) {
            let parsed: Pattern =
                parse_version(pattern, version).unwrap_or_else(|e| panic!("{file}:{line}: {e}\n  {pattern}"));
            let printed = parsed.to_string();
            let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{file}:{line}: reprint: {e}\n  {printed}"));
            assert_eq!(reparsed, parsed, "{file}:{line}: round trip\n  {pattern}\n  {printed}");
            assert_eq!(reparsed.to_string(), printed, "{file}:{line}: printing is idempotent");
            count += 1;
        }
        count
    }

    #[test]
    fn stix21_spec_examples() {
        let n = all_parse_and_round_trip(
            "stix21_spec_examples.txt",
            include_str!("conformance/stix21_spec_examples.txt"),
            SpecVersion::V2_1,
        );
        assert_eq!(n, 23);
    }

    #[test]
    fn stix20_spec_examples() {
        let n = all_parse_and_round_trip(
            "stix20_spec_examples.txt",
            include_str!("conformance/stix20_spec_examples.txt"),
            SpecVersion::V2_0,
        );
        assert_eq!(n, 24);
    }

    #[test]
    fn validator_pass_cases() {
        let n = all_parse_and_round_trip(
            "validator_v21_pass.txt",
            include_str!("conformance/validator_v21_pass.txt"),
            SpecVersion::V2_1,
        );
        assert_eq!(n, 37);
        let n = all_parse_and_round_trip(
            "validator_v20_pass.txt",
            include_str!("conformance/validator_v20_pass.txt"),
            SpecVersion::V2_0,
        );
        assert_eq!(n, 34);
    }

    /// Spec examples in canonical form print as themselves, apart from the spacing fixes listed.
    #[test]
    fn spec_examples_are_mostly_canonical() {
        let mut changed = Vec::new();
        for (_, pattern) in lines(include_str!("conformance/stix21_spec_examples.txt")) {
            let printed = parse(pattern).unwrap().to_string();
            if printed != pattern {
                changed.push(printed);
            }
        }
        // The spec writes `MATCHES'^...` without a space in one example, and parenthesises an AND
        // that binds tighter than the OR anyway in another.
        assert_eq!(changed.len(), 2, "{changed:#?}");
        assert!(changed[0].contains("MATCHES '^.+>-add GlobalSign.cer -c -s -r localMachineTrustedPublisher$'"));
        assert!(changed[1].starts_with("[file:name = 'foo.dll'] AND [win-registry-key:key"));
    }

    /// cti-pattern-validator's v21 `FAIL_CASES` and `TIMESTAMP_FAIL_CASES`: the validator's message,
    /// then ours. Two of its cases pass here (see the README's DIFFERENCE entries).
    #[test]
    fn validator_fail_cases() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "file:size = 1280",
                "input is missing square brackets",
                "expected `[` or `(` to start an observation expression, found `file` at offset 0",
            ),
            ("[file:size = ]", "1:13. mismatched input ']'", "expected a value after `=`, found `]` at offset 13"),
            (
                "[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]",
                "1:19. mismatched input 'cead3f77f6cda6ec00f57d76c9a6879f'",
                "expected a value after `=`, found `cead3f77f6cda6ec00f57d76c9a6879f` at offset 19",
            ),
            (
                "[file.size = 1280]",
                "1:5. no viable alternative at input 'file.'",
                "expected `:` after object type `file`, found `.` at offset 5",
            ),
            (
                r"[file:name MATCHES /.*\.dll/]",
                "1:19. mismatched input '/' expecting StringLiteral",
                "expected a string after `MATCHES`, found `/` at offset 19",
            ),
            (
                r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN ]",
                "1:63. mismatched input ']' expecting {IntPosLiteral, FloatPosLiteral}",
                "expected a number of seconds after `WITHIN`, found `]` at offset 63",
            ),
            (
                r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 HOURS]",
                "1:65. mismatched input 'HOURS' expecting 'SECONDS'",
                "expected `SECONDS` after `WITHIN 5`, found `HOURS` at offset 65",
            ),
            (
                r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN -5 SECONDS]",
                "1:63. mismatched input '-5' expecting {IntPosLiteral, FloatPosLiteral}",
                "expected a number of seconds after `WITHIN`, found `-5` at offset 63",
            ),
            (
                "[network-traffic:dst_ref.value ISSUBSET ]",
                "1:40. missing StringLiteral at ']'",
                "expected a string after `ISSUBSET`, found `]` at offset 40",
            ),
            (
                "[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']",
                "1:18. extraneous input '?'",
                "expected a value after `=`, found `?` at offset 18",
            ),
            (
                "[x_whatever:detected == t'2457-73-22T32:81:84.1Z']",
                "1:24. extraneous input 't'",
                "invalid timestamp literal `t'2457-73-22T32:81:84.1Z'`: month must be 01–12 at offset 24",
            ),
            (
                "[artifact:payload_bin = b'====']",
                "1:24. extraneous input 'b'",
                "invalid binary literal `b'===='`: expected padded base64 in groups of four characters at offset 24",
            ),
            (
                r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
                "Duplicate qualifier type encountered: WITHIN",
                "duplicate `WITHIN` qualifier on one observation: wrap it in parentheses to qualify it again at offset 73",
            ),
            (
                r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES REPEATS 3 TIMES)",
                "Duplicate qualifier type encountered: REPEATS",
                "duplicate `REPEATS` qualifier on one observation: wrap it in parentheses to qualify it again at offset 73",
            ),
            (
                concat!(
                    r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] ",
                    "START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' ",
                    "START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'"
                ),
                "Duplicate qualifier type encountered: STARTSTOP",
                "duplicate `START`/`STOP` qualifier on one observation: wrap it in parentheses to qualify it again at offset 123",
            ),
            (
                "[x:created = t'2024-13-01T12:00:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-13-01T12:00:00Z'`: month must be 01–12 at offset 13",
            ),
            (
                "[x:created = t'2024-00-01T12:00:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-00-01T12:00:00Z'`: month must be 01–12 at offset 13",
            ),
            (
                "[x:created = t'2024-01-32T12:00:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-01-32T12:00:00Z'`: day must be 01–31 at offset 13",
            ),
            (
                "[x:created = t'2024-01-00T12:00:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-01-00T12:00:00Z'`: day must be 01–31 at offset 13",
            ),
            (
                "[x:created = t'2024-01-15T25:00:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-01-15T25:00:00Z'`: hour must be 00–23 at offset 13",
            ),
            (
                "[x:created = t'2024-01-15T12:60:00Z']",
                "1:",
                "invalid timestamp literal `t'2024-01-15T12:60:00Z'`: minute must be 00–59 at offset 13",
            ),
            (
                "[x:created = t'2024-01-15T12:30:61Z']",
                "1:",
                "invalid timestamp literal `t'2024-01-15T12:30:61Z'`: second must be 00–60 at offset 13",
            ),
            (
                "[x:created = t'2024-01-15T12:30:45']",
                "1:",
                "invalid timestamp literal `t'2024-01-15T12:30:45'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 13",
            ),
            (
                "[x:created = t'not-a-timestamp']",
                "1:",
                "invalid timestamp literal `t'not-a-timestamp'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 13",
            ),
            (
                "[x:created = t'2024/01/15T12:30:45Z']",
                "1:",
                "invalid timestamp literal `t'2024/01/15T12:30:45Z'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 13",
            ),
        ];
        for (input, validator, ours) in cases {
            let err = parse(input).expect_err(input);
            assert_eq!(err.to_string(), *ours, "{input} (validator: {validator})");
        }
        // DIFFERENCE: keywords are case-insensitive here.
        assert!(parse("[foo:bar=1] within 2 seconds").is_ok());
        // DIFFERENCE: hash values are the normaliser's business, not the grammar's.
        assert!(parse("[file:hashes.'SHA-256' = 'f00']").is_ok());
    }
}
