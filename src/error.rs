//! The core's one error type.
//!
//! Every failure the core reports — a payload that is not JSON, a pattern that does not parse, a
//! value that is not a valid IP address — is an [`Error`]: a stable machine-readable [`Code`], a
//! message in the `jiff`/`serde_json` style (lowercase, the offending input in backticks, "expected X,
//! found Y"), and where it happened: a JSON path into the payload (`objects[3].pattern`) and/or a
//! character offset into a pattern.
//!
//! The error is one boxed word, so `Result<T, Error>` stays small on the hot path (`serde_json` found
//! a larger error type "substantially slower").

use std::fmt;

use serde::Serialize;

/// What kind of problem an [`Error`] reports. Serialised as a stable `snake_case` string that hosts
/// and third parties can branch on (`err.code === "pattern"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// The payload is not well-formed JSON.
    Json,
    /// The JSON is well-formed but has no shape the core recognises (or not the forced format's).
    Shape,
    /// The payload exceeds a size or count limit.
    TooLarge,
    /// A STIX pattern does not parse.
    Pattern,
    /// A value is present but invalid (a malformed IP address, a hash of the wrong length, ...).
    Value,
    /// A required field is absent.
    Missing,
    /// A field holds the wrong JSON type (a number where a string was expected, ...).
    Type,
    /// The item is well-formed but describes something the relay does not carry (an unsupported
    /// pattern type, an indicator type no destination understands, ...).
    Unsupported,
    /// The options passed to a call are invalid.
    Options,
    /// The relay's configuration is invalid (the thrown error lists every problem).
    Config,
}

impl Code {
    /// The stable string form, as serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Shape => "shape",
            Self::TooLarge => "too_large",
            Self::Pattern => "pattern",
            Self::Value => "value",
            Self::Missing => "missing",
            Self::Type => "type",
            Self::Unsupported => "unsupported",
            Self::Options => "options",
            Self::Config => "config",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The core's error: a [`Code`], a message, and where.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    code: Code,
    message: String,
    path: Option<String>,
    offset: Option<usize>,
}

impl Error {
    /// An error with a code and a message (lowercase, no trailing period).
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self(Box::new(Inner { code, message: message.into(), path: None, offset: None }))
    }

    /// Sets the JSON path of the offending input (`objects[3].pattern`).
    #[must_use]
    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.0.path = Some(path.into());
        self
    }

    /// Sets the JSON path unless one is already set.
    #[must_use]
    pub fn or_path(self, path: impl FnOnce() -> String) -> Self {
        if self.0.path.is_some() { self } else { self.at_path(path()) }
    }

    /// Sets the character offset of the offending input inside a text (a STIX pattern).
    #[must_use]
    pub fn at_offset(mut self, offset: usize) -> Self {
        self.0.offset = Some(offset);
        self
    }

    /// The machine-readable kind.
    pub fn code(&self) -> Code {
        self.0.code
    }

    /// The message without location, e.g. "expected `]`, found end of input".
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The JSON path of the offending input, if the error is about a payload.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// The character offset (counted in Unicode scalar values) inside a pattern, if any.
    pub fn offset(&self) -> Option<usize> {
        self.0.offset
    }
}

/// The message, then the offset and path appended in one place:
/// "expected `]`, found end of input at offset 27 (at `objects[3].pattern`)".
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        if let Some(offset) = self.0.offset {
            write!(f, " at offset {offset}")?;
        }
        if let Some(path) = &self.0.path {
            write!(f, " (at `{path}`)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {self})", self.0.code)
    }
}

impl std::error::Error for Error {}

/// Quotes a piece of offending input for a message: in backticks, shortened to 64 characters so one
/// megabyte of garbage does not become a megabyte of error.
pub(crate) fn quote(input: &str) -> String {
    const MAX: usize = 64;
    let mut chars = input.chars();
    let head: String = chars.by_ref().take(MAX).collect();
    if chars.next().is_some() { format!("`{head}…`") } else { format!("`{head}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_appends_location_once() {
        let e =
            Error::new(Code::Pattern, "expected `]`, found end of input").at_offset(27).at_path("objects[3].pattern");
        assert_eq!(e.to_string(), "expected `]`, found end of input at offset 27 (at `objects[3].pattern`)");
        assert_eq!(e.code().as_str(), "pattern");
    }

    #[test]
    fn quote_shortens_long_input() {
        assert_eq!(quote("abc"), "`abc`");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("`{}…`", "x".repeat(64)));
    }

    #[test]
    fn error_is_one_word() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }
}
