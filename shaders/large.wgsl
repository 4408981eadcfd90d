// Layout shared by the large-pool stages (pools of more than 1024 candidates); prepended at
// pipeline creation. A large pool is cut into blocks of 1024 candidates, one workgroup of
// 256 threads per block (4 contiguous candidates per thread). Each round runs
//   block_max -> pool_max -> block_count -> block_scan -> block_write,
// the CPU twins being the functions of the same names in src/sampler/gpu/twin.rs.

const BLOCK: u32 = 1024u;
const LWG: u32 = 256u;
const PER_LANE: u32 = 4u; // LWG * PER_LANE = BLOCK

struct Large {
    pool: u32,        // index of the pool in the sub-batch
    start: u32,       // first candidate in `rewards`
    len: u32,         // candidates
    first_block: u32, // first block in `blocks`
    num_blocks: u32,
    key0: u32,        // the prompt's stream key
    key1: u32,
    out_start: u32,   // first slot in `out_indices`
    wanted: u32,      // min(k, len)
    taken: u32,       // accepted so far
    need: u32,        // wanted - taken at the start of the current round
    max: f32,         // maximum over alive candidates in the current round
}

struct Block {
    large: u32,  // index into `large`
    max: f32,    // maximum over the block's alive candidates
    count: u32,  // acceptances in the block this round
    prefix: u32, // acceptances in the pool's earlier blocks this round
}

// The candidates [first, end) of `block` that lane `lid` owns, as offsets into `rewards`,
// and the index of `first` in the pool.
struct Lane {
    first: u32,
    end: u32,
    index: u32,
}

fn lane_of(l: Large, block: u32, lid: u32) -> Lane {
    let in_pool = (block - l.first_block) * BLOCK + lid * PER_LANE;
    let first = min(in_pool, l.len);
    let end = min(in_pool + PER_LANE, l.len);
    return Lane(l.start + first, l.start + end, first);
}

// Tree reduction (max) over the workgroup; every lane gets the result.
var<workgroup> red: array<f32, LWG>;
fn workgroup_max(v: f32, lid: u32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var stride = LWG / 2u; stride > 0u; stride >>= 1u) {
        if (lid < stride) {
            red[lid] = max(red[lid], red[lid + stride]);
        }
        workgroupBarrier();
    }
    let m = red[0];
    workgroupBarrier();
    return m;
}

// Inclusive scan (sum) over the workgroup in lane order (Hillis-Steele).
var<workgroup> sums: array<u32, LWG>;
fn workgroup_inclusive_sum(v: u32, lid: u32) -> u32 {
    sums[lid] = v;
    workgroupBarrier();
    for (var stride = 1u; stride < LWG; stride <<= 1u) {
        var add = 0u;
        if (lid >= stride) {
            add = sums[lid - stride];
        }
        workgroupBarrier();
        sums[lid] += add;
        workgroupBarrier();
    }
    let s = sums[lid];
    workgroupBarrier();
    return s;
}

// Lane 0's `flag`, seen by every lane as a workgroup-uniform value (the load is a
// barrier), so that a whole workgroup can return early and the lanes that go on still
// meet every later barrier together.
var<workgroup> wg_flag: u32;
fn workgroup_flag(flag: bool, lid: u32) -> bool {
    if (lid == 0u) {
        wg_flag = select(0u, 1u, flag);
    }
    return workgroupUniformLoad(&wg_flag) != 0u;
}
