//! A hand-written scanner for the common row: valid JSON with plain keys.
//!
//! [`parse_row_fast`] produces exactly the [`ParsedRow`] that the serde path
//! ([`super::row::parse_row_serde`]) would, with the same spans and the same `f64` values,
//! and returns `None` for anything it does not fully understand (invalid JSON, escaped
//! keys, duplicate fields, a value of the wrong type, nesting deeper than [`MAX_DEPTH`],
//! a reward out of range...). The caller then runs the serde path, which either accepts
//! the row after all or words the precise error. So this scanner never has to explain a
//! failure, only to be a strict validator of what it accepts.
//!
//! Accepted rows are checked against the whole JSON grammar (RFC 8259): the line is
//! already valid UTF-8, strings must not hold raw control characters and may hold only
//! the escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (as with serde_json, a lone surrogate
//! escape is not an error in a raw value), numbers must follow
//! `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, and only whitespace may follow the
//! object.

use super::row::{ParsedRow, Role, RowId, RowSpec, Span};

/// Deepest nesting of arrays and objects accepted inside a value (deeper: `None`).
pub const MAX_DEPTH: usize = 128;

/// Parses `line` like [`super::row::parse_row_serde`], or returns `None` if the row is
/// not one this scanner fully understands.
pub fn parse_row_fast(line: &str, spec: &RowSpec) -> Option<ParsedRow> {
    if spec.fields.len() > 64 {
        return None;
    }
    let mut s = Scanner { b: line.as_bytes(), i: 0 };
    let mut row = ParsedRow::default();
    let mut seen = 0u64;
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            let key = s.string()?;
            if key.escaped {
                return None;
            }
            s.ws();
            s.eat(b':')?;
            s.ws();
            let name = &line[key.span.start as usize + 1..key.span.end as usize - 1];
            match spec.fields.iter().position(|(n, _)| n == name) {
                None => {
                    let value = s.value(0)?;
                    // serde_json::to_string of a key without escapes, quotes or control
                    // characters is the key's own quoted text.
                    let quoted = &line[key.span.start as usize..key.span.end as usize];
                    if row.extra.iter().any(|(k, _)| k == quoted) {
                        return None;
                    }
                    row.extra.push((quoted.to_string(), value));
                }
                Some(position) => {
                    let bit = 1u64 << position;
                    if seen & bit != 0 {
                        return None;
                    }
                    seen |= bit;
                    match spec.fields[position].1 {
                        Role::Id => row.id = Some(s.id(line)?),
                        Role::Prompt => row.prompt = Some(s.value(0)?),
                        Role::Responses => row.responses = Some(s.strings()?),
                        Role::Rewards => row.rewards = Some(s.numbers()?),
                        Role::Response => row.response = Some(s.string()?.span),
                        Role::Reward => row.reward = Some(s.number()?),
                    }
                }
            }
            s.ws();
            match s.next()? {
                b',' => s.ws(),
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.ws();
    (s.i == s.b.len()).then_some(row)
}

/// A string's span (quotes included) and whether it holds escapes.
struct Str {
    span: Span,
    escaped: bool,
}

/// A cursor over the line's bytes. Every method returns `None` on anything unexpected.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn span_from(&self, start: usize) -> Span {
        Span { start: start as u32, end: self.i as u32 }
    }

    /// Any JSON value at `depth` levels of nesting; returns its span.
    fn value(&mut self, depth: usize) -> Option<Span> {
        let start = self.i;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'-' | b'0'..=b'9' => {
                self.number_text()?;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'[' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.items(b']', |s| s.value(depth + 1).map(drop))?;
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                self.i += 1;
                self.items(b'}', |s| {
                    s.string()?;
                    s.ws();
                    s.eat(b':')?;
                    s.ws();
                    s.value(depth + 1).map(drop)
                })?;
            }
            _ => return None,
        }
        Some(self.span_from(start))
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// A string starting at the cursor. Inlined for the common short string: the
    /// closing quote within the next eight bytes and nothing to check before it.
    #[inline(always)]
    fn string(&mut self) -> Option<Str> {
        let start = self.i;
        if self.b.get(start) != Some(&b'"') {
            return None;
        }
        if let Some(chunk) = self.b.get(start + 1..start + 9) {
            let hits = special_bytes(u64::from_le_bytes(chunk.try_into().unwrap()));
            if hits != 0 {
                let end = start + 1 + hits.trailing_zeros() as usize / 8;
                if self.b[end] == b'"' {
                    self.i = end + 1;
                    return Some(Str { span: self.span_from(start), escaped: false });
                }
            }
        }
        self.long_string(start)
    }

    /// A string starting at `start` (its opening quote), the general case: eight bytes at
    /// a time to the next quote, backslash or control character.
    #[inline(never)]
    fn long_string(&mut self, start: usize) -> Option<Str> {
        let b = self.b;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            i = find_special(b, i)?;
            match b[i] {
                b'"' => {
                    self.i = i + 1;
                    return Some(Str { span: self.span_from(start), escaped });
                }
                b'\\' => {
                    escaped = true;
                    match *b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            if !b.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a raw control character
            }
        }
    }

    /// The items of an array or object whose opening bracket is behind the cursor, each
    /// read by `item`, separated by commas, up to the `close` bracket.
    #[inline(always)]
    fn items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                c if c == close => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array of strings, as spans.
    fn strings(&mut self) -> Option<Vec<Span>> {
        let mut out = Vec::with_capacity(64);
        self.eat(b'[')?;
        self.items(b']', |s| {
            out.push(s.string()?.span);
            Some(())
        })?;
        Some(out)
    }

    /// An array of numbers.
    fn numbers(&mut self) -> Option<Vec<f64>> {
        let mut out = Vec::with_capacity(64);
        self.eat(b'[')?;
        self.items(b']', |s| {
            out.push(s.number()?);
            Some(())
        })?;
        Some(out)
    }

    /// A row id: a string (decoded) or an integer literal (its text).
    fn id(&mut self, line: &str) -> Option<RowId> {
        match self.peek()? {
            b'"' => {
                let s = self.string()?;
                let (start, end) = (s.span.start as usize, s.span.end as usize);
                let text = if s.escaped {
                    // Rare: let serde_json decode it (and refuse lone surrogates).
                    serde_json::from_str::<String>(&line[start..end]).ok()?
                } else {
                    line[start + 1..end - 1].to_string()
                };
                Some(RowId { raw: s.span, text })
            }
            b'-' | b'0'..=b'9' => {
                let n = self.number_text()?;
                if n.fraction || n.exponent {
                    return None;
                }
                let raw = self.span_from(n.start);
                Some(RowId { raw, text: line[n.start..self.i].to_string() })
            }
            _ => None,
        }
    }

    /// A number's value, as serde_json (with `float_roundtrip`) gives it: the correctly
    /// rounded `f64` of the decimal (integers: `u64`/`i64` as `f64`, the same value), or
    /// `None` where it would not be finite.
    #[inline]
    fn number(&mut self) -> Option<f64> {
        let n = self.number_text()?;
        let value = match n.fast_value() {
            Some(v) => v,
            // Rust's parser is correctly rounded and takes JSON's number syntax.
            None => std::str::from_utf8(&self.b[n.start..self.i]).ok()?.parse::<f64>().ok()?,
        };
        value.is_finite().then_some(value)
    }

    /// Validates a number's syntax and gathers what [`NumberText::fast_value`] needs.
    #[inline(always)]
    fn number_text(&mut self) -> Option<NumberText> {
        let b = self.b;
        let start = self.i;
        let mut i = start;
        let negative = b.get(i) == Some(&b'-');
        i += negative as usize;
        let mut mantissa = 0u64;
        let mut digits = match b.get(i) {
            Some(b'0') => {
                i += 1;
                0
            }
            Some(b'1'..=b'9') => digit_run(b, &mut i, &mut mantissa),
            _ => return None,
        };
        let mut exp10 = 0i64;
        let fraction = b.get(i) == Some(&b'.');
        if fraction {
            i += 1;
            let n = digit_run(b, &mut i, &mut mantissa);
            if n == 0 {
                return None;
            }
            digits += n;
            exp10 = -(n as i64);
        }
        let exponent = matches!(b.get(i), Some(b'e' | b'E'));
        if exponent {
            i += 1;
            let negative_exp = b.get(i) == Some(&b'-');
            if negative_exp || b.get(i) == Some(&b'+') {
                i += 1;
            }
            let first = i;
            let mut exp = 0i64;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                // Saturates far outside the fast range; the slow path sees the text.
                exp = (exp * 10 + (c - b'0') as i64).min(1 << 40);
                i += 1;
            }
            if i == first {
                return None;
            }
            exp10 += if negative_exp { -exp } else { exp };
        }
        self.i = i;
        Some(NumberText { start, negative, mantissa, digits, exp10, fraction, exponent })
    }
}

/// Reads the digits at `*i` into `mantissa` (wrapping: only trusted up to 19 digits);
/// returns how many there were. Eight bytes at a time where the line has them.
#[inline(always)]
fn digit_run(b: &[u8], i: &mut usize, mantissa: &mut u64) -> usize {
    let first = *i;
    while let Some(chunk) = b.get(*i..*i + 8) {
        let (n, value) = eight_digits(u64::from_le_bytes(chunk.try_into().unwrap()));
        if n == 0 {
            return *i - first;
        }
        *mantissa = mantissa.wrapping_mul(POW10_U64[n]).wrapping_add(value);
        *i += n;
        if n < 8 {
            return *i - first;
        }
    }
    while let Some(&c) = b.get(*i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(d as u64);
        *i += 1;
    }
    *i - first
}

/// 10^n for n in 0..=8.
const POW10_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// The leading decimal digits of eight bytes of text (`x`, the first byte lowest): how
/// many there are (0 to 8) and their value. SWAR: a byte is a digit when neither
/// `c - '0'` borrows nor `c + 0x46` reaches the high bit; carries and borrows only run
/// upwards from non-digits, so the lowest flagged byte is exact.
#[inline(always)]
fn eight_digits(x: u64) -> (usize, u64) {
    const ONES: u64 = u64::MAX / 255;
    let digits = x.wrapping_sub(ONES * b'0' as u64);
    let not_digit = (x.wrapping_add(ONES * 0x46) | digits) & (ONES << 7);
    let n = (not_digit.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // Keep the n digits, moved to the top bytes (leading zeros below them), then combine
    // pairs, quads and halves (Lemire's eight-digit parse).
    let mut v = digits << (8 * (8 - n));
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    v = ((v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    (n, v)
}

/// What a number's text says: value `±mantissa × 10^exp10` when `digits <= 19`.
struct NumberText {
    start: usize,
    negative: bool,
    /// The digits as an integer; wrapped (meaningless) past 19 digits.
    mantissa: u64,
    /// Digits gathered into `mantissa` (a lone leading `0` excluded, the zeros that
    /// start a fraction counted: a conservative count for the fast path).
    digits: usize,
    exp10: i64,
    fraction: bool,
    exponent: bool,
}

impl NumberText {
    /// The exactly rounded value when the mantissa and the power of ten are both exact
    /// in `f64` (Clinger's fast path: one correctly rounded multiply or divide).
    fn fast_value(&self) -> Option<f64> {
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
            1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        if self.digits > 19 || self.mantissa > 1 << 53 || !(-22..=22).contains(&self.exp10) {
            return None;
        }
        let m = self.mantissa as f64;
        let v = if self.exp10 >= 0 { m * POW10[self.exp10 as usize] } else { m / POW10[-self.exp10 as usize] };
        Some(if self.negative { -v } else { v })
    }
}

/// Flags (high bit of the byte) the bytes of `x` that end a plain run of string text:
/// `"`, `\\` and control characters (< 0x20), eight bytes at a time (SWAR). Borrows only
/// flag bytes after a true hit, so the lowest flag is exact.
#[inline(always)]
fn special_bytes(x: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let quote = x ^ (ONES * b'"' as u64);
    let backslash = x ^ (ONES * b'\\' as u64);
    (x.wrapping_sub(ONES * 0x20) | quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES)) & !x & HIGH
}

/// The index of the first `"`, `\\` or control character at or after `i`, if any.
fn find_special(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(chunk) = b.get(i..i + 8) {
        let hits = special_bytes(u64::from_le_bytes(chunk.try_into().unwrap()));
        if hits != 0 {
            return Some(i + hits.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map(|p| i + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_digits_reads_the_leading_digits() {
        let cases: [(&[u8; 8], usize, u64); 8] = [
            (b"12345678", 8, 12_345_678),
            (b"00000001", 8, 1),
            (b"1234567,", 7, 1_234_567),
            (b"447123],", 6, 447_123),
            (b"9e5 xxxx", 1, 9),
            (b"-1234567", 0, 0),
            (b"05.99999", 2, 5),
            (b"98\xff\x00/:a9", 2, 98),
        ];
        for (text, n, value) in cases {
            assert_eq!(eight_digits(u64::from_le_bytes(*text)), (n, value), "{:?}", std::str::from_utf8(text));
        }
    }

    #[test]
    fn digit_runs_of_any_length() {
        for text in ["7", "12", "1234567", "12345678", "123456789", "1234567890123456789", "00012", "9999999999999999999"] {
            for tail in ["", "]", ".5", "e3,", "\u{e9}"] {
                let line = format!("{text}{tail}");
                let (mut i, mut m) = (0, 0u64);
                let n = digit_run(line.as_bytes(), &mut i, &mut m);
                assert_eq!((n, i), (text.len(), text.len()), "{line}");
                assert_eq!(m, text.parse::<u64>().unwrap(), "{line}");
            }
        }
    }
}
