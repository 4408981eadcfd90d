// Stage "small pool": one workgroup samples a whole pool of up to 1024 candidates, all
// rounds, in workgroup memory. CPU twin: `cpu::sample_pool` (rounds of `cpu::accept_round`).
//
// Thread t owns the contiguous candidates [t*c, t*c + c) with c = ceil(N / 64), so the
// threads' acceptance counts, scanned in thread order, give each acceptance its rank in
// index order. Each round:
//   1. m = max reward over alive candidates (tree reduction);
//   2. each thread flags its alive candidates with u < p(r, m) and counts them;
//   3. exclusive scan of the counts; the first `need` flagged candidates in index order
//      are written to the output (after those of earlier rounds) and leave the pool.
// Pools with more than 1024 candidates are left to the large-pool stages.

const WG: u32 = 64u;
const PER_THREAD: u32 = 16u; // WG * PER_THREAD = 1024 candidates at most

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rewards: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> keys: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> out_offsets: array<u32>;
@group(0) @binding(5) var<storage, read_write> out_indices: array<u32>;
@group(0) @binding(6) var<storage, read_write> rounds_out: array<u32>;

var<workgroup> red: array<f32, WG>;
var<workgroup> scan: array<u32, WG>;
var<workgroup> wg_n: u32;
var<workgroup> wg_wanted: u32;
var<workgroup> wg_total: u32;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let pool = linear_id(wg, params.pools_width);
    if (pool >= params.num_pools) {
        return;
    }
    // Values that steer barriers go through workgroupUniformLoad (uniform control flow).
    if (lid == 0u) {
        wg_n = offsets[pool + 1u] - offsets[pool];
        wg_wanted = out_offsets[pool + 1u] - out_offsets[pool];
    }
    let n = workgroupUniformLoad(&wg_n);
    if (n > WG * PER_THREAD) {
        return; // a large pool: the large-pool stages sample it
    }
    let wanted = workgroupUniformLoad(&wg_wanted);
    let start = offsets[pool];
    let key = keys[pool];
    let out_start = out_offsets[pool];

    let c = (n + WG - 1u) / WG;
    let first = min(lid * c, n);
    let count = min(first + c, n) - first;
    var r: array<f32, PER_THREAD>;
    for (var j = 0u; j < count; j++) {
        r[j] = rewards[start + first + j];
    }
    var alive = (1u << count) - 1u; // bit j: candidate first + j still in the pool
    var taken = 0u;
    var round = 0u;
    loop {
        if (taken >= wanted) {
            break;
        }
        // 1. maximum over alive candidates; -f32::MAX is below or equal to every reward.
        var local_max = -F32_MAX;
        for (var j = 0u; j < count; j++) {
            if ((alive & (1u << j)) != 0u) {
                local_max = max(local_max, r[j]);
            }
        }
        red[lid] = local_max;
        workgroupBarrier();
        for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
            if (lid < stride) {
                red[lid] = max(red[lid], red[lid + stride]);
            }
            workgroupBarrier();
        }
        let m = red[0];

        // 2. acceptance flags of this thread's candidates.
        var flags = 0u;
        var mine = 0u;
        for (var j = 0u; j < count; j++) {
            if ((alive & (1u << j)) != 0u) {
                let u = uniform01(key, round, first + j);
                if (accepts(u, r[j], m, params.beta, params.mode)) {
                    flags |= 1u << j;
                    mine += 1u;
                }
            }
        }

        // 3. inclusive scan of the counts in thread order (Hillis-Steele).
        scan[lid] = mine;
        workgroupBarrier();
        for (var stride = 1u; stride < WG; stride <<= 1u) {
            var add = 0u;
            if (lid >= stride) {
                add = scan[lid - stride];
            }
            workgroupBarrier();
            scan[lid] += add;
            workgroupBarrier();
        }
        if (lid == WG - 1u) {
            wg_total = scan[lid];
        }
        var rank = scan[lid] - mine; // acceptances before this thread's
        let total = workgroupUniformLoad(&wg_total);
        let need = wanted - taken;
        for (var j = 0u; j < count; j++) {
            if ((flags & (1u << j)) != 0u && rank < need) {
                out_indices[out_start + taken + rank] = first + j;
                alive &= ~(1u << j);
                rank += 1u;
            }
        }
        taken += min(total, need);
        round += 1u;
        // The next round's reduction overwrites `red`; keep it from racing this round's reads.
        workgroupBarrier();
    }
    if (lid == 0u) {
        rounds_out[pool] = round;
    }
}
