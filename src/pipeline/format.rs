//! Output rows of a sampled batch: a samples row per prompt, or a row per preference pair.

use rayon::prelude::*;

use crate::io::{output, PromptRecord};
use crate::pairs::{build_pairs, Dropped};
use crate::sampler::Selection;

use super::OutputMode;

/// Formatted output rows of a batch and what pairing counted.
#[derive(Default)]
pub(super) struct Formatted {
    pub(super) bytes: Vec<u8>,
    pub(super) pairs: u64,
    pub(super) dropped: Dropped,
}

/// Formats the output rows of `records` (spans into `data`) in parallel, concatenated in
/// input order: a samples row per prompt, or a row per preference pair.
pub(super) fn format_records(records: &[PromptRecord], data: &[u8], selection: &Selection, mode: OutputMode) -> Formatted {
    const PER_TASK: usize = 256;
    let pieces: Vec<Formatted> = records
        .par_chunks(PER_TASK)
        .enumerate()
        .map(|(c, records)| {
            let mut out = Formatted { bytes: Vec::with_capacity(records.len() * 256), ..Formatted::default() };
            let mut pairs = Vec::new();
            for (j, record) in records.iter().enumerate() {
                let selected = selection.of(c * PER_TASK + j);
                match mode {
                    OutputMode::Samples => output::write_samples_row(&mut out.bytes, data, record, selected),
                    OutputMode::Pairs(strategy) => {
                        pairs.clear();
                        let dropped = build_pairs(
                            strategy,
                            selected,
                            |i| record.rewards[i as usize],
                            |a, b| output::same_text(record.responses[a as usize].get(data), record.responses[b as usize].get(data)),
                            &mut pairs,
                        );
                        for pair in &pairs {
                            output::write_pair_row(&mut out.bytes, data, record, pair.chosen, pair.rejected);
                        }
                        out.pairs += pairs.len() as u64;
                        out.dropped.add(dropped);
                    }
                }
            }
            out
        })
        .collect();
    let mut all = Formatted { bytes: Vec::with_capacity(pieces.iter().map(|p| p.bytes.len()).sum()), ..Formatted::default() };
    for piece in pieces {
        all.bytes.extend_from_slice(&piece.bytes);
        all.pairs += piece.pairs;
        all.dropped.add(piece.dropped);
    }
    all
}
