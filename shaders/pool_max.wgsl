// Stage "pool max": a large pool's maximum over its blocks' maxima.
// CPU twin: `twin::pool_max` (and `cpu::pool_max` for the whole pool).

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> large: array<Large>;
@group(0) @binding(2) var<storage, read> blocks: array<Block>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let g = linear_id(wg, params.large_width);
    if (g >= params.num_large) {
        return;
    }
    let l = large[g];
    if (!workgroup_flag(l.taken < l.wanted, lid)) {
        return;
    }
    var m = -F32_MAX;
    for (var i = lid; i < l.num_blocks; i += LWG) {
        m = max(m, blocks[l.first_block + i].max);
    }
    m = workgroup_max(m, lid);
    if (lid == 0u) {
        large[g].max = m;
    }
}
