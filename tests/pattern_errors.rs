//! Error messages and offsets, pinned exactly (the `test_parse_err` style of `serde_json`).

// Tests fail by panicking, index into results they have just checked, and hold long tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::too_many_lines)]

// One module named like the file, so that `cargo test pattern` selects these tests too.
mod pattern_errors {
    use ti_relay::Code;
    use ti_relay::pattern::{SpecVersion, parse, parse_version};

    #[track_caller]
    fn test_parse_err(cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for &(input, want) in cases {
            match parse(input) {
                Ok(p) => failures.push(format!("{input:?}: parsed as {p}")),
                Err(e) => {
                    assert_eq!(e.code(), Code::Pattern, "{input:?}");
                    if e.to_string() != want {
                        failures.push(format!("{input:?}\n   want: {want}\n    got: {e}"));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    }

    #[test]
    fn structure() {
        test_parse_err(&[
            ("", "expected `[` or `(` to start an observation expression, found end of input at offset 0"),
            ("   ", "expected `[` or `(` to start an observation expression, found end of input at offset 3"),
            ("file:size = 1280", "expected `[` or `(` to start an observation expression, found `file` at offset 0"),
            ("[file:size = 1280", "expected `]`, found end of input at offset 17"),
            ("[file:size = 1280 file:name = 'a']", "expected `]`, found `file` at offset 18"),
            ("[file:size = 1280]]", "expected end of pattern, found `]` at offset 18"),
            ("[a:b = 1] [a:b = 2]", "expected end of pattern, found `[` at offset 10"),
            (
                "[a:b = 1] AND",
                "expected `[` or `(` to start an observation expression, found end of input at offset 13",
            ),
            (
                "[a:b = 1] OR OR [a:b = 2]",
                "expected `[` or `(` to start an observation expression, found `OR` at offset 13",
            ),
            (
                "[a:b = 1] FOLLOWEDBY",
                "expected `[` or `(` to start an observation expression, found end of input at offset 20",
            ),
            ("([a:b = 1]", "expected `)`, found end of input at offset 10"),
            ("([a:b = 1]))", "expected end of pattern, found `)` at offset 11"),
            ("[]", "expected an object path like `file:name`, found `]` at offset 1"),
            ("[(a:b = 1]", "expected `)`, found `]` at offset 9"),
            ("[a:b = 1 AND]", "expected an object path like `file:name`, found `]` at offset 12"),
            ("[a:b = 1 OR (a:c = 2]", "expected `)`, found `]` at offset 20"),
            ("[[a:b = 1]]", "expected an object path like `file:name`, found `[` at offset 1"),
            ("[a:b = 1] XOR [a:b = 2]", "expected end of pattern, found `XOR` at offset 10"),
        ]);
    }

    #[test]
    fn object_paths() {
        test_parse_err(&[
            ("[= 1]", "expected an object path like `file:name`, found `=` at offset 1"),
            ("[file.size = 1280]", "expected `:` after object type `file`, found `.` at offset 5"),
            ("[file = 1]", "expected `:` after object type `file`, found `=` at offset 6"),
            ("[file: = 1]", "expected a property name after `file:`, found `=` at offset 7"),
            ("[file:size. = 1]", "expected a property name after `.`, found `=` at offset 12"),
            (
                "[file:extensions.windows-pebinary-ext.sections[*].entropy > 7.0]",
                "property name `windows-pebinary-ext` contains `-`: quote it, as in `'windows-pebinary-ext'` at offset 17",
            ),
            ("[x:a-b = 1]", "property name `a-b` contains `-`: quote it, as in `'a-b'` at offset 3"),
            ("[x:a[] = 1]", "expected a list index (an integer or `*`), found `]` at offset 5"),
            ("[x:a[1.5] = 1]", "expected a list index (an integer or `*`), found `1.5` at offset 5"),
            ("[x:a[*[ = 1]", "expected `]` after the list index, found `[` at offset 6"),
            ("['file':name = 1]", "expected an object path like `file:name`, found `'file'` at offset 1"),
            ("[x:a[99999999999999999999] = 1]", "number `99999999999999999999` is out of range at offset 5"),
        ]);
    }

    #[test]
    fn operators_and_values() {
        test_parse_err(&[
            ("[file:size 1280]", "expected a comparison operator, found `1280` at offset 11"),
            ("[file:size]", "expected a comparison operator, found `]` at offset 10"),
            ("[file:size NOT 1280]", "expected a comparison operator after `NOT`, found `1280` at offset 15"),
            ("[file:size = ]", "expected a value after `=`, found `]` at offset 13"),
            ("[file:size == ]", "expected a value after `==`, found `]` at offset 14"),
            ("[file:hashes.MD5 =? 'x']", "expected a value after `=`, found `?` at offset 18"),
            ("[file:name = cead3f]", "expected a value after `=`, found `cead3f` at offset 13"),
            ("[file:name = \"a\"]", "expected a value after `=`, found `\"` at offset 13"),
            (
                "[file:size > true]",
                "expected a value that can be ordered (not a boolean) after `>`, found `true` at offset 13",
            ),
            ("[file:size < (1, 2)]", "expected a value after `<`, found `(` at offset 13"),
            ("[file:name LIKE 5]", "expected a string after `LIKE`, found `5` at offset 16"),
            ("[file:name MATCHES /.*\\.dll/]", "expected a string after `MATCHES`, found `/` at offset 19"),
            ("[x:a ISSUPERSET h'ff']", "expected a string after `ISSUPERSET`, found `h'ff'` at offset 16"),
            ("[x:a IN 'a']", "expected `(` after `IN`, found `'a'` at offset 8"),
            ("[x:a IN ('a',)]", "expected a value in the set, found `)` at offset 13"),
            ("[x:a IN ('a' 'b')]", "expected `,` or `)`, found `'b'` at offset 13"),
            ("[x:a IN ((1))]", "expected a value in the set, found `(` at offset 9"),
            ("[x:a IN (1, 2]", "expected `,` or `)`, found `]` at offset 13"),
            ("[NOT x:a = 1]", "expected `EXISTS` after `NOT`, found `x` at offset 5"),
            ("[EXISTS]", "expected an object path like `file:name`, found `]` at offset 7"),
            ("[x:a = 1 NOT]", "expected `]`, found `NOT` at offset 9"),
        ]);
    }

    #[test]
    fn literals() {
        test_parse_err(&[
            ("[x:a = 'abc]", "unterminated string starting at offset 7"),
            ("[x:a = 'abc\\']", "unterminated string starting at offset 7"),
            ("[x:a = 'a\\db']", "invalid escape `\\d` in string: only `\\'` and `\\\\` are allowed at offset 9"),
            ("[x:a = 007]", "invalid number `007`: leading zeros are not allowed at offset 7"),
            ("[x:a = 1.]", "invalid number `1.`: expected a digit after `.` at offset 7"),
            ("[x:a = 1e5]", "invalid number `1e5` at offset 7"),
            ("[x:a = - 1]", "expected a value after `=`, found `-` at offset 7"),
            ("[x:a = 9223372036854775808]", "number `9223372036854775808` is out of range at offset 7"),
            ("[x:a = -9223372036854775809]", "number `-9223372036854775809` is out of range at offset 7"),
            ("[x:a = h'abc']", "invalid hex literal `h'abc'`: expected an even number of hex digits at offset 7"),
            ("[x:a = h'zz']", "invalid hex literal `h'zz'`: expected hex digits `0-9`, `a-f`, `A-F` at offset 7"),
            (
                "[x:a = b'']",
                "invalid binary literal `b''`: expected padded base64 in groups of four characters at offset 7",
            ),
            (
                "[x:a = b'abc']",
                "invalid binary literal `b'abc'`: expected padded base64 in groups of four characters at offset 7",
            ),
            ("[x:a = h'ff]", "unterminated hex literal starting at offset 7"),
            ("[x:a = t'2016-01-01T00:00:00Z]", "unterminated timestamp literal starting at offset 7"),
            (
                "[x:a = t'2016-13-01T00:00:00Z']",
                "invalid timestamp literal `t'2016-13-01T00:00:00Z'`: month must be 01–12 at offset 7",
            ),
            (
                "[x:a = t'2016-01-01 00:00:00Z']",
                "invalid timestamp literal `t'2016-01-01 00:00:00Z'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 7",
            ),
            (
                "[x:a = t'2016-01-01T00:00:00+01:00']",
                "invalid timestamp literal `t'2016-01-01T00:00:00+01:00'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 7",
            ),
            ("[x:a = 'a'] /* unclosed", "unterminated comment starting at offset 12"),
            ("[x:a = 1] é", "expected end of pattern, found `é` at offset 10"),
            ("[x:a = 1]\u{200b}", "expected end of pattern, found `\u{200b}` at offset 9"),
            ("[x:é = 1]", "expected a property name after `x:`, found `é` at offset 3"),
            ("[😀:a = 1]", "expected an object path like `file:name`, found `😀` at offset 1"),
            ("[x:a = '😀😀'] 😀", "expected end of pattern, found `😀` at offset 13"),
        ]);
    }

    #[test]
    fn qualifiers() {
        test_parse_err(&[
            ("[a:b = 1] WITHIN", "expected a number of seconds after `WITHIN`, found end of input at offset 16"),
            ("[a:b = 1] WITHIN 5", "expected `SECONDS` after `WITHIN 5`, found end of input at offset 18"),
            ("[a:b = 1] WITHIN 5 TIMES", "expected `SECONDS` after `WITHIN 5`, found `TIMES` at offset 19"),
            ("[a:b = 1] WITHIN 2.5 MINUTES", "expected `SECONDS` after `WITHIN 2.5`, found `MINUTES` at offset 21"),
            ("[a:b = 1] WITHIN -5 SECONDS", "expected a number of seconds after `WITHIN`, found `-5` at offset 17"),
            ("[a:b = 1] WITHIN '5' SECONDS", "expected a number of seconds after `WITHIN`, found `'5'` at offset 17"),
            ("[a:b = 1] REPEATS 2.5 TIMES", "expected a number of times after `REPEATS`, found `2.5` at offset 18"),
            ("[a:b = 1] REPEATS 5", "expected `TIMES` after `REPEATS 5`, found end of input at offset 19"),
            ("[a:b = 1] REPEATS 5 SECONDS", "expected `TIMES` after `REPEATS 5`, found `SECONDS` at offset 20"),
            (
                "[a:b = 1] REPEATS 99999999999999999999 TIMES",
                "number `99999999999999999999` is out of range at offset 18",
            ),
            (
                "[a:b = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'",
                "expected a timestamp like `t'2016-06-01T00:00:00Z'` after `START`, found `'2016-06-01T00:00:00Z'` at offset 16",
            ),
            (
                "[a:b = 1] START t'2016-06-01T00:00:00Z'",
                "expected `STOP` after `START t'2016-06-01T00:00:00Z'`, found end of input at offset 39",
            ),
            (
                "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP",
                "expected a timestamp like `t'2016-06-01T00:00:00Z'` after `STOP`, found end of input at offset 44",
            ),
            (
                "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES WITHIN 6 SECONDS",
                "duplicate `WITHIN` qualifier on one observation: wrap it in parentheses to qualify it again at offset 43",
            ),
            ("WITHIN 5 SECONDS", "expected `[` or `(` to start an observation expression, found `WITHIN` at offset 0"),
        ]);
    }

    #[test]
    fn offsets_count_characters_not_bytes() {
        test_parse_err(&[
            ("[x:a = 'ééé' AND]", "expected an object path like `file:name`, found `]` at offset 16"),
            ("/* ✓✓ */ [x:a = 1", "expected `]`, found end of input at offset 17"),
        ]);
    }

    #[test]
    fn nesting_and_length_limits() {
        let deep = format!("{}[a:b = 1]{}", "(".repeat(150), ")".repeat(150));
        assert_eq!(
            parse(&deep).unwrap_err().to_string(),
            "nesting too deep: more than 100 levels of brackets and parentheses at offset 100"
        );
        let deep = format!("[{}a:b = 1{}]", "(".repeat(150), ")".repeat(150));
        assert_eq!(
            parse(&deep).unwrap_err().to_string(),
            "nesting too deep: more than 100 levels of brackets and parentheses at offset 100"
        );
        let long = format!("[a:b = '{}']", "é".repeat(40_000));
        let err = parse(&long).unwrap_err();
        assert_eq!(err.code(), Code::TooLarge);
        assert_eq!(err.to_string(), "pattern too long: 80010 bytes, more than the limit of 65536");
        assert_eq!(err.offset(), None);
    }

    #[test]
    fn stix20_rules() {
        let v20 = |p: &str| parse_version(p, SpecVersion::V2_0).unwrap_err().to_string();
        assert_eq!(v20("[EXISTS x:a]"), "`EXISTS` is STIX 2.1 syntax, not available in STIX 2.0 at offset 1");
        assert_eq!(
            v20("[a:b = 1] START 'yesterday' STOP '2016-07-01T00:00:00Z'"),
            "invalid timestamp `'yesterday'`: expected the form `YYYY-MM-DDThh:mm:ss[.s]Z` at offset 16"
        );
        assert_eq!(
            v20("[a:b = 1] START '2016-06-01T00:00:00Z' STOP 5"),
            "expected a timestamp like `t'2016-06-01T00:00:00Z'` after `STOP`, found `5` at offset 44"
        );
    }

    #[test]
    fn long_tokens_are_shortened_in_messages() {
        let name = "x".repeat(100);
        let err = parse(&format!("[a:b = {name}]")).unwrap_err();
        assert_eq!(err.to_string(), format!("expected a value after `=`, found `{}…` at offset 7", "x".repeat(64)));
    }
}
