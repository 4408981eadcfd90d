//! `--backend`: which sampler runs the batches.

use crate::error::Error;
use crate::sampler::cpu::CpuSampler;
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

/// Builds the sampler for `backend`, saying on stderr which one `auto` chose.
pub fn make_sampler(backend: Backend) -> Result<Box<dyn Sampler>, Error> {
    match backend {
        Backend::Cpu | Backend::Auto => Ok(Box::new(CpuSampler::new())),
        Backend::Gpu => Err(Error::Gpu("this build has no GPU backend".into())),
    }
}
