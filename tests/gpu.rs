//! GPU backend tests: the WGSL generator against SPEC.md's known answers, CPU/GPU
//! cross-checks, and the GPU's output distribution against exact enumeration.
//!
//! Without an adapter these tests are skipped, except under CI (`CI=true`), where a missing
//! adapter is a failure.

mod common;

use std::sync::OnceLock;

use rso::sampler::cpu::CpuSampler;
use rso::sampler::cross_check::compare;
use rso::sampler::gpu::GpuSampler;
use rso::sampler::{rng, Batch, SampleParams, Sampler, Selection};

/// One sampler for the whole test binary (pipelines compile once).
fn gpu() -> Option<&'static GpuSampler> {
    static GPU: OnceLock<Option<GpuSampler>> = OnceLock::new();
    GPU.get_or_init(|| {
        if rso::sampler::gpu::adapter_info().is_none() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("no GPU adapter under CI (CI=true)");
            }
            eprintln!("skipping GPU test: no GPU adapter");
            return None;
        }
        // With an adapter, any failure (shader compilation, device) is a test failure.
        let gpu = GpuSampler::new(false).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("using {}", gpu.describe());
        Some(gpu)
    })
    .as_ref()
}

macro_rules! gpu_or_skip {
    () => {
        match gpu() {
            Some(g) => g,
            None => return,
        }
    };
}

/// Runs both backends, prints the number of differing prompts (near ties and unexplained),
/// and requires >= 99.99% identical prompts and no unexplained difference.
fn cross_check(name: &str, batch: &Batch, params: &SampleParams) -> Selection {
    let gpu = gpu().unwrap();
    let t = std::time::Instant::now();
    let g = gpu.sample(batch, params).expect("GPU sampling");
    let gpu_time = t.elapsed();
    let c = CpuSampler::new().sample(batch, params).unwrap();
    assert_eq!(g.offsets, c.offsets, "{name}: sample counts differ");
    let report = compare(batch, params, &c, &g);
    eprintln!(
        "{name}: {} prompts, {} candidates, {} differing prompts ({} near ties) (GPU {:.2?})",
        batch.len(),
        batch.num_candidates(),
        report.differing.len(),
        report.near_ties(),
        gpu_time
    );
    for d in report.differing.iter().take(5) {
        eprintln!("  {d:?}");
    }
    assert!(report.agreement() >= 0.9999, "{name}: {} of {} prompts differ", report.differing.len(), batch.len());
    assert_eq!(report.unexplained(), 0, "{name}: differences without a near tie");
    for p in 0..batch.len() {
        if c.of(p) == g.of(p) {
            assert_eq!(c.rounds[p], g.rounds[p], "{name}: rounds of prompt {p}");
        }
    }
    g
}

/// A small deterministic generator for test data (not the sampler's RNG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f32 {
        (self.next() as f64 / (1u64 << 31) as f64) as f32
    }
    fn normal(&mut self) -> f32 {
        // Sum of uniforms: close enough to a bell curve for rewards.
        (0..4).map(|_| self.unit()).sum::<f32>() - 2.0
    }
}

#[test]
fn wgsl_threefry_matches_known_answers_and_cpu() {
    let gpu = gpu_or_skip!();
    let mut inputs = vec![
        ([0, 0], [0, 0]),
        ([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]),
        ([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]),
    ];
    let mut lcg = Lcg(1);
    for _ in 0..1000 {
        let w = |l: &mut Lcg| (l.next() as u32) ^ ((l.next() as u32) << 16);
        inputs.push(([w(&mut lcg), w(&mut lcg)], [w(&mut lcg), w(&mut lcg)]));
    }
    let out = gpu.threefry(&inputs).unwrap();
    assert_eq!(out[0], [0x6b200159, 0x99ba4efe]);
    assert_eq!(out[1], [0x1cb996fc, 0xbb002be7]);
    assert_eq!(out[2], [0xc4923a9c, 0x483df7a0]);
    for ((key, ctr), got) in inputs.iter().zip(&out) {
        assert_eq!(*got, rng::threefry2x32(*key, *ctr));
    }
}

#[test]
fn cross_check_ragged_small_pools() {
    gpu_or_skip!();
    let mut lcg = Lcg(7);
    let mut batch = Batch::new();
    for p in 0..10_000u64 {
        let n = 1 + lcg.below(200) as usize;
        let rewards: Vec<f32> = (0..n).map(|_| lcg.normal()).collect();
        batch.push(rewards, rng::prompt_stream_key(42, p));
    }
    cross_check("ragged 1..200", &batch, &SampleParams::new(8, 0.5).unwrap());
}

#[test]
fn cross_check_one_huge_pool_among_small_ones() {
    gpu_or_skip!();
    let mut lcg = Lcg(11);
    let mut batch = Batch::new();
    for p in 0..40u64 {
        let n = match p {
            3 => 1_000_000,
            17 => 5_000, // large but only five blocks
            29 => 1_025, // just past one workgroup
            _ => 1 + lcg.below(1024) as usize,
        };
        let rewards: Vec<f32> = (0..n).map(|_| lcg.normal()).collect();
        batch.push(rewards, rng::prompt_stream_key(3, p));
    }
    for (k, beta) in [(8, 0.5), (64, 0.05), (3, 0.0), (5, f32::INFINITY)] {
        cross_check(&format!("huge pool k={k} beta={beta}"), &batch, &SampleParams::new(k, beta).unwrap());
    }
}

#[test]
fn cross_check_more_pools_than_one_grid_dimension() {
    gpu_or_skip!();
    let mut lcg = Lcg(13);
    let mut batch = Batch::new();
    for p in 0..70_000u64 {
        let n = 4 + lcg.below(5) as usize;
        let rewards: Vec<f32> = (0..n).map(|_| lcg.normal()).collect();
        batch.push(rewards, rng::prompt_stream_key(9, p));
    }
    cross_check("70,000 pools", &batch, &SampleParams::new(3, 0.5).unwrap());
}

#[test]
fn cross_check_extreme_rewards_and_limits_of_beta() {
    gpu_or_skip!();
    let mut lcg = Lcg(17);
    let mut batch = Batch::new();
    for p in 0..3_000u64 {
        let n = 1 + lcg.below(if p % 100 == 0 { 3000 } else { 40 }) as usize;
        let rewards: Vec<f32> = (0..n)
            .map(|_| {
                // Magnitudes 1e-30..1e30, both signs, with repeated values for ties.
                let mag = 10f32.powf(lcg.unit() * 60.0 - 30.0);
                let sign = if lcg.below(2) == 0 { 1.0 } else { -1.0 };
                if lcg.below(8) == 0 { 1.0 } else { sign * mag }
            })
            .collect();
        batch.push(rewards, rng::prompt_stream_key(1, p));
    }
    for (k, beta) in [
        (8, 0.5),
        (8, 0.0),
        (8, f32::INFINITY),
        (64, 1e-20),
        (64, 1e25),
        (50, 3.0), // k > N for most pools: every candidate
    ] {
        cross_check(&format!("extreme k={k} beta={beta}"), &batch, &SampleParams::new(k, beta).unwrap());
    }
}

#[test]
fn sub_batches_give_the_same_result_as_one_batch() {
    gpu_or_skip!();
    let mut lcg = Lcg(19);
    let mut batch = Batch::new();
    for p in 0..500u64 {
        let n = if p % 50 == 7 { 2000 + lcg.below(3000) as usize } else { lcg.below(300) as usize };
        let rewards: Vec<f32> = (0..n).map(|_| lcg.normal()).collect();
        batch.push(rewards, rng::prompt_stream_key(2, p));
    }
    let params = SampleParams::new(8, 0.5).unwrap();
    let whole = cross_check("one binding", &batch, &params);
    // 32 KiB bindings: sub-batches of at most 8192 candidates.
    let split = GpuSampler::new(false).unwrap().with_max_binding_bytes(32 << 10);
    assert_eq!(split.sample(&batch, &params).unwrap(), whole);
    // A pool larger than one binding is an error, not a panic.
    let tiny = GpuSampler::new(false).unwrap().with_max_binding_bytes(4096);
    let err = tiny.sample(&batch, &params).unwrap_err();
    assert!(err.to_string().contains("candidates"), "{err}");
}

#[test]
fn empty_batch_and_empty_pools() {
    let gpu = gpu_or_skip!();
    let params = SampleParams::new(4, 0.5).unwrap();
    assert_eq!(gpu.sample(&Batch::new(), &params).unwrap(), CpuSampler::new().sample(&Batch::new(), &params).unwrap());
    let mut batch = Batch::new();
    batch.push([], [1, 2]);
    batch.push([0.5], [3, 4]);
    batch.push([], [5, 6]);
    assert_eq!(gpu.sample(&batch, &params).unwrap(), CpuSampler::new().sample(&batch, &params).unwrap());
}

/// Samples `copies` copies of `rewards` (different prompt keys) on the GPU and tests the
/// output sequences against the exact distribution.
fn distribution_fits(name: &str, rewards: &[f32], k: u32, beta: f32, copies: u64) {
    let gpu = gpu().unwrap();
    let expected = common::exact::exact_distribution(rewards, k as usize, beta);
    let total = common::exact::total_probability(&expected);
    assert!((total - 1.0).abs() < 1e-9, "{name}: probabilities sum to {total}");
    let mut batch = Batch::new();
    for c in 0..copies {
        batch.push(rewards.iter().copied(), rng::prompt_stream_key(0xd15c, c));
    }
    let sel = gpu.sample(&batch, &SampleParams::new(k, beta).unwrap()).unwrap();
    let mut observed = std::collections::HashMap::new();
    for p in 0..sel.len() {
        *observed.entry(sel.of(p).to_vec()).or_insert(0u64) += 1;
    }
    let fit = common::exact::chi_square(&expected, &observed, copies);
    eprintln!(
        "{name}: {} outcomes, chi2 {:.2} on {} df (critical {:.2})",
        expected.len(),
        fit.statistic,
        fit.df,
        fit.critical
    );
    assert!(fit.passes(), "{name}: {fit:?}");
}

#[test]
fn gpu_output_distribution_matches_exact_enumeration() {
    gpu_or_skip!();
    distribution_fits("ties at the max", &[1.0, 0.6, 1.0, 0.8, 0.0], 3, 0.5, 20_000);
    distribution_fits("ties after the first round", &[1.0, 0.7, 0.7, 0.2], 3, 0.3, 20_000);
    distribution_fits("duplicates", &[0.5, 0.3, 0.3, 0.3, 0.1], 3, 0.2, 20_000);
    distribution_fits("tiny beta", &[1.0, 0.999, 0.5, 0.998], 2, 0.001, 20_000);
    distribution_fits("huge beta", &[5.0, -5.0, 0.0, 2.0, 1.0], 3, 100.0, 20_000);
    distribution_fits("k close to N", &[0.1, 0.9, 0.5, 0.4, 0.2, 0.7], 5, 0.3, 20_000);
    distribution_fits("k above N", &[0.2, 0.1, 0.15], 4, 0.05, 20_000);
    // A large pool (blocked path): a few live candidates spread over two blocks, the rest
    // with acceptance probability exactly 0 until they are needed (they never are, k = 3).
    let mut large = vec![-1000.0f32; 1030];
    for (i, r) in [(0, 0.2), (500, 0.5), (1023, 0.45), (1024, 0.1), (1029, 0.48)] {
        large[i] = r;
    }
    distribution_fits("large pool", &large, 3, 0.25, 4_000);
}

#[test]
fn timed_sampling_gives_the_same_selection_and_a_kernel_time() {
    let gpu = gpu_or_skip!();
    let mut lcg = Lcg(5);
    let mut batch = Batch::new();
    // Small pools and two large ones, so both kinds of pass are timed.
    for p in 0..300u64 {
        let n = if p % 150 == 7 { 20_000 } else { 1 + lcg.below(300) as usize };
        let rewards: Vec<f32> = (0..n).map(|_| lcg.normal()).collect();
        batch.push(rewards, rng::prompt_stream_key(9, p));
    }
    let params = SampleParams::new(8, 0.5).unwrap();
    let plain = gpu.sample(&batch, &params).unwrap();
    let (timed, kernel_time) = gpu.sample_timed(&batch, &params).unwrap();
    assert_eq!(timed, plain);
    eprintln!("timestamp queries: {}, kernel time {kernel_time:?}", gpu.can_time_passes());
    match kernel_time {
        Some(time) => {
            assert!(gpu.can_time_passes());
            assert!(time > std::time::Duration::ZERO && time < std::time::Duration::from_secs(60), "{time:?}");
        }
        None => assert!(!gpu.can_time_passes()),
    }
}
