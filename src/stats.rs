//! Statistics for choosing beta: what the sampler selects, and how far the reweighted
//! candidate distribution softmax(r / beta) moves from the uniform one over each pool.
//!
//! Every number is a mean over prompts (each prompt weighs the same):
//! - `selected_mean`: the mean reward of a prompt's accepted samples (from the real sampler);
//! - `selected_std`: the spread (population standard deviation) of those rewards;
//! - `pool_mean`: the mean reward of the prompt's pool; `gain` = selected_mean - pool_mean;
//! - `acceptance_rate`: the expected acceptance rate of round one, mean_i exp((r_i - max) / beta);
//! - `mean_rounds`: rounds the sampler used;
//! - `short_fraction`: the fraction of prompts with fewer than k candidates;
//! - `kl`: KL(softmax(r / beta) || uniform) = log N - H(softmax(r / beta)), the empirical
//!   KL(pi_r || pi_sft) when the pool is a sample of pi_sft.
//!
//! beta = 0 and beta = inf are the exact limits: the softmax is uniform over the pool's
//! maxima, or over the whole pool.

use rayon::prelude::*;
use serde_json::json;

use crate::error::Error;
use crate::sampler::{Batch, SampleParams, Sampler};

/// The statistics of one beta.
#[derive(Clone, Debug, PartialEq)]
pub struct BetaStats {
    pub beta: f32,
    pub selected_mean: f64,
    pub selected_std: f64,
    pub pool_mean: f64,
    pub gain: f64,
    pub acceptance_rate: f64,
    pub mean_rounds: f64,
    pub short_fraction: f64,
    pub kl: f64,
}

/// z_i = (r_i - max) / beta, with the maximum at exactly 0 (so beta = 0 and inf are exact).
fn scaled(reward: f32, max: f32, beta: f32) -> f64 {
    if reward == max {
        0.0
    } else {
        (reward as f64 - max as f64) / beta as f64
    }
}

fn max_of(rewards: &[f32]) -> f32 {
    rewards.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// Expected acceptance rate of round one over a pool: mean_i exp((r_i - max) / beta).
pub fn acceptance_rate(rewards: &[f32], beta: f32) -> f64 {
    let max = max_of(rewards);
    rewards.iter().map(|&r| scaled(r, max, beta).exp()).sum::<f64>() / rewards.len() as f64
}

/// KL(softmax(r / beta) || uniform) over a pool, by log-sum-exp: log N + sum p log p.
pub fn kl_from_uniform(rewards: &[f32], beta: f32) -> f64 {
    if beta.is_infinite() {
        return 0.0;
    }
    let max = max_of(rewards);
    let z: Vec<f64> = rewards.iter().map(|&r| scaled(r, max, beta)).collect();
    // The largest z is 0, so the sum is in [1, N]: no overflow.
    let log_sum = z.iter().map(|v| v.exp()).sum::<f64>().ln();
    let neg_entropy: f64 = z
        .iter()
        .map(|&v| {
            let log_p = v - log_sum;
            if log_p == f64::NEG_INFINITY {
                0.0
            } else {
                log_p.exp() * log_p
            }
        })
        .sum();
    ((rewards.len() as f64).ln() + neg_entropy).max(0.0)
}

fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let (n, sum) = values.clone().fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = sum / n as f64;
    let var = values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    (mean, var.sqrt())
}

/// The statistics of `beta` over every pool of `batch`, sampling k per prompt with `sampler`.
pub fn beta_stats(batch: &Batch, num_samples: u32, beta: f32, sampler: &dyn Sampler) -> Result<BetaStats, Error> {
    let params = SampleParams::new(num_samples, beta)?;
    if batch.is_empty() {
        return Err(Error::Argument("the input has no prompts".into()));
    }
    let selection = sampler.sample(batch, &params)?;
    let k = num_samples as usize;
    // Per prompt: (selected mean, selected std, pool mean, acceptance rate, kl, rounds, short).
    let sums = (0..batch.len())
        .into_par_iter()
        .map(|p| {
            let pool = batch.pool(p);
            let chosen = selection.of(p).iter().map(|&i| pool[i as usize] as f64);
            let (sel_mean, sel_std) = mean_std(chosen);
            let pool_mean = pool.iter().map(|&r| r as f64).sum::<f64>() / pool.len() as f64;
            [
                sel_mean,
                sel_std,
                pool_mean,
                acceptance_rate(pool, beta),
                kl_from_uniform(pool, beta),
                selection.rounds[p] as f64,
                (pool.len() < k) as u8 as f64,
            ]
        })
        .reduce(|| [0.0; 7], |a, b| std::array::from_fn(|i| a[i] + b[i]));
    let n = batch.len() as f64;
    let m: [f64; 7] = std::array::from_fn(|i| sums[i] / n);
    Ok(BetaStats {
        beta,
        selected_mean: m[0],
        selected_std: m[1],
        pool_mean: m[2],
        gain: m[0] - m[2],
        acceptance_rate: m[3],
        kl: m[4],
        mean_rounds: m[5],
        short_fraction: m[6],
    })
}

/// A beta as text (`inf` for infinity).
pub fn beta_text(beta: f32) -> String {
    if beta.is_infinite() {
        "inf".into()
    } else {
        format!("{beta}")
    }
}

/// A plain-text table, one line per beta.
pub fn table(stats: &[BetaStats]) -> String {
    let mut out = format!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10}\n",
        "beta", "sel_mean", "sel_std", "pool_mean", "gain", "accept_r1", "rounds", "short", "kl"
    );
    for s in stats {
        out += &format!(
            "{:>8} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>10.4} {:>8.3} {:>8.4} {:>10.4}\n",
            beta_text(s.beta),
            s.selected_mean,
            s.selected_std,
            s.pool_mean,
            s.gain,
            s.acceptance_rate,
            s.mean_rounds,
            s.short_fraction,
            s.kl
        );
    }
    out
}

/// The statistics as JSON (an infinite beta is written as the string "inf").
pub fn to_json(stats: &[BetaStats], prompts: usize, candidates: usize, num_samples: u32, seed: u64) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = stats
        .iter()
        .map(|s| {
            json!({
                "beta": if s.beta.is_infinite() { json!("inf") } else { json!(s.beta as f64) },
                "selected_mean": s.selected_mean,
                "selected_std": s.selected_std,
                "pool_mean": s.pool_mean,
                "gain": s.gain,
                "acceptance_rate": s.acceptance_rate,
                "mean_rounds": s.mean_rounds,
                "short_fraction": s.short_fraction,
                "kl": s.kl,
            })
        })
        .collect();
    json!({
        "prompts": prompts,
        "candidates": candidates,
        "num_samples": num_samples,
        "seed": seed,
        "betas": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::cpu::CpuSampler;
    use crate::sampler::rng;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    /// KL and acceptance rate written out directly (no log-sum-exp).
    fn direct(rewards: &[f64], beta: f64) -> (f64, f64) {
        let n = rewards.len() as f64;
        let max = rewards.iter().copied().fold(f64::MIN, f64::max);
        let w: Vec<f64> = rewards.iter().map(|r| (r / beta).exp()).collect();
        let z: f64 = w.iter().sum();
        let kl: f64 = w.iter().map(|wi| (wi / z) * ((wi / z) * n).ln()).sum();
        let acc = rewards.iter().map(|r| ((r - max) / beta).exp()).sum::<f64>() / n;
        (kl, acc)
    }

    #[test]
    fn kl_and_acceptance_match_a_direct_computation() {
        let pools: [&[f32]; 3] = [&[0.5, -1.0, 2.0, 0.25], &[1.0, 1.0, 1.0], &[3.0, -2.0]];
        for pool in pools {
            let r64: Vec<f64> = pool.iter().map(|&r| r as f64).collect();
            for beta in [0.1f32, 0.5, 1.0, 2.0] {
                let (kl, acc) = direct(&r64, beta as f64);
                assert!(close(kl_from_uniform(pool, beta), kl.max(0.0)), "{pool:?} {beta}");
                assert!(close(acceptance_rate(pool, beta), acc), "{pool:?} {beta}");
            }
        }
    }

    #[test]
    fn limits_are_exact() {
        let pool = [1.0f32, 3.0, 3.0, 0.0];
        assert!(close(kl_from_uniform(&pool, 0.0), (4.0f64 / 2.0).ln()));
        assert!(close(acceptance_rate(&pool, 0.0), 0.5));
        assert_eq!(kl_from_uniform(&pool, f32::INFINITY), 0.0);
        assert_eq!(acceptance_rate(&pool, f32::INFINITY), 1.0);
        // Huge reward gaps stay finite.
        assert!(kl_from_uniform(&[1e30, -1e30], 1e-3).is_finite());
    }

    #[test]
    fn beta_stats_match_the_sampler_and_pools() {
        let mut batch = Batch::new();
        let pools: [&[f32]; 2] = [&[0.0, 1.0, 2.0, 3.0], &[5.0, -5.0]];
        for (p, pool) in pools.iter().enumerate() {
            batch.push(pool.iter().copied(), rng::prompt_stream_key(0, p as u64));
        }
        // beta = 0, k = 3: greedy top 3 of pool 0 -> {3,2,1}; pool 1 is short -> {5,-5}.
        let s = beta_stats(&batch, 3, 0.0, &CpuSampler::new()).unwrap();
        assert!(close(s.selected_mean, (2.0 + 0.0) / 2.0));
        let std0 = (2.0f64 / 3.0).sqrt();
        assert!(close(s.selected_std, (std0 + 5.0) / 2.0));
        assert!(close(s.pool_mean, (1.5 + 0.0) / 2.0));
        assert!(close(s.gain, 1.0 - 0.75));
        assert!(close(s.short_fraction, 0.5));
        assert!(close(s.acceptance_rate, (0.25 + 0.5) / 2.0));
        assert!(close(s.kl, (4.0f64.ln() + 2.0f64.ln()) / 2.0));
        assert!(close(s.mean_rounds, (3.0 + 2.0) / 2.0));
        let svg = crate::plot::svg::render(&crate::plot::layout(&[s.clone(), beta_stats(&batch, 3, 1.0, &CpuSampler::new()).unwrap()]));
        assert!(svg.starts_with("<svg") && svg.contains("β=0") && svg.contains("β=1"));
        assert!(table(&[s]).lines().count() == 2);
    }
}
