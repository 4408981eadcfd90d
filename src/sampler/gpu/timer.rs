//! GPU time of the sampling passes, from timestamp queries where the adapter has them: the
//! kernel path that `rso bench` reports beside the whole call (which also uploads rewards
//! and reads indices back).

use std::cell::Cell;
use std::time::Duration;

use super::context::Context;
use crate::error::Error;

/// Timestamps at the beginning and end of up to `capacity / 2` compute passes.
pub struct PassTimer {
    query_set: wgpu::QuerySet,
    resolved: wgpu::Buffer,
    capacity: u32,
    used: Cell<u32>,
}

impl PassTimer {
    /// A timer for up to `passes` passes, or `None` where the device has no timestamp
    /// queries (or one query set cannot hold them).
    pub fn new(ctx: &Context, passes: u32) -> Option<Self> {
        let capacity = passes.checked_mul(2)?;
        if !ctx.timestamps || capacity == 0 || capacity > wgpu::QUERY_SET_MAX_QUERIES {
            return None;
        }
        let query_set = ctx.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("pass timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: capacity,
        });
        let resolved = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("resolved timestamps"),
            size: u64::from(capacity) * u64::from(wgpu::QUERY_SIZE),
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        Some(Self { query_set, resolved, capacity, used: Cell::new(0) })
    }

    /// The timestamp writes of the next pass (`None` once the set is full).
    pub fn next_pass(&self) -> Option<wgpu::ComputePassTimestampWrites<'_>> {
        let first = self.used.get();
        if first + 2 > self.capacity {
            return None;
        }
        self.used.set(first + 2);
        Some(wgpu::ComputePassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(first),
            end_of_pass_write_index: Some(first + 1),
        })
    }

    /// The summed duration of the timed passes (after they were submitted).
    pub fn total(&self, ctx: &Context) -> Result<Duration, Error> {
        let used = self.used.get();
        if used == 0 {
            return Ok(Duration::ZERO);
        }
        ctx.scoped("resolving timestamps", || {
            let mut encoder = ctx.device.create_command_encoder(&Default::default());
            encoder.resolve_query_set(&self.query_set, 0..used, &self.resolved, 0);
            ctx.queue.submit([encoder.finish()]);
        })?;
        let bytes = ctx.read_back(&self.resolved, u64::from(used) * u64::from(wgpu::QUERY_SIZE))?;
        let ticks: &[u64] = bytemuck::cast_slice(&bytes);
        let period_ns = f64::from(ctx.queue.get_timestamp_period());
        let ns: f64 = ticks.chunks_exact(2).map(|pair| pair[1].saturating_sub(pair[0]) as f64 * period_ns).sum();
        Ok(Duration::from_nanos(ns as u64))
    }
}
