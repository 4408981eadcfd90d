//! The CPU reference sampler: SPEC.md section 1 written out, one pool at a time.
//!
//! Each GPU stage has its twin here: [`pool_max`] (shaders/pool_max.wgsl) and
//! [`accept_round`] (one round of shaders/small_pool.wgsl; for large pools, block_count,
//! block_scan and block_write). [`CpuSampler`] runs pools in parallel with rayon;
//! the result does not depend on the thread count.

use rayon::prelude::*;

use super::{acceptance_probability, rng, Batch, SampleParams, Sampler, Selection};
use crate::error::Error;

/// The maximum reward among the candidates still alive.
pub fn pool_max(rewards: &[f32], alive: &[u32]) -> f32 {
    alive.iter().map(|&i| rewards[i as usize]).fold(f32::NEG_INFINITY, f32::max)
}

/// One round over the alive candidates, in input order: accepts each with probability
/// exp((r - max) / beta) until `wanted` are accepted, appending them to `accepted` and
/// removing them from `alive`. Returns how many it accepted.
pub fn accept_round(
    rewards: &[f32],
    alive: &mut Vec<u32>,
    stream_key: [u32; 2],
    round: u32,
    beta: f32,
    wanted: usize,
    accepted: &mut Vec<u32>,
) -> usize {
    let max = pool_max(rewards, alive);
    let mut taken = 0;
    let mut scanned = 0;
    let mut write = 0;
    // Uniforms are drawn a block at a time (vectorised); those after the stop go unused.
    let mut draws = [0f32; DRAW_BLOCK];
    'scan: while scanned < alive.len() {
        let block = (alive.len() - scanned).min(DRAW_BLOCK);
        rng::uniforms(stream_key, round, &alive[scanned..scanned + block], &mut draws[..block]);
        for &u in &draws[..block] {
            let index = alive[scanned];
            scanned += 1;
            if u < acceptance_probability(rewards[index as usize], max, beta) {
                accepted.push(index);
                taken += 1;
                if taken == wanted {
                    break 'scan;
                }
            } else {
                alive[write] = index;
                write += 1;
            }
        }
    }
    // Candidates after the stop were never scanned: they stay alive (unused afterwards).
    alive.copy_within(scanned.., write);
    alive.truncate(write + (alive.len() - scanned));
    taken
}

/// Uniforms drawn per block in [`accept_round`].
const DRAW_BLOCK: usize = 32;

/// Samples one pool: min(k, N) indices in acceptance order. Returns the rounds used.
pub fn sample_pool(
    rewards: &[f32],
    stream_key: [u32; 2],
    params: &SampleParams,
    accepted: &mut Vec<u32>,
) -> u32 {
    let wanted = params.samples_for(rewards.len());
    let mut alive: Vec<u32> = (0..rewards.len() as u32).collect();
    let mut taken = 0;
    let mut round = 0;
    while taken < wanted {
        taken += accept_round(rewards, &mut alive, stream_key, round, params.beta, wanted - taken, accepted);
        round += 1;
    }
    round
}

/// The reference backend: pools in parallel on the current rayon thread pool.
#[derive(Clone, Debug, Default)]
pub struct CpuSampler {
    /// Prompts per parallel task; the output never depends on it.
    pub prompts_per_task: Option<usize>,
}

impl CpuSampler {
    pub fn new() -> Self {
        Self::default()
    }

    fn sample_range(batch: &Batch, params: &SampleParams, range: std::ops::Range<usize>) -> Selection {
        let expected: usize = range.clone().map(|p| params.samples_for(batch.pool(p).len())).sum();
        let mut out = Selection::with_capacity(range.len(), expected);
        for p in range {
            let rounds = sample_pool(batch.pool(p), batch.keys[p], params, &mut out.indices);
            out.offsets.push(out.indices.len() as u32);
            out.rounds.push(rounds);
        }
        out
    }
}

impl Sampler for CpuSampler {
    fn describe(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn sample(&self, batch: &Batch, params: &SampleParams) -> Result<Selection, Error> {
        let prompts = batch.len();
        let per_task = self
            .prompts_per_task
            .unwrap_or_else(|| (prompts / (rayon::current_num_threads() * 8)).clamp(64, 8192))
            .max(1);
        let parts: Vec<Selection> = (0..prompts.div_ceil(per_task))
            .into_par_iter()
            .map(|t| Self::sample_range(batch, params, t * per_task..((t + 1) * per_task).min(prompts)))
            .collect();
        let mut out = Selection::with_capacity(prompts, parts.iter().map(|s| s.indices.len()).sum());
        for part in &parts {
            out.append(part);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(k: u32, beta: f32) -> SampleParams {
        SampleParams::new(k, beta).unwrap()
    }

    #[test]
    fn infinite_beta_keeps_the_first_k() {
        let mut out = Vec::new();
        let rounds = sample_pool(&[0.0, 5.0, -3.0, 1.0, 2.0], [1, 2], &params(3, f32::INFINITY), &mut out);
        assert_eq!(out, vec![0, 1, 2]);
        assert_eq!(rounds, 1);
    }

    #[test]
    fn zero_beta_is_greedy_top_k_with_ties_in_input_order() {
        let mut out = Vec::new();
        sample_pool(&[1.0, 3.0, 2.0, 3.0, 0.5], [9, 9], &params(4, 0.0), &mut out);
        assert_eq!(out, vec![1, 3, 2, 0]);
    }

    #[test]
    fn short_pool_yields_every_candidate_and_terminates() {
        let mut out = Vec::new();
        let rounds = sample_pool(&[0.1, -50.0], [0, 0], &params(8, 0.01), &mut out);
        let mut sorted = out.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1]);
        assert!(rounds <= 2);
    }

    #[test]
    fn every_round_accepts_the_current_maximum() {
        for seed in 0..200u64 {
            let rewards: Vec<f32> = (0..16).map(|i| ((i * 37 + seed as i32) % 11) as f32 * 0.3).collect();
            let mut out = Vec::new();
            let rounds = sample_pool(&rewards, rng::prompt_stream_key(seed, 0), &params(8, 0.05), &mut out);
            assert_eq!(out.len(), 8);
            assert!(rounds <= 8);
            let mut unique = out.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), 8, "an index was accepted twice");
        }
    }

    #[test]
    fn batch_result_does_not_depend_on_task_size() {
        let mut batch = Batch::new();
        for p in 0..300u64 {
            let n = 1 + (p as usize * 7) % 40;
            batch.push((0..n).map(|i| ((i * 13 + p as usize) % 17) as f32 / 4.0), rng::prompt_stream_key(5, p));
        }
        let prm = params(8, 0.5);
        let a = CpuSampler { prompts_per_task: Some(1) }.sample(&batch, &prm).unwrap();
        let b = CpuSampler { prompts_per_task: Some(1000) }.sample(&batch, &prm).unwrap();
        let c = CpuSampler { prompts_per_task: Some(7) }.sample(&batch, &prm).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        for p in 0..batch.len() {
            let mut one = Vec::new();
            sample_pool(batch.pool(p), batch.keys[p], &prm, &mut one);
            assert_eq!(a.of(p), &one[..]);
        }
    }
}
