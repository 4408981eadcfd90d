// Stage "block max": the maximum over each block's alive candidates.
// CPU twin: `twin::block_max`.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rewards: array<u32>;
@group(0) @binding(2) var<storage, read> large: array<Large>;
@group(0) @binding(3) var<storage, read_write> blocks: array<Block>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = linear_id(wg, params.blocks_width);
    if (b >= params.num_blocks) {
        return;
    }
    let l = large[blocks[b].large];
    if (!workgroup_flag(l.taken < l.wanted, lid)) {
        return; // the pool is done
    }
    let lane = lane_of(l, b, lid);
    var m = -F32_MAX;
    for (var i = lane.first; i < lane.end; i++) {
        let bits = rewards[i];
        if (bits != DEAD) {
            m = max(m, bitcast<f32>(bits));
        }
    }
    m = workgroup_max(m, lid);
    if (lid == 0u) {
        blocks[b].max = m;
    }
}
