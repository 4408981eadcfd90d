//! The compute pipelines: one WGSL file per stage, with the shared functions prepended.

use super::context::Context;
use crate::error::Error;

const PARAMS: &str = include_str!("../../../shaders/params.wgsl");
const THREEFRY: &str = include_str!("../../../shaders/threefry.wgsl");
const ACCEPTANCE: &str = include_str!("../../../shaders/acceptance.wgsl");
const LARGE: &str = include_str!("../../../shaders/large.wgsl");
const SMALL_POOL: &str = include_str!("../../../shaders/small_pool.wgsl");
const BLOCK_MAX: &str = include_str!("../../../shaders/block_max.wgsl");
const POOL_MAX: &str = include_str!("../../../shaders/pool_max.wgsl");
const BLOCK_COUNT: &str = include_str!("../../../shaders/block_count.wgsl");
const BLOCK_SCAN: &str = include_str!("../../../shaders/block_scan.wgsl");
const BLOCK_WRITE: &str = include_str!("../../../shaders/block_write.wgsl");
const THREEFRY_TEST: &str = include_str!("../../../shaders/threefry_test.wgsl");

/// Candidates one workgroup samples on its own (small_pool.wgsl: 64 threads x 16).
pub const SMALL_POOL_MAX: usize = 1024;
/// Candidates per block of a large pool (large.wgsl).
pub const BLOCK: usize = 1024;

/// Every pipeline of the sampler.
pub struct Pipelines {
    pub small_pool: wgpu::ComputePipeline,
    pub block_max: wgpu::ComputePipeline,
    pub pool_max: wgpu::ComputePipeline,
    pub block_count: wgpu::ComputePipeline,
    pub block_scan: wgpu::ComputePipeline,
    pub block_write: wgpu::ComputePipeline,
    pub threefry_test: wgpu::ComputePipeline,
}

impl Pipelines {
    pub fn new(ctx: &Context) -> Result<Self, Error> {
        let sampling = [PARAMS, THREEFRY, ACCEPTANCE].concat();
        let large = [sampling.as_str(), LARGE].concat();
        Ok(Self {
            small_pool: build(ctx, "small_pool", &[&sampling, SMALL_POOL])?,
            block_max: build(ctx, "block_max", &[&large, BLOCK_MAX])?,
            pool_max: build(ctx, "pool_max", &[&large, POOL_MAX])?,
            block_count: build(ctx, "block_count", &[&large, BLOCK_COUNT])?,
            block_scan: build(ctx, "block_scan", &[&large, BLOCK_SCAN])?,
            block_write: build(ctx, "block_write", &[&large, BLOCK_WRITE])?,
            threefry_test: build(ctx, "threefry_test", &[THREEFRY, THREEFRY_TEST])?,
        })
    }
}

/// Compiles one stage from its parts (shared functions first) with an automatic layout.
fn build(ctx: &Context, label: &str, parts: &[&str]) -> Result<wgpu::ComputePipeline, Error> {
    let source = parts.join("\n");
    ctx.scoped(&format!("compiling shader stage `{label}`"), || {
        let module = ctx.device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        ctx.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(label),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        })
    })
}

/// A bind group for group 0 of `pipeline` with `buffers[i]` at binding i.
pub fn bind(ctx: &Context, pipeline: &wgpu::ComputePipeline, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.as_entire_binding() })
        .collect();
    ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    })
}
