// Stage "block write": each block redraws its uniforms, ranks its acceptances in index order
// (block prefix + scan over lanes) and writes those ranked below the pool's need to the
// output, after the pool's earlier rounds; they leave the pool (marked DEAD).
// CPU twin: `twin::block_write`.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> rewards: array<u32>;
@group(0) @binding(2) var<storage, read> large: array<Large>;
@group(0) @binding(3) var<storage, read> blocks: array<Block>;
@group(0) @binding(4) var<storage, read_write> out_indices: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let b = linear_id(wg, params.blocks_width);
    if (b >= params.num_blocks) {
        return;
    }
    let block = blocks[b];
    let l = large[block.large];
    // Done pools have need 0; so do blocks whose acceptances all rank past the need.
    if (!workgroup_flag(block.count > 0u && block.prefix < l.need, lid)) {
        return;
    }
    let lane = lane_of(l, b, lid);
    let key = vec2<u32>(l.key0, l.key1);
    var flags = 0u;
    var mine = 0u;
    for (var i = lane.first; i < lane.end; i++) {
        let bits = rewards[i];
        if (bits != DEAD) {
            let u = uniform01(key, params.round, lane.index + (i - lane.first));
            if (accepts(u, bitcast<f32>(bits), l.max, params.beta, params.mode)) {
                flags |= 1u << (i - lane.first);
                mine += 1u;
            }
        }
    }
    var rank = block.prefix + workgroup_inclusive_sum(mine, lid) - mine;
    let out_base = l.out_start + (l.wanted - l.need);
    for (var i = lane.first; i < lane.end; i++) {
        if ((flags & (1u << (i - lane.first))) != 0u && rank < l.need) {
            out_indices[out_base + rank] = lane.index + (i - lane.first);
            rewards[i] = DEAD;
            rank += 1u;
        }
    }
}
