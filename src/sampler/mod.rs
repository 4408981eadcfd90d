//! The sampler: statistical rejection sampling of SPEC.md, over batches of many prompts.
//!
//! A [`Batch`] holds many prompts' pools in flat arrays (rewards + offsets + keys), the
//! layout every backend consumes. [`cpu`] is the reference implementation; the GPU backend
//! ([`gpu`]) must produce the same indices (SPEC.md section 2); [`cross_check`] compares two
//! backends and explains their differences.

pub mod cpu;
pub mod cross_check;
pub mod gpu;
pub mod rng;

use crate::error::Error;

/// Parameters shared by every prompt of a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleParams {
    /// k: samples drawn per prompt (a pool with fewer candidates yields all of them).
    pub num_samples: u32,
    /// beta > 0, or the limits: 0 is greedy top-k, +inf keeps the first k candidates.
    pub beta: f32,
}

impl SampleParams {
    /// Checks k and beta; beta may be 0 or +inf (the exact limits of the rule).
    pub fn new(num_samples: u32, beta: f32) -> Result<Self, Error> {
        if num_samples == 0 {
            return Err(Error::Argument("--num-samples must be at least 1".into()));
        }
        if beta.is_nan() || beta < 0.0 {
            return Err(Error::Argument(format!(
                "--beta must be a positive number, 0 (greedy) or inf (first k), got {beta}"
            )));
        }
        Ok(Self { num_samples, beta })
    }

    /// Samples drawn from a pool of `pool_len` candidates: min(k, N).
    pub fn samples_for(&self, pool_len: usize) -> usize {
        pool_len.min(self.num_samples as usize)
    }
}

/// Many prompts' pools in flat arrays: pool `p` is `rewards[offsets[p]..offsets[p + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Rewards of all pools, concatenated, as f32 (SPEC.md: f32 arithmetic).
    pub rewards: Vec<f32>,
    /// Pool boundaries: `offsets.len() == prompts + 1`, `offsets[0] == 0`.
    pub offsets: Vec<u32>,
    /// Each prompt's Threefry stream key (`rng::prompt_stream_key`).
    pub keys: Vec<[u32; 2]>,
}

impl Batch {
    pub fn new() -> Self {
        Self { rewards: Vec::new(), offsets: vec![0], keys: Vec::new() }
    }

    /// Appends one prompt's pool.
    pub fn push(&mut self, rewards: impl IntoIterator<Item = f32>, stream_key: [u32; 2]) {
        self.rewards.extend(rewards);
        self.offsets.push(self.rewards.len() as u32);
        self.keys.push(stream_key);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn num_candidates(&self) -> usize {
        self.rewards.len()
    }

    /// The rewards of pool `prompt`.
    pub fn pool(&self, prompt: usize) -> &[f32] {
        &self.rewards[self.offsets[prompt] as usize..self.offsets[prompt + 1] as usize]
    }
}

/// What a sampler returns for a batch: per prompt, the accepted indices (positions in the
/// pool) in acceptance order, and the number of rounds it took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Accepted indices of all prompts, concatenated.
    pub indices: Vec<u32>,
    /// Boundaries into `indices`: `offsets.len() == prompts + 1`.
    pub offsets: Vec<u32>,
    /// Rounds used per prompt (at most k; 0 for an empty pool).
    pub rounds: Vec<u32>,
}

impl Selection {
    pub fn with_capacity(prompts: usize, indices: usize) -> Self {
        let mut offsets = Vec::with_capacity(prompts + 1);
        offsets.push(0);
        Self { indices: Vec::with_capacity(indices), offsets, rounds: Vec::with_capacity(prompts) }
    }

    /// The accepted indices of prompt `prompt`, in acceptance order.
    pub fn of(&self, prompt: usize) -> &[u32] {
        &self.indices[self.offsets[prompt] as usize..self.offsets[prompt + 1] as usize]
    }

    pub fn len(&self) -> usize {
        self.rounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rounds.is_empty()
    }

    /// Appends another selection's prompts after this one's.
    pub fn append(&mut self, other: &Selection) {
        let base = self.indices.len() as u32;
        self.indices.extend_from_slice(&other.indices);
        self.offsets.extend(other.offsets[1..].iter().map(|o| o + base));
        self.rounds.extend_from_slice(&other.rounds);
    }
}

/// A backend that runs SPEC.md's sampler over a batch.
pub trait Sampler: Send + Sync {
    /// A one-line description (backend, device, threads) for summaries.
    fn describe(&self) -> String;
    /// Samples every prompt of `batch`: min(k, N) indices per pool, in acceptance order.
    fn sample(&self, batch: &Batch, params: &SampleParams) -> Result<Selection, Error>;
    /// Bytes of input per batch that suit this backend: small batches keep the CPU
    /// pipeline's stages overlapping, a GPU wants many prompts per dispatch.
    fn preferred_block_bytes(&self) -> usize {
        1 << 20
    }
}

/// The acceptance probability of a candidate with reward `reward` when the pool's current
/// maximum is `max`: exp((reward - max) / beta) in f32. The maximum itself is accepted with
/// probability 1, which also makes beta = 0 (greedy) exact instead of 0/0.
#[inline]
pub fn acceptance_probability(reward: f32, max: f32, beta: f32) -> f32 {
    if reward == max {
        1.0
    } else {
        ((reward - max) / beta).exp()
    }
}
