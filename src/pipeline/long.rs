//! The long layout: index the file, then sample prompts in batches and read the chosen
//! texts back by offset.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use crate::error::Error;
use crate::io::long::{self, FileSpan, LongFields, LongIndex};
use crate::io::sink::Sink;
use crate::io::{output, PromptRecord, RowId, Span};
use crate::sampler::{rng, Batch, Sampler, Selection};

use super::progress::{Progress, LONG_INDEX_STYLE, LONG_SAMPLE_STYLE};
use super::summary::finish_batch;
use super::{OnShort, SampleJob, Summary};

/// Most prompts and candidates sampled together in the long layout.
pub(super) const LONG_BATCH_PROMPTS: usize = 1 << 13;
pub(super) const LONG_BATCH_CANDIDATES: usize = 1 << 19;

/// Pools of a range of long-layout prompts, ready to sample.
#[derive(Default)]
pub(super) struct LongPools {
    pub(super) batch: Batch,
    /// Per pool in the batch: its group and, after `--dedup`, the input positions kept.
    pub(super) members: Vec<(usize, Option<Vec<u32>>)>,
    pub(super) skipped_short: u64,
    pub(super) duplicates_dropped: u64,
}

/// Builds the pools of groups `range`: `--dedup`, `--on-short` and prompt keys as in the
/// wide layout (a prompt without an id is keyed by its ordinal of first appearance).
pub(super) fn long_pools(job: &SampleJob, file: &File, name: &Path, index: &LongIndex, range: std::ops::Range<usize>) -> Result<LongPools, Error> {
    let k = job.params.num_samples as usize;
    let mut pools = LongPools { batch: Batch::new(), ..LongPools::default() };
    for g in range {
        let pool = index.pool(g);
        let group = &index.groups[g];
        let kept = match &index.text_hashes {
            Some(hashes) => dedup_long(file, name, index, g, &hashes[index.starts[g]..index.starts[g + 1]])?,
            None => None,
        };
        let size = kept.as_ref().map_or(pool.len(), Vec::len);
        pools.duplicates_dropped += (pool.len() - size) as u64;
        if size < k {
            match job.on_short {
                OnShort::Error => {
                    return Err(Error::input(
                        group.line,
                        &job.long_fields.response,
                        format!(
                            "the prompt first seen on this line has {size} candidates, fewer than --num-samples {k} \
                             (use --on-short all or --on-short skip)"
                        ),
                    ))
                }
                OnShort::Skip => {
                    pools.skipped_short += 1;
                    continue;
                }
                OnShort::All => {}
            }
        }
        let pk = match group.id {
            Some((_, pk)) => pk,
            None => rng::prompt_key_from_ordinal(g as u64),
        };
        let key = rng::prompt_stream_key(job.seed, pk);
        match &kept {
            Some(positions) => pools.batch.push(positions.iter().map(|&i| pool[i as usize].reward as f32), key),
            None => pools.batch.push(pool.iter().map(|c| c.reward as f32), key),
        }
        pools.members.push((g, kept));
    }
    Ok(pools)
}

/// `--dedup` in the long layout: the input positions of the first occurrence of each
/// text, or None when the pool has no duplicates. Texts with equal hashes are read back
/// and compared decoded, so the result is exact.
pub(super) fn dedup_long(file: &File, name: &Path, index: &LongIndex, g: usize, hashes: &[u64]) -> Result<Option<Vec<u32>>, Error> {
    let pool = index.pool(g);
    let mut seen: HashMap<u64, Vec<u32>> = HashMap::with_capacity(pool.len());
    let mut kept = Vec::with_capacity(pool.len());
    let mut buf = Vec::new();
    for (i, &hash) in hashes.iter().enumerate() {
        let earlier = seen.entry(hash).or_default();
        let mut duplicate = false;
        for &j in earlier.iter() {
            buf.clear();
            let spans = long::read_spans(file, name, &[pool[j as usize].response(), pool[i].response()], &mut buf)?;
            if output::same_text(spans[0].get(&buf), spans[1].get(&buf)) {
                duplicate = true;
                break;
            }
        }
        if !duplicate {
            earlier.push(i as u32);
            kept.push(i as u32);
        }
    }
    Ok((kept.len() < pool.len()).then_some(kept))
}

/// Reads back what the output of a sampled batch needs (ids, prompts, chosen texts, and
/// the first rows that have other fields, to carry those) and returns records whose spans
/// point into the returned buffer. Unchosen candidates keep empty spans: the output never
/// reads them.
pub(super) fn long_records(
    file: &File,
    name: &Path,
    fields: &LongFields,
    index: &LongIndex,
    pools: &LongPools,
    selection: &Selection,
) -> Result<(Vec<PromptRecord>, Vec<u8>), Error> {
    let mut wanted: Vec<FileSpan> = Vec::new();
    for (m, (g, kept)) in pools.members.iter().enumerate() {
        let group = &index.groups[*g];
        if let Some((id, _)) = group.id {
            wanted.push(id);
        }
        wanted.push(group.prompt);
        if let Some(row) = group.row {
            wanted.push(row);
        }
        let pool = index.pool(*g);
        for &i in selection.of(m) {
            let input = kept.as_ref().map_or(i, |k| k[i as usize]);
            wanted.push(pool[input as usize].response());
        }
    }
    let mut data = Vec::new();
    let spans = long::read_spans(file, name, &wanted, &mut data)?;
    let mut next = spans.into_iter();
    let spec = fields.spec();
    let mut records = Vec::with_capacity(pools.members.len());
    for (m, (g, kept)) in pools.members.iter().enumerate() {
        let group = &index.groups[*g];
        let pool = index.pool(*g);
        let id = group.id.map(|_| RowId { raw: next.next().unwrap_or_default(), text: String::new() });
        let prompt = next.next().unwrap_or_default();
        let extra = match group.row {
            Some(_) => {
                let row = next.next().unwrap_or_default();
                let fields = long::extra_fields(row.get(&data), group.line, &spec)?;
                fields.into_iter().map(|(key, value)| (key, value.shifted(row.start))).collect()
            }
            None => Vec::new(),
        };
        let size = kept.as_ref().map_or(pool.len(), Vec::len);
        let mut responses = vec![Span::default(); size];
        for &i in selection.of(m) {
            responses[i as usize] = next.next().unwrap_or_default();
        }
        let rewards = match kept {
            Some(k) => k.iter().map(|&i| pool[i as usize].reward).collect(),
            None => pool.iter().map(|c| c.reward).collect(),
        };
        records.push(PromptRecord {
            line: group.line,
            id,
            prompt,
            responses,
            rewards,
            positions: kept.clone(),
            duplicates_dropped: (pool.len() - size) as u32,
            extra,
        });
    }
    Ok((records, data))
}

/// The long layout: index the file, then sample prompts in batches (in order of first
/// appearance) and write their rows.
/// `progress` follows both passes: the bytes indexed, then the prompts written.
pub(super) fn run_long(job: &SampleJob, sampler: &dyn Sampler, file: &File, progress: &Progress) -> Result<Summary, Error> {
    let name = job.input.name();
    let mut sink = Sink::create(job.output.as_deref())?;
    progress.stage(None, LONG_INDEX_STYLE);
    let index =
        long::index_with_progress(file, &name, &job.long_fields, job.block_size, job.dedup, &|bytes| progress.advance(bytes))?;
    progress.stage(Some(index.groups.len() as u64), LONG_SAMPLE_STYLE);
    let mut summary = Summary { bytes_read: index.bytes, ..Summary::default() };
    let mut start = 0;
    while start < index.groups.len() {
        let mut end = start;
        let mut candidates = 0;
        while end < index.groups.len()
            && (end == start || (end - start < LONG_BATCH_PROMPTS && candidates < LONG_BATCH_CANDIDATES))
        {
            candidates += index.pool(end).len();
            end += 1;
        }
        let pools = long_pools(job, file, &name, &index, start..end)?;
        let selection = sampler.sample(&pools.batch, &job.params)?;
        let (records, data) = long_records(file, &name, &job.long_fields, &index, &pools, &selection)?;
        let rows = finish_batch(job, &pools.batch, &selection, &records, &data, &mut summary)?;
        summary.skipped_short += pools.skipped_short;
        summary.duplicates_dropped += pools.duplicates_dropped;
        sink.write_all(&rows)?;
        progress.advance((end - start) as u64);
        start = end;
    }
    sink.commit()?;
    Ok(summary)
}
