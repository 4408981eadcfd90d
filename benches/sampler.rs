//! Sampler throughput on in-memory batches of 64 candidates per prompt (k = 8, beta = 0.5,
//! the paper's defaults): CPU on one thread, CPU on all threads, and the GPU when an adapter
//! exists. Throughput is in candidates per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rso::sampler::cpu::CpuSampler;
use rso::sampler::gpu::GpuSampler;
use rso::sampler::{rng, Batch, SampleParams, Sampler};

const CANDIDATES: usize = 64;
const PROMPTS: [usize; 3] = [1_000, 10_000, 100_000];

fn batch(prompts: usize) -> Batch {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    };
    let mut b = Batch::new();
    for p in 0..prompts {
        b.push((0..CANDIDATES).map(|_| next()), rng::prompt_stream_key(0, p as u64));
    }
    b
}

fn bench(c: &mut Criterion) {
    let params = SampleParams::new(8, 0.5).unwrap();
    let batches: Vec<(usize, Batch)> = PROMPTS.iter().map(|&p| (p, batch(p))).collect();
    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let cpu = CpuSampler::new();

    let mut run = |group: &str, sample: &dyn Fn(&Batch) -> rso::sampler::Selection| {
        let mut group = c.benchmark_group(group);
        group.sample_size(10).measurement_time(std::time::Duration::from_secs(3));
        for (prompts, b) in &batches {
            group.throughput(Throughput::Elements((prompts * CANDIDATES) as u64));
            group.bench_with_input(BenchmarkId::from_parameter(prompts), b, |bench, b| bench.iter(|| sample(b)));
        }
        group.finish();
    };
    run("cpu 1 thread", &|b| one_thread.install(|| cpu.sample(b, &params).unwrap()));
    run(&format!("cpu {} threads", rayon::current_num_threads()), &|b| cpu.sample(b, &params).unwrap());
    match GpuSampler::new(false) {
        Ok(gpu) => {
            eprintln!("GPU: {}", gpu.describe());
            run("gpu", &|b| gpu.sample(b, &params).unwrap());
        }
        Err(e) => eprintln!("skipping the GPU benchmarks: {e}"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
