//! Consensus on one submission: the lower stake-weighted median of its revealed scores, the quorum
//! rule, and how each reveal stands against the consensus.

use cosmwasm_schema::cw_serde;
use cosmwasm_std::{Decimal, Uint128, Uint256};

/// One revealed score with the validator's effective stake S_j (own + epsilon * delegated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightedScore {
    pub validator: String,
    pub score: u32,
    pub weight: Uint128,
}

/// The lower stake-weighted median: the smallest revealed score x such that the weight of the
/// reveals scoring <= x is at least half of all revealed weight. Reveals are sorted by
/// (score, validator address), so the result never depends on the order they arrived in.
/// `None` when nothing with positive weight was revealed.
pub fn lower_weighted_median(reveals: &[WeightedScore]) -> Option<u32> {
    half_way(reveals, |a, b| (a.score, &a.validator).cmp(&(b.score, &b.validator)))
}

/// The upper stake-weighted median: the largest revealed score x such that the weight of the
/// reveals scoring >= x is at least half of all revealed weight. It differs from the lower one
/// only when some score splits the reveals into two halves of exactly equal weight.
pub fn upper_weighted_median(reveals: &[WeightedScore]) -> Option<u32> {
    half_way(reveals, |a, b| (b.score, &b.validator).cmp(&(a.score, &a.validator)))
}

/// The score of the first reveal, in `order`, at which the weight passed so far reaches half of
/// all revealed weight ("at least half" compared without dividing: 2 * passed >= total).
fn half_way(
    reveals: &[WeightedScore],
    order: impl Fn(&WeightedScore, &WeightedScore) -> std::cmp::Ordering,
) -> Option<u32> {
    let total: Uint256 = reveals.iter().map(|r| Uint256::from(r.weight)).sum();
    if total.is_zero() {
        return None;
    }
    let mut sorted: Vec<&WeightedScore> = reveals.iter().collect();
    sorted.sort_by(|a, b| order(a, b));
    let mut passed = Uint256::zero();
    for r in sorted {
        passed += Uint256::from(r.weight);
        if passed + passed >= total {
            return Some(r.score);
        }
    }
    // Unreachable: after the last reveal `passed == total`.
    None
}

/// The consensus score of a submission: the lower weighted median, unless the reveals split into
/// two camps of exactly half the weight each that lie more than `tau` apart, in which case there
/// is none (the submission is unscored and nobody is slashed as an outlier, since nothing says
/// which camp is right). So validators holding exactly half of the revealed weight can void a
/// submission or move its score by at most `tau`, never more; below half they cannot move it out
/// of the honest scores' range at all.
pub fn consensus_score(reveals: &[WeightedScore], tau: u32) -> Option<u32> {
    let lower = lower_weighted_median(reveals)?;
    let upper = upper_weighted_median(reveals)?;
    (upper - lower <= tau).then_some(lower)
}

/// Whether enough of the assigned weight revealed: `revealed >= quorum * assigned`, compared
/// exactly (no rounding). Nothing assigned never meets quorum.
pub fn meets_quorum(revealed: Uint128, assigned: Uint128, quorum: Decimal) -> bool {
    if assigned.is_zero() {
        return false;
    }
    let lhs = Uint256::from(revealed) * Uint256::from(Decimal::one().atomics());
    let rhs = Uint256::from(assigned) * Uint256::from(quorum.atomics());
    lhs >= rhs
}

/// How one reveal stands against its submission's consensus score C.
#[cw_serde]
#[derive(Copy, Eq)]
pub enum Standing {
    /// |score - C| <= tau: rewarded.
    InConsensus,
    /// tau < |score - C| <= outlier bound: neither rewarded nor slashed.
    Dissenting,
    /// |score - C| > outlier bound: slashed by the outlier share.
    Outlier,
}

/// Classifies a reveal by its distance from the consensus score.
pub fn classify(score: u32, consensus: u32, tau: u32, outlier_bound: u32) -> Standing {
    let distance = score.abs_diff(consensus);
    if distance <= tau {
        Standing::InConsensus
    } else if distance > outlier_bound {
        Standing::Outlier
    } else {
        Standing::Dissenting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ws(v: &str, score: u32, weight: u128) -> WeightedScore {
        WeightedScore { validator: v.to_string(), score, weight: Uint128::new(weight) }
    }

    #[test]
    fn lower_median_of_equal_weights() {
        let r = [ws("a", 10, 1), ws("b", 30, 1), ws("c", 20, 1), ws("d", 40, 1)];
        // Weights <= 20 reach 2 of 4 = exactly half: the lower median is 20.
        assert_eq!(lower_weighted_median(&r), Some(20));
    }

    #[test]
    fn heavy_validator_moves_the_median() {
        let r = [ws("a", 10, 1), ws("b", 90, 5), ws("c", 20, 1)];
        assert_eq!(lower_weighted_median(&r), Some(90));
    }

    #[test]
    fn an_even_split_far_apart_has_no_consensus() {
        // The proof of concept of the review: half the weight says 0, half says 900,000.
        let r = [ws("a", 900_000, 50), ws("b", 0, 50)];
        assert_eq!(lower_weighted_median(&r), Some(0));
        assert_eq!(upper_weighted_median(&r), Some(900_000));
        assert_eq!(consensus_score(&r, 20_000), None);
        // Two honest camps within tau of each other still agree.
        let r = [ws("a", 500_000, 50), ws("b", 510_000, 50)];
        assert_eq!(consensus_score(&r, 20_000), Some(500_000));
        // A strict majority decides as before.
        let r = [ws("a", 900_000, 51), ws("b", 0, 50)];
        assert_eq!(consensus_score(&r, 20_000), Some(900_000));
    }

    #[test]
    fn nothing_revealed_has_no_median() {
        assert_eq!(lower_weighted_median(&[]), None);
        assert_eq!(lower_weighted_median(&[ws("a", 5, 0)]), None);
    }

    #[test]
    fn quorum_is_exact() {
        let half = Decimal::percent(50);
        assert!(meets_quorum(Uint128::new(5), Uint128::new(10), half));
        assert!(!meets_quorum(Uint128::new(4), Uint128::new(10), half));
        assert!(!meets_quorum(Uint128::zero(), Uint128::zero(), half));
        let third = Decimal::from_ratio(1u128, 3u128);
        // 1/3 in Decimal is 0.333..., so 1 of 3 meets it.
        assert!(meets_quorum(Uint128::new(1), Uint128::new(3), third));
    }

    #[test]
    fn classification_bounds_are_inclusive_for_tau() {
        assert_eq!(classify(100, 120, 20, 50), Standing::InConsensus);
        assert_eq!(classify(100, 121, 20, 50), Standing::Dissenting);
        assert_eq!(classify(100, 150, 20, 50), Standing::Dissenting);
        assert_eq!(classify(100, 151, 20, 50), Standing::Outlier);
        assert_eq!(classify(151, 100, 20, 50), Standing::Outlier);
    }

    fn reveals(
        prefix: &'static str,
        lo: u32,
        hi: u32,
        n: std::ops::Range<usize>,
    ) -> impl Strategy<Value = Vec<WeightedScore>> {
        prop::collection::vec((lo..=hi, 1u128..1_000_000u128), n).prop_map(move |v| {
            v.into_iter().enumerate().map(|(i, (s, w))| ws(&format!("{prefix}{i:03}"), s, w)).collect()
        })
    }

    proptest! {
        /// Validators holding less than half of the revealed weight cannot move the median
        /// outside the range of the honest scores, wherever they put their own scores.
        #[test]
        fn minority_cannot_leave_honest_range(
            honest in reveals("honest", 400_000, 600_000, 1..12),
            adversarial in reveals("adv", 0, 1_000_000, 0..12),
        ) {
            let honest_w: u128 = honest.iter().map(|r| r.weight.u128()).sum();
            // Scale the adversaries so their total is strictly below the honest total,
            // i.e. strictly below half of all revealed weight.
            let adv_w: u128 = adversarial.iter().map(|r| r.weight.u128()).sum();
            let adversarial: Vec<_> = adversarial
                .into_iter()
                .map(|mut r| {
                    if adv_w >= honest_w {
                        r.weight = Uint128::new(r.weight.u128() * (honest_w - 1) / adv_w);
                    }
                    r
                })
                .collect();
            let adv_w: u128 = adversarial.iter().map(|r| r.weight.u128()).sum();
            prop_assert!(adv_w < honest_w);
            let lo = honest.iter().map(|r| r.score).min().unwrap();
            let hi = honest.iter().map(|r| r.score).max().unwrap();
            let all: Vec<_> = honest.into_iter().chain(adversarial).collect();
            let c = lower_weighted_median(&all).unwrap();
            prop_assert!(lo <= c && c <= hi, "median {} outside honest range [{}, {}]", c, lo, hi);
        }

        /// Validators holding exactly half of the revealed weight, all on one score, can at most
        /// void the submission or move its consensus within tau of the honest range.
        #[test]
        fn an_exact_half_moves_the_score_by_tau_at_most(
            honest in reveals("honest", 400_000, 600_000, 1..12),
            adv_score in 0u32..=1_000_000,
            tau in 0u32..50_000,
        ) {
            let honest_w: u128 = honest.iter().map(|r| r.weight.u128()).sum();
            let lo = honest.iter().map(|r| r.score).min().unwrap();
            let hi = honest.iter().map(|r| r.score).max().unwrap();
            let mut all = honest;
            all.push(ws("adv", adv_score, honest_w));
            if let Some(c) = consensus_score(&all, tau) {
                prop_assert!(
                    lo.saturating_sub(tau) <= c && c <= hi + tau,
                    "consensus {} outside [{} - tau, {} + tau], tau {}", c, lo, hi, tau
                );
            }
        }

        /// Without an exact half split the consensus is the lower median.
        #[test]
        fn consensus_is_the_lower_median_without_a_split(r in reveals("v", 0, 1_000_000, 1..20)) {
            let (lower, upper) = (lower_weighted_median(&r), upper_weighted_median(&r));
            if lower == upper {
                prop_assert_eq!(consensus_score(&r, 0), lower);
            }
        }

        /// The median does not depend on the order of the reveals.
        #[test]
        fn median_ignores_input_order(
            (r, shuffled) in reveals("v", 0, 1_000_000, 1..20)
                .prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
        ) {
            prop_assert_eq!(lower_weighted_median(&shuffled), lower_weighted_median(&r));
            let mut reversed = r.clone();
            reversed.reverse();
            prop_assert_eq!(lower_weighted_median(&reversed), lower_weighted_median(&r));
        }
    }
}
