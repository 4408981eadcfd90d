//! The exact output distribution of one pool, by enumerating SPEC.md's algorithm, and a
//! chi-square goodness-of-fit test of observed outputs against it.
//!
//! A uniform is u = j * 2^-24 with j uniform in 0..2^24, so for p in [0, 1]
//! P(u < p) = #{j : j < p * 2^24} / 2^24 = ceil(p * 2^24) / 2^24, exactly. The acceptance
//! probabilities p are computed in f32 as the sampler does. Uniforms of different (round,
//! index) pairs are modelled as independent.

use std::collections::HashMap;

use rso::sampler::acceptance_probability;

/// P(u < p) for u on the 2^-24 grid.
pub fn grid_probability(p: f32) -> f64 {
    if p.is_nan() || p <= 0.0 {
        return 0.0;
    }
    let p = f64::from(p.min(1.0));
    (p * 16_777_216.0).ceil() / 16_777_216.0
}

/// Every output sequence (accepted indices in order) of the pool and its probability.
pub fn exact_distribution(rewards: &[f32], k: usize, beta: f32) -> HashMap<Vec<u32>, f64> {
    let mut out = HashMap::new();
    let alive: Vec<u32> = (0..rewards.len() as u32).collect();
    let wanted = k.min(rewards.len());
    rounds(rewards, beta, wanted, alive, Vec::new(), 1.0, &mut out);
    out
}

fn rounds(
    rewards: &[f32],
    beta: f32,
    wanted: usize,
    alive: Vec<u32>,
    accepted: Vec<u32>,
    prob: f64,
    out: &mut HashMap<Vec<u32>, f64>,
) {
    if accepted.len() >= wanted {
        *out.entry(accepted).or_insert(0.0) += prob;
        return;
    }
    let max = alive.iter().map(|&i| rewards[i as usize]).fold(f32::NEG_INFINITY, f32::max);
    let q: Vec<f64> = alive
        .iter()
        .map(|&i| grid_probability(acceptance_probability(rewards[i as usize], max, beta)))
        .collect();
    // Walk the round's scan: each alive candidate in order is accepted or not; the scan stops
    // once the pool has `wanted`.
    let mut stack = vec![(0usize, accepted, Vec::<u32>::new(), prob)];
    while let Some((pos, acc, kept, p)) = stack.pop() {
        if acc.len() == wanted || pos == alive.len() {
            let mut next_alive = kept;
            next_alive.extend_from_slice(&alive[pos..]);
            rounds(rewards, beta, wanted, next_alive, acc, p, out);
            continue;
        }
        let i = alive[pos];
        if q[pos] > 0.0 {
            let mut a = acc.clone();
            a.push(i);
            stack.push((pos + 1, a, kept.clone(), p * q[pos]));
        }
        if q[pos] < 1.0 {
            let mut k2 = kept;
            k2.push(i);
            stack.push((pos + 1, acc, k2, p * (1.0 - q[pos])));
        }
    }
}

/// The result of a chi-square goodness-of-fit test.
#[derive(Debug)]
pub struct ChiSquare {
    pub statistic: f64,
    pub df: usize,
    pub critical: f64,
    /// Observed outputs that have probability 0.
    pub impossible: u64,
}

impl ChiSquare {
    pub fn passes(&self) -> bool {
        self.impossible == 0 && self.statistic <= self.critical
    }
}

/// Upper critical value of chi-square with `df` degrees of freedom at one-sided normal
/// quantile `z` (Wilson-Hilferty; z = 3.719 is alpha = 1e-4, conservative for small df).
pub fn critical_value(df: usize, z: f64) -> f64 {
    let d = df as f64;
    let a = 2.0 / (9.0 * d);
    d * (1.0 - a + z * a.sqrt()).powi(3)
}

/// Tests `observed` counts (of `n` draws) against `expected` probabilities. Outcomes with an
/// expected count under 5 are pooled into one category, which takes the next smallest
/// outcomes until its own expected count reaches 5.
pub fn chi_square(expected: &HashMap<Vec<u32>, f64>, observed: &HashMap<Vec<u32>, u64>, n: u64) -> ChiSquare {
    let impossible = observed.iter().filter(|(s, _)| !expected.contains_key(*s)).map(|(_, c)| c).sum();
    let nf = n as f64;
    let mut cells: Vec<(f64, f64)> = expected
        .iter()
        .map(|(seq, &p)| (p * nf, *observed.get(seq).unwrap_or(&0) as f64))
        .collect();
    cells.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut pooled_e, mut pooled_o) = (0.0, 0.0);
    let mut first_kept = 0;
    while first_kept < cells.len() && (cells[first_kept].0 < 5.0 || (pooled_e > 0.0 && pooled_e < 5.0)) {
        pooled_e += cells[first_kept].0;
        pooled_o += cells[first_kept].1;
        first_kept += 1;
    }
    let mut kept: Vec<(f64, f64)> = cells[first_kept..].to_vec();
    if pooled_e > 0.0 {
        kept.push((pooled_e, pooled_o));
    }
    let statistic = kept.iter().map(|&(e, o)| (o - e) * (o - e) / e).sum();
    let df = kept.len().max(2) - 1;
    ChiSquare { statistic, df, critical: critical_value(df, 3.719), impossible }
}

/// Checks that the probabilities of a distribution sum to 1.
pub fn total_probability(dist: &HashMap<Vec<u32>, f64>) -> f64 {
    dist.values().sum()
}
