//! AIArena's economics, made exact: round emission, the validator/trainer split, rank-geometric
//! trainer weights, pro-rata shares, the operator/delegator split and slashing amounts.
//!
//! Every function rounds down. Whatever rounding leaves over (dust) stays in, or returns to, the
//! task pool, so `paid + dust = emission` holds for every round.

use cosmwasm_std::{Decimal, Uint128, Uint512};

/// The emission of the next round to finalize: an equal share of what the pool holds over the
/// rounds not yet finalized (`rounds_left >= 1`), rounded down. Slashed stake returned to the
/// pool therefore raises the later rounds' emissions.
pub fn round_emission(pool: Uint128, rounds_left: u32) -> Uint128 {
    if rounds_left == 0 {
        return Uint128::zero();
    }
    pool / Uint128::from(rounds_left)
}

/// Effective stake of an operator: `own + floor(epsilon * delegated)`.
pub fn effective_stake(own: Uint128, delegated: Uint128, epsilon: Decimal) -> Uint128 {
    own + delegated.mul_floor(epsilon)
}

/// The validators' part of an emission `r`:
/// `R_v = floor(R * (gamma + (1 - 2*gamma) * sum_s / (sum_t + sum_s)))`, computed as one exact
/// fraction before the single rounding. With no stake at all, `R_v = floor(R * gamma)`.
/// The trainers get `R_t = R - R_v`. Requires `gamma <= 1/2` (validated with the task).
pub fn split_emission(r: Uint128, gamma: Decimal, sum_t: Uint128, sum_s: Uint128) -> (Uint128, Uint128) {
    let one = Uint512::from(Decimal::one().atomics());
    let g = Uint512::from(gamma.atomics());
    let t = Uint512::from(sum_t);
    let s = Uint512::from(sum_s);
    let stakes = t + s;
    let r_v = if stakes.is_zero() {
        r.mul_floor(gamma)
    } else {
        // R * (g*(T+S) + (1 - 2g)*S) / (1 * (T+S)), all in 10^18 fixed point.
        let numerator = Uint512::from(r) * (g * stakes + (one - g - g) * s);
        let v = numerator / (one * stakes);
        Uint128::try_from(v).expect("R_v <= R fits in u128")
    };
    (r_v, r - r_v)
}

/// A scored submission's weight: `floor(T_i * q^rank)`, rank 0 being the best. The common
/// factor `1 / sum(T)` of the formula cancels in the pro-rata share, so it is left out.
/// `q^rank` is `Decimal::pow` (exponentiation by squaring, each product rounded down).
pub fn trainer_weight(stake: Uint128, q: Decimal, rank: u32) -> Uint128 {
    // q <= 1, so the power never overflows.
    stake.mul_floor(q.pow(rank))
}

/// A validator's reward weight for one reveal: its effective stake `S_j`, graded by how close the
/// reveal came to the consensus, `floor(S_j * (tau - d) / tau)` for a deviation `d = |score -
/// consensus| <= tau`, and nothing further out. Full weight at `d = 0`, falling linearly to zero
/// at `tau`: an honest validator measuring the same model on the same data gets the same score
/// bit for bit, so closeness is what honest work looks like, and a validator that guesses near the
/// consensus earns less the worse it guesses, instead of the full share of an all-or-nothing
/// band. With `tau = 0` only an exact match earns. The contract sums these over a validator's
/// reveals.
pub fn graded_validator_weight(stake: Uint128, deviation: u32, tau: u32) -> Uint128 {
    match (deviation, tau) {
        (d, t) if d > t => Uint128::zero(),
        (_, 0) => stake,
        (d, t) => stake.multiply_ratio(t - d, t),
    }
}

/// `floor(amount * weight / total)`; nothing when `total` is zero.
pub fn pro_rata(amount: Uint128, weight: Uint128, total: Uint128) -> Uint128 {
    if total.is_zero() {
        return Uint128::zero();
    }
    amount.multiply_ratio(weight, total)
}

/// Pays `amount` pro rata over `weights`; what rounding leaves is the dust.
pub fn distribute(amount: Uint128, weights: &[Uint128]) -> (Vec<Uint128>, Uint128) {
    let total: Uint128 = weights.iter().copied().sum();
    let paid: Vec<Uint128> = weights.iter().map(|w| pro_rata(amount, *w, total)).collect();
    let sum: Uint128 = paid.iter().copied().sum();
    (paid, amount - sum)
}

/// How an operator's reward divides between itself and its delegators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperatorSplit {
    /// What the operator keeps: its own part plus its commission.
    pub operator: Uint128,
    /// What goes to its delegators, pro rata of their delegations.
    pub delegators: Uint128,
}

/// The part of `reward` due to delegated stake is `floor(reward * eff_delegated / (own +
/// eff_delegated))` with `eff_delegated = floor(epsilon * delegated)`; the delegators get
/// `floor(that * (1 - sigma))`, the operator the rest. Nothing is lost: the two parts add up to
/// `reward`.
pub fn split_operator_reward(
    reward: Uint128,
    own: Uint128,
    delegated: Uint128,
    epsilon: Decimal,
    sigma: Decimal,
) -> OperatorSplit {
    let eff = delegated.mul_floor(epsilon);
    let due_to_delegated = pro_rata(reward, eff, own + eff);
    let delegators = due_to_delegated.mul_floor(Decimal::one() - sigma);
    OperatorSplit { operator: reward - delegators, delegators }
}

/// What a slash takes: `floor(share * own stake)`. Delegated stake is never slashed.
pub fn slash_amount(own: Uint128, share: Decimal) -> Uint128 {
    own.mul_floor(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn u(v: u128) -> Uint128 {
        Uint128::new(v)
    }

    #[test]
    fn split_matches_the_formula() {
        // gamma 0.1, T = 300, S = 700: R_v = 1000 * (0.1 + 0.8 * 0.7) = 660.
        let (v, t) = split_emission(u(1000), Decimal::percent(10), u(300), u(700));
        assert_eq!((v, t), (u(660), u(340)));
        // No stake at all: only gamma.
        let (v, t) = split_emission(u(1000), Decimal::percent(10), u(0), u(0));
        assert_eq!((v, t), (u(100), u(900)));
        // gamma 1/2: always half, whatever the stakes.
        let (v, _) = split_emission(u(1001), Decimal::percent(50), u(1), u(99));
        assert_eq!(v, u(500));
    }

    #[test]
    fn trainer_weights_fall_geometrically() {
        let q = Decimal::percent(50);
        assert_eq!(trainer_weight(u(1000), q, 0), u(1000));
        assert_eq!(trainer_weight(u(1000), q, 1), u(500));
        assert_eq!(trainer_weight(u(1000), q, 3), u(125));
    }

    #[test]
    fn operator_split_gives_delegators_their_part_less_commission() {
        // own 100, delegated 200 at epsilon 0.5 = 100 effective: half of 1000 is due to
        // delegation; sigma 10% keeps 50 of it for the operator.
        let s = split_operator_reward(u(1000), u(100), u(200), Decimal::percent(50), Decimal::percent(10));
        assert_eq!(s, OperatorSplit { operator: u(550), delegators: u(450) });
        let none = split_operator_reward(u(1000), u(100), u(0), Decimal::one(), Decimal::zero());
        assert_eq!(none, OperatorSplit { operator: u(1000), delegators: u(0) });
    }

    #[test]
    fn validator_weight_falls_linearly_to_zero_at_tau() {
        let tau = 20_000;
        assert_eq!(graded_validator_weight(u(1000), 0, tau), u(1000));
        assert_eq!(graded_validator_weight(u(1000), 5_000, tau), u(750));
        assert_eq!(graded_validator_weight(u(1000), 10_000, tau), u(500));
        assert_eq!(graded_validator_weight(u(1000), 19_999, tau), u(0)); // 1000 * 1/20000, floored
        assert_eq!(graded_validator_weight(u(1000), 20_000, tau), u(0));
        assert_eq!(graded_validator_weight(u(1000), 20_001, tau), u(0));
        assert_eq!(graded_validator_weight(u(1000), 0, 0), u(1000));
        assert_eq!(graded_validator_weight(u(1000), 1, 0), u(0));
    }

    #[test]
    fn emission_and_slash_round_down() {
        assert_eq!(round_emission(u(100), 3), u(33));
        assert_eq!(round_emission(u(100), 0), u(0));
        assert_eq!(slash_amount(u(999), Decimal::percent(10)), u(99));
        assert_eq!(effective_stake(u(10), u(5), Decimal::percent(50)), u(12));
    }

    proptest! {
        /// A round's payouts never exceed its emission, and paid + dust = emission exactly.
        #[test]
        fn round_payout_accounts_for_everything(
            r in 0u128..(u128::MAX >> 8),
            gamma_pct in 0u64..=50,
            sum_t in 0u128..1u128 << 100,
            sum_s in 0u128..1u128 << 100,
            trainers in prop::collection::vec(0u128..1u128 << 90, 0..40),
            validators in prop::collection::vec(0u128..1u128 << 90, 0..40),
        ) {
            let r = u(r);
            let (r_v, r_t) = split_emission(r, Decimal::percent(gamma_pct), u(sum_t), u(sum_s));
            prop_assert_eq!(r_v + r_t, r);
            let tw: Vec<_> = trainers.into_iter().map(u).collect();
            let vw: Vec<_> = validators.into_iter().map(u).collect();
            let (tp, t_dust) = distribute(r_t, &tw);
            let (vp, v_dust) = distribute(r_v, &vw);
            let paid: Uint128 = tp.iter().chain(vp.iter()).copied().sum();
            prop_assert!(paid <= r);
            prop_assert_eq!(paid + t_dust + v_dust, r);
            if tw.iter().all(|w| w.is_zero()) {
                prop_assert_eq!(t_dust, r_t);
            }
        }

        /// Graded validator pay keeps the books: whatever the reveals' deviations, the weights
        /// never exceed the stakes, fall as the deviation grows, and paid + dust = the validators'
        /// budget exactly.
        #[test]
        fn graded_validator_rewards_are_conservative(
            budget in 0u128..1u128 << 100,
            tau in 0u32..=200_000,
            reveals in prop::collection::vec((1u128..1u128 << 80, 0u32..=1_000_000), 0..40),
        ) {
            let weights: Vec<Uint128> = reveals
                .iter()
                .map(|(stake, d)| graded_validator_weight(u(*stake), *d, tau))
                .collect();
            for ((stake, d), w) in reveals.iter().zip(&weights) {
                prop_assert!(*w <= u(*stake));
                let further = graded_validator_weight(u(*stake), d.saturating_add(1), tau);
                prop_assert!(further <= *w);
            }
            let (paid, dust) = distribute(u(budget), &weights);
            let sum: Uint128 = paid.iter().copied().sum();
            prop_assert_eq!(sum + dust, u(budget));
        }

        /// The operator/delegator split never creates or loses tokens.
        #[test]
        fn operator_split_is_conservative(
            reward in 0u128..1u128 << 100,
            own in 0u128..1u128 << 90,
            delegated in 0u128..1u128 << 90,
            eps in 0u64..=100,
            sigma in 0u64..=100,
        ) {
            let s = split_operator_reward(
                u(reward), u(own), u(delegated), Decimal::percent(eps), Decimal::percent(sigma),
            );
            prop_assert_eq!(s.operator + s.delegators, u(reward));
        }
    }
}
