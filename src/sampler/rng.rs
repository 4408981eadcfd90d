//! Counter-based random numbers: Threefry-2x32 with 20 rounds (Random123, as in JAX).
//!
//! Every uniform the sampler draws is a pure function of (seed, prompt key, round, index),
//! so any backend, thread count or batch layout draws the same numbers (SPEC.md section 2).
//! `shaders/threefry.wgsl` is the GPU twin of this file.

/// Rotation constants of Threefry-2x32 (Random123's R_32x2).
const ROTATIONS: [u32; 8] = [13, 15, 26, 6, 17, 29, 16, 24];
/// Skein key-schedule parity constant.
const KEY_PARITY: u32 = 0x1BD1_1BDA;

/// Threefry-2x32-20: encrypts `counter` under `key`. Word 0 is the low word of each pair.
#[inline(always)]
pub fn threefry2x32(key: [u32; 2], counter: [u32; 2]) -> [u32; 2] {
    let ks = [key[0], key[1], KEY_PARITY ^ key[0] ^ key[1]];
    let mut x0 = counter[0].wrapping_add(ks[0]);
    let mut x1 = counter[1].wrapping_add(ks[1]);
    // Written out so that the 20 rounds unroll and batches of draws vectorise.
    macro_rules! mix {
        ($r:expr) => {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left($r) ^ x0;
        };
    }
    macro_rules! inject {
        ($s:expr) => {
            x0 = x0.wrapping_add(ks[$s % 3]);
            x1 = x1.wrapping_add(ks[($s + 1) % 3]).wrapping_add($s);
        };
    }
    let r = ROTATIONS;
    mix!(r[0]); mix!(r[1]); mix!(r[2]); mix!(r[3]); inject!(1);
    mix!(r[4]); mix!(r[5]); mix!(r[6]); mix!(r[7]); inject!(2);
    mix!(r[0]); mix!(r[1]); mix!(r[2]); mix!(r[3]); inject!(3);
    mix!(r[4]); mix!(r[5]); mix!(r[6]); mix!(r[7]); inject!(4);
    mix!(r[0]); mix!(r[1]); mix!(r[2]); mix!(r[3]); inject!(5);
    [x0, x1]
}

/// Splits a u64 into (low, high) 32-bit words.
pub fn split_u64(value: u64) -> [u32; 2] {
    [value as u32, (value >> 32) as u32]
}

/// The generator key of a run: (seed & 0xffffffff, seed >> 32).
pub fn seed_key(seed: u64) -> [u32; 2] {
    split_u64(seed)
}

/// FNV-1a, 64-bit, over bytes.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_extend(0xcbf2_9ce4_8422_2325, bytes)
}

/// FNV-1a 64 continued over `bytes` from the running hash `hash`.
pub fn fnv1a64_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= b as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The prompt key `pk` of a row with an id: FNV-1a of the id's UTF-8 text
/// (an integer id hashes its decimal digits).
pub fn prompt_key_from_id(id_text: &str) -> u64 {
    fnv1a64(id_text.as_bytes())
}

/// The prompt key `pk` of a row without an id: its 0-based ordinal in the input.
pub fn prompt_key_from_ordinal(ordinal: u64) -> u64 {
    ordinal
}

/// A prompt's own Threefry key: threefry(seed key, (pk low, pk high)).
pub fn prompt_stream_key(seed: u64, prompt_key: u64) -> [u32; 2] {
    threefry2x32(seed_key(seed), split_u64(prompt_key))
}

/// 2^-24: turns the top 24 bits of a word into a float in [0, 1) exactly.
pub const TWO_POW_MINUS_24: f32 = 1.0 / 16_777_216.0;

/// uniform(t, i) of SPEC.md: the top 24 bits of threefry(prompt key, (i, t)) times 2^-24.
#[inline]
pub fn uniform(stream_key: [u32; 2], round: u32, index: u32) -> f32 {
    let word = threefry2x32(stream_key, [index, round])[0];
    // Below 2^24, so the signed conversion (one vector instruction) is exact.
    ((word >> 8) as i32) as f32 * TWO_POW_MINUS_24
}

/// uniform(round, i) for each index of `indices` into `out` (same length). On x86-64 with
/// AVX2 the loop runs eight draws per instruction; the results are the same bits.
#[inline]
pub fn uniforms(stream_key: [u32; 2], round: u32, indices: &[u32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { uniforms_avx2(stream_key, round, indices, out) };
            return;
        }
    }
    uniforms_portable(stream_key, round, indices, out);
}

#[inline(always)]
fn uniforms_portable(stream_key: [u32; 2], round: u32, indices: &[u32], out: &mut [f32]) {
    for (u, &index) in out.iter_mut().zip(indices) {
        *u = uniform(stream_key, round, index);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn uniforms_avx2(stream_key: [u32; 2], round: u32, indices: &[u32], out: &mut [f32]) {
    uniforms_portable(stream_key, round, indices, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threefry_known_answers() {
        assert_eq!(threefry2x32([0, 0], [0, 0]), [0x6b200159, 0x99ba4efe]);
        assert_eq!(
            threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]),
            [0x1cb996fc, 0xbb002be7]
        );
        assert_eq!(
            threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]),
            [0xc4923a9c, 0x483df7a0]
        );
    }

    #[test]
    fn fnv1a_known_answers() {
        // Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors).
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn seed_and_prompt_keys_split_words() {
        assert_eq!(seed_key(0x0123_4567_89ab_cdef), [0x89ab_cdef, 0x0123_4567]);
        let pk = prompt_key_from_id("p00000001");
        assert_eq!(
            prompt_stream_key(7, pk),
            threefry2x32([7, 0], [pk as u32, (pk >> 32) as u32])
        );
        assert_eq!(prompt_key_from_ordinal(12), 12);
    }

    #[test]
    fn uniform_uses_top_24_bits() {
        let key = [0, 0];
        // threefry((0,0),(0,0)).x = 0x6b200159 -> 0x6b2001 * 2^-24
        assert_eq!(uniform(key, 0, 0), 0x6b2001 as f32 / 16_777_216.0);
        for i in 0..1000 {
            let u = uniform([3, 4], i % 7, i);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
