// The acceptance rule, the GPU twin of `acceptance_probability` in src/sampler/mod.rs.
// Shared by every stage that accepts candidates; prepended at pipeline creation.
//
// WGSL lets implementations assume no infinities, so the limits of beta arrive as a mode
// instead of as 0 or inf, and differences that would overflow are decided explicitly:
//   BETA_FINITE: exp((r - m) / beta), with r == m -> 1 (the maximum is always accepted)
//   BETA_ZERO:   greedy: 1 for the maximum, 0 otherwise
//   BETA_INF:    1 for every candidate
// If r - m overflows f32 (r < m - f32::MAX, only with |rewards| near 1.7e38) the CPU gets
// -inf (probability 0, or NaN when beta is inf: also never accepted): rejected here too.
// When (r - m) / beta is below -104, exp underflows to 0 in f32 on the CPU: rejected here
// without evaluating a quotient that might overflow.

const BETA_FINITE: u32 = 0u;
const BETA_ZERO: u32 = 1u;
const BETA_INF: u32 = 2u;
const F32_MAX: f32 = 3.40282347e38;

// Whether a candidate with reward r and uniform u is accepted when the pool maximum is m.
fn accepts(u: f32, r: f32, m: f32, beta: f32, mode: u32) -> bool {
    if (r == m) {
        return true; // probability 1, and u < 1 always
    }
    if (m > 0.0 && r < m - F32_MAX) {
        return false; // r - m overflows to -inf
    }
    if (mode == BETA_ZERO) {
        return false;
    }
    if (mode == BETA_INF) {
        return true;
    }
    let d = r - m; // finite, <= 0
    if (d / 104.0 < -beta) {
        return false; // exp(d / beta) is 0 in f32
    }
    return u < exp(d / beta);
}
