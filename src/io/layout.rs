//! Which layout a dump has: wide (one row per prompt) or long (one row per response), given
//! or detected from the first non-blank row.

use std::io::{self, Cursor, Read};

use crate::error::Error;

/// The layout of a candidate dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Layout {
    /// Detect from the first row: a responses array means wide, a response field long.
    #[default]
    Auto,
    /// One row per prompt: `{"id", "prompt", "responses": [...], "rewards": [...]}`.
    Wide,
    /// One row per response: `{"id", "prompt", "response", "reward"}`; a prompt's rows may
    /// be anywhere in the file.
    Long,
}

/// Field-name presets for the dumps of known tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// OpenRLHF batch inference: long rows `{"input", "output", "reward"}`.
    Openrlhf,
}

/// A byte stream of input.
pub type Source = Box<dyn Read + Send>;

/// Reads the input up to its first non-blank line and returns that line (None for an
/// input with none) and a reader that still yields the whole input.
pub fn peek_first_row(mut source: Source) -> io::Result<(Option<Vec<u8>>, Source)> {
    let mut prefix = Vec::new();
    let mut piece = vec![0u8; 64 * 1024];
    let mut line_start = 0;
    let first = loop {
        if line_start == 0 && prefix.starts_with(super::reader::UTF8_BOM) {
            line_start = super::reader::UTF8_BOM.len();
        }
        // Look at the complete lines read so far.
        while let Some(end) = memchr::memchr(b'\n', &prefix[line_start..]).map(|e| line_start + e) {
            let line = &prefix[line_start..end];
            if !line.iter().all(u8::is_ascii_whitespace) {
                break;
            }
            line_start = end + 1;
        }
        if let Some(end) = memchr::memchr(b'\n', &prefix[line_start..]).map(|e| line_start + e) {
            break Some(prefix[line_start..end].to_vec());
        }
        let got = loop {
            match source.read(&mut piece) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if got == 0 {
            let rest = &prefix[line_start..];
            break if rest.iter().all(u8::is_ascii_whitespace) { None } else { Some(rest.to_vec()) };
        }
        prefix.extend_from_slice(&piece[..got]);
    };
    Ok((first, Box::new(Cursor::new(prefix).chain(source))))
}

/// Detects the layout from the first row: which of the wide responses field and the long
/// response field it has. Neither or both is an error asking for `--layout`.
pub fn detect(first_row: Option<&[u8]>, responses_field: &str, response_field: &str) -> Result<Layout, Error> {
    let Some(row) = first_row else {
        return Ok(Layout::Wide);
    };
    // A row that is not JSON: the reader reports it with its line number.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(row) else {
        return Ok(Layout::Wide);
    };
    let Some(object) = value.as_object() else {
        return Err(Error::Argument("the first row is not a JSON object; cannot detect the layout".into()));
    };
    let wide = object.get(responses_field).is_some_and(|v| v.is_array());
    let long = object.contains_key(response_field);
    match (wide, long) {
        (true, false) => Ok(Layout::Wide),
        (false, true) => Ok(Layout::Long),
        (true, true) => Err(Error::Argument(format!(
            "the first row has both `{responses_field}` (wide layout) and `{response_field}` (long layout): \
             say which with --layout wide or --layout long"
        ))),
        (false, false) => Err(Error::Argument(format!(
            "cannot detect the layout: the first row has neither a `{responses_field}` array (wide) nor a \
             `{response_field}` field (long); set --layout and the field names (--responses-field, \
             --response-field, ...) or a --preset"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_keeps_the_whole_input() {
        let text = b"\n  \n{\"a\": 1}\n{\"b\": 2}\n".to_vec();
        let (first, mut rest) = peek_first_row(Box::new(Cursor::new(text.clone()))).unwrap();
        assert_eq!(first.unwrap(), b"{\"a\": 1}");
        let mut all = Vec::new();
        rest.read_to_end(&mut all).unwrap();
        assert_eq!(all, text);
        let (first, _) = peek_first_row(Box::new(Cursor::new(b"{\"x\":0}".to_vec()))).unwrap();
        assert_eq!(first.unwrap(), b"{\"x\":0}");
        let (first, _) = peek_first_row(Box::new(Cursor::new(b"\n\n".to_vec()))).unwrap();
        assert!(first.is_none());
    }

    #[test]
    fn detects_wide_and_long() {
        let d = |row: &str| detect(Some(row.as_bytes()), "responses", "response");
        assert_eq!(d(r#"{"prompt":"p","responses":["a"],"rewards":[1]}"#).unwrap(), Layout::Wide);
        assert_eq!(d(r#"{"prompt":"p","response":"a","reward":1}"#).unwrap(), Layout::Long);
        assert!(d(r#"{"prompt":"p","response":"a","responses":["a"]}"#).is_err());
        assert!(d(r#"{"prompt":"p"}"#).is_err());
        assert_eq!(
            detect(Some(br#"{"input":"p","output":"a","reward":1}"#), "responses", "output").unwrap(),
            Layout::Long
        );
    }
}
