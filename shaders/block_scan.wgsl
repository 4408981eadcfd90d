// Stage "block scan": per large pool, the exclusive scan of its blocks' counts (each
// block's acceptances come after those of earlier blocks, in index order), how many the
// pool still needs this round, and its new total. Pools still short of min(k, N) are
// counted in `unfinished`, the only value the host reads back per round.
// CPU twin: `twin::block_scan`.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> large: array<Large>;
@group(0) @binding(2) var<storage, read_write> blocks: array<Block>;
@group(0) @binding(3) var<storage, read_write> rounds_out: array<u32>;
@group(0) @binding(4) var<storage, read_write> unfinished: atomic<u32>;

var<workgroup> wg_blocks: u32;
var<workgroup> wg_carry: u32;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let g = linear_id(wg, params.large_width);
    if (g >= params.num_large) {
        return;
    }
    let l = large[g];
    if (lid == 0u) {
        wg_blocks = l.num_blocks;
        wg_carry = 0u;
    }
    if (!workgroup_flag(l.taken < l.wanted, lid)) {
        if (lid == 0u) {
            large[g].need = 0u;
        }
        return;
    }
    let num_blocks = workgroupUniformLoad(&wg_blocks);
    // Chunks of 256 blocks; `wg_carry` is the sum of the earlier chunks.
    for (var base = 0u; base < num_blocks; base += LWG) {
        let i = base + lid;
        var c = 0u;
        if (i < num_blocks) {
            c = blocks[l.first_block + i].count;
        }
        let inclusive = workgroup_inclusive_sum(c, lid);
        let carry = wg_carry;
        if (i < num_blocks) {
            blocks[l.first_block + i].prefix = carry + inclusive - c;
        }
        workgroupBarrier();
        if (lid == LWG - 1u) {
            wg_carry = carry + inclusive;
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let total = wg_carry;
        let need = l.wanted - l.taken;
        let taken = l.taken + min(total, need);
        large[g].need = need;
        large[g].taken = taken;
        if (taken < l.wanted) {
            atomicAdd(&unfinished, 1u);
        } else {
            rounds_out[l.pool] = params.round + 1u;
        }
    }
}
