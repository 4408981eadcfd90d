//! The `rso sample` job: read -> batch -> sample -> write.
//!
//! Wide dumps stream through a pipeline of stages on their own threads ([`wide`]), so
//! reading, parsing (on all cores), sampling and writing overlap and memory stays bounded
//! by a few blocks in flight. Long dumps are indexed in a first pass
//! ([`crate::io::long`]), then sampled in batches of prompts whose chosen texts are read
//! back from the file ([`long`]). Either way each prompt's output is samples or
//! preference pairs ([`OutputMode`], formatted by [`format`]); [`summary`] counts the run
//! and holds `--cross-check`'s comparison.

mod format;
mod long;
mod progress;
mod summary;
mod wide;

pub use summary::{CrossCheckTotals, PromptDifference, Summary};

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::error::Error;
use crate::io::layout::{self, Layout};
use crate::io::long::LongFields;
use crate::io::reader::{ChunkReader, Compression, Input};
use crate::io::wide::WideFields;
use crate::pairs::PairStrategy;
use crate::sampler::{Batch, SampleParams, Sampler};

use self::long::{long_pools, run_long};
use self::progress::Progress;
use self::wide::{parse_block, run_wide};

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
            block_size: 1 << 20,
            progress: false,
            cross_check: false,
        }
    }
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

/// A seekable file holding the input: the file itself, or (standard input, a compressed
/// file, a pipe) its bytes spilled to an unnamed temporary file: the long layout reads
/// texts back by offset.
fn seekable(input: &Input, mut source: Box<dyn Read + Send>) -> Result<File, Error> {
    if let Input::File(path) = input {
        let plain = Compression::of(path) == Compression::None;
        if plain && std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(false) {
            return File::open(path).map_err(|e| Error::io(path, e));
        }
    }
    // Standard input, a compressed file (decompressed on the way) or a pipe: copied to an
    // unnamed temporary file, read errors naming the input, write errors the temporary folder.
    let mut file = tempfile::tempfile().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let got = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(input.name(), e)),
        };
        file.write_all(&buffer[..got]).map_err(|e| Error::io(std::env::temp_dir(), e))?;
    }
    Ok(file)
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
        let index = crate::io::long::index(&file, &name, &job.long_fields, job.block_size, job.dedup)?;
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
