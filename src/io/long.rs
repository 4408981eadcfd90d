//! The long layout: one row per response, `{"id", "prompt", "response", "reward"}`.
//!
//! A prompt's rows need not be contiguous (OpenRLHF writes `prompts * N`, so pools are
//! interleaved through the whole file). [`index`] makes one pass over a seekable file and
//! keeps, per candidate, only where its response is in the file and its reward (24 bytes),
//! and per prompt where its id and prompt are (and, when its first row has other fields,
//! where that row is). Texts stay on disk: [`read_spans`] copies the ones the output
//! needs back out by offset.
//!
//! Grouping: rows with an id are grouped by the id's text; their prompts must be the same
//! raw JSON (an error otherwise). Rows without an id are grouped by the prompt's raw JSON
//! text (keyed by a 128-bit hash of it). Prompts are numbered in order of first
//! appearance, and a pool's candidates are in the order their rows appear in the file.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Seek, SeekFrom};
use std::path::Path;


use super::reader::ChunkReader;
use super::row::{parse_line, Role, RowSpec, Span};
use crate::error::Error;
use crate::sampler::rng;

/// Field names of the long layout (all configurable from the CLI).
#[derive(Clone, Debug)]
pub struct LongFields {
    pub id: String,
    pub prompt: String,
    pub response: String,
    pub reward: String,
}

impl Default for LongFields {
    fn default() -> Self {
        Self { id: "id".into(), prompt: "prompt".into(), response: "response".into(), reward: "reward".into() }
    }
}

impl LongFields {
    /// OpenRLHF batch inference's names: `input`, `output`, `reward`.
    pub fn openrlhf() -> Self {
        Self { id: "id".into(), prompt: "input".into(), response: "output".into(), reward: "reward".into() }
    }

    pub fn spec(&self) -> RowSpec {
        RowSpec {
            fields: vec![
                (self.id.clone(), Role::Id),
                (self.prompt.clone(), Role::Prompt),
                (self.response.clone(), Role::Response),
                (self.reward.clone(), Role::Reward),
            ],
        }
    }
}

/// A byte range of the input file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileSpan {
    pub offset: u64,
    pub len: u32,
}

/// One candidate (24 bytes): where its response's raw JSON string is, its prompt's group
/// and its reward.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    pub offset: u64,
    pub len: u32,
    pub group: u32,
    pub reward: f64,
}

impl Candidate {
    /// Where the response's raw JSON string is in the file.
    pub fn response(&self) -> FileSpan {
        FileSpan { offset: self.offset, len: self.len }
    }
}

/// One prompt (pool) of a long dump.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// 1-based line of the prompt's first row.
    pub line: u64,
    /// The id's raw JSON and its prompt key (FNV-1a of its text), when the rows have one.
    pub id: Option<(FileSpan, u64)>,
    /// The prompt's raw JSON, in its first row.
    pub prompt: FileSpan,
    /// The whole first row, when it has fields besides the layout's own (they are carried
    /// into the output: [`extra_fields`] reads them back out of it).
    pub row: Option<FileSpan>,
}

/// What the first pass learns of a long dump.
#[derive(Debug, Default)]
pub struct LongIndex {
    /// Prompts in order of first appearance.
    pub groups: Vec<Group>,
    /// Candidates grouped by prompt: pool `g` is `candidates[starts[g]..starts[g + 1]]`,
    /// each pool in file order.
    pub candidates: Vec<Candidate>,
    pub starts: Vec<usize>,
    /// With `--dedup`: a 64-bit hash of each candidate's decoded text (same order as
    /// `candidates`); equal hashes are confirmed by comparing the texts themselves.
    pub text_hashes: Option<Vec<u64>>,
    /// Bytes read.
    pub bytes: u64,
}

impl LongIndex {
    pub fn pool(&self, group: usize) -> &[Candidate] {
        &self.candidates[self.starts[group]..self.starts[group + 1]]
    }
}

/// One parsed long row.
struct LongRow {
    line: u64,
    key: u128,
    id: Option<(FileSpan, u64)>,
    prompt: FileSpan,
    prompt_hash: u64,
    /// The whole row, when it has other fields.
    row: Option<FileSpan>,
    response: FileSpan,
    reward: f64,
    text_hash: u64,
}

/// A second, independent 64-bit hash (SipHash with fixed keys) to pair with FNV-1a.
fn sip64(tag: u8, bytes: &[u8]) -> u64 {
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new_with_keys(0x5253_4f5f_6c6f_6e67, 0x6b65_795f_6861_7368);
    h.write_u8(tag);
    h.write(bytes);
    h.finish()
}

/// Hashes the keys of the prompt map: they are hashes already (see [`key128`]), so their
/// low 64 bits serve as they are.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = rng::fnv1a64_extend(self.0, bytes);
    }
    fn write_u128(&mut self, key: u128) {
        self.0 = key as u64;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn key128(tag: u8, bytes: &[u8]) -> u128 {
    let tagged = rng::fnv1a64_extend(rng::fnv1a64(&[tag]), bytes);
    ((tagged as u128) << 64) | sip64(tag, bytes) as u128
}

/// A hash of a raw JSON string's decoded text (decoded only when it has escapes).
pub fn text_hash(raw: &[u8]) -> u64 {
    if raw.contains(&b'\\') {
        match serde_json::from_slice::<String>(raw) {
            Ok(text) => sip64(2, text.as_bytes()),
            Err(_) => sip64(3, raw),
        }
    } else {
        sip64(2, &raw[1..raw.len().saturating_sub(1).max(1)])
    }
}

fn parse_long(
    text: &[u8],
    line_no: u64,
    file_offset: u64,
    spec: &RowSpec,
    fields: &LongFields,
    hash_texts: bool,
) -> Result<LongRow, Error> {
    let (row, text) = parse_line(text, line_no, spec)?;
    let bytes = text.as_bytes();
    let at = |span: Span| FileSpan { offset: file_offset + span.start as u64, len: span.end - span.start };
    let prompt = row.prompt.ok_or_else(|| Error::input(line_no, &fields.prompt, "missing"))?;
    let response = row.response.ok_or_else(|| Error::input(line_no, &fields.response, "missing"))?;
    let reward = row.reward.ok_or_else(|| Error::input(line_no, &fields.reward, "missing"))?;
    if !reward.is_finite() || !(reward as f32).is_finite() {
        return Err(Error::input(line_no, &fields.reward, format!("{reward} is not a finite f32 number")));
    }
    let prompt_raw = prompt.get(bytes);
    let (key, id) = match &row.id {
        Some(id) => (key128(1, id.text.as_bytes()), Some((at(id.raw), rng::prompt_key_from_id(&id.text)))),
        None => (key128(0, prompt_raw), None),
    };
    let response_raw = response.get(bytes);
    Ok(LongRow {
        line: line_no,
        key,
        id,
        prompt: at(prompt),
        // Only rows with an id compare prompts; without one the prompt is the key already.
        prompt_hash: if id.is_some() { sip64(4, prompt_raw) } else { 0 },
        row: (!row.extra.is_empty()).then_some(FileSpan { offset: file_offset, len: bytes.len() as u32 }),
        response: at(response),
        reward,
        text_hash: if hash_texts { text_hash(response_raw) } else { 0 },
    })
}

/// The first pass: reads `file` in blocks of about `block_size` bytes, parses the rows on
/// all cores and groups them by prompt. Memory: 24 bytes per candidate (48 while grouping;
/// with `hash_texts` 8 more, 16 while grouping) and a few dozen per prompt.
pub fn index(file: &File, name: &Path, fields: &LongFields, block_size: usize, hash_texts: bool) -> Result<LongIndex, Error> {
    index_with_progress(file, name, fields, block_size, hash_texts, &|_| {})
}

/// [`index`], calling `progress` with the size in bytes of each block once it is indexed.
pub fn index_with_progress(
    file: &File,
    name: &Path,
    fields: &LongFields,
    block_size: usize,
    hash_texts: bool,
    progress: &dyn Fn(u64),
) -> Result<LongIndex, Error> {
    let mut source = file.try_clone().map_err(|e| Error::io(name, e))?;
    // The clone shares the file's cursor: start from the beginning whatever it was.
    source.seek(SeekFrom::Start(0)).map_err(|e| Error::io(name, e))?;
    let mut reader = ChunkReader::new(Box::new(std::io::BufReader::new(source)), name.to_path_buf(), block_size);
    let spec = fields.spec();
    let mut groups: Vec<Group> = Vec::new();
    let mut prompt_hashes: Vec<u64> = Vec::new();
    let mut by_key: HashMap<u128, u32, BuildHasherDefault<KeyHasher>> = HashMap::default();
    // Candidates in file order, sorted by group at the end.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut hashes: Vec<u64> = Vec::new();
    let mut bytes = 0u64;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    while let Some(chunk) = reader.next_chunk()? {
        bytes += chunk.data.len() as u64;
        let rows = chunk.parse_rows(|line_no, text, at| {
            parse_long(text, line_no, chunk.offset + at as u64, &spec, fields, hash_texts)
        });
        for row in rows {
            let Some(row) = row? else { continue };
            let group = match by_key.get(&row.key) {
                Some(&g) => {
                    if groups[g as usize].id.is_some() && prompt_hashes[g as usize] != row.prompt_hash {
                        return Err(Error::input(
                            row.line,
                            &fields.prompt,
                            format!(
                                "differs from the prompt of the same `{}` at line {}: rows of one id must have the same prompt",
                                fields.id, groups[g as usize].line
                            ),
                        ));
                    }
                    g
                }
                None => {
                    let g = u32::try_from(groups.len())
                        .map_err(|_| Error::input(row.line, &fields.prompt, "more than 2^32 prompts"))?;
                    by_key.insert(row.key, g);
                    groups.push(Group { line: row.line, id: row.id, prompt: row.prompt, row: row.row });
                    prompt_hashes.push(row.prompt_hash);
                    g
                }
            };
            candidates.push(Candidate { offset: row.response.offset, len: row.response.len, group, reward: row.reward });
            if hash_texts {
                hashes.push(row.text_hash);
            }
        }
        if bytes == chunk.data.len() as u64 && bytes > 0 {
            // After the first block: room for the whole file at its rows' size, so the
            // candidates are not copied at each doubling.
            let expected = (file_len as f64 / bytes as f64 * candidates.len() as f64 * 1.05) as usize;
            candidates.reserve(expected.saturating_sub(candidates.len()));
        }
        progress(chunk.data.len() as u64);
    }
    drop(by_key);
    // Group the candidates, each pool in file order: a counting sort by group.
    let mut starts = vec![0usize; groups.len() + 1];
    for c in &candidates {
        starts[c.group as usize + 1] += 1;
    }
    for g in 0..groups.len() {
        starts[g + 1] += starts[g];
    }
    let mut next = starts.clone();
    let mut grouped = vec![Candidate { offset: 0, len: 0, group: 0, reward: 0.0 }; candidates.len()];
    let mut grouped_hashes = vec![0u64; hashes.len()];
    for (i, c) in candidates.iter().enumerate() {
        let slot = &mut next[c.group as usize];
        grouped[*slot] = *c;
        if hash_texts {
            grouped_hashes[*slot] = hashes[i];
        }
        *slot += 1;
    }
    let (candidates, hashes) = (grouped, grouped_hashes);
    Ok(LongIndex { groups, candidates, starts, text_hashes: hash_texts.then_some(hashes), bytes })
}

/// Fills `buf` from `offset` of `file`: a positioned read on Unix, seek and read elsewhere.
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::Read;
        let mut cursor = file;
        cursor.seek(SeekFrom::Start(offset))?;
        cursor.read_exact(buf)
    }
}

/// The fields of a long row (read back from [`Group::row`]) besides the layout's own:
/// (quoted key, raw value span into `text`), in row order.
/// `spec` is the layout's [`LongFields::spec`].
pub fn extra_fields(text: &[u8], line: u64, spec: &RowSpec) -> Result<Vec<(String, Span)>, Error> {
    let (row, _) = parse_line(text, line, spec)?;
    Ok(row.extra)
}

/// Reads the given file spans into `buf` (appending; reads sorted by offset) and returns
/// each one's span in `buf`, in the order asked.
pub fn read_spans(file: &File, name: &Path, wanted: &[FileSpan], buf: &mut Vec<u8>) -> Result<Vec<Span>, Error> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_unstable_by_key(|&i| wanted[i].offset);
    let mut out = vec![Span::default(); wanted.len()];
    let mut n = 0;
    while n < order.len() {
        // Reads that touch or nearly touch are merged (a few bytes wasted at most).
        let first = wanted[order[n]];
        let mut end = first.offset + first.len as u64;
        let mut m = n + 1;
        while m < order.len() {
            let s = wanted[order[m]];
            if s.offset > end + 64 || s.offset + s.len as u64 - first.offset > (1 << 20) {
                break;
            }
            end = end.max(s.offset + s.len as u64);
            m += 1;
        }
        let at = buf.len();
        buf.resize(at + (end - first.offset) as usize, 0);
        read_exact_at(file, &mut buf[at..], first.offset).map_err(|e| Error::io(name, e))?;
        for &i in &order[n..m] {
            let start = at as u64 + wanted[i].offset - first.offset;
            out[i] = Span { start: start as u32, end: start as u32 + wanted[i].len };
        }
        n = m;
    }
    if buf.len() > u32::MAX as usize {
        return Err(Error::Argument("a batch's texts exceed 4 GiB; use a smaller --block-size".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dump(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f.flush().unwrap();
        f
    }

    #[test]
    fn groups_interleaved_rows_in_first_appearance_order() {
        let text = "{\"prompt\":\"p1\",\"response\":\"a\",\"reward\":1}\n\
                    {\"prompt\":\"p2\",\"response\":\"b\",\"reward\":2}\n\
                    \n\
                    {\"prompt\":\"p1\",\"response\":\"c\\u00e9\",\"reward\":3}\n\
                    {\"prompt\":\"p2\",\"response\":\"d\",\"reward\":4.5}\n";
        let f = dump(text);
        for block in [1, 16, 1 << 20] {
            let index = index(f.as_file(), f.path(), &LongFields::default(), block, true).unwrap();
            assert_eq!(index.groups.len(), 2);
            assert_eq!(index.groups[0].line, 1);
            assert_eq!(index.groups[1].line, 2);
            let rewards: Vec<Vec<f64>> =
                (0..2).map(|g| index.pool(g).iter().map(|c| c.reward).collect()).collect();
            assert_eq!(rewards, vec![vec![1.0, 3.0], vec![2.0, 4.5]]);
            let mut buf = Vec::new();
            let wanted: Vec<FileSpan> = index.candidates.iter().map(|c| c.response()).collect();
            let spans = read_spans(f.as_file(), f.path(), &wanted, &mut buf).unwrap();
            let texts: Vec<&[u8]> = spans.iter().map(|s| s.get(&buf)).collect();
            assert_eq!(texts, vec![&b"\"a\""[..], b"\"c\\u00e9\"", b"\"b\"", b"\"d\""]);
            let hashes = index.text_hashes.as_ref().unwrap();
            assert_eq!(hashes[1], text_hash("\"cé\"".as_bytes()));
        }
    }

    #[test]
    fn the_first_row_of_a_prompt_keeps_its_other_fields() {
        let text = "{\"prompt\":\"p\",\"response\":\"a\",\"reward\":1}\n\
                    {\"prompt\":\"q\",\"source\":{\"model\":\"x\"},\"response\":\"b\",\"reward\":2,\"n\":[1]}\n\
                    {\"prompt\":\"p\",\"response\":\"c\",\"reward\":3,\"source\":\"later\"}\n";
        let f = dump(text);
        let index = index(f.as_file(), f.path(), &LongFields::default(), 1 << 20, false).unwrap();
        assert_eq!(index.groups[0].row, None);
        let row = index.groups[1].row.unwrap();
        let mut buf = Vec::new();
        let span = read_spans(f.as_file(), f.path(), &[row], &mut buf).unwrap()[0];
        let extra = extra_fields(span.get(&buf), 2, &LongFields::default().spec()).unwrap();
        let got: Vec<(&str, &[u8])> = extra.iter().map(|(k, v)| (k.as_str(), v.shifted(span.start).get(&buf))).collect();
        assert_eq!(got, vec![("\"source\"", &br#"{"model":"x"}"#[..]), ("\"n\"", b"[1]")]);
    }

    #[test]
    fn an_id_must_keep_its_prompt() {
        let f = dump("{\"id\":1,\"prompt\":\"p\",\"response\":\"a\",\"reward\":1}\n{\"id\":1,\"prompt\":\"q\",\"response\":\"b\",\"reward\":1}\n");
        let err = index(f.as_file(), f.path(), &LongFields::default(), 1 << 20, false).unwrap_err();
        assert!(matches!(err, Error::Input { line: 2, ref field, .. } if field == "prompt"), "{err}");
    }
}
