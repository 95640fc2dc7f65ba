//! Model-constraint checks and the Coral validation-message grammar (aws-wire.md §3.3).
//!
//! `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...`
//! is produced here and nowhere else, so both surfaces word it identically.

use super::error::{ApiError, ErrorCode, Surface};
use regex::Regex;
use std::borrow::Cow;
use std::fmt::Write as _;

/// One constraint a member failed, worded as AWS words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    NotNull,
    Pattern(&'static str),
    Enum(&'static [&'static str]),
    /// Every item of a list must be one of these values.
    ListEnum(&'static [&'static str]),
    MaxLength(usize),
    MinLength(usize),
    MaxValue(i64),
    MinValue(i64),
}

impl Constraint {
    fn describe(&self) -> String {
        match self {
            Constraint::NotNull => "Member must not be null".to_owned(),
            Constraint::Pattern(p) => {
                format!("Member must satisfy regular expression pattern: {p}")
            }
            Constraint::Enum(values) => {
                format!("Member must satisfy enum value set: [{}]", values.join(", "))
            }
            Constraint::ListEnum(values) => format!(
                "Member must satisfy constraint: [Member must satisfy enum value set: [{}], Member must not be null]",
                values.join(", ")
            ),
            Constraint::MaxLength(n) => format!("Member must have length less than or equal to {n}"),
            Constraint::MinLength(n) => {
                format!("Member must have length greater than or equal to {n}")
            }
            Constraint::MaxValue(n) => format!("Member must have value less than or equal to {n}"),
            Constraint::MinValue(n) => format!("Member must have value greater than or equal to {n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    /// The offending value as printed; `None` prints as `null`.
    value: Option<String>,
    member: Cow<'static, str>,
    constraint: Constraint,
}

/// Collects every violation of a request, then answers them all at once.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(
        &mut self,
        member: impl Into<Cow<'static, str>>,
        value: Option<&str>,
        constraint: Constraint,
    ) {
        self.0.push(Violation {
            value: value.map(str::to_owned),
            member: member.into(),
            constraint,
        });
    }

    /// A required string member: absent → not null; present → length and pattern checks.
    pub fn required_str(
        &mut self,
        member: impl Into<Cow<'static, str>>,
        value: Option<&str>,
        min: usize,
        max: usize,
        pattern: Option<&Pattern>,
    ) {
        match value {
            None => self.add(member, None, Constraint::NotNull),
            Some(v) => self.optional_str(member, Some(v), min, max, pattern),
        }
    }

    /// An optional string member: only checked when present.
    pub fn optional_str(
        &mut self,
        member: impl Into<Cow<'static, str>>,
        value: Option<&str>,
        min: usize,
        max: usize,
        pattern: Option<&Pattern>,
    ) {
        let Some(v) = value else { return };
        let member = member.into();
        let len = utf16_len(v);
        if len < min {
            self.add(member.clone(), Some(v), Constraint::MinLength(min));
        }
        if len > max {
            self.add(member.clone(), Some(v), Constraint::MaxLength(max));
        }
        if let Some(p) = pattern {
            if !p.full_match(v) {
                self.add(member, Some(v), Constraint::Pattern(p.source));
            }
        }
    }

    pub fn optional_enum(
        &mut self,
        member: impl Into<Cow<'static, str>>,
        value: Option<&str>,
        allowed: &'static [&'static str],
    ) {
        if let Some(v) = value {
            if !allowed.contains(&v) {
                self.add(member, Some(v), Constraint::Enum(allowed));
            }
        }
    }

    pub fn int_range(
        &mut self,
        member: impl Into<Cow<'static, str>>,
        value: Option<i64>,
        min: i64,
        max: i64,
    ) {
        let Some(v) = value else { return };
        let member = member.into();
        if v < min {
            self.add(
                member.clone(),
                Some(&v.to_string()),
                Constraint::MinValue(min),
            );
        }
        if v > max {
            self.add(member, Some(&v.to_string()), Constraint::MaxValue(max));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The Coral message: `N validation error(s) detected: item; item`.
    pub fn message(&self) -> String {
        let n = self.0.len();
        let mut out = format!(
            "{n} validation error{} detected: ",
            if n == 1 { "" } else { "s" }
        );
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            match &v.value {
                Some(value) => write!(out, "Value '{value}'"),
                None => write!(out, "Value null"),
            }
            .expect("writing to a String cannot fail");
            write!(
                out,
                " at '{}' failed to satisfy constraint: {}",
                v.member,
                v.constraint.describe()
            )
            .expect("writing to a String cannot fail");
        }
        out
    }

    /// `Ok` when nothing was violated, else one `ValidationException` naming everything.
    pub fn finish(self, surface: Surface) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::new(
                surface,
                ErrorCode::Validation,
                self.message(),
            ))
        }
    }
}

/// A model pattern, applied as AWS applies it: a full match with ASCII `\w`.
pub struct Pattern {
    source: &'static str,
    regex: Regex,
}

impl Pattern {
    /// `source` is the model's pattern text, printed verbatim in messages.
    pub fn new(source: &'static str) -> Self {
        let anchored = format!("^(?:{source})$");
        // `(?-u)` keeps `\w` and `\d` ASCII-only, as in Java.
        let regex = Regex::new(&format!("(?-u:{anchored})"))
            .or_else(|_| Regex::new(&anchored))
            .expect("model patterns are valid regular expressions");
        Pattern { source, regex }
    }

    pub fn full_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    pub fn source(&self) -> &'static str {
        self.source
    }
}

/// String length as Java counts it (UTF-16 code units), which is what AWS limits.
pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pattern_violation_reads_like_aws() {
        let mut v = Violations::new();
        let p = Pattern::new("lambda:GetLayerVersion");
        v.required_str("action", Some("*"), 0, 22, Some(&p));
        assert_eq!(
            v.message(),
            "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: lambda:GetLayerVersion"
        );
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let mut v = Violations::new();
        v.required_str("statementId", None, 1, 100, None);
        v.required_str("action", None, 0, 22, None);
        assert_eq!(
            v.message(),
            "2 validation errors detected: Value null at 'statementId' failed to satisfy \
             constraint: Member must not be null; Value null at 'action' failed to satisfy \
             constraint: Member must not be null"
        );
    }

    #[test]
    fn enum_and_range_wording() {
        let mut v = Violations::new();
        v.optional_enum(
            "compatibleArchitecture",
            Some("sparc"),
            &["x86_64", "arm64"],
        );
        v.int_range("maxItems", Some(51), 1, 50);
        let m = v.message();
        assert!(m.contains("Value 'sparc' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]"));
        assert!(m.contains("Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50"));
    }

    #[test]
    fn patterns_are_full_matches_with_ascii_word_class() {
        let p = Pattern::new("([a-zA-Z0-9-_]+)");
        assert!(p.full_match("abc-_1"));
        assert!(!p.full_match("abc def"));
        let w = Pattern::new(r"[\w+-.@]+");
        assert!(w.full_match("a,b")); // `+-.` is a range that includes ','
        assert!(!w.full_match("sïd"));
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(utf16_len("📁"), 2);
        let mut v = Violations::new();
        v.optional_str("name", Some("📁"), 1, 1, None);
        assert!(!v.is_empty());
    }
}
