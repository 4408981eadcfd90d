//! Using rso as a library: sample in-memory pools with the CPU reference, and with the GPU
//! when an adapter exists. Run with `cargo run --release --example library`.

use rso::sampler::cpu::CpuSampler;
use rso::sampler::gpu::GpuSampler;
use rso::sampler::{rng, Batch, SampleParams, Sampler};

fn main() -> Result<(), rso::Error> {
    // Two prompts' pools: rewards in candidate order, and each prompt's random stream,
    // keyed like `rso sample` keys a row with that id (so the samples match the CLI's).
    let seed = 0;
    let mut batch = Batch::new();
    batch.push([0.3, -1.2, 2.0, 0.7, 0.1], rng::prompt_stream_key(seed, rng::prompt_key_from_id("q1")));
    batch.push([1.0, 1.0, -0.5], rng::prompt_stream_key(seed, rng::prompt_key_from_id("q2")));

    let params = SampleParams::new(2, 0.5)?; // k = 2, beta = 0.5
    let cpu = CpuSampler::new().sample(&batch, &params)?;
    for prompt in 0..batch.len() {
        println!("prompt {prompt}: indices {:?} after {} rounds", cpu.of(prompt), cpu.rounds[prompt]);
    }

    // Any adapter, a software one too; the same indices as the CPU (SPEC.md).
    match GpuSampler::new(false) {
        Ok(gpu) => {
            let selection = gpu.sample(&batch, &params)?;
            println!("{}: same as the CPU: {}", gpu.describe(), selection == cpu);
        }
        Err(e) => println!("no GPU: {e}"),
    }
    Ok(())
}
