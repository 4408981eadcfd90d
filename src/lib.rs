//! rso: statistical rejection sampling (RSO, Liu et al., ICLR 2024) over candidate dumps.
//!
//! Data flows one way: [`io`] reads rows and batches them -> [`sampler`] draws k samples per
//! prompt (CPU reference or GPU) -> [`io`] writes samples or preference pairs.

pub mod error;
pub mod sampler;

pub use error::{Error, Result};
pub mod io;
pub mod pairs;
pub mod pipeline;
pub mod plot;
pub mod stats;
pub mod cli;
pub mod bench;
