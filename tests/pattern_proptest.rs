//! Properties: random trees print and parse back to themselves; no input makes the parser or the
//! extractor panic, and whatever parses round-trips.

// Tests fail by panicking, index into results they have just checked, and hold long tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, clippy::too_many_lines)]

// One module named like the file, so that `cargo test pattern` selects these tests too.
mod pattern_proptest {
    use proptest::prelude::*;
    use ti_relay::pattern::{
        ComparisonExpression as C, ComparisonOperator as Op, Constant, Number, ObjectPath, ObservationExpression as O,
        PathStep, Pattern, Qualifier, Steps, extract, parse,
    };

    // ---- trees -------------------------------------------------------------------------------------

    fn object_type() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(vec!["file", "ipv4-addr", "network-traffic", "x-usb-device", "x_whatever", "h", "t", "b"])
                .prop_map(str::to_owned),
            // Keyword-like object types stay object types before a `:`.
            1 => prop::sample::select(vec!["NOT", "exists", "AND", "true", "WITHIN"]).prop_map(str::to_owned),
            2 => "[a-zA-Z_][a-zA-Z0-9_-]{0,8}",
        ]
    }

    fn property_name() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
            1 => prop::sample::select(vec!["AND", "true", "start", "STOP", "LAST", "SHA-256", "windows-pebinary-ext", "", "0"])
                .prop_map(str::to_owned),
            2 => any_text(),
        ]
    }

    /// Any text, with quotes, backslashes, comment markers and non-ASCII over-represented.
    fn any_text() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec!['\'', '\\', '/', '*', ' ', '\n', 'é', '✓', '😀', ']', '"', '\u{a0}']);
        prop::collection::vec(prop_oneof![2 => any::<char>(), 1 => special], 0..10).prop_map(String::from_iter)
    }

    fn path() -> impl Strategy<Value = ObjectPath<'static>> {
        let step = prop_oneof![
            3 => property_name().prop_map(|name| PathStep::Property { name: name.into() }),
            1 => any::<i64>().prop_map(|index| PathStep::Index { index }),
            1 => Just(PathStep::AnyIndex),
        ];
        (object_type(), property_name(), prop::collection::vec(step, 0..4)).prop_map(|(object_type, first, rest)| {
            let mut steps = vec![PathStep::Property { name: first.into() }];
            steps.extend(rest);
            // Both ways of building `Steps`: from a `Vec`, and by pushing.
            let steps: Steps<'static> = if steps.len() % 2 == 0 { steps.into() } else { steps.into_iter().collect() };
            ObjectPath { object_type: object_type.into(), steps }
        })
    }

    fn finite_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |x| x.is_finite()),
            prop::sample::select(vec![0.0, -0.0, 7.0, 0.5, 1e21, 1e-7, f64::MAX, f64::MIN_POSITIVE, 5e-324]),
        ]
    }

    fn timestamp() -> impl Strategy<Value = String> {
        (0..=9999u32, 1..=12u32, 1..=31u32, 0..=23u32, 0..=59u32, 0..=60u32, prop::option::of("[0-9]{1,6}")).prop_map(
            |(y, mo, d, h, mi, s, fraction)| {
                let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}Z")
            },
        )
    }

    fn base64() -> impl Strategy<Value = String> {
        let group = "[A-Za-z0-9+/]{4}";
        let last = prop_oneof!["[A-Za-z0-9+/]{4}", "[A-Za-z0-9+/]{3}=", "[A-Za-z0-9+/]{2}=="];
        (prop::collection::vec(group, 0..3), last).prop_map(|(groups, last)| groups.concat() + &last)
    }

    fn orderable() -> impl Strategy<Value = Constant<'static>> {
        prop_oneof![
            any_text().prop_map(|s| Constant::String(s.into())),
            any::<i64>().prop_map(Constant::Integer),
            finite_f64().prop_map(Constant::Float),
            base64().prop_map(|s| Constant::Binary(s.into())),
            "([0-9a-fA-F]{2}){0,4}".prop_map(|s| Constant::Hex(s.into())),
            timestamp().prop_map(|s| Constant::Timestamp(s.into())),
        ]
    }

    fn primitive() -> impl Strategy<Value = Constant<'static>> {
        prop_oneof![4 => orderable(), 1 => any::<bool>().prop_map(Constant::Boolean)]
    }

    fn comparison_leaf() -> impl Strategy<Value = C<'static>> {
        let string_op = prop::sample::select(vec![Op::Like, Op::Matches, Op::IsSubset, Op::IsSuperset]);
        let order_op =
            prop::sample::select(vec![Op::LessThan, Op::LessThanOrEqual, Op::GreaterThan, Op::GreaterThanOrEqual]);
        let eq_op = prop::sample::select(vec![Op::Equal, Op::NotEqual]);
        let operator_and_value = prop_oneof![
            3 => (eq_op, primitive()),
            1 => (order_op, orderable()),
            1 => (string_op, any_text().prop_map(|s| Constant::String(s.into()))),
            1 => (Just(Op::In), prop::collection::vec(primitive(), 0..4).prop_map(Constant::Set)),
        ];
        prop_oneof![
            6 => (path(), operator_and_value, any::<bool>())
                .prop_map(|(path, (operator, value), negated)| C::Comparison { path, operator, negated, value }),
            1 => (path(), any::<bool>()).prop_map(|(path, negated)| C::Exists { path, negated }),
        ]
    }

    fn comparison() -> impl Strategy<Value = C<'static>> {
        comparison_leaf().prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(|operands| C::And { operands }),
                prop::collection::vec(inner, 2..4).prop_map(|operands| C::Or { operands }),
            ]
        })
    }

    fn qualifier() -> impl Strategy<Value = Qualifier<'static>> {
        prop_oneof![
            any::<u64>().prop_map(|n| Qualifier::Within { seconds: Number::Integer(n) }),
            finite_f64().prop_map(|x| Qualifier::Within { seconds: Number::Float(x.abs()) }),
            any::<u64>().prop_map(|times| Qualifier::Repeats { times }),
            (timestamp(), timestamp())
                .prop_map(|(start, stop)| Qualifier::StartStop { start: start.into(), stop: stop.into() }),
        ]
    }

    fn observation() -> impl Strategy<Value = O<'static>> {
        let leaf = comparison().prop_map(|comparison| O::Observation { comparison });
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(|operands| O::And { operands }),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|operands| O::Or { operands }),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|operands| O::FollowedBy { operands }),
                (inner, prop::collection::vec(qualifier(), 1..4))
                    .prop_map(|(e, qualifiers)| O::Qualified { expression: Box::new(e), qualifiers }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        /// print → parse gives the same tree, and printing is idempotent.
        #[test]
        fn random_trees_round_trip(root in observation()) {
            let pattern = Pattern { root };
            let printed = pattern.to_string();
            let parsed = parse(&printed);
            prop_assert_eq!(parsed.as_ref(), Ok(&pattern), "{}", printed);
            prop_assert_eq!(parsed.map(|p| p.to_string()), Ok(printed));
            let _ = extract(&pattern);
        }
    }

    // ---- inputs ------------------------------------------------------------------------------------

    /// Whatever `text` is: no panic, and if it parses, it round-trips.
    fn check_text(text: &str) -> Result<(), TestCaseError> {
        if let Ok(p) = parse(text) {
            let printed = p.to_string();
            let again = parse(&printed);
            prop_assert_eq!(again.as_ref(), Ok(&p), "{:?} printed as {:?}", text, printed);
            prop_assert_eq!(again.map(|q| q.to_string()), Ok(printed));
            let _ = extract(&p);
        }
        Ok(())
    }

    const SPEC: &str = include_str!("conformance/stix21_spec_examples.txt");

    fn spec_example() -> impl Strategy<Value = String> {
        prop::sample::select(SPEC.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>())
    }

    /// Pieces of pattern syntax, to splice into spec examples.
    fn token() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "[",
                "]",
                "(",
                ")",
                "'",
                "\\",
                "AND ",
                " OR ",
                " FOLLOWEDBY ",
                "NOT ",
                "EXISTS ",
                " WITHIN 5 SECONDS",
                " REPEATS 2 TIMES",
                " START t'2016-01-01T00:00:00Z' STOP t'2016-01-02T00:00:00Z'",
                "=",
                "!=",
                "<>",
                ">=",
                " IN (1, 2)",
                " LIKE ",
                ":",
                ".",
                "[*]",
                "[-1]",
                "h'",
                "b'",
                "t'",
                "/*",
                "*/",
                "//",
                "\n",
                "-",
                "+",
                "0",
                "9999999999999999999999",
                ".5",
                "true",
                "é",
                "😀",
                "\u{a0}",
            ])
            .prop_map(str::to_owned),
            any_text(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Spec examples with random edits: never a panic; what parses, round-trips.
        #[test]
        fn mutated_spec_examples(
            example in spec_example(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3usize, token()), 1..4),
        ) {
            let mut text: Vec<char> = example.chars().collect();
            for (at, delete, insert) in edits {
                let at = at.index(text.len() + 1);
                let end = (at + delete).min(text.len());
                text.splice(at..end, insert.chars());
            }
            check_text(&text.into_iter().collect::<String>())?;
        }

        /// Arbitrary text: never a panic.
        #[test]
        fn arbitrary_text(text in any::<String>()) {
            check_text(&text)?;
        }

        /// Text made of pattern tokens: reaches deeper into the grammar than arbitrary text.
        #[test]
        fn token_soup(tokens in prop::collection::vec(token(), 0..30)) {
            check_text(&tokens.concat())?;
        }
    }

    /// parse → print → parse for every spec example (also in `pattern_conformance.rs`; here with the
    /// same helper the properties use).
    #[test]
    fn spec_examples_round_trip() {
        for line in SPEC.lines().filter(|l| !l.is_empty()) {
            assert!(parse(line).is_ok(), "{line}");
            check_text(line).unwrap();
        }
    }
}
