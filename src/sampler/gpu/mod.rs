//! The GPU backend: SPEC.md's sampler in WGSL compute shaders, run through wgpu.
//!
//! Two paths, chosen per pool:
//! - pools of up to [`SMALL_POOL_MAX`] candidates: one workgroup per pool runs every round
//!   in workgroup memory (`shaders/small_pool.wgsl`), a single dispatch for all of them;
//! - larger pools: cut into blocks of [`BLOCK`] candidates; each round the host dispatches
//!   block maxima -> pool maxima -> block acceptance counts -> scan of the block counts ->
//!   ordered writes (`shaders/block_*.wgsl`, `shaders/pool_max.wgsl`) and reads back one
//!   counter, the number of pools still short of min(k, N). Done pools skip the work.
//!
//! Every stage has a CPU twin ([`crate::sampler::cpu`] and [`twin`]). Uniforms come from the
//! same Threefry stream as on the CPU and the acceptance test is the same f32 formula, so the
//! indices agree with the CPU reference except where a uniform lies within a few ulp of its
//! acceptance probability (GPU `exp` is not correctly rounded).
//!
//! Batches are split on pool boundaries into sub-batches that fit one storage binding.

mod context;
mod pipeline;
mod timer;
pub mod twin;

use std::time::Duration;

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use self::context::Context;
pub use self::pipeline::{BLOCK, SMALL_POOL_MAX};
use self::pipeline::{bind, Pipelines};
use self::timer::PassTimer;
use super::{Batch, SampleParams, Sampler, Selection};
use crate::error::Error;

/// Largest sub-batch binding the sampler uses, even where the device allows more.
const MAX_BINDING_BYTES: u64 = 128 << 20;

/// `Params` of shaders/params.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Params {
    num_pools: u32,
    pools_width: u32,
    num_blocks: u32,
    blocks_width: u32,
    num_large: u32,
    large_width: u32,
    round: u32,
    mode: u32,
    beta: f32,
    _pad: [u32; 3],
}

/// `Large` of shaders/large.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Large {
    pool: u32,
    start: u32,
    len: u32,
    first_block: u32,
    num_blocks: u32,
    key0: u32,
    key1: u32,
    out_start: u32,
    wanted: u32,
    taken: u32,
    need: u32,
    max: f32,
}

/// `Block` of shaders/large.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Block {
    large: u32,
    max: f32,
    count: u32,
    prefix: u32,
}

const BETA_FINITE: u32 = 0;
const BETA_ZERO: u32 = 1;
const BETA_INF: u32 = 2;

/// The adapter [`GpuSampler::new`] would pick, without opening a device: `None` if there is
/// none. `device_type == wgpu::DeviceType::Cpu` marks a software adapter (llvmpipe, WARP).
pub fn adapter_info() -> Option<wgpu::AdapterInfo> {
    context::find_adapter().ok().map(|a| a.get_info())
}

/// The GPU sampler. Create it once and reuse it: it compiles its pipelines on creation.
pub struct GpuSampler {
    ctx: Context,
    pipelines: Pipelines,
    max_binding_bytes: u64,
}

impl GpuSampler {
    /// Opens the default adapter (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME` and `WGPU_POWER_PREF`
    /// are honoured) and compiles the shaders. With `require_hardware`, a software adapter
    /// (e.g. llvmpipe) is refused. No adapter at all is an [`Error::Gpu`].
    pub fn new(require_hardware: bool) -> Result<Self, Error> {
        let ctx = Context::new(require_hardware)?;
        let pipelines = Pipelines::new(&ctx)?;
        let max_binding_bytes = ctx
            .limits
            .max_storage_buffer_binding_size
            .min(ctx.limits.max_buffer_size)
            .min(MAX_BINDING_BYTES);
        Ok(Self { ctx, pipelines, max_binding_bytes })
    }

    /// Whether the adapter is a real GPU (not a CPU implementation such as llvmpipe).
    pub fn is_hardware(&self) -> bool {
        self.ctx.is_hardware()
    }

    /// The adapter's name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub fn adapter_name(&self) -> &str {
        &self.ctx.info.name
    }

    /// The graphics API in use, e.g. "vulkan".
    pub fn backend_name(&self) -> String {
        self.ctx.info.backend.to_string()
    }

    /// The adapter's kind: integrated, discrete, virtual, cpu or other.
    pub fn device_type(&self) -> wgpu::DeviceType {
        self.ctx.info.device_type
    }

    /// Caps the bytes of one sub-batch binding (rewards of one sub-batch); smaller values make
    /// the host split batches sooner. Values above the device's limits are clamped.
    pub fn with_max_binding_bytes(mut self, bytes: u64) -> Self {
        let device_max = self.ctx.limits.max_storage_buffer_binding_size.min(self.ctx.limits.max_buffer_size);
        self.max_binding_bytes = bytes.clamp(1024, device_max);
        self
    }

    /// Runs the WGSL `threefry2x32` over (key, counter) pairs: for testing the shader against
    /// the known answers and the CPU generator.
    #[doc(hidden)]
    pub fn threefry(&self, inputs: &[([u32; 2], [u32; 2])]) -> Result<Vec<[u32; 2]>, Error> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let flat: Vec<u32> = inputs.iter().flat_map(|(k, c)| [k[0], k[1], c[0], c[1]]).collect();
        let out_bytes = (inputs.len() * 8) as u64;
        let (input, output) = self.ctx.scoped("allocating test buffers", || {
            let input = self.storage("threefry inputs", bytemuck::cast_slice(&flat));
            let output = self.zeroed("threefry outputs", out_bytes);
            (input, output)
        })?;
        self.ctx.scoped("running threefry", || {
            let group = bind(&self.ctx, &self.pipelines.threefry_test, &[&input, &output]);
            let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.pipelines.threefry_test);
                pass.set_bind_group(0, &group, &[]);
                pass.dispatch_workgroups((inputs.len() as u32).div_ceil(64), 1, 1);
            }
            self.ctx.queue.submit([encoder.finish()]);
        })?;
        let bytes = self.ctx.read_back(&output, out_bytes)?;
        let words: &[u32] = bytemuck::cast_slice(&bytes);
        Ok(words.chunks_exact(2).map(|w| [w[0], w[1]]).collect())
    }

    fn storage(&self, label: &str, contents: &[u8]) -> wgpu::Buffer {
        // Bindings may not be empty: pad to 16 bytes.
        let mut padded;
        let contents = if contents.len() < 16 {
            padded = contents.to_vec();
            padded.resize(16, 0);
            &padded[..]
        } else {
            contents
        };
        self.ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        })
    }

    fn zeroed(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// Splits `0..batch.len()` into runs of pools whose arrays each fit one binding.
    fn plan(&self, batch: &Batch) -> Result<Vec<std::ops::Range<usize>>, Error> {
        let max_words = (self.max_binding_bytes / 8) as usize; // keys take 8 bytes per pool
        let max_candidates = (self.max_binding_bytes / 4) as usize;
        let mut ranges = Vec::new();
        let mut first = 0;
        let mut candidates = 0usize;
        for p in 0..batch.len() {
            let n = batch.pool(p).len();
            if n > max_candidates {
                return Err(Error::Gpu(format!(
                    "prompt {p} has {n} candidates; one GPU binding holds at most {max_candidates}"
                )));
            }
            if candidates + n > max_candidates || p - first + 2 > max_words {
                ranges.push(first..p);
                first = p;
                candidates = 0;
            }
            candidates += n;
        }
        if first < batch.len() {
            ranges.push(first..batch.len());
        }
        Ok(ranges)
    }

    /// The (x, y) grid for `count` workgroups.
    fn grid(&self, count: u32) -> (u32, u32) {
        let max_x = self.ctx.limits.max_compute_workgroups_per_dimension.max(1);
        let x = count.min(max_x).max(1);
        (x, count.div_ceil(x))
    }

    /// Samples the pools `range` of `batch` (one sub-batch). With `timed`, also returns the
    /// GPU time of its sampling passes where the device can measure it.
    fn sample_range(
        &self,
        batch: &Batch,
        params: &SampleParams,
        range: std::ops::Range<usize>,
        timed: bool,
    ) -> Result<(Selection, Option<Duration>), Error> {
        let base = batch.offsets[range.start] as usize;
        let end = batch.offsets[range.end] as usize;
        let rewards = &batch.rewards[base..end];
        let offsets: Vec<u32> = batch.offsets[range.start..=range.end].iter().map(|&o| o - base as u32).collect();
        let keys: Vec<u32> = batch.keys[range.clone()].iter().flat_map(|k| [k[0], k[1]]).collect();
        let pools = range.len();
        let mut out_offsets = Vec::with_capacity(pools + 1);
        out_offsets.push(0u32);
        let mut large = Vec::new();
        let mut blocks = Vec::new();
        let mut max_wanted = 0;
        for p in 0..pools {
            let len = (offsets[p + 1] - offsets[p]) as usize;
            let wanted = params.samples_for(len) as u32;
            let out_start = *out_offsets.last().unwrap();
            out_offsets.push(out_start + wanted);
            if len > SMALL_POOL_MAX {
                let num_blocks = len.div_ceil(BLOCK) as u32;
                let g = large.len() as u32;
                large.push(Large {
                    pool: p as u32,
                    start: offsets[p],
                    len: len as u32,
                    first_block: blocks.len() as u32,
                    num_blocks,
                    key0: keys[2 * p],
                    key1: keys[2 * p + 1],
                    out_start,
                    wanted,
                    ..Default::default()
                });
                blocks.extend((0..num_blocks).map(|_| Block { large: g, ..Default::default() }));
                max_wanted = max_wanted.max(wanted);
            }
        }
        let total_out = *out_offsets.last().unwrap() as u64;

        let (pools_width, _) = self.grid(pools as u32);
        let (blocks_width, _) = self.grid(blocks.len() as u32);
        let (large_width, _) = self.grid(large.len() as u32);
        let mode = if params.beta == 0.0 {
            BETA_ZERO
        } else if params.beta.is_infinite() {
            BETA_INF
        } else {
            BETA_FINITE
        };
        let mut uniforms = Params {
            num_pools: pools as u32,
            pools_width,
            num_blocks: blocks.len() as u32,
            blocks_width,
            num_large: large.len() as u32,
            large_width,
            round: 0,
            mode,
            beta: if mode == BETA_FINITE { params.beta } else { 1.0 },
            _pad: [0; 3],
        };

        let ctx = &self.ctx;
        let buffers = ctx.scoped("allocating GPU buffers", || {
            let uniform = ctx.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytemuck::bytes_of(&uniforms),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            });
            Buffers {
                uniform,
                rewards: self.storage("rewards", bytemuck::cast_slice(rewards)),
                offsets: self.storage("offsets", bytemuck::cast_slice(&offsets)),
                keys: self.storage("keys", bytemuck::cast_slice(&keys)),
                out_offsets: self.storage("out offsets", bytemuck::cast_slice(&out_offsets)),
                out_indices: self.zeroed("out indices", total_out * 4),
                rounds: self.zeroed("rounds", pools as u64 * 4),
                large: self.storage("large pools", bytemuck::cast_slice(&large)),
                blocks: self.storage("blocks", bytemuck::cast_slice(&blocks)),
                active: self.zeroed("active", 4),
                active_read: ctx.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("active read back"),
                    size: 4,
                    usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
            }
        })?;
        let b = &buffers;
        let pl = &self.pipelines;
        // One pass for the small pools, one per round of the large ones (at most k + 1).
        let timer = if timed { PassTimer::new(ctx, max_wanted + 2) } else { None };
        let pass_descriptor = |label| wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: timer.as_ref().and_then(PassTimer::next_pass),
        };

        // Small pools: every round of every pool in one dispatch.
        ctx.scoped("sampling small pools", || {
            let group = bind(
                ctx,
                &pl.small_pool,
                &[&b.uniform, &b.rewards, &b.offsets, &b.keys, &b.out_offsets, &b.out_indices, &b.rounds],
            );
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            {
                let mut pass = encoder.begin_compute_pass(&pass_descriptor("small pools"));
                pass.set_pipeline(&pl.small_pool);
                pass.set_bind_group(0, &group, &[]);
                let (x, y) = self.grid(pools as u32);
                pass.dispatch_workgroups(x, y, 1);
            }
            ctx.queue.submit([encoder.finish()]);
        })?;

        // Large pools: one round per submission, reading back the count of unfinished pools.
        if !large.is_empty() {
            let groups = ctx.scoped("binding large-pool buffers", || {
                [
                    bind(ctx, &pl.block_max, &[&b.uniform, &b.rewards, &b.large, &b.blocks]),
                    bind(ctx, &pl.pool_max, &[&b.uniform, &b.large, &b.blocks]),
                    bind(ctx, &pl.block_count, &[&b.uniform, &b.rewards, &b.large, &b.blocks]),
                    bind(ctx, &pl.block_scan, &[&b.uniform, &b.large, &b.blocks, &b.rounds, &b.active]),
                    bind(ctx, &pl.block_write, &[&b.uniform, &b.rewards, &b.large, &b.blocks, &b.out_indices]),
                ]
            })?;
            let stages = [
                (&pl.block_max, blocks.len()),
                (&pl.pool_max, large.len()),
                (&pl.block_count, blocks.len()),
                (&pl.block_scan, large.len()),
                (&pl.block_write, blocks.len()),
            ];
            let mut round = 0u32;
            loop {
                if round > max_wanted {
                    return Err(Error::Gpu(format!(
                        "large pools unfinished after {round} rounds (at most k are needed)"
                    )));
                }
                uniforms.round = round;
                ctx.scoped(&format!("sampling large pools, round {round}"), || {
                    ctx.queue.write_buffer(&b.uniform, 0, bytemuck::bytes_of(&uniforms));
                    let mut encoder = ctx.device.create_command_encoder(&Default::default());
                    encoder.clear_buffer(&b.active, 0, None);
                    {
                        let mut pass = encoder.begin_compute_pass(&pass_descriptor("large pools, one round"));
                        for ((pipeline, count), group) in stages.iter().zip(&groups) {
                            pass.set_pipeline(pipeline);
                            pass.set_bind_group(0, group, &[]);
                            let (x, y) = self.grid(*count as u32);
                            pass.dispatch_workgroups(x, y, 1);
                        }
                    }
                    encoder.copy_buffer_to_buffer(&b.active, 0, &b.active_read, 0, 4);
                    ctx.queue.submit([encoder.finish()]);
                })?;
                let active = ctx.map_read(&b.active_read, 4)?;
                round += 1;
                if u32::from_le_bytes(active[..4].try_into().unwrap()) == 0 {
                    break;
                }
            }
        }

        let indices = ctx.read_back(&b.out_indices, total_out * 4)?;
        let rounds = ctx.read_back(&b.rounds, pools as u64 * 4)?;
        let gpu_time = timer.map(|t| t.total(ctx)).transpose()?;
        let selection = Selection {
            indices: bytemuck::cast_slice(&indices).to_vec(),
            offsets: out_offsets,
            rounds: bytemuck::cast_slice(&rounds).to_vec(),
        };
        Ok((selection, gpu_time))
    }

    /// [`Sampler::sample`], also returning the GPU time of the sampling passes alone (no
    /// uploads or read-backs), summed over sub-batches: `None` where the device has no
    /// timestamp queries.
    pub fn sample_timed(&self, batch: &Batch, params: &SampleParams) -> Result<(Selection, Option<Duration>), Error> {
        let mut out = Selection::with_capacity(batch.len(), 0);
        let mut total = Some(Duration::ZERO);
        for range in self.plan(batch)? {
            let (part, time) = self.sample_range(batch, params, range, true)?;
            out.append(&part);
            total = total.zip(time).map(|(a, b)| a + b);
        }
        Ok((out, total))
    }

    /// Whether [`GpuSampler::sample_timed`] can time the sampling passes on this device.
    pub fn can_time_passes(&self) -> bool {
        self.ctx.timestamps
    }
}

struct Buffers {
    uniform: wgpu::Buffer,
    rewards: wgpu::Buffer,
    offsets: wgpu::Buffer,
    keys: wgpu::Buffer,
    out_offsets: wgpu::Buffer,
    out_indices: wgpu::Buffer,
    rounds: wgpu::Buffer,
    large: wgpu::Buffer,
    blocks: wgpu::Buffer,
    active: wgpu::Buffer,
    active_read: wgpu::Buffer,
}

impl Sampler for GpuSampler {
    fn preferred_block_bytes(&self) -> usize {
        32 << 20
    }

    fn describe(&self) -> String {
        let kind = if self.is_hardware() { "" } else { ", software" };
        format!("gpu ({}, {}{kind})", self.ctx.info.name, self.ctx.info.backend)
    }

    fn sample(&self, batch: &Batch, params: &SampleParams) -> Result<Selection, Error> {
        let mut out = Selection::with_capacity(batch.len(), 0);
        for range in self.plan(batch)? {
            let (part, _) = self.sample_range(batch, params, range, false)?;
            out.append(&part);
        }
        Ok(out)
    }
}
