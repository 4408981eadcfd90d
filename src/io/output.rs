//! Output rows. Raw spans from the input (prompt, texts, extra fields) are spliced in
//! untouched; only numbers are formatted.

use super::PromptRecord;

/// Output field names; input fields with these names are not carried through.
pub const SAMPLE_FIELDS: [&str; 5] = ["id", "prompt", "samples", "rewards", "indices"];

/// Appends `"key":` to `out`.
pub fn put_key(out: &mut Vec<u8>, key: &str, first: bool) {
    if !first {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends a finite number in shortest round-trip form.
pub fn put_number(out: &mut Vec<u8>, value: f64) {
    // Straight into `out`; serde_json cannot fail on an f64 written to a Vec.
    if serde_json::to_writer(&mut *out, &value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Appends the row's id (when present), prompt and carried fields, without the closing `}`.
pub fn put_row_head(out: &mut Vec<u8>, data: &[u8], record: &PromptRecord, reserved: &[&str]) {
    out.push(b'{');
    let mut first = true;
    if let Some(id) = &record.id {
        put_key(out, "id", first);
        out.extend_from_slice(id.raw.get(data));
        first = false;
    }
    put_key(out, "prompt", first);
    out.extend_from_slice(record.prompt.get(data));
    put_extra_fields(out, data, record, reserved);
}

/// Appends the row's carried fields (raw, in input order), leaving out those named in
/// `reserved` (the output's own fields).
fn put_extra_fields(out: &mut Vec<u8>, data: &[u8], record: &PromptRecord, reserved: &[&str]) {
    for (key, value) in &record.extra {
        let name = &key[1..key.len() - 1];
        if reserved.contains(&name) {
            continue;
        }
        out.push(b',');
        out.extend_from_slice(key.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.get(data));
    }
}

/// One output line of `rso sample`: id, prompt, carried fields, then the accepted samples
/// (`selected` are pool positions in acceptance order), their rewards and input indices.
pub fn write_samples_row(out: &mut Vec<u8>, data: &[u8], record: &PromptRecord, selected: &[u32]) {
    put_row_head(out, data, record, &SAMPLE_FIELDS);
    put_key(out, "samples", false);
    put_list(out, selected, |out, &i| out.extend_from_slice(record.responses[i as usize].get(data)));
    put_key(out, "rewards", false);
    put_list(out, selected, |out, &i| put_number(out, record.rewards[i as usize]));
    put_key(out, "indices", false);
    put_list(out, selected, |out, &i| {
        out.extend_from_slice(itoa::Buffer::new().format(record.input_index(i)).as_bytes())
    });
    out.extend_from_slice(b"}\n");
}

/// Appends `[a,b,...]`, each element written by `put`.
pub fn put_list<T>(out: &mut Vec<u8>, items: &[T], mut put: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        put(out, item);
    }
    out.push(b']');
}

/// Output field names of a pair row; input fields with these names are not carried through.
pub const PAIR_FIELDS: [&str; 7] = ["prompt", "chosen", "rejected", "chosen_reward", "rejected_reward", "margin", "id"];

/// Whether two raw JSON strings hold the same text. Equal bytes are equal texts; texts
/// with escapes are decoded to compare (`"\u00e9"` equals `"é"`).
pub fn same_text(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    if !a.contains(&b'\\') && !b.contains(&b'\\') {
        return false;
    }
    match (serde_json::from_slice::<String>(a), serde_json::from_slice::<String>(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Whether a raw prompt is a list of chat messages (conversational form).
pub fn is_conversational(prompt: &[u8]) -> bool {
    prompt.first() == Some(&b'[')
}

/// Appends one response of a pair: the raw string, or in conversational form
/// `[{"role":"assistant","content":<raw string>}]`.
fn put_completion(out: &mut Vec<u8>, text: &[u8], conversational: bool) {
    if conversational {
        out.extend_from_slice(br#"[{"role":"assistant","content":"#);
        out.extend_from_slice(text);
        out.extend_from_slice(b"}]");
    } else {
        out.extend_from_slice(text);
    }
}

/// One output line of `rso sample --pairs`, in TRL's preference format: prompt, chosen,
/// rejected (conversational when the prompt is a list of messages), chosen_reward,
/// rejected_reward, margin, id (when present), then the row's other fields.
pub fn write_pair_row(out: &mut Vec<u8>, data: &[u8], record: &PromptRecord, chosen: u32, rejected: u32) {
    let prompt = record.prompt.get(data);
    let conversational = is_conversational(prompt);
    out.push(b'{');
    put_key(out, "prompt", true);
    out.extend_from_slice(prompt);
    put_key(out, "chosen", false);
    put_completion(out, record.responses[chosen as usize].get(data), conversational);
    put_key(out, "rejected", false);
    put_completion(out, record.responses[rejected as usize].get(data), conversational);
    let (rc, rr) = (record.rewards[chosen as usize], record.rewards[rejected as usize]);
    put_key(out, "chosen_reward", false);
    put_number(out, rc);
    put_key(out, "rejected_reward", false);
    put_number(out, rr);
    put_key(out, "margin", false);
    put_number(out, rc - rr);
    if let Some(id) = &record.id {
        put_key(out, "id", false);
        out.extend_from_slice(id.raw.get(data));
    }
    put_extra_fields(out, data, record, &PAIR_FIELDS);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{RowId, Span};

    #[test]
    fn same_text_decodes_escapes() {
        assert!(same_text(br#""abc""#, br#""abc""#));
        assert!(!same_text(br#""abc""#, br#""abd""#));
        assert!(same_text(br#""\u00e9""#, "\"é\"".as_bytes()));
        assert!(same_text(br#""a\/b""#, br#""a/b""#));
        assert!(!same_text(br#""a\nb""#, br#""a\\nb""#));
    }

    #[test]
    fn pair_rows_are_trl_preference_rows() {
        let parts: [&[u8]; 4] = [br#"[{"role":"user","content":"hi"}]"#, br#""yes""#, br#""no""#, b"7"];
        let data = parts.concat();
        let mut spans = Vec::new();
        let mut at = 0u32;
        for part in parts {
            spans.push(Span { start: at, end: at + part.len() as u32 });
            at += part.len() as u32;
        }
        let record = PromptRecord {
            line: 1,
            id: Some(RowId { raw: spans[3], text: "7".into() }),
            prompt: spans[0],
            responses: vec![spans[1], spans[2]],
            rewards: vec![0.5, 1.5],
            positions: None,
            duplicates_dropped: 0,
            extra: Vec::new(),
        };
        let mut out = Vec::new();
        write_pair_row(&mut out, &data, &record, 1, 0);
        let row: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(row["chosen"], serde_json::json!([{"role": "assistant", "content": "no"}]));
        assert_eq!(row["rejected"], serde_json::json!([{"role": "assistant", "content": "yes"}]));
        assert_eq!(row["margin"], serde_json::json!(1.0));
        assert_eq!(row["id"], serde_json::json!(7));
        assert_eq!(row["prompt"][0]["content"], "hi");
    }
}
