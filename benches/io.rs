//! The I/O path: a whole `rso sample` run (CPU) against the floor of reading every line
//! and validating it as JSON, on a reward-dominated and a text-dominated dump.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rso::bench::{parse_floor, synthetic_dump};
use rso::io::reader::Input;
use rso::pipeline::{run_sample, SampleJob};
use rso::sampler::cpu::CpuSampler;
use rso::sampler::{SampleParams, Sampler};

fn io_path(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let dumps = [("rewards 5000x64", synthetic_dump(5_000, 64, 0)), ("text 500x64x500", synthetic_dump(500, 64, 500))];
    let mut group = c.benchmark_group("io");
    group.sample_size(10).measurement_time(std::time::Duration::from_secs(3));
    for (name, text) in &dumps {
        let path = dir.path().join(name.replace(' ', "_"));
        std::fs::write(&path, text).unwrap();
        group.throughput(Throughput::Bytes(text.len() as u64));
        let mut job = SampleJob::new(Input::File(path.clone()), SampleParams::new(8, 0.5).unwrap());
        job.output = Some(PathBuf::from("/dev/null"));
        job.block_size = CpuSampler::new().preferred_block_bytes();
        group.bench_function(format!("parse floor/{name}"), |b| b.iter(|| parse_floor(&path, job.block_size).unwrap()));
        group.bench_function(format!("rso sample/{name}"), |b| b.iter(|| run_sample(&job, &CpuSampler::new()).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, io_path);
criterion_main!(benches);
