//! The CPU reference against exact enumeration (tests/common/exact.rs), and a check that
//! the chi-square test rejects a sampler with the wrong beta.

mod common;

use std::collections::HashMap;

use rso::sampler::cpu::CpuSampler;
use rso::sampler::{rng, Batch, SampleParams, Sampler};

fn observed(rewards: &[f32], k: u32, beta: f32, copies: u64) -> HashMap<Vec<u32>, u64> {
    let mut batch = Batch::new();
    for c in 0..copies {
        batch.push(rewards.iter().copied(), rng::prompt_stream_key(0xc0de, c));
    }
    let sel = CpuSampler::new().sample(&batch, &SampleParams::new(k, beta).unwrap()).unwrap();
    let mut counts = HashMap::new();
    for p in 0..sel.len() {
        *counts.entry(sel.of(p).to_vec()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn cpu_output_distribution_matches_exact_enumeration() {
    for (rewards, k, beta) in [
        (&[1.0f32, 0.6, 1.0, 0.8, 0.0][..], 3, 0.5f32),
        (&[0.5, 0.3, 0.3, 0.3, 0.1][..], 3, 0.2),
        (&[0.1, 0.9, 0.5, 0.4, 0.2, 0.7][..], 5, 0.3),
    ] {
        let expected = common::exact::exact_distribution(rewards, k as usize, beta);
        let fit = common::exact::chi_square(&expected, &observed(rewards, k, beta, 20_000), 20_000);
        assert!(fit.passes(), "{rewards:?}: {fit:?}");
    }
}

#[test]
fn chi_square_rejects_the_wrong_beta() {
    let rewards = [0.1f32, 0.9, 0.5, 0.4, 0.2, 0.7];
    let expected = common::exact::exact_distribution(&rewards, 3, 0.3);
    let fit = common::exact::chi_square(&expected, &observed(&rewards, 3, 0.4, 20_000), 20_000);
    assert!(!fit.passes(), "{fit:?}");
}

#[test]
fn grid_probability_is_exact_on_the_2_pow_minus_24_grid() {
    use common::exact::grid_probability;
    assert_eq!(grid_probability(1.0), 1.0);
    assert_eq!(grid_probability(0.0), 0.0);
    assert_eq!(grid_probability(0.5), 0.5);
    // Below one grid step: only u = 0 passes.
    assert_eq!(grid_probability(1e-30), 1.0 / 16_777_216.0);
}
