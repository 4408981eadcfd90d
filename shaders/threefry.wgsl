// Threefry-2x32 with 20 rounds (Random123), the GPU twin of src/sampler/rng.rs.
// Shared by every stage that draws uniforms: prepended to their source at pipeline creation.

// Rotation by a constant amount (all rotations here are in 1..31).
fn rotl32(x: u32, r: u32) -> u32 {
    return (x << r) | (x >> (32u - r));
}

// Encrypts `ctr` under `key`; component x is word 0 (the low word).
fn threefry2x32(key: vec2<u32>, ctr: vec2<u32>) -> vec2<u32> {
    // Key schedule: ks[2] is the Skein parity constant xor both key words.
    let ks = array<u32, 3>(key.x, key.y, 0x1BD11BDAu ^ key.x ^ key.y);
    let rot = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
    var x0 = ctr.x + ks[0];
    var x1 = ctr.y + ks[1];
    for (var round = 0u; round < 20u; round++) {
        x0 = x0 + x1;
        x1 = rotl32(x1, rot[round % 8u]) ^ x0;
        if (round % 4u == 3u) {
            // Key injection after every fourth round.
            let s = round / 4u + 1u;
            x0 = x0 + ks[s % 3u];
            x1 = x1 + ks[(s + 1u) % 3u] + s;
        }
    }
    return vec2<u32>(x0, x1);
}

// uniform(t, i) of SPEC.md: top 24 bits times 2^-24. The product is exact (24-bit integer
// times a power of two), so it equals the CPU value bit for bit; never a division.
fn uniform01(key: vec2<u32>, round: u32, index: u32) -> f32 {
    let word = threefry2x32(key, vec2<u32>(index, round)).x;
    return f32(word >> 8u) * (1.0 / 16777216.0);
}
