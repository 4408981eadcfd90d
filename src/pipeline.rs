//! The `rso sample` job: read -> batch -> sample -> write.
//!
//! Wide dumps stream through a pipeline of stages on their own threads, so reading,
//! parsing (on all cores), sampling and writing overlap and memory stays bounded by a few
//! blocks in flight. Long dumps are indexed in a first pass ([`crate::io::long`]), then
//! sampled in batches of prompts whose chosen texts are read back from the file.
//! Either way each prompt's output is samples or preference pairs ([`OutputMode`]).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use rayon::prelude::*;

use crate::error::Error;
use crate::io::layout::{self, Layout};
use crate::io::long::{self, FileSpan, LongFields, LongIndex};
use crate::io::reader::{Chunk, ChunkReader, Input};
use crate::io::row::RowSpec;
use crate::io::sink::Sink;
use crate::io::wide::{parse_wide, WideFields};
use crate::io::{output, PromptRecord, RowId, Span};
use crate::pairs::{build_pairs, Dropped, PairStrategy};
use crate::sampler::cpu::CpuSampler;
use crate::sampler::{cross_check, rng, Batch, SampleParams, Sampler, Selection};

/// What `rso sample` writes per prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OutputMode {
    /// One row per prompt with its accepted samples.
    #[default]
    Samples,
    /// One row per preference pair built from the accepted samples.
    Pairs(PairStrategy),
}

/// What to do with a pool smaller than k.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnShort {
    /// Stop with an error naming the line.
    #[default]
    Error,
    /// Keep every candidate of the pool (fewer than k samples).
    All,
    /// Drop the prompt from the output (counted in the summary).
    Skip,
}

/// Everything a sampling run needs besides the sampler.
#[derive(Clone, Debug)]
pub struct SampleJob {
    pub input: Input,
    /// `None` or `-`: stdout.
    pub output: Option<PathBuf>,
    pub params: SampleParams,
    pub seed: u64,
    pub on_short: OnShort,
    pub dedup: bool,
    /// Wide or long (or detect from the first row).
    pub layout: Layout,
    /// Field names of the wide layout.
    pub fields: WideFields,
    /// Field names of the long layout.
    pub long_fields: LongFields,
    /// Samples or pairs.
    pub mode: OutputMode,
    /// Bytes of input per block (one batch of prompts).
    pub block_size: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Also run the CPU reference on every batch and compare (`--cross-check`).
    pub cross_check: bool,
}

impl SampleJob {
    pub fn new(input: Input, params: SampleParams) -> Self {
        Self {
            input,
            output: None,
            params,
            seed: 0,
            on_short: OnShort::Error,
            dedup: false,
            layout: Layout::Auto,
            fields: WideFields::default(),
            long_fields: LongFields::default(),
            mode: OutputMode::Samples,
            block_size: 8 << 20,
            progress: false,
            cross_check: false,
        }
    }
}

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

/// One parsed block: its bytes, its prompts and their batch.
struct ParsedBlock {
    chunk: Chunk,
    records: Vec<PromptRecord>,
    batch: Batch,
    skipped_short: u64,
    duplicates_dropped: u64,
}

/// Runs a sampling job to completion. On any error nothing is left at the output path.
pub fn run_sample(job: &SampleJob, sampler: &dyn Sampler) -> Result<Summary, Error> {
    let started = Instant::now();
    let (layout, source) = open_input(job)?;
    let mut summary = match layout {
        Layout::Long => {
            let file = seekable(&job.input, source)?;
            let total = file.metadata().ok().map(|m| m.len());
            let progress = Progress::new(job.progress, total);
            let summary = run_long(job, sampler, &file, &progress);
            progress.finish();
            summary?
        }
        _ => run_wide(job, sampler, source)?,
    };
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Opens the input and settles its layout (detected from the first row for `auto`).
pub fn open_input(job: &SampleJob) -> Result<(Layout, Box<dyn Read + Send>), Error> {
    let source = job.input.open()?;
    if job.layout != Layout::Auto {
        return Ok((job.layout, source));
    }
    let (first, source) = layout::peek_first_row(source).map_err(|e| Error::io(job.input.name(), e))?;
    let detected = layout::detect(first.as_deref(), &job.fields.responses, &job.long_fields.response)?;
    Ok((detected, source))
}

/// A seekable file holding the input: the file itself, or standard input spilled to an
/// unnamed temporary file (the long layout reads texts back by offset).
fn seekable(input: &Input, mut source: Box<dyn Read + Send>) -> Result<File, Error> {
    match input {
        Input::File(path) => File::open(path).map_err(|e| Error::io(path, e)),
        Input::Stdin => {
            let mut file = tempfile::tempfile().map_err(|e| Error::io(std::env::temp_dir(), e))?;
            std::io::copy(&mut source, &mut file).map_err(|e| Error::io("<stdin>", e))?;
            Ok(file)
        }
    }
}

fn run_wide(job: &SampleJob, sampler: &dyn Sampler, source: Box<dyn Read + Send>) -> Result<Summary, Error> {
    let sink = Sink::create(job.output.as_deref())?;
    let progress = Progress::new(job.progress, job.input.len());

    let (chunk_tx, chunk_rx) = bounded::<Result<Chunk, Error>>(2);
    let (block_tx, block_rx) = bounded::<Result<ParsedBlock, Error>>(1);
    let (out_tx, out_rx) = bounded::<(Vec<u8>, u64)>(2);

    let mut reader = ChunkReader::new(source, job.input.name(), job.block_size);
    let reading = thread::spawn(move || read_stage(&mut reader, chunk_tx));
    let spec = job.fields.spec();
    let parse_job = job.clone();
    let parsing = thread::spawn(move || parse_stage(&parse_job, &spec, chunk_rx, block_tx));
    let bar = progress.clone();
    let writing = thread::spawn(move || write_stage(sink, out_rx, bar));

    let mut summary = Summary::default();
    let sampled = sample_stage(job, sampler, block_rx, out_tx, &mut summary);

    let sink = writing.join().expect("writer thread panicked");
    let _ = parsing.join();
    let _ = reading.join();
    progress.finish();
    sampled?;
    let (sink, bytes) = sink?;
    sink.commit()?;
    summary.bytes_read = bytes;
    Ok(summary)
}

fn read_stage(reader: &mut ChunkReader, tx: Sender<Result<Chunk, Error>>) {
    loop {
        match reader.next_chunk() {
            Ok(Some(chunk)) => {
                if tx.send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

fn parse_stage(job: &SampleJob, spec: &RowSpec, rx: Receiver<Result<Chunk, Error>>, tx: Sender<Result<ParsedBlock, Error>>) {
    let mut ordinal = 0u64;
    for chunk in rx {
        let parsed = chunk.and_then(|chunk| parse_block(job, spec, chunk, &mut ordinal));
        let failed = parsed.is_err();
        if tx.send(parsed).is_err() || failed {
            return;
        }
    }
}

/// Parses a block's rows on all cores, then numbers them and builds the batch in order.
fn parse_block(job: &SampleJob, spec: &RowSpec, chunk: Chunk, ordinal: &mut u64) -> Result<ParsedBlock, Error> {
    let base = chunk.data.as_ptr() as usize;
    let lines = chunk.lines();
    let parsed: Vec<Result<Option<PromptRecord>, Error>> = lines
        .par_iter()
        .with_min_len(chunk.lines_per_task(lines.len()))
        .map(|&(line_no, text)| {
            if text.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            let at = (text.as_ptr() as usize - base) as u32;
            parse_wide(text, line_no, at, spec, job.dedup).map(Some)
        })
        .collect();
    let mut block = ParsedBlock {
        records: Vec::with_capacity(parsed.len()),
        batch: Batch::new(),
        skipped_short: 0,
        duplicates_dropped: 0,
        chunk: Chunk::default(),
    };
    let k = job.params.num_samples as usize;
    for record in parsed {
        let Some(record) = record? else { continue };
        let pk = match &record.id {
            Some(id) => rng::prompt_key_from_id(&id.text),
            None => rng::prompt_key_from_ordinal(*ordinal),
        };
        *ordinal += 1;
        block.duplicates_dropped += record.duplicates_dropped as u64;
        if record.responses.len() < k {
            match job.on_short {
                OnShort::Error => {
                    return Err(Error::input(
                        record.line,
                        &job.fields.responses,
                        format!(
                            "the pool has {} candidates, fewer than --num-samples {k} (use --on-short all or --on-short skip)",
                            record.responses.len()
                        ),
                    ))
                }
                OnShort::Skip => {
                    block.skipped_short += 1;
                    continue;
                }
                OnShort::All => {}
            }
        }
        block.batch.push(record.rewards.iter().map(|&r| r as f32), rng::prompt_stream_key(job.seed, pk));
        block.records.push(record);
    }
    drop(lines);
    block.chunk = chunk;
    Ok(block)
}

fn sample_stage(
    job: &SampleJob,
    sampler: &dyn Sampler,
    rx: Receiver<Result<ParsedBlock, Error>>,
    tx: Sender<(Vec<u8>, u64)>,
    summary: &mut Summary,
) -> Result<(), Error> {
    let k = job.params.num_samples as usize;
    for block in rx {
        let block = block?;
        let selection = sampler.sample(&block.batch, &job.params)?;
        cross_check_batch(job, &block.batch, &selection, &block.records, summary)?;
        summarize(summary, &block.records, &block.batch, &selection, k);
        summary.skipped_short += block.skipped_short;
        summary.duplicates_dropped += block.duplicates_dropped;
        let formatted = format_records(&block.records, &block.chunk.data, &selection, job.mode);
        summary.pairs += formatted.pairs;
        summary.pairs_dropped.add(formatted.dropped);
        if tx.send((formatted.bytes, block.chunk.data.len() as u64)).is_err() {
            break;
        }
    }
    Ok(())
}

fn summarize(summary: &mut Summary, records: &[PromptRecord], batch: &Batch, selection: &Selection, k: usize) {
    summary.prompts += records.len() as u64;
    summary.candidates += batch.num_candidates() as u64;
    summary.accepted += selection.indices.len() as u64;
    summary.short_kept += records.iter().filter(|r| r.responses.len() < k).count() as u64;
    summary.rounds_total += selection.rounds.iter().map(|&r| r as u64).sum::<u64>();
    summary.rounds_max = summary.rounds_max.max(selection.rounds.iter().copied().max().unwrap_or(0));
}

/// Formatted output rows of a batch and what pairing counted.
#[derive(Default)]
struct Formatted {
    bytes: Vec<u8>,
    pairs: u64,
    dropped: Dropped,
}

/// Formats the output rows of `records` (spans into `data`) in parallel, concatenated in
/// input order: a samples row per prompt, or a row per preference pair.
fn format_records(records: &[PromptRecord], data: &[u8], selection: &Selection, mode: OutputMode) -> Formatted {
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

fn write_stage(mut sink: Sink, rx: Receiver<(Vec<u8>, u64)>, progress: Progress) -> Result<(Sink, u64), Error> {
    let mut read = 0;
    for (bytes, consumed) in rx {
        sink.write_all(&bytes)?;
        read += consumed;
        progress.advance(consumed);
    }
    Ok((sink, read))
}

/// A progress bar on stderr (only when asked for, i.e. stderr is a terminal).
#[derive(Clone)]
struct Progress(Option<indicatif::ProgressBar>);

/// The long layout's two passes on the progress bar: bytes indexed, then prompts written.
const LONG_INDEX_STYLE: &str = "pass 1/2 {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}";
const LONG_SAMPLE_STYLE: &str = "pass 2/2 {bar:40} {pos}/{len} prompts {per_sec} eta {eta}";

fn progress_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

impl Progress {
    fn new(enabled: bool, total: Option<u64>) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n)
                .with_style(progress_style("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")),
            None => indicatif::ProgressBar::new_spinner(),
        };
        Progress(Some(bar))
    }

    /// Starts the bar over for a new stage of `len` units (`None`: keep the length), drawn
    /// with `template`.
    fn stage(&self, len: Option<u64>, template: &str) {
        if let Some(bar) = &self.0 {
            if bar.length().is_some() {
                bar.set_style(progress_style(template));
            }
            if let Some(len) = len {
                bar.set_length(len);
                bar.set_style(progress_style(template));
            }
            bar.reset();
        }
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// Most prompts and candidates sampled together in the long layout.
const LONG_BATCH_PROMPTS: usize = 1 << 13;
const LONG_BATCH_CANDIDATES: usize = 1 << 19;

/// Pools of a range of long-layout prompts, ready to sample.
#[derive(Default)]
struct LongPools {
    batch: Batch,
    /// Per pool in the batch: its group and, after `--dedup`, the input positions kept.
    members: Vec<(usize, Option<Vec<u32>>)>,
    skipped_short: u64,
    duplicates_dropped: u64,
}

/// Builds the pools of groups `range`: `--dedup`, `--on-short` and prompt keys as in the
/// wide layout (a prompt without an id is keyed by its ordinal of first appearance).
fn long_pools(job: &SampleJob, file: &File, name: &Path, index: &LongIndex, range: std::ops::Range<usize>) -> Result<LongPools, Error> {
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
fn dedup_long(file: &File, name: &Path, index: &LongIndex, g: usize, hashes: &[u64]) -> Result<Option<Vec<u32>>, Error> {
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
fn long_records(
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
    let mut records = Vec::with_capacity(pools.members.len());
    for (m, (g, kept)) in pools.members.iter().enumerate() {
        let group = &index.groups[*g];
        let pool = index.pool(*g);
        let id = group.id.map(|_| RowId { raw: next.next().unwrap_or_default(), text: String::new() });
        let prompt = next.next().unwrap_or_default();
        let extra = match group.row {
            Some(_) => {
                let row = next.next().unwrap_or_default();
                let fields = long::extra_fields(row.get(&data), group.line, fields)?;
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
fn run_long(job: &SampleJob, sampler: &dyn Sampler, file: &File, progress: &Progress) -> Result<Summary, Error> {
    let name = job.input.name();
    let mut sink = Sink::create(job.output.as_deref())?;
    progress.stage(None, LONG_INDEX_STYLE);
    let index =
        long::index_with_progress(file, &name, &job.long_fields, job.block_size, job.dedup, &|bytes| progress.advance(bytes))?;
    progress.stage(Some(index.groups.len() as u64), LONG_SAMPLE_STYLE);
    let k = job.params.num_samples as usize;
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
        cross_check_batch(job, &pools.batch, &selection, &records, &mut summary)?;
        summarize(&mut summary, &records, &pools.batch, &selection, k);
        summary.skipped_short += pools.skipped_short;
        summary.duplicates_dropped += pools.duplicates_dropped;
        let formatted = format_records(&records, &data, &selection, job.mode);
        summary.pairs += formatted.pairs;
        summary.pairs_dropped.add(formatted.dropped);
        sink.write_all(&formatted.bytes)?;
        progress.advance((end - start) as u64);
        start = end;
    }
    sink.commit()?;
    Ok(summary)
}

/// Every pool of a dump (either layout), for statistics: rewards and prompt keys in one
/// batch, in input order. Pools shorter than k are kept (`--on-short` does not apply).
#[derive(Debug, Default)]
pub struct Pools {
    pub batch: Batch,
    /// Duplicate responses dropped by `--dedup`.
    pub duplicates_dropped: u64,
}

/// Reads every pool of the job's input (rewards only; texts are not kept).
pub fn read_pools(job: &SampleJob) -> Result<Pools, Error> {
    let mut job = job.clone();
    job.on_short = OnShort::All;
    let (layout, source) = open_input(&job)?;
    let mut pools = Pools { batch: Batch::new(), duplicates_dropped: 0 };
    if layout == Layout::Long {
        let file = seekable(&job.input, source)?;
        let name = job.input.name();
        let index = long::index(&file, &name, &job.long_fields, job.block_size, job.dedup)?;
        let long = long_pools(&job, &file, &name, &index, 0..index.groups.len())?;
        pools.batch = long.batch;
        pools.duplicates_dropped = long.duplicates_dropped;
        return Ok(pools);
    }
    let mut reader = ChunkReader::new(source, job.input.name(), job.block_size);
    let spec = job.fields.spec();
    let mut ordinal = 0;
    while let Some(chunk) = reader.next_chunk()? {
        let block = parse_block(&job, &spec, chunk, &mut ordinal)?;
        for p in 0..block.batch.len() {
            pools.batch.push(block.batch.pool(p).iter().copied(), block.batch.keys[p]);
        }
        pools.duplicates_dropped += block.duplicates_dropped;
    }
    Ok(pools)
}
