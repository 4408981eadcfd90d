//! `--backend`: which sampler runs the batches.

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

/// Builds the sampler for `backend`. `auto` says on stderr which one it chose and why
/// (unless `quiet`).
pub fn make_sampler(backend: Backend, quiet: bool) -> Result<Box<dyn Sampler>, Error> {
    match backend {
        Backend::Cpu => Ok(Box::new(CpuSampler::new())),
        Backend::Gpu => Ok(Box::new(with_binding_cap(GpuSampler::new(false)?)?)),
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
