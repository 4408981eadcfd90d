//! Counts of a run, its report on stderr, and `--cross-check`'s comparison with the CPU reference.

use std::time::Duration;

use crate::error::Error;
use crate::io::PromptRecord;
use crate::pairs::Dropped;
use crate::sampler::cpu::CpuSampler;
use crate::sampler::{cross_check, Batch, Sampler, Selection};

use super::format::format_records;
use super::SampleJob;

/// Counts of a finished run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    /// Prompts written.
    pub prompts: u64,
    /// Candidates in the pools written.
    pub candidates: u64,
    /// Samples accepted.
    pub accepted: u64,
    /// Prompts dropped by `--on-short skip`.
    pub skipped_short: u64,
    /// Prompts with fewer than k candidates that were kept whole (`--on-short all`).
    pub short_kept: u64,
    /// Duplicate responses dropped by `--dedup`.
    pub duplicates_dropped: u64,
    pub rounds_total: u64,
    pub rounds_max: u32,
    /// Preference pairs written (`--pairs`).
    pub pairs: u64,
    /// Matches that gave no pair (`--pairs`): equal rewards or identical texts.
    pub pairs_dropped: Dropped,
    pub bytes_read: u64,
    pub elapsed: Duration,
    /// What `--cross-check` found.
    pub cross_check: Option<CrossCheckTotals>,
}

/// The prompts `--cross-check` compared, and those whose indices differ.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrossCheckTotals {
    pub prompts: u64,
    pub differing: Vec<PromptDifference>,
}

/// A prompt whose indices differ between the backend and the CPU reference.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptDifference {
    pub line: u64,
    pub id: Option<String>,
    pub backend: Vec<u32>,
    pub reference: Vec<u32>,
    /// The closest draw along the CPU path, in ulps of its acceptance probability.
    pub closest_ulps: f32,
}

impl PromptDifference {
    fn describe(&self) -> String {
        let id = self.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
        format!(
            "line {}{id}: backend {:?}, cpu {:?}, closest draw {:.1} ulp from its acceptance probability",
            self.line, self.backend, self.reference, self.closest_ulps
        )
    }
}

/// Runs the CPU reference on `batch` and compares it with `selection` (`--cross-check`).
/// Differences explained by a near tie (SPEC.md) are recorded; any other is an error.
fn cross_check_batch(
    job: &SampleJob,
    batch: &Batch,
    selection: &Selection,
    records: &[PromptRecord],
    summary: &mut Summary,
) -> Result<(), Error> {
    if !job.cross_check {
        return Ok(());
    }
    let reference = CpuSampler::new().sample(batch, &job.params)?;
    let report = cross_check::compare(batch, &job.params, selection, &reference);
    let totals = summary.cross_check.get_or_insert_with(CrossCheckTotals::default);
    totals.prompts += report.prompts as u64;
    for difference in report.differing {
        let record = &records[difference.prompt];
        let found = PromptDifference {
            line: record.line,
            id: record.id.as_ref().map(|id| id.text.clone()),
            backend: difference.a,
            reference: difference.b,
            closest_ulps: difference.closest_ulps,
        };
        if !difference.near_tie {
            return Err(Error::Mismatch(format!(
                "cross-check: indices differ without a near tie, {}",
                found.describe()
            )));
        }
        totals.differing.push(found);
    }
    Ok(())
}

impl Summary {
    /// A few lines for stderr.
    pub fn report(&self, backend: &str) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mean_rounds = self.rounds_total as f64 / self.prompts.max(1) as f64;
        let mut text = format!(
            "rso: {} prompts, {} candidates, {} accepted, rounds mean {:.2} max {} | {:.2}s, {:.0} prompts/s, {:.1} MB/s | {}",
            self.prompts,
            self.candidates,
            self.accepted,
            mean_rounds,
            self.rounds_max,
            secs,
            self.prompts as f64 / secs,
            self.bytes_read as f64 / secs / 1e6,
            backend
        );
        if self.skipped_short > 0 {
            text += &format!("\nrso: {} prompts skipped: fewer candidates than k", self.skipped_short);
        }
        if self.short_kept > 0 {
            text += &format!("\nrso: {} prompts had fewer candidates than k and kept all", self.short_kept);
        }
        if self.pairs > 0 || self.pairs_dropped.total() > 0 {
            text += &format!(
                "\nrso: {} pairs written; dropped {} ties (equal rewards) and {} with identical texts",
                self.pairs, self.pairs_dropped.ties, self.pairs_dropped.identical
            );
        }
        if self.duplicates_dropped > 0 {
            text += &format!("\nrso: {} duplicate responses dropped", self.duplicates_dropped);
        }
        if let Some(check) = &self.cross_check {
            text += &format!(
                "\nrso: cross-check against the cpu: {} prompts, {} with identical indices, {} differ (near ties only)",
                check.prompts,
                check.prompts - check.differing.len() as u64,
                check.differing.len()
            );
            for difference in check.differing.iter().take(20) {
                text += &format!("\nrso:   {}", difference.describe());
            }
        }
        text
    }
}

/// A sampled batch's share of the run, either layout: `--cross-check`, the counts, and its
/// output rows (formatted from `records`, whose spans point into `data`).
pub(super) fn finish_batch(
    job: &SampleJob,
    batch: &Batch,
    selection: &Selection,
    records: &[PromptRecord],
    data: &[u8],
    summary: &mut Summary,
) -> Result<Vec<u8>, Error> {
    cross_check_batch(job, batch, selection, records, summary)?;
    summarize(summary, records, batch, selection, job.params.num_samples as usize);
    let formatted = format_records(records, data, selection, job.mode);
    summary.pairs += formatted.pairs;
    summary.pairs_dropped.add(formatted.dropped);
    Ok(formatted.bytes)
}

fn summarize(summary: &mut Summary, records: &[PromptRecord], batch: &Batch, selection: &Selection, k: usize) {
    summary.prompts += records.len() as u64;
    summary.candidates += batch.num_candidates() as u64;
    summary.accepted += selection.indices.len() as u64;
    summary.short_kept += records.iter().filter(|r| r.responses.len() < k).count() as u64;
    summary.rounds_total += selection.rounds.iter().map(|&r| r as u64).sum::<u64>();
    summary.rounds_max = summary.rounds_max.max(selection.rounds.iter().copied().max().unwrap_or(0));
}
