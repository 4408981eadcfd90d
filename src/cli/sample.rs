//! `rso sample`: candidate dump in, k samples per prompt out.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use super::backend::{make_sampler, Backend};
use crate::error::Error;
use crate::io::reader::Input;
use crate::io::wide::WideFields;
use crate::pipeline::{run_sample, OnShort, SampleJob};
use crate::sampler::SampleParams;

#[derive(Args, Debug)]
#[command(after_help = "Input: JSONL, one prompt per line: {\"id\": ..., \"prompt\": ..., \"responses\": [...], \"rewards\": [...]}.\n\
Output: one line per prompt, in input order: id, prompt, other input fields, samples (accepted texts in acceptance order), rewards, indices (positions in the input responses).\n\n\
Example:\n  rso sample examples/dump.jsonl -o samples.jsonl -k 8 --beta 0.5 --seed 1")]
pub struct SampleArgs {
    /// Input JSONL dump; `-` or nothing reads stdin.
    pub input: Option<PathBuf>,
    /// Output file (written to a temporary file, renamed on success); default stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Samples per prompt (k).
    #[arg(short = 'k', long = "num-samples", default_value_t = 8)]
    pub num_samples: u32,
    /// beta of the KL-constrained objective: smaller follows the reward more closely.
    /// 0 is greedy top-k (best-of-n), inf keeps the first k candidates.
    #[arg(long, default_value = "0.5", value_parser = super::parse_beta)]
    pub beta: f32,
    /// Random seed; the same seed gives the same samples on any machine and backend.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Which sampler runs the batches.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// A pool with fewer candidates than k: stop with an error, keep all, or skip the prompt.
    #[arg(long, value_enum, default_value_t = OnShort::Error)]
    pub on_short: OnShort,
    /// Drop later duplicates of a response text before sampling (keeps the first
    /// occurrence, its index and reward). Without it duplicates are distinct candidates.
    #[arg(long)]
    pub dedup: bool,
    /// Field holding the prompt (any JSON value, passed through).
    #[arg(long, default_value = "prompt")]
    pub prompt_field: String,
    /// Field holding the array of response strings.
    #[arg(long, default_value = "responses")]
    pub responses_field: String,
    /// Field holding the array of rewards.
    #[arg(long, default_value = "rewards")]
    pub rewards_field: String,
    /// Field holding the optional prompt id (string or integer); it keys the random stream.
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Worker threads for parsing and CPU sampling (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Input bytes per batch.
    #[arg(long, default_value_t = 8 << 20, hide = true)]
    pub block_size: usize,
    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: SampleArgs) -> Result<(), Error> {
    super::set_threads(args.threads)?;
    let params = SampleParams::new(args.num_samples, args.beta)?;
    let sampler = make_sampler(args.backend, args.quiet)?;
    let mut job = SampleJob::new(Input::from_arg(args.input.as_deref()), params);
    job.output = args.output;
    job.seed = args.seed;
    job.on_short = args.on_short;
    job.dedup = args.dedup;
    job.fields = WideFields {
        id: args.id_field,
        prompt: args.prompt_field,
        responses: args.responses_field,
        rewards: args.rewards_field,
    };
    job.block_size = args.block_size.max(1);
    job.progress = !args.quiet && std::io::stderr().is_terminal();
    let summary = run_sample(&job, sampler.as_ref())?;
    if !args.quiet {
        eprintln!("{}", summary.report(&sampler.describe()));
    }
    Ok(())
}
