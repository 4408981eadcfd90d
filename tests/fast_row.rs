//! The hand-written row scanner against serde_json: the same `ParsedRow` (spans, extras
//! and bit-identical numbers) whenever serde_json accepts a row, and `None` whenever it
//! does not, so that every error still gets serde_json's wording.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rso::io::fast_row::parse_row_fast;
use rso::io::row::{parse_row, parse_row_serde, ParsedRow, Role, RowSpec};

fn spec(fields: &[(&str, Role)]) -> RowSpec {
    RowSpec { fields: fields.iter().map(|(n, r)| (n.to_string(), *r)).collect() }
}

fn wide() -> RowSpec {
    spec(&[("id", Role::Id), ("prompt", Role::Prompt), ("responses", Role::Responses), ("rewards", Role::Rewards)])
}

fn long() -> RowSpec {
    spec(&[("id", Role::Id), ("prompt", Role::Prompt), ("response", Role::Response), ("reward", Role::Reward)])
}

/// Renamed fields, as `--id-field` and friends give.
fn renamed() -> RowSpec {
    spec(&[("uid", Role::Id), ("question", Role::Prompt), ("answers", Role::Responses), ("scores", Role::Rewards)])
}

fn bits(row: &ParsedRow) -> (Option<Vec<u64>>, Option<u64>) {
    (row.rewards.as_ref().map(|r| r.iter().map(|v| v.to_bits()).collect()), row.reward.map(f64::to_bits))
}

/// What the fast scanner did with a line.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Accepted, with serde_json's result.
    Same,
    /// Declined a row serde_json accepts.
    Declined,
    /// Declined a row serde_json rejects.
    Rejected,
}

/// Checks the fast scanner against serde_json on `line`; panics on any disagreement.
fn check(line: &str, spec: &RowSpec) -> Outcome {
    let fast = parse_row_fast(line, spec);
    match parse_row_serde(line, spec) {
        Ok(expected) => match fast {
            Some(row) => {
                assert_eq!(row, expected, "different rows for {line:?}");
                assert_eq!(bits(&row), bits(&expected), "different number bits for {line:?}");
                Outcome::Same
            }
            None => Outcome::Declined,
        },
        Err(err) => {
            assert!(fast.is_none(), "accepted a row serde_json rejects ({}): {line:?}", err.message);
            Outcome::Rejected
        }
    }
}

fn accepts(line: &str, spec: &RowSpec) {
    assert_eq!(check(line, spec), Outcome::Same, "{line:?}");
}

fn rejects(line: &str, spec: &RowSpec) {
    assert_eq!(check(line, spec), Outcome::Rejected, "{line:?}");
}

/// Every prefix of `line` (on char boundaries) except the whole line.
fn truncations(line: &str) -> impl Iterator<Item = &str> {
    (0..line.len()).filter(|&i| line.is_char_boundary(i)).map(|i| &line[..i])
}

const TRICKY: &[&str] = &[
    r#"{"id": "p1", "prompt": "hi", "responses": ["a", "b"], "rewards": [1, -2.5]}"#,
    r#"{}"#,
    r#"  { }  "#,
    "\t{\"id\":\"x\"}\r\n \t",
    r#"{"responses": [], "rewards": []}"#,
    r#"{ "id" : "p" , "prompt" : [ { "role" : "user" , "content" : "hi" } , { "role" : "assistant" , "content" : "yo" } ] , "responses" : [ "a" , "b" ] , "rewards" : [ 1 , 2 ] , "meta" : { "x" : [ true , false , null ] } }"#,
    "{\n\"id\"\n:\n\"p\"\n,\n\"rewards\"\n:\n[\n1\n,\n2\n]\n}",
    r#"{"id": "a\"b\\c\/d\b\f\n\r\t", "prompt": "\u0000\u001f\u00e9\u00E9\uD83C\uDFB2", "responses": ["\u0000", "\"", "\\", "é你好🎲", "\ud800", "\udfff\ud800", "tab\tnot raw"], "rewards": [0, 1]}"#,
    r#"{"id": "\ud83c\udfb2 dice", "responses": ["x"], "rewards": [3]}"#,
    r#"{"id": "ünïcødé 你好 🎲", "prompt": "ünïcødé", "responses": ["ü"], "rewards": [1]}"#,
    r#"{"id": 7, "rewards": [1, -1, 0, -0, 0.0, -0.0, 1E+2, 1e-7, 0.1, 1.5e3, 2.5E-3, 1e0, 1e+0, 1e-0]}"#,
    r#"{"id": -7}"#,
    r#"{"id": 0}"#,
    r#"{"id": -0}"#,
    r#"{"id": 123456789012345678901234567890}"#,
    r#"{"rewards": [123456789012345678901234567890, -123456789012345678901234567890]}"#,
    r#"{"rewards": [9007199254740992, 9007199254740993, 9007199254740995, -9007199254740993]}"#,
    r#"{"rewards": [18446744073709551615, 18446744073709551616, 9223372036854775807, -9223372036854775808, -9223372036854775809]}"#,
    r#"{"rewards": [12345678901234567890, 1234567890123456789, 0.12345678901234567890123, 1.00000000000000011102230246251565404236316680908203125]}"#,
    r#"{"rewards": [2.2250738585072011e-308, 2.2250738585072014e-308, 4.9e-324, 5e-324, 2e-324, 1e-400, -1e-400, 1.7976931348623157e308]}"#,
    r#"{"rewards": [0.1, 0.2, 0.30000000000000004, 1e22, 1e23, 9007199254740993e-22, 123456789e-30, 8.98846567431158e307]}"#,
    r#"{"rewards": [0e999999999999, 0.0e-99999999999999999999, 1e-99999999999999999999, -1e-99999999999999999999]}"#,
    r#"{"rewards": [-1.447123, 0.000001, 3.999999, -0.5, 1e-6]}"#,
    r#"{"prompt": 1e999, "x": -1e999, "y": 1E+400}"#,
    r#"{"prompt": [[[[[[[[[[[]]]]]]]]]]], "a": {}, "b": [], "c": "", "d": 0, "e": true, "f": false, "g": null, "h": {"": ""}}"#,
    r#"{"id": "p", "": 1, " ": 2, "ünï": 3, "你好": 4, "🎲": 5}"#,
    r#"{"Id": 1, "ID": 2, "id ": 3, "prompts": 4}"#,
    r#"{"prompt": "a\u0041\u004a\u004A\uabcd\uABCD\uaBcD"}"#,
    r#"{"response": "only", "reward": -3.25e-2}"#,
    r#"{"response": "r", "reward": 5}"#,
];

const INVALID: &[&str] = &[
    "",
    " ",
    "[1, 2]",
    "null",
    "\"x\"",
    "{",
    "}",
    "{,}",
    "{\"a\" 1}",
    "{\"a\": 1,}",
    "{\"a\": 1 \"b\": 2}",
    "{\"a\": [1, 2,]}",
    "{\"a\": [1,, 2]}",
    "{\"a\": [,1]}",
    "{\"a\": {\"b\": 1,}}",
    "{\"a\": {\"b\" 1}}",
    "{\"a\": {1: 2}}",
    "{\"a\": 1} x",
    "{\"a\": 1}}",
    "{\"a\": 1}{}",
    "{\"a\": 1}\u{feff}",
    "\u{feff}{\"a\": 1}",
    "{'a': 1}",
    "{a: 1}",
    "{\"a\": 'x'}",
    "{\"a\": 1} // comment",
    "{\"a\": /* c */ 1}",
    "{\"a\": tru}",
    "{\"a\": True}",
    "{\"a\": nul}",
    "{\"a\": falsey}",
    "{\"a\": \"\\x\"}",
    "{\"a\": \"\\u12\"}",
    "{\"a\": \"\\u12G4\"}",
    "{\"a\": \"\\U0041\"}",
    "{\"a\": \"\\a\"}",
    "{\"a\": \"\\'\"}",
    "{\"a\": \"\\\"}",
    "{\"a\": \"raw\ttab\"}",
    "{\"a\": \"raw\nnewline\"}",
    "{\"a\": \"nul\u{0}\"}",
    "{\"a\": \"\u{1f}\"}",
    "{\"a\u{1}\": 1}",
    "{\"prompt\": \"unclosed}",
    "{\"a\": 01}",
    "{\"a\": -01}",
    "{\"a\": 1.}",
    "{\"a\": .5}",
    "{\"a\": -}",
    "{\"a\": 1e}",
    "{\"a\": 1e+}",
    "{\"a\": 1.e5}",
    "{\"a\": +1}",
    "{\"a\": --1}",
    "{\"a\": 0x10}",
    "{\"a\": NaN}",
    "{\"a\": Infinity}",
    "{\"a\": -Infinity}",
    "{\"rewards\": [01]}",
    "{\"rewards\": [1.]}",
    "{\"rewards\": [.5]}",
    "{\"rewards\": [-]}",
    "{\"rewards\": [1e]}",
    "{\"rewards\": [+1]}",
    "{\"rewards\": [NaN]}",
    "{\"rewards\": [Infinity]}",
    "{\"rewards\": [-Infinity]}",
    "{\"rewards\": [1e400]}",
    "{\"rewards\": [-1e309]}",
    "{\"rewards\": [1.8e308]}",
    "{\"rewards\": [1e99999999999999999999]}",
    "{\"rewards\": [1, \"2\"]}",
    "{\"rewards\": [1, null]}",
    "{\"rewards\": [true]}",
    "{\"rewards\": [[1]]}",
    "{\"rewards\": [{}]}",
    "{\"rewards\": 1}",
    "{\"rewards\": null}",
    "{\"rewards\": [1, 2}",
    "{\"responses\": [\"a\", 1]}",
    "{\"responses\": [\"a\", null]}",
    "{\"responses\": \"a\"}",
    "{\"responses\": [[\"a\"]]}",
    "{\"responses\": [\"a\" \"b\"]}",
    "{\"id\": 1.5}",
    "{\"id\": 1e3}",
    "{\"id\": 1E3}",
    "{\"id\": -0.0}",
    "{\"id\": null}",
    "{\"id\": true}",
    "{\"id\": [1]}",
    "{\"id\": {}}",
    "{\"id\": \"\\ud800\"}",
    "{\"id\": \"\\udc00\\ud800\"}",
    "{\"id\": \"a\", \"id\": \"b\"}",
    "{\"prompt\": 1, \"prompt\": 1}",
    "{\"rewards\": [1], \"rewards\": [1]}",
    "{\"responses\": [], \"responses\": []}",
    "{\"x\": 1, \"x\": 2}",
    "{\"x\": 1, \"y\": 2, \"x\": 1}",
    "{\"id\": \"a\", \"prompt\": 1, \"id\": \"a\"}",
    "{\"a\": [1 2]}",
    "{\"a\": {\"b\": 1 \"c\": 2}}",
    "{\"a\": [}",
    "{\"a\": ]}",
    "{\"a\": {]}",
    "{\"a\": [}]}",
];

#[test]
fn tricky_rows_agree() {
    for line in TRICKY {
        for spec in [wide(), long(), renamed()] {
            let outcome = check(line, &spec);
            // The renamed spec sees wide rows as extras only; all must still be accepted.
            assert_ne!(outcome, Outcome::Declined, "{line:?}");
        }
    }
    // A few that must be accepted, not merely agreed on.
    accepts(TRICKY[0], &wide());
    accepts(TRICKY[7], &wide());
    accepts(TRICKY[10], &wide());
    accepts(TRICKY[22], &wide());
    accepts(TRICKY[28], &long());
}

#[test]
fn invalid_rows_are_declined() {
    for line in INVALID {
        rejects(line, &wide());
        // The long layout takes some of these (`rewards` is just an extra there).
        assert_ne!(check(line, &long()), Outcome::Declined, "{line:?}");
    }
}

#[test]
fn wrong_types_per_role_are_declined() {
    for (field, bad) in [
        ("response", "1"),
        ("response", "null"),
        ("response", "[\"a\"]"),
        ("reward", "\"1\""),
        ("reward", "null"),
        ("reward", "[1]"),
        ("reward", "{}"),
        ("reward", "true"),
        ("reward", "1e400"),
    ] {
        rejects(&format!("{{\"{field}\": {bad}}}"), &long());
    }
}

#[test]
fn truncations_and_errors_keep_serde_wording() {
    for line in TRICKY {
        for prefix in truncations(line.trim_end()) {
            for spec in [wide(), long()] {
                rejects(prefix, &spec);
            }
        }
    }
    // Errors come from serde_json, fast path or not.
    let line = r#"{"id": "p", "rewards": [1, NaN]}"#;
    assert_eq!(parse_row(line, &wide()), parse_row_serde(line, &wide()));
    assert!(parse_row(line, &wide()).unwrap_err().message.contains("NaN"));
}

#[test]
fn escaped_keys_and_deep_values_fall_back_to_serde() {
    // Declined by the scanner, parsed by serde_json: same result through `parse_row`.
    for line in [
        r#"{"\u0069d": "p", "rewards": [1]}"#,
        r#"{"m\"eta": 1, "rewards": [1]}"#,
        r#"{"a\nb": 1}"#,
    ] {
        assert_eq!(check(line, &wide()), Outcome::Declined, "{line}");
        assert_eq!(parse_row(line, &wide()), parse_row_serde(line, &wide()));
    }
    let deep = |n: usize| format!("{{\"prompt\": {}1{}}}", "[".repeat(n), "]".repeat(n));
    accepts(&deep(rso::io::fast_row::MAX_DEPTH), &wide());
    assert!(parse_row_fast(&deep(rso::io::fast_row::MAX_DEPTH + 1), &wide()).is_none());
    check(&deep(1000), &wide());
}

#[test]
fn synthetic_dumps_are_accepted() {
    for (prompts, candidates, text_len) in [(50, 16, 0), (20, 8, 300), (5, 64, 40)] {
        let dump = rso::bench::synthetic_dump(prompts, candidates, text_len);
        for line in dump.lines() {
            accepts(line, &wide());
            check(line, &long());
        }
    }
}

// ---- random rows ----------------------------------------------------------------------

fn ws(rng: &mut StdRng) -> &'static str {
    match rng.random_range(0..10) {
        0 => " ",
        1 => "\n\t ",
        2 => "\r\n",
        3 => "  ",
        _ => "",
    }
}

fn random_string(rng: &mut StdRng) -> String {
    let mut out = String::from("\"");
    for _ in 0..rng.random_range(0..12) {
        match rng.random_range(0..14) {
            0 => out += ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"][rng.random_range(0..8)],
            1 => {
                // Any \u escape, lone surrogates included (valid in a raw value).
                let code: u16 = rng.random();
                let hex = format!("{code:04x}");
                out += "\\u";
                out += &if rng.random_bool(0.5) { hex.to_uppercase() } else { hex };
            }
            2 => out += "\\ud83c\\udfb2",
            3 => out.push(['é', 'ü', '你', '🎲', '\u{7f}', '\u{80}', '\u{2028}'][rng.random_range(0..7)]),
            _ => {
                let c = rng.random_range(b' '..=b'~') as char;
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out.push('"');
    out
}

fn digits(rng: &mut StdRng, n: usize, leading_nonzero: bool) -> String {
    (0..n)
        .map(|i| {
            let low = if i == 0 && leading_nonzero { 1 } else { 0 };
            char::from(b'0' + rng.random_range(low..10u8))
        })
        .collect()
}

/// A JSON number in one of many spellings; `finite_only` keeps values finite as f64.
fn random_number(rng: &mut StdRng, finite_only: bool) -> String {
    let sign = if rng.random_bool(0.4) { "-" } else { "" };
    match rng.random_range(0..8) {
        // Like the dumps: a few decimals.
        0 => format!("{sign}{}", (rng.random::<f64>() * 4e6).round() / 1e6),
        // Shortest round-trip text of any finite double.
        1 => loop {
            let v = f64::from_bits(rng.random());
            if v.is_finite() {
                break if rng.random_bool(0.5) { format!("{v:?}") } else { format!("{v:e}") };
            }
        },
        // Integers of any length.
        2 => {
            let n = rng.random_range(1..30);
            let d = digits(rng, n, true);
            format!("{sign}{d}")
        }
        // Integers near 2^53, 2^63, 2^64.
        3 => {
            let base = [1u128 << 53, 1 << 63, 1 << 64, 10u128.pow(19)][rng.random_range(0..4)];
            let offset = rng.random_range(0..8u128);
            format!("{sign}{}", base + offset - 4)
        }
        // Free-form: int, fraction and exponent parts of random lengths.
        _ => {
            let int = if rng.random_bool(0.3) {
                "0".to_string()
            } else {
                let n = rng.random_range(1..25);
                digits(rng, n, true)
            };
            let frac = if rng.random_bool(0.6) {
                let n = rng.random_range(1..25);
                format!(".{}", digits(rng, n, false))
            } else {
                String::new()
            };
            let exp = if rng.random_bool(0.5) {
                let e = ["e", "E"][rng.random_range(0..2)];
                let s = ["", "+", "-"][rng.random_range(0..3)];
                let max = if finite_only { 250 } else { 400 };
                let n = [rng.random_range(0..25), rng.random_range(0..max)][rng.random_range(0..2)];
                let zeros = "0".repeat(rng.random_range(0..3));
                format!("{e}{s}{zeros}{n}")
            } else {
                String::new()
            };
            format!("{sign}{int}{frac}{exp}")
        }
    }
}

fn random_value(rng: &mut StdRng, depth: usize) -> String {
    let kind = if depth > 3 { rng.random_range(0..6) } else { rng.random_range(0..8) };
    match kind {
        0 => random_string(rng),
        1 => random_number(rng, false),
        2 => "true".into(),
        3 => "false".into(),
        4 => "null".into(),
        5 => random_string(rng),
        6 => {
            let items: Vec<String> =
                (0..rng.random_range(0..4)).map(|_| format!("{}{}{}", ws(rng), random_value(rng, depth + 1), ws(rng))).collect();
            format!("[{}{}]", items.join(","), ws(rng))
        }
        _ => {
            let items: Vec<String> = (0..rng.random_range(0..4))
                .map(|_| {
                    let (a, b) = (ws(rng), ws(rng));
                    format!("{a}{}{b}:{}{}", random_string(rng), ws(rng), random_value(rng, depth + 1))
                })
                .collect();
            format!("{{{}{}}}", items.join(","), ws(rng))
        }
    }
}

/// A row with the spec's fields (in random order, some left out) and random extras.
fn random_row(rng: &mut StdRng, spec: &RowSpec) -> String {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (name, role) in &spec.fields {
        if rng.random_bool(0.1) {
            continue;
        }
        let n = rng.random_range(0..8);
        let value = match role {
            Role::Id => match rng.random_range(0..4) {
                0 => random_number(rng, true).split(['.', 'e', 'E']).next().unwrap().to_string(),
                _ => random_string(rng),
            },
            Role::Prompt => random_value(rng, 0),
            Role::Responses => format!("[{}]", (0..n).map(|_| random_string(rng)).collect::<Vec<_>>().join(", ")),
            Role::Rewards => format!("[{}]", (0..n).map(|_| random_number(rng, true)).collect::<Vec<_>>().join(",")),
            Role::Response => random_string(rng),
            Role::Reward => random_number(rng, true),
        };
        fields.push((format!("\"{name}\""), value));
    }
    for i in 0..rng.random_range(0..3) {
        fields.push((format!("\"extra_{i}\""), random_value(rng, 0)));
    }
    // Shuffle.
    for i in (1..fields.len()).rev() {
        let j = rng.random_range(0..=i);
        fields.swap(i, j);
    }
    let body: Vec<String> =
        fields.iter().map(|(k, v)| format!("{}{k}{}:{}{v}{}", ws(rng), ws(rng), ws(rng), ws(rng))).collect();
    format!("{}{{{}{}}}{}", ws(rng), body.join(","), ws(rng), ws(rng))
}

#[test]
fn random_rows_agree() {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let specs = [wide(), long(), renamed()];
    let mut accepted = 0;
    for n in 0..20_000 {
        let spec = &specs[n % specs.len()];
        let line = random_row(&mut rng, spec);
        // Generated rows are valid JSON with plain keys: the scanner must take all that
        // serde_json takes.
        assert_ne!(check(&line, spec), Outcome::Declined, "{line:?}");
        if parse_row_fast(&line, spec).is_some() {
            accepted += 1;
        }
        // And decline what serde_json rejects: a few truncations of each row.
        for _ in 0..3 {
            // Anywhere before the closing brace (after it, only whitespace is cut).
            let cut = rng.random_range(0..line.trim_end().len());
            if line.is_char_boundary(cut) {
                rejects(&line[..cut], spec);
            }
        }
    }
    assert!(accepted > 15_000, "only {accepted} rows accepted");
}

#[test]
fn random_numbers_agree() {
    let mut rng = StdRng::seed_from_u64(42);
    for _ in 0..50_000 {
        let numbers: Vec<String> = (0..4).map(|_| random_number(&mut rng, false)).collect();
        check(&format!("{{\"rewards\": [{}]}}", numbers.join(", ")), &wide());
        for number in &numbers {
            check(&format!("{{\"reward\": {number}}}"), &long());
            // As an id: an integer literal's text, anything else an error.
            check(&format!("{{\"id\": {number}}}"), &wide());
        }
    }
}

#[test]
fn random_mutations_agree() {
    // Single-byte edits of valid rows: whatever serde_json makes of them, the scanner
    // agrees or declines.
    const BYTES: &[u8] = b"\"\\{}[],: 0123456789-+.eEatfnlsru\t\n\x01\x1f/";
    let mut rng = StdRng::seed_from_u64(7);
    let spec = wide();
    let mut outcomes = [0usize; 3];
    for _ in 0..20_000 {
        let line = random_row(&mut rng, &spec);
        let mut bytes = line.into_bytes();
        let at = rng.random_range(0..=bytes.len());
        let c = BYTES[rng.random_range(0..BYTES.len())];
        match rng.random_range(0..3) {
            0 => bytes.insert(at, c),
            1 if at < bytes.len() => bytes[at] = c,
            _ if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.push(c),
        }
        let Ok(line) = String::from_utf8(bytes) else { continue };
        let outcome = check(&line, &spec);
        outcomes[outcome as usize] += 1;
    }
    // Both accepted and rejected edits must occur for the test to mean anything.
    assert!(outcomes[0] > 1000 && outcomes[2] > 1000, "{outcomes:?}");
}
