//! `--backend`, `--threads`, `--block-size`: how a subcommand runs its batches.

use crate::error::Error;
use crate::sampler::cpu::CpuSampler;
use crate::sampler::gpu::{adapter_info, GpuSampler};
use crate::sampler::Sampler;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// The GPU when a hardware adapter exists, else the CPU.
    #[default]
    Auto,
    /// The CPU reference sampler on all cores.
    Cpu,
    /// Any wgpu adapter (a software one too); an error when there is none.
    Gpu,
}

/// The options `rso sample` and `rso stats` share: which sampler, how many threads, how
/// much input per batch.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Which sampler runs the batches.
    #[arg(long, value_enum, default_value_t = Backend::Auto)]
    pub backend: Backend,
    /// Worker threads for parsing and CPU sampling (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Input bytes per batch, e.g. 1048576, 4MiB or 512K (default: what the backend
    /// prefers: 1 MiB on the CPU, 32 MiB on the GPU). Output does not depend on it.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub block_size: Option<usize>,
}

impl RunArgs {
    /// Sets the thread count and builds the sampler (`backend` overrides `--backend`).
    pub fn start(&self, backend: Option<Backend>, quiet: bool) -> Result<Box<dyn Sampler>, Error> {
        super::set_threads(self.threads)?;
        make_sampler(backend.unwrap_or(self.backend), quiet)
    }

    /// The batch size in bytes: `--block-size`, else what `sampler` prefers.
    pub fn block_size(&self, sampler: &dyn Sampler) -> usize {
        self.block_size.unwrap_or_else(|| sampler.preferred_block_bytes()).max(1)
    }
}

/// Parses a byte count: a number with an optional unit K/KiB, M/MiB, G/GiB (powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !c.is_ascii_digit()).unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}`: unknown unit (use a byte count such as 1048576, 512K, 4MiB or 1G)")),
    };
    let value: usize = digits.parse().map_err(|_| format!("`{text}` is not a byte count (such as 1048576, 512K or 4MiB)"))?;
    value
        .checked_mul(1 << shift)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("`{text}`: a block size must be between 1 byte and {} bytes", usize::MAX))
}

/// Builds the sampler for `backend`. `auto` says on stderr which one it chose and why
/// (unless `quiet`).
pub fn make_sampler(backend: Backend, quiet: bool) -> Result<Box<dyn Sampler>, Error> {
    match backend {
        Backend::Cpu => Ok(Box::new(CpuSampler::new())),
        Backend::Gpu => Ok(Box::new(gpu_sampler()?)),
        Backend::Auto => {
            let say = |text: String| {
                if !quiet {
                    eprintln!("rso: --backend auto: {text}");
                }
            };
            match adapter_info() {
                Some(info) if info.device_type != wgpu::DeviceType::Cpu => match GpuSampler::new(true).and_then(with_binding_cap) {
                    Ok(gpu) => {
                        say(format!("using the GPU ({})", info.name));
                        Ok(Box::new(gpu))
                    }
                    Err(e) => {
                        say(format!("GPU {} unusable ({e}); using the CPU", info.name));
                        Ok(Box::new(CpuSampler::new()))
                    }
                },
                Some(info) => {
                    say(format!("only a software adapter ({}); using the CPU (--backend gpu forces it)", info.name));
                    Ok(Box::new(CpuSampler::new()))
                }
                None => {
                    say("no GPU adapter; using the CPU".into());
                    Ok(Box::new(CpuSampler::new()))
                }
            }
        }
    }
}

/// The GPU sampler on any adapter (`--backend gpu`), with `RSO_GPU_MAX_BINDING_BYTES` applied.
pub fn gpu_sampler() -> Result<GpuSampler, Error> {
    with_binding_cap(GpuSampler::new(false)?)
}

/// `RSO_GPU_MAX_BINDING_BYTES` caps the bytes of rewards one GPU sub-batch binds (the
/// device's limit otherwise): for tuning, and for testing the split and its errors.
fn with_binding_cap(gpu: GpuSampler) -> Result<GpuSampler, Error> {
    match std::env::var("RSO_GPU_MAX_BINDING_BYTES") {
        Ok(text) => {
            let bytes = text
                .parse()
                .map_err(|_| Error::Argument(format!("RSO_GPU_MAX_BINDING_BYTES: `{text}` is not a byte count")))?;
            Ok(gpu.with_max_binding_bytes(bytes))
        }
        Err(_) => Ok(gpu),
    }
}
