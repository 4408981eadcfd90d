//! Reading candidate dumps and writing results.
//!
//! - [`reader`]: the input as blocks of whole lines (bounded memory).
//! - [`row`]: one JSON row in one pass, texts kept as raw spans; [`fast_row`]: a
//!   hand-written scanner for the common case, checked against serde_json.
//! - [`wide`]: the wide layout (one prompt per row) into [`PromptRecord`]s.
//! - [`long`]: the long layout (one response per row), grouped by prompt over a file.
//! - [`layout`]: which of the two a dump has.
//! - [`output`]: sample and pair rows out; [`sink`]: stdout or a file replaced atomically.

pub mod fast_row;
pub mod layout;
pub mod long;
pub mod output;
pub mod reader;
pub mod row;
pub mod sink;
pub mod wide;

pub use row::{RowId, Span};

/// One prompt's pool, as spans into the block of input it was read from.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptRecord {
    /// 1-based input line of the row.
    pub line: u64,
    pub id: Option<RowId>,
    pub prompt: Span,
    /// The pool's candidates (after `--dedup`, the first occurrences only).
    pub responses: Vec<Span>,
    pub rewards: Vec<f64>,
    /// Input position of each candidate when it differs from its pool position (`--dedup`).
    pub positions: Option<Vec<u32>>,
    /// Duplicate responses `--dedup` dropped from this pool.
    pub duplicates_dropped: u32,
    /// Other fields of the row, carried into the output: (quoted key, raw value).
    pub extra: Vec<(String, Span)>,
}

impl PromptRecord {
    /// The input position of pool candidate `index`.
    pub fn input_index(&self, index: u32) -> u32 {
        match &self.positions {
            Some(p) => p[index as usize],
            None => index,
        }
    }
}
