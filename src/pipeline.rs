//! The `rso sample` job: read -> batch -> sample -> write, as a pipeline of stages on
//! their own threads, so reading, parsing (on all cores), sampling and writing overlap
//! and memory stays bounded by a few blocks in flight.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use rayon::prelude::*;

use crate::error::Error;
use crate::io::reader::{Chunk, ChunkReader, Input};
use crate::io::row::RowSpec;
use crate::io::sink::Sink;
use crate::io::wide::{parse_wide, WideFields};
use crate::io::{output, PromptRecord};
use crate::sampler::{rng, Batch, SampleParams, Sampler, Selection};

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
    pub fields: WideFields,
    /// Bytes of input per block (one batch of prompts).
    pub block_size: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
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
            fields: WideFields::default(),
            block_size: 8 << 20,
            progress: false,
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
    pub bytes_read: u64,
    pub elapsed: Duration,
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
        if self.duplicates_dropped > 0 {
            text += &format!("\nrso: {} duplicate responses dropped", self.duplicates_dropped);
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
    let source = job.input.open()?;
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
    summary.elapsed = started.elapsed();
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
        .with_min_len(64)
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
        summarize(summary, &block, &selection, k);
        let bytes = format_block(&block, &selection);
        if tx.send((bytes, block.chunk.data.len() as u64)).is_err() {
            break;
        }
    }
    Ok(())
}

fn summarize(summary: &mut Summary, block: &ParsedBlock, selection: &Selection, k: usize) {
    summary.prompts += block.records.len() as u64;
    summary.candidates += block.batch.num_candidates() as u64;
    summary.accepted += selection.indices.len() as u64;
    summary.skipped_short += block.skipped_short;
    summary.duplicates_dropped += block.duplicates_dropped;
    summary.short_kept += block.records.iter().filter(|r| r.responses.len() < k).count() as u64;
    summary.rounds_total += selection.rounds.iter().map(|&r| r as u64).sum::<u64>();
    summary.rounds_max = summary.rounds_max.max(selection.rounds.iter().copied().max().unwrap_or(0));
}

/// Formats a block's output rows in parallel, concatenated in input order.
fn format_block(block: &ParsedBlock, selection: &Selection) -> Vec<u8> {
    let data = &block.chunk.data;
    let pieces: Vec<Vec<u8>> = block
        .records
        .par_chunks(256)
        .enumerate()
        .map(|(c, records)| {
            let mut out = Vec::with_capacity(records.len() * 256);
            for (j, record) in records.iter().enumerate() {
                output::write_samples_row(&mut out, data, record, selection.of(c * 256 + j));
            }
            out
        })
        .collect();
    pieces.concat()
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

impl Progress {
    fn new(enabled: bool, total: Option<u64>) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        Progress(Some(bar))
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
