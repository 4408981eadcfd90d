//! One JSONL row, parsed in a single pass without decoding the texts it only copies.
//!
//! Strings and other values are kept as byte spans into the line (raw JSON), so response
//! texts go from input to output untouched (unicode and escapes as written). Only the
//! rewards are parsed into numbers. Which field plays which role is set by a [`RowSpec`].

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use crate::error::Error;

/// A byte range into a line (or a chunk holding it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn get<'a>(&self, data: &'a [u8]) -> &'a [u8] {
        &data[self.start as usize..self.end as usize]
    }

    pub fn shifted(self, by: u32) -> Span {
        Span { start: self.start + by, end: self.end + by }
    }

    fn of(raw: &RawValue, base: *const u8) -> Span {
        let text = raw.get();
        let start = text.as_ptr() as usize - base as usize;
        Span { start: start as u32, end: (start + text.len()) as u32 }
    }
}

/// The role a field of the row plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Id,
    Prompt,
    /// Wide layout: an array of response strings.
    Responses,
    /// Wide layout: an array of numbers.
    Rewards,
    /// Long layout: one response string.
    Response,
    /// Long layout: one number.
    Reward,
}

/// Field names and their roles; every other field is carried through as `extra`.
#[derive(Clone, Debug)]
pub struct RowSpec {
    pub fields: Vec<(String, Role)>,
}

impl RowSpec {
    /// The field name that plays `role`.
    pub fn name_of(&self, role: Role) -> &str {
        self.fields.iter().find(|(_, r)| *r == role).map(|(n, _)| n.as_str()).unwrap_or("?")
    }
}

/// A row's id: its raw JSON and the text its prompt key is hashed from.
#[derive(Clone, Debug, PartialEq)]
pub struct RowId {
    pub raw: Span,
    /// The id's UTF-8 text (a string id decoded; an integer id's decimal digits).
    pub text: String,
}

/// What one row holds, as spans into its line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedRow {
    pub id: Option<RowId>,
    pub prompt: Option<Span>,
    pub responses: Option<Vec<Span>>,
    pub rewards: Option<Vec<f64>>,
    pub response: Option<Span>,
    pub reward: Option<f64>,
    /// Other fields: (key as raw JSON string, value as raw JSON), in input order.
    pub extra: Vec<(String, Span)>,
}

/// Why a row could not be parsed: the field (if known) and a message.
#[derive(Clone, Debug, PartialEq)]
pub struct RowError {
    pub field: Option<String>,
    pub message: String,
}

/// Parses one line (without its newline) against `spec`.
///
/// Most rows take the hand-written scanner of [`super::fast_row`]; the rest (and every
/// row in error) take serde_json, which gives the same result or words the error.
pub fn parse_row(line: &str, spec: &RowSpec) -> Result<ParsedRow, RowError> {
    if let Some(row) = super::fast_row::parse_row_fast(line, spec) {
        return Ok(row);
    }
    parse_row_serde(line, spec)
}

/// Parses input line `line_no` (raw bytes, without its newline): UTF-8 checked (SIMD),
/// then [`parse_row`]; errors name the line and, where there is one, the field.
pub fn parse_line<'a>(text: &'a [u8], line_no: u64, spec: &RowSpec) -> Result<(ParsedRow, &'a str), Error> {
    let text = utf8_line(text, line_no)?;
    let row = parse_row(text, spec).map_err(|e| match e.field {
        Some(field) => Error::input(line_no, &field, e.message),
        None => Error::Json { line: line_no, message: e.message },
    })?;
    Ok((row, text))
}

/// Line `line_no` as text, or an error naming the line where it is not valid UTF-8.
pub fn utf8_line(text: &[u8], line_no: u64) -> Result<&str, Error> {
    match simdutf8::basic::from_utf8(text) {
        Ok(text) => Ok(text),
        // The fast check says only whether; the standard one says where.
        Err(_) => std::str::from_utf8(text)
            .map_err(|e| Error::Json { line: line_no, message: format!("not valid UTF-8 ({e})") }),
    }
}

/// [`parse_row`] by serde_json alone: the reference the fast scanner must agree with.
pub fn parse_row_serde(line: &str, spec: &RowSpec) -> Result<ParsedRow, RowError> {
    let current = Cell::new(None::<usize>);
    let mut de = serde_json::Deserializer::from_str(line);
    let seed = RowSeed { spec, base: line.as_ptr(), current: &current };
    let result = seed.deserialize(&mut de).and_then(|row| de.end().map(|_| row));
    result.map_err(|err| {
        let field = current.get().map(|f| spec.fields[f].0.clone());
        let message = describe_json_error(line, &err);
        RowError { field, message }
    })
}

/// serde_json's message, without its "line 1" (a row is one line), and a plain word for
/// the non-finite literals Python's json module writes (NaN, Infinity).
fn describe_json_error(line: &str, err: &serde_json::Error) -> String {
    let column = err.column();
    let at = line.get(column.saturating_sub(1)..).unwrap_or("");
    for word in ["NaN", "Infinity", "-Infinity"] {
        if at.starts_with(word) {
            return format!("`{word}` at column {column} is not a finite number (rewards must be finite)");
        }
    }
    let text = err.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text).to_string();
    format!("{text} (column {column})")
}

struct RowSeed<'s> {
    spec: &'s RowSpec,
    base: *const u8,
    current: &'s Cell<Option<usize>>,
}

impl<'de, 's> DeserializeSeed<'de> for RowSeed<'s> {
    type Value = ParsedRow;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ParsedRow, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 's> Visitor<'de> for RowSeed<'s> {
    type Value = ParsedRow;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ParsedRow, A::Error> {
        let mut row = ParsedRow::default();
        let mut seen = vec![false; self.spec.fields.len()];
        while let Some(key) = map.next_key::<KeyText<'de>>()? {
            let key = key.0;
            let Some(position) = self.spec.fields.iter().position(|(n, _)| n.as_str() == &*key) else {
                let raw: &'de RawValue = map.next_value()?;
                let quoted = serde_json::to_string(&*key).map_err(de::Error::custom)?;
                if row.extra.iter().any(|(k, _)| *k == quoted) {
                    return Err(de::Error::custom(format!("duplicate field {quoted}")));
                }
                row.extra.push((quoted, Span::of(raw, self.base)));
                continue;
            };
            self.current.set(Some(position));
            if std::mem::replace(&mut seen[position], true) {
                return Err(de::Error::custom("the field appears twice in the row"));
            }
            match self.spec.fields[position].1 {
                Role::Id => {
                    let raw: &'de RawValue = map.next_value()?;
                    row.id = Some(parse_id(raw, self.base).map_err(de::Error::custom)?);
                }
                Role::Prompt => row.prompt = Some(Span::of(map.next_value::<&RawValue>()?, self.base)),
                Role::Responses => {
                    row.responses = Some(map.next_value_seed(StringSpans { base: self.base })?);
                }
                Role::Response => {
                    let raw: &'de RawValue = map.next_value()?;
                    if !raw.get().starts_with('"') {
                        return Err(de::Error::custom("must be a string"));
                    }
                    row.response = Some(Span::of(raw, self.base));
                }
                Role::Rewards => row.rewards = Some(map.next_value_seed(Numbers)?),
                Role::Reward => row.reward = Some(map.next_value_seed(Number)?),
            }
            self.current.set(None);
        }
        Ok(row)
    }
}

fn parse_id(raw: &RawValue, base: *const u8) -> Result<RowId, String> {
    let text = raw.get();
    let span = Span::of(raw, base);
    if text.starts_with('"') {
        let decoded: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(RowId { raw: span, text: decoded })
    } else if is_integer_literal(text) {
        Ok(RowId { raw: span, text: text.to_string() })
    } else {
        Err(format!("must be a string or an integer, got `{}`", abbreviate(text)))
    }
}

fn is_integer_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

fn abbreviate(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct KeyText<'de>(std::borrow::Cow<'de, str>);

impl<'de> de::Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(KeyText(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyText(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// An array of strings, kept as spans of their raw JSON.
struct StringSpans {
    base: *const u8,
}

impl<'de> DeserializeSeed<'de> for StringSpans {
    type Value = Vec<Span>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<Span>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for StringSpans {
    type Value = Vec<Span>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Span>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(64));
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            if !raw.get().starts_with('"') {
                return Err(de::Error::custom(format!(
                    "element {} must be a string, got `{}`",
                    out.len(),
                    abbreviate(raw.get())
                )));
            }
            out.push(Span::of(raw, self.base));
        }
        Ok(out)
    }
}

/// An array of numbers (null, strings and other values are errors naming the element).
struct Numbers;

impl<'de> DeserializeSeed<'de> for Numbers {
    type Value = Vec<f64>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Vec<f64>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Numbers {
    type Value = Vec<f64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(64));
        loop {
            let element = seq.next_element_seed(Number).map_err(|e: A::Error| {
                de::Error::custom(format!("element {}: {}", out.len(), e))
            })?;
            match element {
                Some(value) => out.push(value),
                None => return Ok(out),
            }
        }
    }
}

/// One JSON number.
struct Number;

impl<'de> DeserializeSeed<'de> for Number {
    type Value = f64;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        // Any value: a non-number reaches the visitor, which names what it got.
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Number {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Err(E::custom("null is not a number"))
    }
    fn visit_none<E: de::Error>(self) -> Result<f64, E> {
        Err(E::custom("null is not a number"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        Err(E::custom(format!("the string \"{}\" is not a number", abbreviate(v))))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<f64, E> {
        Err(E::custom(format!("`{v}` is not a number")))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<f64, A::Error> {
        Err(de::Error::custom("an array is not a number"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<f64, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Err(de::Error::custom("an object is not a number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wide() -> RowSpec {
        RowSpec {
            fields: vec![
                ("id".into(), Role::Id),
                ("prompt".into(), Role::Prompt),
                ("responses".into(), Role::Responses),
                ("rewards".into(), Role::Rewards),
            ],
        }
    }

    #[test]
    fn keeps_raw_text_and_extras() {
        let line = r#"{"id": 7, "prompt": [{"role":"user","content":"hi"}], "responses": ["a\"b", "\u00e9"], "rewards": [1, -2.5e3], "meta": {"x": 1}}"#;
        let row = parse_row(line, &wide()).unwrap();
        let bytes = line.as_bytes();
        assert_eq!(row.id.as_ref().unwrap().text, "7");
        assert_eq!(row.prompt.unwrap().get(bytes), br#"[{"role":"user","content":"hi"}]"#);
        let resp = row.responses.unwrap();
        assert_eq!(resp[0].get(bytes), br#""a\"b""#);
        assert_eq!(resp[1].get(bytes), br#""\u00e9""#);
        assert_eq!(row.rewards.unwrap(), vec![1.0, -2500.0]);
        assert_eq!(row.extra.len(), 1);
        assert_eq!(row.extra[0].0, "\"meta\"");
        assert_eq!(row.extra[0].1.get(bytes), br#"{"x": 1}"#);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"rewards": [1, "x"]}"#, Some("rewards")),
            (r#"{"rewards": [1, NaN]}"#, Some("rewards")),
            (r#"{"responses": ["a", 3]}"#, Some("responses")),
            (r#"{"id": 1.5}"#, Some("id")),
            (r#"{"id": "a", "id": "b"}"#, Some("id")),
            (r#"[1, 2]"#, None),
            (r#"{"prompt": "x""#, None),
        ];
        for (line, field) in cases {
            let err = parse_row(line, &wide()).unwrap_err();
            assert_eq!(err.field.as_deref(), field, "{line}: {}", err.message);
        }
        let err = parse_row(r#"{"rewards": [1, NaN]}"#, &wide()).unwrap_err();
        assert!(err.message.contains("NaN"), "{}", err.message);
    }
}
