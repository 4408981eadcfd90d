//! The `rso` command line: one module per subcommand, each a thin layer over the library.

pub mod backend;
pub mod bench;
pub mod dump;
pub mod sample;
pub mod stats;

use clap::{Parser, Subcommand};

use crate::error::Error;

#[derive(Parser, Debug)]
#[command(
    name = "rso",
    version,
    about = "Statistical rejection sampling (RSO) for preference data, on the GPU and the CPU",
    long_about = "rso draws, for every prompt of a candidate dump, k samples from the optimal policy \
pi_r(y|x) ∝ pi_sft(y|x) · exp(r(x,y) / beta) by statistical rejection sampling \
(Liu et al., \"Statistical Rejection Sampling Improves Preference Optimization\", ICLR 2024). \
Results are reproducible: a prompt's samples depend only on (seed, id, rewards, k, beta)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Draw k samples per prompt from a JSONL candidate dump.
    Sample(sample::SampleArgs),
    /// Per-beta statistics of a dump (reward gain, acceptance, rounds, KL), to choose beta.
    Stats(stats::StatsArgs),
    /// Measure the sampler (CPU vs GPU) and the I/O path on this machine.
    Bench(bench::BenchArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Sample(args) => sample::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Bench(args) => bench::run(args),
    }
}

/// Sets the number of worker threads (0: all cores).
pub fn set_threads(threads: usize) -> Result<(), Error> {
    if threads > 0 {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
            .map_err(|e| Error::Argument(format!("--threads: {e}")))?;
    }
    Ok(())
}

/// Parses a beta: a number >= 0, or `inf`.
pub fn parse_beta(text: &str) -> Result<f32, String> {
    let value: f32 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number (use a positive number, 0 or inf)"))?;
    if value.is_nan() || value < 0.0 {
        return Err(format!("beta must be positive, 0 (greedy top-k) or inf (first k), got `{text}`"));
    }
    Ok(value)
}
