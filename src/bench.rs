//! Measurements behind `rso bench` and the criterion suites: the sampler on synthetic
//! in-memory batches, and the I/O path against the floors of reading and of validating
//! the JSON alone.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;

use crate::error::Error;
use crate::io::reader::{ChunkReader, Input};
use crate::sampler::gpu::GpuSampler;
use crate::sampler::{rng, Batch, SampleParams, Sampler, Selection};

/// A synthetic batch: `prompts` pools of `candidates` Gaussian-ish rewards, keys from the
/// prompt ordinal. Deterministic for a given `seed`.
pub fn synthetic_batch(prompts: usize, candidates: usize, seed: u64) -> Batch {
    let mut batch = Batch::new();
    batch.rewards.reserve(prompts * candidates);
    for p in 0..prompts {
        let key = rng::prompt_stream_key(seed, p as u64);
        batch.push(
            (0..candidates as u32).map(|i| {
                // Sum of uniforms: a cheap bell shape, reproducible everywhere.
                let a = rng::uniform(key, u32::MAX, i);
                let b = rng::uniform(key, u32::MAX - 1, i);
                let c = rng::uniform(key, u32::MAX - 2, i);
                (a + b + c - 1.5) * 2.0
            }),
            key,
        );
    }
    batch
}

/// Best wall time of `repeats` runs of `f` (after one warm-up run).
pub fn best_time<T>(repeats: usize, mut f: impl FnMut() -> Result<T, Error>) -> Result<(Duration, T), Error> {
    let mut result = f()?;
    let mut best = Duration::MAX;
    for _ in 0..repeats.max(1) {
        let started = Instant::now();
        result = f()?;
        best = best.min(started.elapsed());
    }
    Ok((best, result))
}

/// Candidates per second of `sampler` on `batch`, and its selection.
pub fn sampler_throughput(
    sampler: &dyn Sampler,
    batch: &Batch,
    params: &SampleParams,
    repeats: usize,
) -> Result<(f64, Selection), Error> {
    let (time, selection) = best_time(repeats, || sampler.sample(batch, params))?;
    Ok((batch.num_candidates() as f64 / time.as_secs_f64(), selection))
}

/// Candidates per second of the GPU's sampling passes alone (timestamp queries: no
/// uploads or read-backs), the best of `repeats`; `None` where the device cannot time them.
pub fn gpu_kernel_throughput(gpu: &GpuSampler, batch: &Batch, params: &SampleParams, repeats: usize) -> Result<Option<f64>, Error> {
    let mut best: Option<Duration> = None;
    for _ in 0..repeats.max(1) {
        let (_, time) = gpu.sample_timed(batch, params)?;
        let Some(time) = time else { return Ok(None) };
        best = Some(best.map_or(time, |b| b.min(time)));
    }
    Ok(best.filter(|t| !t.is_zero()).map(|t| batch.num_candidates() as f64 / t.as_secs_f64()))
}

/// The floor of reading: every byte of the file in blocks, nothing else. Returns bytes read.
pub fn read_floor(path: &Path, block_size: usize) -> Result<u64, Error> {
    let input = Input::File(path.to_path_buf());
    let mut reader = ChunkReader::new(input.open()?, input.name(), block_size);
    let mut bytes = 0;
    while let Some(chunk) = reader.next_chunk()? {
        bytes += chunk.data.len() as u64;
    }
    Ok(bytes)
}

/// The floor of parsing: read every line and validate it as JSON (UTF-8 included), on
/// all cores, nothing else. Returns the number of rows.
pub fn parse_floor(path: &Path, block_size: usize) -> Result<u64, Error> {
    let input = Input::File(path.to_path_buf());
    let mut reader = ChunkReader::new(input.open()?, input.name(), block_size);
    let mut rows = 0;
    while let Some(chunk) = reader.next_chunk()? {
        let valid: Result<u64, Error> = chunk
            .parse_rows(|line, text, _| {
                let text = crate::io::row::utf8_line(text, line)?;
                serde_json::from_str::<IgnoredAny>(text).map_err(|e| Error::Json { line, message: e.to_string() })
            })
            .into_iter()
            .map(|row| row.map(|parsed| parsed.map_or(0, |_| 1)))
            .sum();
        rows += valid?;
    }
    Ok(rows)
}

/// A synthetic wide JSONL dump like `gen_dump.py`'s: `prompts` rows with ids, `candidates`
/// responses each of about `text_len` characters (unicode and escapes included).
pub fn synthetic_dump(prompts: usize, candidates: usize, text_len: usize) -> String {
    synthetic_dump_rows(0..prompts, candidates, text_len)
}

/// The rows `prompts` of [`synthetic_dump`] (the same rows whatever the range's bounds).
pub fn synthetic_dump_rows(prompts: std::ops::Range<usize>, candidates: usize, text_len: usize) -> String {
    const WORDS: [&str; 12] =
        ["the", "model", "answer", "reward", "ünïcødé", "你好", "\"quoted\"", "back\\slash", "tab\t", "newline\n", "🎲", "policy"];
    let mut out = String::new();
    for p in prompts {
        let key = rng::prompt_stream_key(1, p as u64);
        let responses: Vec<String> = (0..candidates as u32)
            .map(|i| {
                let mut text = format!("r{i} ");
                let mut w = 0;
                while text.len() < text_len {
                    text += WORDS[(rng::threefry2x32(key, [i, w])[0] % WORDS.len() as u32) as usize];
                    text.push(' ');
                    w += 1;
                }
                text
            })
            .collect();
        let rewards: Vec<f64> = (0..candidates as u32)
            .map(|i| ((rng::uniform(key, 7, i) as f64 - 0.5) * 4e6).round() / 1e6)
            .collect();
        let row = serde_json::json!({"id": format!("p{p:08}"), "prompt": format!("Prompt {p}"),
            "responses": responses, "rewards": rewards});
        out += &row.to_string();
        out.push('\n');
    }
    out
}
