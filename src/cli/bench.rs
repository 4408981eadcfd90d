//! `rso bench`: the sampler's speed on this machine (CPU one thread, CPU all threads, GPU),
//! and with `--input`, the whole `rso sample` run against the floors of reading and parsing.

use std::path::PathBuf;

use clap::Args;

use super::backend::gpu_sampler;
use crate::bench::{
    best_time, gpu_kernel_throughput, parse_floor, read_floor, sampler_throughput, synthetic_batch, synthetic_dump_rows,
};
use crate::io::sink::Sink;
use crate::error::Error;
use crate::io::reader::Input;
use crate::pipeline::{run_sample, OnShort, SampleJob};
use crate::sampler::cpu::CpuSampler;
use crate::sampler::cross_check::compare;
use crate::sampler::{SampleParams, Sampler};

#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  rso bench\n  rso bench --prompts 1000000 --candidates 64\n  rso bench --input dump.jsonl --skip-sampler\n  rso bench --write-dump dump.jsonl --prompts 10000 --candidates 64 --text-len 200")]
pub struct BenchArgs {
    /// Batch sizes (prompts) of the sampler comparison, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1_000usize, 10_000, 100_000])]
    pub prompts: Vec<usize>,
    /// Candidates per prompt in the synthetic batches.
    #[arg(long, default_value_t = 64)]
    pub candidates: usize,
    /// Samples per prompt (k).
    #[arg(short = 'k', long = "num-samples", default_value_t = 8)]
    pub num_samples: u32,
    /// beta of the sampling runs (0: greedy top-k, inf: first k).
    #[arg(long, default_value = "0.5", value_parser = super::parse_beta)]
    pub beta: f32,
    /// Timed runs per measurement (the best is kept).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Leave out the GPU columns.
    #[arg(long)]
    pub no_gpu: bool,
    /// Also time the I/O path on this dump: read floor, parse floor, `rso sample` (CPU).
    #[arg(long)]
    pub input: Vec<PathBuf>,
    /// Only the I/O table.
    #[arg(long)]
    pub skip_sampler: bool,
    /// Instead of measuring, write a synthetic wide dump to FILE (the first of --prompts,
    /// --candidates, responses of --text-len characters with unicode and escapes) for
    /// trying out `rso sample`.
    #[arg(long, value_name = "FILE")]
    pub write_dump: Option<PathBuf>,
    /// Characters per response in --write-dump's dump.
    #[arg(long, default_value_t = 0, requires = "write_dump")]
    pub text_len: usize,
}

pub fn run(args: BenchArgs) -> Result<(), Error> {
    if let Some(path) = &args.write_dump {
        let prompts = args.prompts.first().copied().unwrap_or(1_000);
        let mut sink = Sink::create(Some(path))?;
        // A few thousand prompts at a time, so memory stays small for any size.
        for first in (0..prompts).step_by(4096) {
            let rows = synthetic_dump_rows(first..prompts.min(first + 4096), args.candidates, args.text_len);
            sink.write_all(rows.as_bytes())?;
        }
        return sink.commit();
    }
    let params = SampleParams::new(args.num_samples, args.beta)?;
    if !args.skip_sampler {
        sampler_table(&args, &params)?;
    }
    if !args.input.is_empty() {
        io_table(&args, &params)?;
    }
    Ok(())
}

fn sampler_table(args: &BenchArgs, params: &SampleParams) -> Result<(), Error> {
    let threads = rayon::current_num_threads();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::Argument(e.to_string()))?;
    let cpu = CpuSampler::new();
    let gpu = if args.no_gpu {
        None
    } else {
        match gpu_sampler() {
            Ok(s) => Some(s),
            Err(e) => {
                println!("gpu: unavailable ({e})");
                None
            }
        }
    };
    if let Some(g) = &gpu {
        let kernels = if g.can_time_passes() { "" } else { " (no timestamp queries: no kernel column)" };
        println!("gpu: {}{kernels}", g.describe());
    }
    println!(
        "cpu: {threads} threads; k = {}, beta = {}; candidates per second (best of {}); gpu: whole calls \
         (upload, sampling, read-back); gpu kernels: the sampling passes alone\n",
        params.num_samples, params.beta, args.repeats
    );
    println!(
        "| batch | cpu 1 thread | cpu {threads} threads | gpu | gpu kernels | gpu / cpu {threads} threads | gpu kernels / cpu {threads} threads | gpu = cpu |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &prompts in &args.prompts {
        let batch = synthetic_batch(prompts, args.candidates, 0);
        let (single, _) = one_thread.install(|| sampler_throughput(&cpu, &batch, params, args.repeats))?;
        let (all, reference) = sampler_throughput(&cpu, &batch, params, args.repeats)?;
        let (mut whole, mut kernels, mut agreement) = (None, None, "-".to_string());
        if let Some(g) = &gpu {
            let (rate, selection) = sampler_throughput(g, &batch, params, args.repeats)?;
            whole = Some(rate);
            kernels = gpu_kernel_throughput(g, &batch, params, args.repeats)?;
            // The GPU's indices against the CPU reference (SPEC.md: near ties only may differ).
            let report = compare(&batch, params, &reference, &selection);
            agreement = format!("{} of {} prompts", batch.len() - report.differing.len(), batch.len());
            if report.unexplained() > 0 {
                return Err(Error::Mismatch(format!(
                    "{prompts} x {}: the GPU differs from the CPU beyond near ties on {} prompts",
                    args.candidates,
                    report.unexplained()
                )));
            }
        }
        let rate = |r: Option<f64>| r.map_or("-".into(), rate_text);
        let ratio = |r: Option<f64>| r.map_or("-".into(), |r| ratio_text(r / all));
        println!(
            "| {prompts} x {} | {} | {} | {} | {} | {} | {} | {agreement} |",
            args.candidates,
            rate_text(single),
            rate_text(all),
            rate(whole),
            rate(kernels),
            ratio(whole),
            ratio(kernels)
        );
    }
    Ok(())
}

fn io_table(args: &BenchArgs, params: &SampleParams) -> Result<(), Error> {
    println!("\n| dump | size | read floor | parse floor | rso sample (cpu) | sample / parse floor |");
    println!("|---|---|---|---|---|---|");
    for path in &args.input {
        let block = CpuSampler::new().preferred_block_bytes();
        let (read, bytes) = best_time(args.repeats, || read_floor(path, block))?;
        let (parse, _) = best_time(args.repeats, || parse_floor(path, block))?;
        let mut job = SampleJob::new(Input::File(path.clone()), *params);
        job.output = Some(PathBuf::from("/dev/null"));
        job.on_short = OnShort::All;
        let (sample, _) = best_time(args.repeats, || run_sample(&job, &CpuSampler::new()))?;
        let mb = bytes as f64 / 1e6;
        println!(
            "| {} | {:.1} MB | {:.3} s ({:.0} MB/s) | {:.3} s ({:.0} MB/s) | {:.3} s ({:.0} MB/s) | {:.2} |",
            path.display(),
            mb,
            read.as_secs_f64(),
            mb / read.as_secs_f64(),
            parse.as_secs_f64(),
            mb / parse.as_secs_f64(),
            sample.as_secs_f64(),
            mb / sample.as_secs_f64(),
            sample.as_secs_f64() / parse.as_secs_f64()
        );
    }
    Ok(())
}

fn ratio_text(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}x")
    } else if ratio >= 1.0 {
        format!("{ratio:.1}x")
    } else {
        format!("{ratio:.3}x")
    }
}

fn rate_text(rate: f64) -> String {
    if rate >= 1e9 {
        format!("{:.2} G/s", rate / 1e9)
    } else {
        format!("{:.1} M/s", rate / 1e6)
    }
}
