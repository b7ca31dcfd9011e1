//! The lexer: the lexer rules of `STIXPattern.g4`, over bytes, one token at a time.
//!
//! Tokens carry byte offsets into the pattern; offsets become character offsets only when an error
//! is reported. Keywords are not tokens of their own: they are identifiers that the parser
//! recognises by position (so `network-traffic:start` is a property, `START t'..'` a qualifier).

use crate::error::{Code, Error, quote};

/// What kind of token.
///
/// `repr(u64)`: with a one-byte tag, `Token` has seven bytes of padding, which the moves out of
/// `Result<Token, Error>` (one per token) copy with overlapping unaligned loads that stall on
/// store forwarding; a word-sized tag makes them plain word moves (parsing ~15–25% faster natively).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(super) enum Tok {
    /// `[`
    LBrack,
    /// `]`
    RBrack,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `*`
    Star,
    /// `=` or `==`
    Eq,
    /// `!=` or `<>`
    Neq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `[A-Za-z_][A-Za-z0-9_-]*`: object types, property names and keywords.
    Ident,
    /// `'...'` without escapes.
    Str,
    /// `'...'` holding `\'` or `\\`, which the parser decodes into an owned string.
    EscapedStr,
    /// `[+-]?(0|[1-9][0-9]*)`
    Int,
    /// `[+-]?[0-9]*\.[0-9]+`
    Float,
    /// `h'..'`, checked.
    Hex,
    /// `b'..'`, checked.
    Binary,
    /// `t'..'`, checked.
    Timestamp,
    /// One character that starts no token (`?`, `/`, `é`); the parser reports it in context.
    Invalid,
    /// The end of the pattern.
    Eof,
}

/// A token: its kind and its byte span in the pattern.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The lexer state: the pattern and a byte position. Cheap to copy, which is how the parser peeks
/// two tokens ahead.
#[derive(Clone, Copy)]
pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

/// The error for a problem at byte offset `at` of `src`, reported at its character offset.
pub(super) fn error_at(src: &str, at: usize, message: String) -> Error {
    let offset = src.get(..at).map_or(0, |head| head.chars().count());
    Error::new(Code::Pattern, message).at_offset(offset)
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Self { src, pos: 0 }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    /// The next token, after whitespace and comments.
    ///
    /// `WS`, `COMMENT` and `LINE_COMMENT` are skipped; the other lexer rules follow in the match.
    pub(super) fn next_token(&mut self) -> Result<Token, Error> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(b) = self.byte(start) else {
            return Ok(Token { kind: Tok::Eof, start, end: start });
        };
        let next = self.byte(start + 1);
        let (kind, len) = match b {
            b'[' => (Tok::LBrack, 1),
            b']' => (Tok::RBrack, 1),
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b':' => (Tok::Colon, 1),
            b',' => (Tok::Comma, 1),
            b'*' => (Tok::Star, 1),
            // EQ : '=' | '==' ;
            b'=' if next == Some(b'=') => (Tok::Eq, 2),
            b'=' => (Tok::Eq, 1),
            // NEQ : '!=' | '<>' ;
            b'!' if next == Some(b'=') => (Tok::Neq, 2),
            b'<' if next == Some(b'>') => (Tok::Neq, 2),
            b'<' if next == Some(b'=') => (Tok::Le, 2),
            b'<' => (Tok::Lt, 1),
            b'>' if next == Some(b'=') => (Tok::Ge, 2),
            b'>' => (Tok::Gt, 1),
            b'\'' => return self.string(start),
            b'0'..=b'9' => return self.number(start),
            b'+' | b'-' | b'.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                return self.number(start);
            }
            b'+' | b'-' if next == Some(b'.') && self.byte(start + 2).is_some_and(|n| n.is_ascii_digit()) => {
                return self.number(start);
            }
            b'.' => (Tok::Dot, 1),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => return self.ident(start),
            _ => {
                let len = self.src.get(start..).and_then(|s| s.chars().next()).map_or(1, char::len_utf8);
                (Tok::Invalid, len)
            }
        };
        self.pos = start + len;
        Ok(Token { kind, start, end: self.pos })
    }

    // WS : [ \t\r\n\u000B\u000C\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+ -> skip ;
    // COMMENT : '/*' .*? '*/' -> skip ;
    // LINE_COMMENT : '//' ~[\r\n]* -> skip ;
    fn skip_trivia(&mut self) -> Result<(), Error> {
        loop {
            match self.byte(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C) => self.pos += 1,
                Some(b'/') if self.byte(self.pos + 1) == Some(b'*') => {
                    let body = self.src.get(self.pos + 2..).unwrap_or("");
                    let Some(close) = body.find("*/") else {
                        return Err(error_at(self.src, self.pos, "unterminated comment starting".into()));
                    };
                    self.pos += 2 + close + 2;
                }
                Some(b'/') if self.byte(self.pos + 1) == Some(b'/') => {
                    let body = self.src.get(self.pos..).unwrap_or("");
                    self.pos += body.find(['\r', '\n']).unwrap_or(body.len());
                }
                Some(b) if b >= 0x80 => {
                    let c = self.src.get(self.pos..).and_then(|s| s.chars().next());
                    match c {
                        Some(
                            c @ ('\u{85}'
                            | '\u{a0}'
                            | '\u{1680}'
                            | '\u{2000}'..='\u{200a}'
                            | '\u{2028}'
                            | '\u{2029}'
                            | '\u{202f}'
                            | '\u{205f}'
                            | '\u{3000}'),
                        ) => self.pos += c.len_utf8(),
                        _ => return Ok(()),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    // StringLiteral : QUOTE ( ~['\\] | '\\\'' | '\\\\' )* QUOTE ;
    fn string(&mut self, start: usize) -> Result<Token, Error> {
        let mut at = start + 1;
        let mut escaped = false;
        loop {
            match self.byte(at) {
                None => return Err(error_at(self.src, start, "unterminated string starting".into())),
                Some(b'\'') => break,
                Some(b'\\') => match self.byte(at + 1) {
                    Some(b'\'' | b'\\') => {
                        escaped = true;
                        at += 2;
                    }
                    None => return Err(error_at(self.src, start, "unterminated string starting".into())),
                    Some(_) => {
                        let bad = self.src.get(at..).unwrap_or("").chars().take(2).collect::<String>();
                        return Err(error_at(
                            self.src,
                            at,
                            format!("invalid escape {} in string: only `\\'` and `\\\\` are allowed", quote(&bad)),
                        ));
                    }
                },
                Some(_) => at += 1,
            }
        }
        self.pos = at + 1;
        let kind = if escaped { Tok::EscapedStr } else { Tok::Str };
        Ok(Token { kind, start, end: self.pos })
    }

    // IntNegLiteral : '-' ('0' | [1-9] [0-9]*) ;
    // IntPosLiteral : '+'? ('0' | [1-9] [0-9]*) ;
    // FloatNegLiteral : '-' [0-9]* '.' [0-9]+ ;
    // FloatPosLiteral : '+'? [0-9]* '.' [0-9]+ ;
    fn number(&mut self, start: usize) -> Result<Token, Error> {
        let bytes = self.src.as_bytes();
        let mut at = start;
        if matches!(self.byte(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let int_start = at;
        while self.byte(at).is_some_and(|b| b.is_ascii_digit()) {
            at += 1;
        }
        let int_digits = bytes.get(int_start..at).unwrap_or_default();
        let mut frac_digits = None;
        if self.byte(at) == Some(b'.') {
            let frac_start = at + 1;
            at = frac_start;
            while self.byte(at).is_some_and(|b| b.is_ascii_digit()) {
                at += 1;
            }
            frac_digits = bytes.get(frac_start..at);
        }
        // A number runs into letters (`1abc`, `1e5`): report the whole run.
        let run_end = at + bytes.get(at..).unwrap_or_default().iter().take_while(|b| is_ident_byte(**b)).count();
        let text = self.src.get(start..run_end).unwrap_or("");
        let invalid = |why: &str| Err(error_at(self.src, start, format!("invalid number {}{why}", quote(text))));
        if run_end > at {
            return invalid("");
        }
        let kind = match frac_digits {
            Some([]) => return invalid(": expected a digit after `.`"),
            Some(_) => Tok::Float,
            None if int_digits.len() > 1 && int_digits.first() == Some(&b'0') => {
                return invalid(": leading zeros are not allowed");
            }
            None => Tok::Int,
        };
        self.pos = at;
        Ok(Token { kind, start, end: at })
    }

    // Identifier : [a-zA-Z_] [a-zA-Z0-9_-]* ;  (IdentifierWithHyphen; the parser rejects `-` in
    // property names, which must be IdentifierWithoutHyphen)
    //
    // Also the typed literals, which start like an identifier: h'..', b'..', t'..'.
    fn ident(&mut self, start: usize) -> Result<Token, Error> {
        let bytes = self.src.as_bytes();
        let len =
            bytes.get(start..).unwrap_or_default().iter().take_while(|b| is_ident_byte(**b) || **b == b'-').count();
        let end = start + len;
        if len == 1 && self.byte(end) == Some(b'\'') {
            let kind = match self.byte(start) {
                Some(b'h') => Some(Tok::Hex),
                Some(b'b') => Some(Tok::Binary),
                Some(b't') => Some(Tok::Timestamp),
                _ => None,
            };
            if let Some(kind) = kind {
                return self.typed_literal(kind, start);
            }
        }
        self.pos = end;
        Ok(Token { kind: Tok::Ident, start, end })
    }

    // HexLiteral : 'h' QUOTE TwoHexDigits* QUOTE ;
    // BinaryLiteral : 'b' QUOTE (Base64Char{4})* (Base64Char{4} | Base64Char{3} '=' | Base64Char{2} '==') QUOTE ;
    // TimestampLiteral : 't' QUOTE YYYY '-' MM '-' DD 'T' hh ':' mm ':' ss ('.' [0-9]+)? 'Z' QUOTE ;
    fn typed_literal(&mut self, kind: Tok, start: usize) -> Result<Token, Error> {
        let name = match kind {
            Tok::Hex => "hex",
            Tok::Binary => "binary",
            _ => "timestamp",
        };
        let body_start = start + 2;
        let Some(close) = self.src.get(body_start..).and_then(|s| s.find('\'')) else {
            return Err(error_at(self.src, start, format!("unterminated {name} literal starting")));
        };
        let end = body_start + close + 1;
        let body = self.src.get(body_start..body_start + close).unwrap_or("");
        let check = match kind {
            Tok::Hex => check_hex(body),
            Tok::Binary => check_base64(body),
            _ => check_timestamp(body),
        };
        if let Err(why) = check {
            let text = self.src.get(start..end).unwrap_or("");
            return Err(error_at(self.src, start, format!("invalid {name} literal {}: {why}", quote(text))));
        }
        self.pos = end;
        Ok(Token { kind, start, end })
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Checks `TwoHexDigits*`.
fn check_hex(body: &str) -> Result<(), &'static str> {
    if !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        Err("expected hex digits `0-9`, `a-f`, `A-F`")
    } else if body.len() % 2 == 1 {
        Err("expected an even number of hex digits")
    } else {
        Ok(())
    }
}

/// Checks the `BinaryLiteral` body: padded base64, at least one group of four.
fn check_base64(body: &str) -> Result<(), &'static str> {
    let unpadded = body.strip_suffix("==").or_else(|| body.strip_suffix('=')).unwrap_or(body);
    let valid = !body.is_empty()
        && body.len().is_multiple_of(4)
        && unpadded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if valid { Ok(()) } else { Err("expected padded base64 in groups of four characters") }
}

/// Checks a timestamp the way `TimestampLiteral` does: `YYYY-MM-DDThh:mm:ss[.s+]Z`, month 01–12,
/// day 01–31, hour 00–23, minute 00–59, second 00–60 (a leap second). Like the grammar, it does
/// not check the day against the month.
pub(super) fn check_timestamp(body: &str) -> Result<(), &'static str> {
    const SHAPE: &str = "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`";
    let [y1, y2, y3, y4, b'-', mo1, mo2, b'-', d1, d2, b'T', h1, h2, b':', mi1, mi2, b':', s1, s2, rest @ ..] =
        body.as_bytes()
    else {
        return Err(SHAPE);
    };
    let digits = [y1, y2, y3, y4, mo1, mo2, d1, d2, h1, h2, mi1, mi2, s1, s2];
    if !digits.iter().all(|d| d.is_ascii_digit()) {
        return Err(SHAPE);
    }
    let fraction_ok = match rest {
        [b'Z'] => true,
        [b'.', fraction @ .., b'Z'] => !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !fraction_ok {
        return Err(SHAPE);
    }
    let two = |a: &u8, b: &u8| u32::from(a - b'0') * 10 + u32::from(b - b'0');
    if !(1..=12).contains(&two(mo1, mo2)) {
        Err("month must be 01–12")
    } else if !(1..=31).contains(&two(d1, d2)) {
        Err("day must be 01–31")
    } else if two(h1, h2) > 23 {
        Err("hour must be 00–23")
    } else if two(mi1, mi2) > 59 {
        Err("minute must be 00–59")
    } else if two(s1, s2) > 60 {
        Err("second must be 00–60")
    } else {
        Ok(())
    }
}

/// The text of a string literal's body with `\'` and `\\` resolved (the lexer has checked that no
/// other escape occurs).
pub(super) fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(escaped) = chars.next() {
                out.push(escaped);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lexer.next_token().unwrap();
            out.push(t.kind);
            if t.kind == Tok::Eof {
                return out;
            }
        }
    }

    #[test]
    fn operators_and_equivalents() {
        use Tok::*;
        assert_eq!(kinds("= == != <> < <= > >="), [Eq, Eq, Neq, Neq, Lt, Le, Gt, Ge, Eof]);
        assert_eq!(kinds("[]():.,*"), [LBrack, RBrack, LParen, RParen, Colon, Dot, Comma, Star, Eof]);
    }

    #[test]
    fn numbers() {
        use Tok::*;
        assert_eq!(kinds("0 42 -7 +3 7.0 -.5 +.25 .5"), [Int, Int, Int, Int, Float, Float, Float, Float, Eof]);
        assert_eq!(kinds("a.b"), [Ident, Dot, Ident, Eof]);
        assert_eq!(kinds("- +"), [Invalid, Invalid, Eof]);
        for bad in ["007", "1.", "1abc", "1e5", "-01"] {
            assert!(Lexer::new(bad).next_token().is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_and_typed_literals() {
        use Tok::*;
        assert_eq!(kinds("network-traffic x_y h b t"), [Ident, Ident, Ident, Ident, Ident, Eof]);
        assert_eq!(kinds("h'ffd8' b'dGVzdA==' t'2016-01-01T00:00:00Z' h''"), [Hex, Binary, Timestamp, Hex, Eof]);
        assert_eq!(kinds("H'ff'"), [Ident, Str, Eof]);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(kinds(r"'a\'b' 'c'"), [Tok::EscapedStr, Tok::Str, Tok::Eof]);
        assert_eq!(unescape(r"a\'b\\c"), r"a'b\c");
        assert_eq!(
            Lexer::new(r"'a\d'").next_token().unwrap_err().to_string(),
            r"invalid escape `\d` in string: only `\'` and `\\` are allowed at offset 2"
        );
        assert_eq!(
            Lexer::new("  'abc").next_token().unwrap_err().to_string(),
            "unterminated string starting at offset 2"
        );
    }

    #[test]
    fn trivia_is_skipped() {
        use Tok::*;
        assert_eq!(kinds(" /* c */ [ // line\n ] \u{a0}\u{3000}\u{2028}"), [LBrack, RBrack, Eof]);
        assert_eq!(kinds("é"), [Invalid, Eof]);
        assert!(Lexer::new("/* open").next_token().is_err());
    }

    #[test]
    fn timestamps() {
        for ok in ["2016-06-01T00:00:00Z", "2016-06-01T23:59:60.123456Z", "2024-02-30T12:00:00Z"] {
            assert_eq!(check_timestamp(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("2016-13-01T00:00:00Z", "month must be 01–12"),
            ("2016-00-01T00:00:00Z", "month must be 01–12"),
            ("2016-01-32T00:00:00Z", "day must be 01–31"),
            ("2016-01-00T00:00:00Z", "day must be 01–31"),
            ("2016-01-01T24:00:00Z", "hour must be 00–23"),
            ("2016-01-01T00:60:00Z", "minute must be 00–59"),
            ("2016-01-01T00:00:61Z", "second must be 00–60"),
            ("2016-01-01T00:00:00", "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`"),
            ("2016-01-01T00:00:00.Z", "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`"),
            ("2016/01/01T00:00:00Z", "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`"),
            ("2016-01-01t00:00:00z", "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`"),
            ("", "expected the form `YYYY-MM-DDThh:mm:ss[.s]Z`"),
        ] {
            assert_eq!(check_timestamp(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn base64_and_hex() {
        for ok in ["dGVzdA==", "dGVzdDE=", "dGVzdDEy", "ab+/"] {
            assert_eq!(check_base64(ok), Ok(()), "{ok}");
        }
        for bad in ["", "====", "abc", "ab=c", "a===", "dGVzdA=", "ab c"] {
            assert!(check_base64(bad).is_err(), "{bad}");
        }
        assert_eq!(check_hex(""), Ok(()));
        assert_eq!(check_hex("ffD8"), Ok(()));
        assert!(check_hex("abc").is_err());
        assert!(check_hex("zz").is_err());
    }
}
