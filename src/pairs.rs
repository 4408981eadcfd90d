//! Preference pairs from a prompt's accepted samples (the paper's section 5.2).
//!
//! Pure construction: given the accepted candidates in acceptance order, their rewards and
//! a way to tell whether two candidates have the same text, build (chosen, rejected) pairs.
//! The higher reward is `chosen`. A match between equal rewards, or between two identical
//! texts, gives no pair and is counted instead.

/// How pairs are built from the k accepted samples s0, s1, ... (acceptance order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PairStrategy {
    /// (s0,s1), (s2,s3), ...: k/2 pairs; with odd k the last sample is unused.
    FirstRound,
    /// Knock-out rounds until one winner: up to k-1 pairs, one per match.
    Tournament,
    /// The highest reward against the lowest: at most one pair.
    BestWorst,
}

/// One pair: candidates (pool positions) of the chosen and the rejected response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    pub chosen: u32,
    pub rejected: u32,
}

/// Matches that gave no pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Equal rewards: no preference.
    pub ties: u64,
    /// Different rewards but identical texts (compared decoded).
    pub identical: u64,
}

impl Dropped {
    pub fn add(&mut self, other: Dropped) {
        self.ties += other.ties;
        self.identical += other.identical;
    }

    pub fn total(&self) -> u64 {
        self.ties + self.identical
    }
}

/// Plays one match between `a` (earlier in acceptance order) and `b`. Returns the winner
/// (the higher reward; on a tie the earlier one, `a`) and the pair when it is kept.
fn play(
    a: u32,
    b: u32,
    reward: &impl Fn(u32) -> f64,
    same_text: &mut impl FnMut(u32, u32) -> bool,
    dropped: &mut Dropped,
    out: &mut Vec<Pair>,
) -> u32 {
    let (ra, rb) = (reward(a), reward(b));
    let (winner, loser) = if rb > ra { (b, a) } else { (a, b) };
    if ra == rb {
        dropped.ties += 1;
    } else if same_text(a, b) {
        dropped.identical += 1;
    } else {
        out.push(Pair { chosen: winner, rejected: loser });
    }
    winner
}

/// Builds the pairs of one prompt into `out` and returns what was dropped.
///
/// - `accepted`: the accepted candidates, in acceptance order;
/// - `reward(c)`: candidate `c`'s reward;
/// - `same_text(a, b)`: whether candidates `a` and `b` have the same (decoded) text; only
///   asked for matches whose rewards differ.
///
/// Tournament: round one plays (s0,s1), (s2,s3), ...; winners advance in the same order,
/// an odd one out gets a bye (it advances unplayed, at the end of the next round's line),
/// until one is left. Every match is a pair, so k samples give up to k-1 pairs. A tie or an
/// identical text still decides who advances: the higher reward, on a tie the earlier one.
///
/// Best-worst: the first sample with the highest reward against the first with the lowest.
pub fn build_pairs(
    strategy: PairStrategy,
    accepted: &[u32],
    reward: impl Fn(u32) -> f64,
    mut same_text: impl FnMut(u32, u32) -> bool,
    out: &mut Vec<Pair>,
) -> Dropped {
    let mut dropped = Dropped::default();
    match strategy {
        PairStrategy::FirstRound => {
            for two in accepted.chunks_exact(2) {
                play(two[0], two[1], &reward, &mut same_text, &mut dropped, out);
            }
        }
        PairStrategy::Tournament => {
            let mut line: Vec<u32> = accepted.to_vec();
            while line.len() > 1 {
                let mut next = Vec::with_capacity(line.len().div_ceil(2));
                for two in line.chunks(2) {
                    match two {
                        [a, b] => next.push(play(*a, *b, &reward, &mut same_text, &mut dropped, out)),
                        [bye] => next.push(*bye),
                        _ => unreachable!(),
                    }
                }
                line = next;
            }
        }
        PairStrategy::BestWorst => {
            if accepted.len() >= 2 {
                let mut best = accepted[0];
                let mut worst = accepted[0];
                for &c in &accepted[1..] {
                    if reward(c) > reward(best) {
                        best = c;
                    }
                    if reward(c) < reward(worst) {
                        worst = c;
                    }
                }
                if best == worst {
                    // All rewards are equal: a tie.
                    dropped.ties += 1;
                } else {
                    play(best, worst, &reward, &mut same_text, &mut dropped, out);
                }
            }
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs of hand-made samples: `rewards[c]`, texts `texts[c]`, accepted in `order`.
    fn pairs(strategy: PairStrategy, order: &[u32], rewards: &[f64], texts: &[&str]) -> (Vec<(u32, u32)>, Dropped) {
        let mut out = Vec::new();
        let dropped = build_pairs(
            strategy,
            order,
            |c| rewards[c as usize],
            |a, b| texts[a as usize] == texts[b as usize],
            &mut out,
        );
        (out.into_iter().map(|p| (p.chosen, p.rejected)).collect(), dropped)
    }

    const TEXTS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

    #[test]
    fn first_round_pairs_neighbours() {
        let r = [0.1, 0.9, 0.5, 0.2, 0.7, 0.3, 0.0, 1.0];
        let (p, d) = pairs(PairStrategy::FirstRound, &[0, 1, 2, 3, 4, 5, 6, 7], &r, &TEXTS);
        assert_eq!(p, vec![(1, 0), (2, 3), (4, 5), (7, 6)]);
        assert_eq!(d, Dropped::default());
        // Acceptance order, not pool order, decides the neighbours.
        let (p, _) = pairs(PairStrategy::FirstRound, &[7, 2, 0, 5], &r, &TEXTS);
        assert_eq!(p, vec![(7, 2), (5, 0)]);
    }

    #[test]
    fn first_round_odd_k_leaves_the_last_out() {
        let r = [1.0, 2.0, 3.0];
        let (p, _) = pairs(PairStrategy::FirstRound, &[0, 1, 2], &r, &TEXTS);
        assert_eq!(p, vec![(1, 0)]);
        let (p, d) = pairs(PairStrategy::FirstRound, &[2], &r, &TEXTS);
        assert!(p.is_empty());
        assert_eq!(d.total(), 0);
    }

    #[test]
    fn tournament_plays_k_minus_one_matches() {
        let r = [0.1, 0.9, 0.5, 0.2, 0.7, 0.3, 0.0, 1.0];
        let (p, d) = pairs(PairStrategy::Tournament, &[0, 1, 2, 3, 4, 5, 6, 7], &r, &TEXTS);
        // Round 1: 1>0, 2>3, 4>5, 7>6; round 2: 1>2, 7>4; final: 7>1.
        assert_eq!(p, vec![(1, 0), (2, 3), (4, 5), (7, 6), (1, 2), (7, 4), (7, 1)]);
        assert_eq!(d.total(), 0);
    }

    #[test]
    fn tournament_odd_one_out_gets_a_bye() {
        let r = [0.5, 0.1, 0.3, 0.9, 0.2];
        // Round 1: (0,1)->0, (2,3)->3, 4 bye; round 2: (0,3)->3, 4 bye; final: (3,4)->3.
        let (p, _) = pairs(PairStrategy::Tournament, &[0, 1, 2, 3, 4], &r, &TEXTS);
        assert_eq!(p, vec![(0, 1), (3, 2), (3, 0), (3, 4)]);
        assert_eq!(p.len(), 4);
        // k = 3: (0,1)->0, 2 bye; final (0,2).
        let (p, _) = pairs(PairStrategy::Tournament, &[0, 1, 2], &r, &TEXTS);
        assert_eq!(p, vec![(0, 1), (0, 2)]);
    }

    #[test]
    fn ties_give_no_pair_and_the_earlier_advances() {
        let r = [1.0, 1.0, 0.5, 0.5];
        let (p, d) = pairs(PairStrategy::FirstRound, &[0, 1, 2, 3], &r, &TEXTS);
        assert!(p.is_empty());
        assert_eq!(d, Dropped { ties: 2, identical: 0 });
        let (p, d) = pairs(PairStrategy::Tournament, &[1, 0, 2, 3], &r, &TEXTS);
        // (1,0) tie -> 1 advances; (2,3) tie -> 2 advances; final (1,2): 1 wins.
        assert_eq!(p, vec![(1, 2)]);
        assert_eq!(d, Dropped { ties: 2, identical: 0 });
        let (p, d) = pairs(PairStrategy::BestWorst, &[0, 1], &r, &TEXTS);
        assert!(p.is_empty());
        assert_eq!(d.ties, 1);
    }

    #[test]
    fn identical_texts_give_no_pair() {
        let r = [0.9, 0.1, 0.5, 0.2];
        let texts = ["same", "same", "x", "y"];
        let (p, d) = pairs(PairStrategy::FirstRound, &[0, 1, 2, 3], &r, &texts);
        assert_eq!(p, vec![(2, 3)]);
        assert_eq!(d, Dropped { ties: 0, identical: 1 });
        let (p, d) = pairs(PairStrategy::Tournament, &[0, 1, 2, 3], &r, &texts);
        // 0 still advances over its twin and beats 2 in the final.
        assert_eq!(p, vec![(2, 3), (0, 2)]);
        assert_eq!(d.identical, 1);
    }

    #[test]
    fn best_worst_takes_the_extremes() {
        let r = [0.5, 0.1, 0.9, 0.1, 0.9];
        let (p, d) = pairs(PairStrategy::BestWorst, &[0, 1, 2, 3, 4], &r, &TEXTS);
        assert_eq!(p, vec![(2, 1)]);
        assert_eq!(d.total(), 0);
        let (p, _) = pairs(PairStrategy::BestWorst, &[3, 4, 0], &r, &TEXTS);
        assert_eq!(p, vec![(4, 3)]);
        let (p, _) = pairs(PairStrategy::BestWorst, &[0], &r, &TEXTS);
        assert!(p.is_empty());
    }
}
