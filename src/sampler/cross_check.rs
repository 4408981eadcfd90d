//! Comparing two backends on the same batch (`--cross-check`).
//!
//! SPEC.md allows backends to differ only where a uniform lies within a few ulp of its
//! acceptance probability, since GPU `exp` (and division) is not correctly rounded. For every
//! prompt whose indices differ, [`cross_check`] replays the reference algorithm and reports
//! whether some draw along the way was such a near tie; a difference without one points to
//! a bug.

use super::cpu::pool_max;
use super::{acceptance_probability, rng, Batch, SampleParams, Sampler, Selection};
use crate::error::Error;

/// Base tolerance of a near tie, in ulps of the acceptance probability. WGSL allows `exp(x)`
/// an error of 3 + 2|x| ulp and division 2.5 ulp; the |x| term is added per draw.
pub const NEAR_TIE_ULPS: f32 = 8.0;

/// One prompt whose indices differ between the two samplers.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// The prompt's position in the batch.
    pub prompt: usize,
    /// Indices from the first sampler.
    pub a: Vec<u32>,
    /// Indices from the second sampler.
    pub b: Vec<u32>,
    /// Some draw along the reference path had u within the tolerance of its acceptance
    /// probability: the difference is rounding, not a bug.
    pub near_tie: bool,
    /// The smallest |u - p| over the draws along the reference path, in ulps of p.
    pub closest_ulps: f32,
}

/// What [`cross_check`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrossCheckReport {
    /// Prompts compared.
    pub prompts: usize,
    /// Prompts whose indices differ, in batch order.
    pub differing: Vec<Difference>,
}

impl CrossCheckReport {
    /// Differences explained by a near tie.
    pub fn near_ties(&self) -> usize {
        self.differing.iter().filter(|d| d.near_tie).count()
    }

    /// Differences with no near tie: each one is a bug in one of the samplers.
    pub fn unexplained(&self) -> usize {
        self.differing.len() - self.near_ties()
    }

    /// The fraction of prompts with identical indices.
    pub fn agreement(&self) -> f64 {
        if self.prompts == 0 {
            1.0
        } else {
            1.0 - self.differing.len() as f64 / self.prompts as f64
        }
    }
}

/// Runs both samplers on `batch` and compares their indices prompt by prompt.
pub fn cross_check(
    batch: &Batch,
    params: &SampleParams,
    a: &dyn Sampler,
    b: &dyn Sampler,
) -> Result<CrossCheckReport, Error> {
    let sa = a.sample(batch, params)?;
    let sb = b.sample(batch, params)?;
    Ok(compare(batch, params, &sa, &sb))
}

/// Compares two selections of the same batch (see [`cross_check`]).
pub fn compare(batch: &Batch, params: &SampleParams, a: &Selection, b: &Selection) -> CrossCheckReport {
    let differing = (0..batch.len())
        .filter(|&p| a.of(p) != b.of(p))
        .map(|p| {
            let (margin, closest_ulps) = closest_draw(batch.pool(p), batch.keys[p], params);
            Difference { prompt: p, a: a.of(p).to_vec(), b: b.of(p).to_vec(), near_tie: margin <= 0.0, closest_ulps }
        })
        .collect();
    CrossCheckReport { prompts: batch.len(), differing }
}

/// |u - p| in ulps of p.
fn ulps_apart(u: f32, p: f32) -> f32 {
    let ulp = if p > 0.0 { (f32::from_bits(p.to_bits() + 1) - p).max(f32::MIN_POSITIVE) } else { f32::MIN_POSITIVE };
    (u - p).abs() / ulp
}

/// Replays the reference path and calls `visit(u, p, x)` for every draw, where
/// x = (r - m) / beta is the argument of `exp`.
fn replay(rewards: &[f32], key: [u32; 2], params: &SampleParams, mut visit: impl FnMut(f32, f32, f32)) {
    let wanted = params.samples_for(rewards.len());
    let mut alive: Vec<u32> = (0..rewards.len() as u32).collect();
    let mut taken = 0;
    let mut round = 0;
    while taken < wanted {
        let max = pool_max(rewards, &alive);
        let mut kept = Vec::with_capacity(alive.len());
        let mut scanned = 0;
        for &i in &alive {
            if taken == wanted {
                break;
            }
            scanned += 1;
            let r = rewards[i as usize];
            let u = rng::uniform(key, round, i);
            let p = acceptance_probability(r, max, params.beta);
            visit(u, p, (r - max) / params.beta);
            if u < p {
                taken += 1;
            } else {
                kept.push(i);
            }
        }
        kept.extend_from_slice(&alive[scanned..]);
        alive = kept;
        round += 1;
    }
}

/// Over the draws along the reference path: the smallest (distance - tolerance), in ulps
/// (<= 0 means a near tie), and the smallest |u - p| in ulps of p.
fn closest_draw(rewards: &[f32], key: [u32; 2], params: &SampleParams) -> (f32, f32) {
    let (mut margin, mut raw) = (f32::INFINITY, f32::INFINITY);
    replay(rewards, key, params, |u, p, x| {
        let apart = ulps_apart(u, p);
        // Below the smallest normal, GPUs may flush p to 0: u = 0 then decides differently.
        let flushed = u == 0.0 && p > 0.0 && p < f32::MIN_POSITIVE;
        let tolerance = NEAR_TIE_ULPS + 2.0 * if x.is_finite() { x.abs() } else { 0.0 };
        margin = margin.min(if flushed { 0.0 } else { apart - tolerance });
        raw = raw.min(apart);
    });
    (margin, raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::cpu::CpuSampler;

    /// A sampler that flips one prompt's first two indices.
    struct Broken;
    impl Sampler for Broken {
        fn describe(&self) -> String {
            "broken".into()
        }
        fn sample(&self, batch: &Batch, params: &SampleParams) -> Result<Selection, Error> {
            let mut s = CpuSampler::new().sample(batch, params)?;
            let start = s.offsets[1] as usize;
            s.indices.swap(start, start + 1);
            Ok(s)
        }
    }

    #[test]
    fn identical_samplers_agree_and_a_bug_is_unexplained() {
        let mut batch = Batch::new();
        for p in 0..50u64 {
            batch.push((0..20).map(|i| ((i * 7 + p) % 13) as f32 / 5.0), rng::prompt_stream_key(1, p));
        }
        let params = SampleParams::new(4, 0.5).unwrap();
        let same = cross_check(&batch, &params, &CpuSampler::new(), &CpuSampler::new()).unwrap();
        assert_eq!(same.differing.len(), 0);
        assert_eq!(same.agreement(), 1.0);
        let broken = cross_check(&batch, &params, &CpuSampler::new(), &Broken).unwrap();
        assert_eq!(broken.differing.len(), 1);
        assert_eq!(broken.differing[0].prompt, 1);
        assert_eq!(broken.unexplained(), 1);
    }

    #[test]
    fn a_draw_next_to_its_probability_is_a_near_tie() {
        // Choose a reward so that p lands exactly on the first draw u: a tie by construction.
        let key = rng::prompt_stream_key(3, 3);
        let u = rng::uniform(key, 0, 0);
        let beta = 1.0;
        let reward = u.ln(); // exp(reward - 0) ~ u, within an ulp or two
        let rewards = [reward, 0.0];
        let params = SampleParams::new(1, beta).unwrap();
        assert!(closest_draw(&rewards, key, &params).0 <= 0.0);
    }
}
