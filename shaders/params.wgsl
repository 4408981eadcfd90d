// Per-dispatch parameters shared by the sampling stages; prepended at pipeline creation.
// Grids wider than the per-dimension limit are 2-D: the linear workgroup id is
// y * width + x, and ids past the count return at once.
struct Params {
    num_pools: u32,    // pools in this sub-batch
    pools_width: u32,  // x size of the grid over pools
    num_blocks: u32,   // blocks of the large pools
    blocks_width: u32, // x size of the grid over blocks
    num_large: u32,    // large pools (more candidates than one workgroup holds)
    large_width: u32,  // x size of the grid over large pools
    round: u32,        // round t of the large-pool loop
    mode: u32,         // BETA_FINITE, BETA_ZERO or BETA_INF
    beta: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

fn linear_id(wg: vec3<u32>, width: u32) -> u32 {
    return wg.y * width + wg.x;
}

// Marks a large-pool candidate as accepted in the rewards buffer (a NaN pattern that no
// finite reward has); compared as bits, never as a float.
const DEAD: u32 = 0xFFFFFFFFu;
