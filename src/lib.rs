//! rso: statistical rejection sampling (RSO, Liu et al., ICLR 2024) over candidate dumps.
//!
//! Data flows one way: read -> batch -> sample -> pair -> write.
//!
//! - [`io`]: dumps in (wide and long JSONL layouts, compressed or not) and rows out;
//! - [`sampler`]: the sampler over [`sampler::Batch`]es: the CPU reference and the GPU
//!   backend behind one trait, [`sampler::Sampler`];
//! - [`pairs`]: preference pairs from each prompt's accepted samples;
//! - [`pipeline`]: the `rso sample` job tying them together, streaming;
//! - [`stats`] and [`plot`]: `rso stats`, to choose beta;
//! - [`bench`]: the measurements behind `rso bench` and the criterion suites;
//! - [`cli`]: the command line, thin over the rest; [`error`]: the typed errors.

pub mod bench;
pub mod cli;
pub mod error;
pub mod io;
pub mod pairs;
pub mod pipeline;
pub mod plot;
pub mod sampler;
pub mod stats;

pub use error::{Error, Result};
