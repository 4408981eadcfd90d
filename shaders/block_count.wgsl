// Stage "block count": how many of each block's alive candidates pass u < p(r, m) this
// round. CPU twin: `twin::block_count`.

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
        return;
    }
    let lane = lane_of(l, b, lid);
    let key = vec2<u32>(l.key0, l.key1);
    var mine = 0u;
    for (var i = lane.first; i < lane.end; i++) {
        let bits = rewards[i];
        if (bits != DEAD) {
            let u = uniform01(key, params.round, lane.index + (i - lane.first));
            if (accepts(u, bitcast<f32>(bits), l.max, params.beta, params.mode)) {
                mine += 1u;
            }
        }
    }
    let total = workgroup_inclusive_sum(mine, lid);
    if (lid == LWG - 1u) {
        blocks[b].count = total;
    }
}
