//! The parser: recursive descent over the parser rules of `STIXPattern.g4`.
//!
//! ANTLR's left-recursive rules become loops that collect a flat list of operands, so precedence
//! is the nesting of the functions: `FOLLOWEDBY` < `OR` < `AND` < qualifiers between observations,
//! `OR` < `AND` inside brackets. Every function that can recurse into itself goes through
//! [`Parser::enter`], which enforces [`MAX_DEPTH`](super::MAX_DEPTH).

use std::borrow::Cow;

use super::SpecVersion;
use super::ast::{
    ComparisonExpression, ComparisonOperator, Constant, Number, ObjectPath, ObservationExpression, PathStep, Qualifier,
    Steps,
};
use super::lexer::{Lexer, Tok, Token, check_timestamp, error_at, unescape};
use crate::error::{Error, quote};

pub(super) struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    /// The current token (one token of lookahead).
    tok: Token,
    version: SpecVersion,
    /// How many `[` and `(` enclose the current position.
    depth: usize,
}

/// Where a literal stands, for messages: "after `=`", "in the set".
#[derive(Clone, Copy)]
enum Context<'s> {
    After(&'s str),
    InSet,
}

impl std::fmt::Display for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::After(op) => write!(f, "after `{op}`"),
            Self::InSet => f.write_str("in the set"),
        }
    }
}

/// The operand list of an `AND` / `OR` / `FOLLOWEDBY` chain, starting with `first`. Room for four
/// operands from the start: `vec![first]` would grow (reallocate) at the second push already, and
/// most chains (`[a] OR [b]`, a network-traffic or file-hashes conjunction) have two to four.
fn chain<T>(first: T) -> Vec<T> {
    let mut operands = Vec::with_capacity(4);
    operands.push(first);
    operands
}

/// What a parenthesised or bracketed primary was, for the 2.1 duplicate-qualifier rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Primary {
    Bracketed,
    Grouped,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, version: SpecVersion) -> Result<Self, Error> {
        let mut lexer = Lexer::new(src);
        let tok = lexer.next_token()?;
        Ok(Self { src, lexer, tok, version, depth: 0 })
    }

    // pattern
    //   : observationExpressions EOF
    //   ;
    pub(super) fn pattern(mut self) -> Result<ObservationExpression<'a>, Error> {
        let root = self.observation_expressions()?;
        if self.tok.kind != Tok::Eof {
            return Err(self.expected("end of pattern"));
        }
        Ok(root)
    }

    // observationExpressions
    //   : <assoc=left> observationExpressions FOLLOWEDBY observationExpressions
    //   | observationExpressionOr
    //   ;
    fn observation_expressions(&mut self) -> Result<ObservationExpression<'a>, Error> {
        let first = self.observation_expression_or()?;
        if !self.at_keyword("FOLLOWEDBY") {
            return Ok(first);
        }
        let mut operands = chain(first);
        while self.at_keyword("FOLLOWEDBY") {
            self.bump()?;
            operands.push(self.observation_expression_or()?);
        }
        Ok(ObservationExpression::FollowedBy { operands })
    }

    // observationExpressionOr
    //   : <assoc=left> observationExpressionOr OR observationExpressionOr
    //   | observationExpressionAnd
    //   ;
    fn observation_expression_or(&mut self) -> Result<ObservationExpression<'a>, Error> {
        let first = self.observation_expression_and()?;
        if !self.at_keyword("OR") {
            return Ok(first);
        }
        let mut operands = chain(first);
        while self.at_keyword("OR") {
            self.bump()?;
            operands.push(self.observation_expression_and()?);
        }
        Ok(ObservationExpression::Or { operands })
    }

    // observationExpressionAnd
    //   : <assoc=left> observationExpressionAnd AND observationExpressionAnd
    //   | observationExpression
    //   ;
    fn observation_expression_and(&mut self) -> Result<ObservationExpression<'a>, Error> {
        let first = self.observation_expression()?;
        if !self.at_keyword("AND") {
            return Ok(first);
        }
        let mut operands = chain(first);
        while self.at_keyword("AND") {
            self.bump()?;
            operands.push(self.observation_expression()?);
        }
        Ok(ObservationExpression::And { operands })
    }

    // observationExpression
    //   : LBRACK comparisonExpression RBRACK        # observationExpressionSimple
    //   | LPAREN observationExpressions RPAREN      # observationExpressionCompound
    //   | observationExpression startStopQualifier  # observationExpressionStartStop
    //   | observationExpression withinQualifier     # observationExpressionWithin
    //   | observationExpression repeatedQualifier   # observationExpressionRepeated
    //   ;
    //
    // STIX 2.1 (as cti-pattern-validator checks it): a bracketed observation takes each kind of
    // qualifier at most once; a parenthesised group takes any number.
    fn observation_expression(&mut self) -> Result<ObservationExpression<'a>, Error> {
        let open = self.tok;
        let (expression, primary) = match open.kind {
            Tok::LBrack => {
                self.enter(open)?;
                self.bump()?;
                let comparison = self.comparison_expression()?;
                self.expect(Tok::RBrack, "`]`")?;
                self.depth -= 1;
                (ObservationExpression::Observation { comparison }, Primary::Bracketed)
            }
            Tok::LParen => {
                self.enter(open)?;
                self.bump()?;
                let inner = self.observation_expressions()?;
                self.expect(Tok::RParen, "`)`")?;
                self.depth -= 1;
                (inner, Primary::Grouped)
            }
            _ => return Err(self.expected("`[` or `(` to start an observation expression")),
        };
        let mut qualifiers: Vec<Qualifier<'a>> = Vec::new();
        while let Some((qualifier, at)) = self.qualifier()? {
            let duplicate = qualifiers.iter().any(|q| std::mem::discriminant(q) == std::mem::discriminant(&qualifier));
            if duplicate && primary == Primary::Bracketed && self.version == SpecVersion::V2_1 {
                let name = match qualifier {
                    Qualifier::Within { .. } => "`WITHIN`",
                    Qualifier::Repeats { .. } => "`REPEATS`",
                    Qualifier::StartStop { .. } => "`START`/`STOP`",
                };
                return Err(self.error(
                    at,
                    format!(
                        "duplicate {name} qualifier on one observation: wrap it in parentheses to qualify it again"
                    ),
                ));
            }
            qualifiers.push(qualifier);
        }
        if qualifiers.is_empty() {
            Ok(expression)
        } else {
            Ok(ObservationExpression::Qualified { expression: Box::new(expression), qualifiers })
        }
    }

    /// A qualifier after an observation expression, with its keyword token; `None` when the
    /// current token starts none.
    fn qualifier(&mut self) -> Result<Option<(Qualifier<'a>, Token)>, Error> {
        let keyword = self.tok;
        let qualifier = if self.at_keyword("WITHIN") {
            self.within_qualifier()?
        } else if self.at_keyword("REPEATS") {
            self.repeated_qualifier()?
        } else if self.at_keyword("START") {
            self.start_stop_qualifier()?
        } else {
            return Ok(None);
        };
        Ok(Some((qualifier, keyword)))
    }

    // withinQualifier
    //   : WITHIN (IntPosLiteral|FloatPosLiteral) SECONDS
    //   ;
    fn within_qualifier(&mut self) -> Result<Qualifier<'a>, Error> {
        self.bump()?;
        let number = self.tok;
        let negative = self.text(number).starts_with('-');
        let seconds = match number.kind {
            Tok::Int if !negative => Number::Integer(self.unsigned(number)?),
            Tok::Float if !negative => Number::Float(self.float(number)?),
            _ => return Err(self.expected("a number of seconds after `WITHIN`")),
        };
        self.bump()?;
        if !self.at_keyword("SECONDS") {
            return Err(self.expected(&format!("`SECONDS` after `WITHIN {}`", self.text(number))));
        }
        self.bump()?;
        Ok(Qualifier::Within { seconds })
    }

    // repeatedQualifier
    //   : REPEATS IntPosLiteral TIMES
    //   ;
    fn repeated_qualifier(&mut self) -> Result<Qualifier<'a>, Error> {
        self.bump()?;
        let number = self.tok;
        if number.kind != Tok::Int || self.text(number).starts_with('-') {
            return Err(self.expected("a number of times after `REPEATS`"));
        }
        let times = self.unsigned(number)?;
        self.bump()?;
        if !self.at_keyword("TIMES") {
            return Err(self.expected(&format!("`TIMES` after `REPEATS {}`", self.text(number))));
        }
        self.bump()?;
        Ok(Qualifier::Repeats { times })
    }

    // startStopQualifier
    //   : START TimestampLiteral STOP TimestampLiteral
    //   ;
    // (STIX 2.0: START StringLiteral STOP StringLiteral, the strings holding timestamps.)
    fn start_stop_qualifier(&mut self) -> Result<Qualifier<'a>, Error> {
        self.bump()?;
        let start_tok = self.tok;
        let start = self.qualifier_timestamp("START")?;
        if !self.at_keyword("STOP") {
            return Err(self.expected(&format!("`STOP` after `START {}`", self.text(start_tok))));
        }
        self.bump()?;
        let stop = self.qualifier_timestamp("STOP")?;
        Ok(Qualifier::StartStop { start, stop })
    }

    /// The timestamp after `START` or `STOP`: a `TimestampLiteral`, or in STIX 2.0 also a
    /// `StringLiteral` holding a timestamp.
    fn qualifier_timestamp(&mut self, after: &str) -> Result<Cow<'a, str>, Error> {
        let t = self.tok;
        let value = match t.kind {
            Tok::Timestamp => Cow::Borrowed(self.literal_body(t)),
            Tok::Str | Tok::EscapedStr if self.version == SpecVersion::V2_0 => {
                let value = self.string_value(t);
                if let Err(why) = check_timestamp(&value) {
                    return Err(self.error(t, format!("invalid timestamp {}: {why}", quote(self.text(t)))));
                }
                value
            }
            _ => return Err(self.expected(&format!("a timestamp like `t'2016-06-01T00:00:00Z'` after `{after}`"))),
        };
        self.bump()?;
        Ok(value)
    }

    // comparisonExpression
    //   : <assoc=left> comparisonExpression OR comparisonExpression
    //   | comparisonExpressionAnd
    //   ;
    fn comparison_expression(&mut self) -> Result<ComparisonExpression<'a>, Error> {
        let first = self.comparison_expression_and()?;
        if !self.at_keyword("OR") {
            return Ok(first);
        }
        let mut operands = chain(first);
        while self.at_keyword("OR") {
            self.bump()?;
            operands.push(self.comparison_expression_and()?);
        }
        Ok(ComparisonExpression::Or { operands })
    }

    // comparisonExpressionAnd
    //   : <assoc=left> comparisonExpressionAnd AND comparisonExpressionAnd
    //   | propTest
    //   ;
    fn comparison_expression_and(&mut self) -> Result<ComparisonExpression<'a>, Error> {
        let first = self.prop_test()?;
        if !self.at_keyword("AND") {
            return Ok(first);
        }
        let mut operands = chain(first);
        while self.at_keyword("AND") {
            self.bump()?;
            operands.push(self.prop_test()?);
        }
        Ok(ComparisonExpression::And { operands })
    }

    // propTest
    //   : objectPath NOT? (EQ|NEQ) primitiveLiteral       # propTestEqual
    //   | objectPath NOT? (GT|LT|GE|LE) orderableLiteral  # propTestOrder
    //   | objectPath NOT? IN setLiteral                   # propTestSet
    //   | objectPath NOT? LIKE StringLiteral              # propTestLike
    //   | objectPath NOT? MATCHES StringLiteral           # propTestRegex
    //   | objectPath NOT? ISSUBSET StringLiteral          # propTestIsSubset
    //   | objectPath NOT? ISSUPERSET StringLiteral        # propTestIsSuperset
    //   | LPAREN comparisonExpression RPAREN              # propTestParen
    //   | NOT? EXISTS objectPath                          # propTestExists (STIX 2.1)
    //   ;
    fn prop_test(&mut self) -> Result<ComparisonExpression<'a>, Error> {
        let first = self.tok;
        if first.kind == Tok::LParen {
            self.enter(first)?;
            self.bump()?;
            let inner = self.comparison_expression()?;
            self.expect(Tok::RParen, "`)`")?;
            self.depth -= 1;
            return Ok(inner);
        }
        // `NOT` and `EXISTS` are keywords here unless a `:` follows (then they are object types).
        let keyword_here = |p: &Self, kw: &str| -> Result<bool, Error> {
            Ok(p.at_keyword(kw) && p.lexer.clone().next_token()?.kind != Tok::Colon)
        };
        if keyword_here(self, "NOT")? {
            self.bump()?;
            if !self.at_keyword("EXISTS") {
                return Err(self.expected("`EXISTS` after `NOT`"));
            }
            return self.exists(true);
        }
        if keyword_here(self, "EXISTS")? {
            return self.exists(false);
        }

        let path = self.object_path()?;
        let negated = self.at_keyword("NOT");
        if negated {
            self.bump()?;
        }
        let op = self.tok;
        let operator = match op.kind {
            Tok::Eq => ComparisonOperator::Equal,
            Tok::Neq => ComparisonOperator::NotEqual,
            Tok::Lt => ComparisonOperator::LessThan,
            Tok::Le => ComparisonOperator::LessThanOrEqual,
            Tok::Gt => ComparisonOperator::GreaterThan,
            Tok::Ge => ComparisonOperator::GreaterThanOrEqual,
            Tok::Ident if self.at_keyword("IN") => ComparisonOperator::In,
            Tok::Ident if self.at_keyword("LIKE") => ComparisonOperator::Like,
            Tok::Ident if self.at_keyword("MATCHES") => ComparisonOperator::Matches,
            Tok::Ident if self.at_keyword("ISSUBSET") => ComparisonOperator::IsSubset,
            Tok::Ident if self.at_keyword("ISSUPERSET") => ComparisonOperator::IsSuperset,
            _ if negated => return Err(self.expected("a comparison operator after `NOT`")),
            _ => return Err(self.expected("a comparison operator")),
        };
        self.bump()?;
        let after = self.text(op);
        let value = match operator {
            ComparisonOperator::Equal | ComparisonOperator::NotEqual => {
                self.primitive_literal(Context::After(after))?
            }
            ComparisonOperator::LessThan
            | ComparisonOperator::LessThanOrEqual
            | ComparisonOperator::GreaterThan
            | ComparisonOperator::GreaterThanOrEqual => self.orderable_literal(Context::After(after))?,
            ComparisonOperator::In => self.set_literal(after)?,
            ComparisonOperator::Like
            | ComparisonOperator::Matches
            | ComparisonOperator::IsSubset
            | ComparisonOperator::IsSuperset => self.string_literal(after)?,
        };
        Ok(ComparisonExpression::Comparison { path, operator, negated, value })
    }

    /// `EXISTS objectPath`, at the `EXISTS` keyword.
    fn exists(&mut self, negated: bool) -> Result<ComparisonExpression<'a>, Error> {
        if self.version == SpecVersion::V2_0 {
            return Err(self.error(self.tok, "`EXISTS` is STIX 2.1 syntax, not available in STIX 2.0".into()));
        }
        self.bump()?;
        let path = self.object_path()?;
        Ok(ComparisonExpression::Exists { path, negated })
    }

    // objectPath
    //   : objectType COLON firstPathComponent objectPathComponent?
    //   ;
    // objectType
    //   : IdentifierWithoutHyphen
    //   | IdentifierWithHyphen
    //   ;
    // firstPathComponent
    //   : IdentifierWithoutHyphen
    //   | StringLiteral
    //   ;
    // objectPathComponent
    //   : <assoc=left> objectPathComponent objectPathComponent  # pathStep
    //   | '.' (IdentifierWithoutHyphen | StringLiteral)         # keyPathStep
    //   | LBRACK (IntPosLiteral|IntNegLiteral|ASTERISK) RBRACK  # indexPathStep
    //   ;
    fn object_path(&mut self) -> Result<ObjectPath<'a>, Error> {
        let type_tok = self.tok;
        if type_tok.kind != Tok::Ident {
            return Err(self.expected("an object path like `file:name`"));
        }
        let object_type = self.text(type_tok);
        self.bump()?;
        if self.tok.kind != Tok::Colon {
            return Err(self.expected(&format!("`:` after object type `{object_type}`")));
        }
        self.bump()?;
        let mut steps = Steps::new();
        steps.push(self.property_name(object_type)?);
        loop {
            match self.tok.kind {
                Tok::Dot => {
                    self.bump()?;
                    steps.push(self.property_name("")?);
                }
                Tok::LBrack => {
                    self.bump()?;
                    let index = self.tok;
                    let step = match index.kind {
                        Tok::Star => PathStep::AnyIndex,
                        Tok::Int => PathStep::Index { index: self.signed(index)? },
                        _ => return Err(self.expected("a list index (an integer or `*`)")),
                    };
                    self.bump()?;
                    self.expect(Tok::RBrack, "`]` after the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type: Cow::Borrowed(object_type), steps })
    }

    /// A property name: `IdentifierWithoutHyphen` or `StringLiteral`; the first one follows
    /// `object_type:`, the others (`object_type` empty) follow a `.`.
    fn property_name(&mut self, object_type: &str) -> Result<PathStep<'a>, Error> {
        let t = self.tok;
        let name = match t.kind {
            Tok::Ident => {
                let name = self.text(t);
                if name.contains('-') {
                    return Err(
                        self.error(t, format!("property name `{name}` contains `-`: quote it, as in `'{name}'`"))
                    );
                }
                Cow::Borrowed(name)
            }
            Tok::Str | Tok::EscapedStr => self.string_value(t),
            _ if object_type.is_empty() => return Err(self.expected("a property name after `.`")),
            _ => return Err(self.expected(&format!("a property name after `{object_type}:`"))),
        };
        self.bump()?;
        Ok(PathStep::Property { name })
    }

    // setLiteral
    //   : LPAREN RPAREN
    //   | LPAREN primitiveLiteral (COMMA primitiveLiteral)* RPAREN
    //   ;
    fn set_literal(&mut self, after: &str) -> Result<Constant<'a>, Error> {
        if self.tok.kind != Tok::LParen {
            return Err(self.expected(&format!("`(` after `{after}`")));
        }
        self.bump()?;
        let mut items = Vec::new();
        if self.tok.kind == Tok::RParen {
            self.bump()?;
            return Ok(Constant::Set(items));
        }
        loop {
            items.push(self.primitive_literal(Context::InSet)?);
            match self.tok.kind {
                Tok::Comma => self.bump()?,
                Tok::RParen => {
                    self.bump()?;
                    return Ok(Constant::Set(items));
                }
                _ => return Err(self.expected("`,` or `)`")),
            }
        }
    }

    // primitiveLiteral
    //   : orderableLiteral
    //   | BoolLiteral
    //   ;
    fn primitive_literal(&mut self, context: Context<'_>) -> Result<Constant<'a>, Error> {
        if self.at_keyword("true") || self.at_keyword("false") {
            let value = self.at_keyword("true");
            self.bump()?;
            return Ok(Constant::Boolean(value));
        }
        self.orderable_literal(context)
    }

    // orderableLiteral
    //   : IntPosLiteral | IntNegLiteral | FloatPosLiteral | FloatNegLiteral
    //   | StringLiteral | BinaryLiteral | HexLiteral | TimestampLiteral
    //   ;
    fn orderable_literal(&mut self, context: Context<'_>) -> Result<Constant<'a>, Error> {
        let t = self.tok;
        let value = match t.kind {
            Tok::Int => Constant::Integer(self.signed(t)?),
            Tok::Float => Constant::Float(self.float(t)?),
            Tok::Str | Tok::EscapedStr => Constant::String(self.string_value(t)),
            Tok::Binary => Constant::Binary(Cow::Borrowed(self.literal_body(t))),
            Tok::Hex => Constant::Hex(Cow::Borrowed(self.literal_body(t))),
            Tok::Timestamp => Constant::Timestamp(Cow::Borrowed(self.literal_body(t))),
            _ if self.at_keyword("true") || self.at_keyword("false") => {
                return Err(self.expected(&format!("a value that can be ordered (not a boolean) {context}")));
            }
            _ => return Err(self.expected(&format!("a value {context}"))),
        };
        self.bump()?;
        Ok(value)
    }

    /// A `StringLiteral` operand (`LIKE`, `MATCHES`, `ISSUBSET`, `ISSUPERSET`).
    fn string_literal(&mut self, after: &str) -> Result<Constant<'a>, Error> {
        let t = self.tok;
        let (Tok::Str | Tok::EscapedStr) = t.kind else {
            return Err(self.expected(&format!("a string after `{after}`")));
        };
        let value = self.string_value(t);
        self.bump()?;
        Ok(Constant::String(value))
    }

    // ---- tokens -------------------------------------------------------------------------------

    /// Moves to the next token.
    fn bump(&mut self) -> Result<(), Error> {
        self.tok = self.lexer.next_token()?;
        Ok(())
    }

    /// The source text of a token.
    #[inline]
    fn text(&self, t: Token) -> &'a str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    /// The text between the quotes of a string or typed literal.
    fn literal_body(&self, t: Token) -> &'a str {
        let open = if matches!(t.kind, Tok::Str | Tok::EscapedStr) { 1 } else { 2 };
        self.src.get(t.start + open..t.end.saturating_sub(1)).unwrap_or("")
    }

    /// The decoded text of a string literal: a slice of the pattern unless it holds an escape.
    fn string_value(&self, t: Token) -> Cow<'a, str> {
        let body = self.literal_body(t);
        if t.kind == Tok::EscapedStr { Cow::Owned(unescape(body)) } else { Cow::Borrowed(body) }
    }

    /// Whether the current token is the keyword `kw` (an identifier, any case).
    #[inline]
    fn at_keyword(&self, kw: &str) -> bool {
        self.tok.kind == Tok::Ident && self.text(self.tok).eq_ignore_ascii_case(kw)
    }

    fn expect(&mut self, kind: Tok, what: &str) -> Result<(), Error> {
        if self.tok.kind != kind {
            return Err(self.expected(what));
        }
        self.bump()
    }

    fn signed(&self, t: Token) -> Result<i64, Error> {
        self.text(t).parse().map_err(|_| self.out_of_range(t))
    }

    fn unsigned(&self, t: Token) -> Result<u64, Error> {
        self.text(t).parse().map_err(|_| self.out_of_range(t))
    }

    fn float(&self, t: Token) -> Result<f64, Error> {
        match self.text(t).parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(self.out_of_range(t)),
        }
    }

    fn out_of_range(&self, t: Token) -> Error {
        self.error(t, format!("number {} is out of range", quote(self.text(t))))
    }

    /// Counts one more level of `[` or `(`, at token `open`.
    fn enter(&mut self, open: Token) -> Result<(), Error> {
        if self.depth >= super::MAX_DEPTH {
            return Err(self.error(
                open,
                format!("nesting too deep: more than {} levels of brackets and parentheses", super::MAX_DEPTH),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    // ---- errors -------------------------------------------------------------------------------

    fn error(&self, at: Token, message: String) -> Error {
        error_at(self.src, at.start, message)
    }

    /// "expected X, found Y" at the current token.
    fn expected(&self, what: &str) -> Error {
        let found = match self.tok.kind {
            Tok::Eof => "end of input".to_owned(),
            _ => quote(self.text(self.tok)),
        };
        self.error(self.tok, format!("expected {what}, found {found}"))
    }
}
