//! CPU twins of the large-pool stages (shaders/block_*.wgsl, shaders/pool_max.wgsl): the same
//! decomposition into blocks, written out sequentially. [`sample_pool_blocked`] chains them
//! exactly as the host loop does and must equal [`crate::sampler::cpu::sample_pool`].
//! (The small-pool stage's twins are `cpu::pool_max` and `cpu::accept_round`.)

use crate::sampler::{acceptance_probability, rng, SampleParams};

/// A large pool's state between stages: which candidates are still alive.
#[derive(Clone, Debug)]
pub struct BlockedPool<'a> {
    pub rewards: &'a [f32],
    pub alive: Vec<bool>,
    pub block: usize,
}

impl<'a> BlockedPool<'a> {
    pub fn new(rewards: &'a [f32], block: usize) -> Self {
        Self { rewards, alive: vec![true; rewards.len()], block }
    }

    pub fn num_blocks(&self) -> usize {
        self.rewards.len().div_ceil(self.block)
    }

    fn range(&self, b: usize) -> std::ops::Range<usize> {
        b * self.block..((b + 1) * self.block).min(self.rewards.len())
    }

    fn accepted(&self, i: usize, key: [u32; 2], round: u32, max: f32, beta: f32) -> bool {
        self.alive[i] && rng::uniform(key, round, i as u32) < acceptance_probability(self.rewards[i], max, beta)
    }
}

/// block_max.wgsl: the maximum over each block's alive candidates (-f32::MAX if none).
pub fn block_max(pool: &BlockedPool) -> Vec<f32> {
    (0..pool.num_blocks())
        .map(|b| {
            pool.range(b).filter(|&i| pool.alive[i]).map(|i| pool.rewards[i]).fold(-f32::MAX, f32::max)
        })
        .collect()
}

/// pool_max.wgsl: the pool's maximum from its blocks' maxima.
pub fn pool_max(block_maxima: &[f32]) -> f32 {
    block_maxima.iter().copied().fold(-f32::MAX, f32::max)
}

/// block_count.wgsl: acceptances per block this round.
pub fn block_count(pool: &BlockedPool, key: [u32; 2], round: u32, max: f32, beta: f32) -> Vec<u32> {
    (0..pool.num_blocks())
        .map(|b| pool.range(b).filter(|&i| pool.accepted(i, key, round, max, beta)).count() as u32)
        .collect()
}

/// block_scan.wgsl: exclusive prefix of the block counts, and the round's total.
pub fn block_scan(counts: &[u32]) -> (Vec<u32>, u32) {
    let mut prefix = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in counts {
        prefix.push(sum);
        sum += c;
    }
    (prefix, sum)
}

/// block_write.wgsl: appends the acceptances ranked below `need` (block prefix + rank within
/// the block) to `out`, in index order, and removes them from the pool.
#[allow(clippy::too_many_arguments)]
pub fn block_write(
    pool: &mut BlockedPool,
    key: [u32; 2],
    round: u32,
    max: f32,
    beta: f32,
    prefix: &[u32],
    need: u32,
    out: &mut Vec<u32>,
) {
    // Ranks grow with the index, so writing slot `base + rank` is appending in order.
    for (b, &first_rank) in prefix.iter().enumerate() {
        let mut rank = first_rank;
        for i in pool.range(b) {
            if pool.accepted(i, key, round, max, beta) {
                if rank < need {
                    out.push(i as u32);
                    pool.alive[i] = false;
                }
                rank += 1;
            }
        }
    }
}

/// Samples one pool through the block stages, as the GPU host loop does. Returns the rounds.
pub fn sample_pool_blocked(
    rewards: &[f32],
    stream_key: [u32; 2],
    params: &SampleParams,
    block: usize,
    out: &mut Vec<u32>,
) -> u32 {
    let wanted = params.samples_for(rewards.len()) as u32;
    let mut pool = BlockedPool::new(rewards, block);
    let mut taken = 0;
    let mut round = 0;
    while taken < wanted {
        let max = pool_max(&block_max(&pool));
        let counts = block_count(&pool, stream_key, round, max, params.beta);
        let (prefix, total) = block_scan(&counts);
        let need = wanted - taken;
        block_write(&mut pool, stream_key, round, max, params.beta, &prefix, need, out);
        taken += total.min(need);
        round += 1;
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sampler::cpu::sample_pool;

    #[test]
    fn blocked_stages_equal_the_reference() {
        for seed in 0..60u64 {
            let n = 1 + (seed as usize * 97) % 3000;
            let rewards: Vec<f32> = (0..n).map(|i| (((i * 7919 + seed as usize * 31) % 1013) as f32) / 97.0).collect();
            for (k, beta) in [(8, 0.5f32), (1, 0.0), (64, 0.05), (5, f32::INFINITY), (3000, 2.0)] {
                let params = SampleParams::new(k, beta).unwrap();
                let key = rng::prompt_stream_key(seed, 3);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                let ra = sample_pool(&rewards, key, &params, &mut a);
                let rb = sample_pool_blocked(&rewards, key, &params, 64, &mut b);
                assert_eq!(a, b, "seed {seed} n {n} k {k} beta {beta}");
                assert_eq!(ra, rb);
            }
        }
    }
}
