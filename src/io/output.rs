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
    let mut buffer = ryu_like(value);
    out.append(&mut buffer);
}

fn ryu_like(value: f64) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap_or_else(|_| b"null".to_vec())
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
