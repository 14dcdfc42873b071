//! Stake-weighted sampling of k validators per submission, without replacement, from a seed.
//!
//! Validators hold numbered slots (1, 2, ...) in a task. Each slot's sampling weight is
//! `S_j^beta` ([`stake_power`]), kept in a Fenwick (binary indexed) tree whose capacity is the
//! smallest power of two that holds every slot ([`fenwick_double`] grows it in one write), so
//! that the contract finds "the validator under this point of the weight line" with
//! `log2(capacity) + 1` storage reads and updates a weight with at most as many writes. Sampling
//! never iterates the validator set, and what it picks does not depend on the capacity.
//!
//! Without replacement is done by rejection: draw proportionally to weight from the whole set
//! and redraw on a validator already picked. Conditioned on not repeating, each draw is exactly
//! proportional to weight among the validators not yet picked, i.e. the same law as sequential
//! sampling without replacement. Draws are capped at [`DRAWS_PER_PICK`] * k; if a few validators
//! hold nearly all the weight the cap can end the sampling with fewer than k picks, which the
//! contract records as they are (quorum is measured against the weight actually assigned).

use cosmwasm_std::{Decimal, Isqrt, Uint128, Uint512};
use sha2::{Digest, Sha256};

/// How many draws sampling may spend per validator it has to pick (see the module doc).
pub const DRAWS_PER_PICK: u32 = 16;

/// The exponents beta the contract supports, with how `floor(S^beta)` is computed. Only these
/// are accepted because each is exact in integers: floor square roots, no floating point, no
/// series. Nested floor square roots are exact (`isqrt(isqrt(x)) = floor(x^(1/4))`).
/// - 1: `S`
/// - 3/4: `isqrt(isqrt(S^3))`, with `S^3` in 512 bits
/// - 1/2: `isqrt(S)`
/// - 1/4: `isqrt(isqrt(S))`
///
/// With beta < 1 splitting stake pays: n identities of `S/n` each weigh `n^(1 - beta)` times
/// one identity of `S` (10% of the stake split over 100 identities at beta = 1/2 weighs as much
/// as 100% in one). The minimum validator stake bounds the gain to `(S / min)^(1 - beta)`.
/// Beta = 1 (the default of every task Arena creates) makes splitting worthless.
pub fn supported_betas() -> [Decimal; 4] {
    [Decimal::one(), Decimal::percent(75), Decimal::percent(50), Decimal::percent(25)]
}

/// `floor(S^beta)` computed as documented in [`supported_betas`]; `None` for another beta.
pub fn stake_power(stake: Uint128, beta: Decimal) -> Option<Uint128> {
    if beta == Decimal::one() {
        Some(stake)
    } else if beta == Decimal::percent(75) {
        let s = Uint512::from(stake);
        let root = (s * s * s).isqrt().isqrt();
        // floor(S^(3/4)) <= S, so it fits.
        Some(Uint128::try_from(root).expect("S^(3/4) <= S"))
    } else if beta == Decimal::percent(50) {
        Some(stake.isqrt())
    } else if beta == Decimal::percent(25) {
        Some(stake.isqrt().isqrt())
    } else {
        None
    }
}

/// Adds `delta` to slot `slot` (1-based) of a Fenwick tree of `capacity` nodes (a power of two),
/// through the caller's node accessors; `subtract` removes it instead.
pub fn fenwick_update<E>(
    capacity: u32,
    slot: u32,
    delta: u128,
    subtract: bool,
    mut get: impl FnMut(u32) -> Result<u128, E>,
    mut set: impl FnMut(u32, u128) -> Result<(), E>,
) -> Result<(), E> {
    let mut i = slot;
    while i != 0 && i <= capacity {
        let v = get(i)?;
        // A node holds a sum of slot weights it already contains, so neither side can
        // overflow or underflow while the caller's old weight is the true one.
        set(i, if subtract { v - delta } else { v + delta })?;
        i += i & i.wrapping_neg();
    }
    Ok(())
}

/// Doubles the capacity of a Fenwick tree (a power of two) and returns the new one. The new top
/// node `2 * capacity` covers every slot, the old ones and the new empty half, so it takes the
/// old top node's sum; every other new node covers only empty slots and stays zero (absent).
pub fn fenwick_double<E>(
    capacity: u32,
    get: impl FnOnce(u32) -> Result<u128, E>,
    set: impl FnOnce(u32, u128) -> Result<(), E>,
) -> Result<u32, E> {
    let doubled = capacity.checked_mul(2).expect("capacities stay far below 2^31");
    set(doubled, get(capacity)?)?;
    Ok(doubled)
}

/// The slot under `point` of the weight line: the smallest slot whose prefix sum of weights
/// exceeds `point` (so `point` must be below the total weight). Reads `log2(capacity) + 1` nodes.
pub fn fenwick_find<E>(capacity: u32, point: u128, mut get: impl FnMut(u32) -> Result<u128, E>) -> Result<u32, E> {
    let mut pos = 0u32;
    let mut rest = point;
    let mut step = capacity;
    while step > 0 {
        let next = pos + step;
        if next <= capacity {
            let v = get(next)?;
            if v <= rest {
                pos = next;
                rest -= v;
            }
        }
        step >>= 1;
    }
    Ok(pos + 1)
}

/// The `draw`-th point on a weight line of length `total`:
/// `u128 from the first 16 bytes (big-endian) of sha256(seed || draw u32 BE) mod total`.
/// The modulo bias is below total / 2^128, nothing for stakes of real tokens.
pub fn draw_point(seed: &[u8; 32], draw: u32, total: u128) -> u128 {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(draw.to_be_bytes());
    let d: [u8; 32] = h.finalize().into();
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_be_bytes(first) % total
}

/// Picks up to `k` distinct slots, proportionally to weight, from `seed`.
///
/// - With `slot_count <= k` there is nothing to choose: every slot with positive weight is taken,
///   in slot order (at most k reads).
/// - Otherwise the rejection sampling of the module doc over [`draw_point`] and `find`.
///
/// `weight_of(slot)` is a slot's own weight, `find(point)` the slot under a point
/// ([`fenwick_find`]), `total` the sum of all weights.
pub fn sample_slots<E>(
    seed: &[u8; 32],
    k: u32,
    slot_count: u32,
    total: u128,
    mut weight_of: impl FnMut(u32) -> Result<u128, E>,
    mut find: impl FnMut(u128) -> Result<u32, E>,
) -> Result<Vec<u32>, E> {
    let mut picked: Vec<u32> = Vec::with_capacity(k as usize);
    if total == 0 || k == 0 {
        return Ok(picked);
    }
    if slot_count <= k {
        for slot in 1..=slot_count {
            if weight_of(slot)? > 0 {
                picked.push(slot);
            }
        }
        return Ok(picked);
    }
    for draw in 0..k.saturating_mul(DRAWS_PER_PICK) {
        let slot = find(draw_point(seed, draw, total))?;
        if !picked.contains(&slot) {
            picked.push(slot);
            if picked.len() == k as usize {
                break;
            }
        }
    }
    Ok(picked)
}

/// An in-memory weight tree: what the contract keeps in storage, for tests and off-chain tools
/// that want to replay an assignment.
#[derive(Clone, Debug)]
pub struct MemoryTree {
    capacity: u32,
    nodes: Vec<u128>,
    weights: Vec<u128>,
}

impl MemoryTree {
    /// An empty tree of `capacity` slots (a power of two).
    pub fn new(capacity: u32) -> Self {
        MemoryTree { capacity, nodes: vec![0; capacity as usize + 1], weights: vec![0; capacity as usize + 1] }
    }

    /// Sets slot `slot`'s weight.
    pub fn set_weight(&mut self, slot: u32, weight: u128) {
        let old = self.weights[slot as usize];
        let nodes = std::cell::RefCell::new(&mut self.nodes);
        let (delta, subtract) = if weight >= old { (weight - old, false) } else { (old - weight, true) };
        let r: Result<(), ()> = fenwick_update(
            self.capacity,
            slot,
            delta,
            subtract,
            |i| Ok(nodes.borrow()[i as usize]),
            |i, v| {
                nodes.borrow_mut()[i as usize] = v;
                Ok(())
            },
        );
        r.expect("infallible");
        self.weights[slot as usize] = weight;
    }

    /// Doubles the capacity, as the contract does when a slot outgrows it.
    pub fn double(&mut self) {
        let nodes = std::cell::RefCell::new(&mut self.nodes);
        let r: Result<u32, ()> = fenwick_double(
            self.capacity,
            |i| Ok(nodes.borrow()[i as usize]),
            |i, v| {
                let mut nodes = nodes.borrow_mut();
                nodes.resize(i as usize + 1, 0);
                nodes[i as usize] = v;
                Ok(())
            },
        );
        self.capacity = r.expect("infallible");
        self.weights.resize(self.capacity as usize + 1, 0);
    }

    /// The sum of all weights.
    pub fn total(&self) -> u128 {
        self.weights.iter().sum()
    }

    /// [`sample_slots`] over this tree, with `slot_count` slots in use.
    pub fn sample(&self, seed: &[u8; 32], k: u32, slot_count: u32) -> Vec<u32> {
        let r: Result<Vec<u32>, ()> = sample_slots(
            seed,
            k,
            slot_count,
            self.total(),
            |s| Ok(self.weights[s as usize]),
            |p| fenwick_find(self.capacity, p, |i| Ok(self.nodes[i as usize])),
        );
        r.expect("infallible")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// floor(S^(p/4)) by definition: the largest x with x^4 <= S^p, found by bisection in u128
    /// with the comparison in 512 bits. Independent of the square roots under test.
    fn exact_root(stake: u128, p: u32) -> u128 {
        let target = Uint512::from(stake).pow(p);
        let (mut lo, mut hi) = (0u128, stake.max(1));
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if Uint512::from(mid).pow(4) <= target {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        lo
    }

    #[test]
    fn stake_power_is_exact_for_supported_betas() {
        let s = Uint128::new(10_000);
        assert_eq!(stake_power(s, Decimal::one()), Some(s));
        assert_eq!(stake_power(s, Decimal::percent(50)), Some(Uint128::new(100)));
        assert_eq!(stake_power(s, Decimal::percent(25)), Some(Uint128::new(10)));
        assert_eq!(stake_power(s, Decimal::percent(75)), Some(Uint128::new(1000)));
        assert_eq!(stake_power(s, Decimal::percent(60)), None);
        // Not fourth powers: the old isqrt(S) * isqrt(isqrt(S)) gave 155 and 3.
        assert_eq!(stake_power(Uint128::new(1000), Decimal::percent(75)), Some(Uint128::new(177)));
        assert_eq!(stake_power(Uint128::new(15), Decimal::percent(75)), Some(Uint128::new(7)));
        for p in [1u32, 2, 3, 4] {
            let beta = Decimal::percent(25 * u64::from(p));
            for stake in [0u128, 1, 2, 15, 16, 17, 1000, u64::MAX as u128, u128::MAX - 1, u128::MAX] {
                assert_eq!(
                    stake_power(Uint128::new(stake), beta),
                    Some(Uint128::new(exact_root(stake, p))),
                    "{stake}^{p}/4"
                );
            }
        }
    }

    #[test]
    fn find_walks_the_prefix_sums() {
        let mut t = MemoryTree::new(8);
        t.set_weight(1, 5);
        t.set_weight(2, 0);
        t.set_weight(3, 10);
        t.set_weight(7, 1);
        let find = |p| fenwick_find::<()>(8, p, |i| Ok(t.nodes[i as usize])).unwrap();
        assert_eq!(find(0), 1);
        assert_eq!(find(4), 1);
        assert_eq!(find(5), 3);
        assert_eq!(find(14), 3);
        assert_eq!(find(15), 7);
        t.set_weight(3, 2);
        let find = |p| fenwick_find::<()>(8, p, |i| Ok(t.nodes[i as usize])).unwrap();
        assert_eq!(find(6), 3);
        assert_eq!(find(7), 7);
    }

    /// A known answer, replayed independently in Python (hashlib, a linear prefix-sum scan):
    /// ten slots weighing 1,000 x slot, k = 4, the seed of
    /// `commitment::tests::known_answers`'s assignment.
    #[test]
    fn sampling_known_answer() {
        let seed: [u8; 32] = hex::decode("54b3b573b071e688389c86576a47b38583ba08e10fcb91f79bf0e193d5e95cb5")
            .unwrap()
            .try_into()
            .unwrap();
        let mut t = MemoryTree::new(16);
        for s in 1..=10u32 {
            t.set_weight(s, 1_000 * u128::from(s));
        }
        assert_eq!(t.sample(&seed, 4, 10), vec![10, 8, 2, 7]);
    }

    #[test]
    fn few_slots_are_all_taken() {
        let mut t = MemoryTree::new(8);
        t.set_weight(1, 5);
        t.set_weight(2, 0);
        t.set_weight(3, 7);
        assert_eq!(t.sample(&[1; 32], 3, 3), vec![1, 3]);
    }

    #[test]
    fn equal_weights_fill_k() {
        let mut t = MemoryTree::new(64);
        for s in 1..=40 {
            t.set_weight(s, 1_000);
        }
        let picks = t.sample(&[3; 32], 7, 40);
        assert_eq!(picks.len(), 7);
    }

    #[test]
    fn heavier_slots_are_picked_more_often() {
        let mut t = MemoryTree::new(16);
        for s in 1..=10 {
            t.set_weight(s, if s == 4 { 100 } else { 1 });
        }
        let hits = (0u8..100).filter(|i| t.sample(&[*i; 32], 1, 10) == vec![4]).count();
        // Slot 4 holds 100/109 of the weight.
        assert!(hits > 80, "heavy slot picked only {hits} times of 100");
    }

    proptest! {
        /// Sampling never picks a slot twice, never picks a zero-weight slot, never picks more
        /// than k, and gives the same picks for the same seed.
        #[test]
        fn sampling_is_distinct_and_deterministic(
            weights in prop::collection::vec(0u128..1_000_000, 1..60),
            k in 1u32..20,
            seed in prop::array::uniform32(any::<u8>()),
        ) {
            let mut t = MemoryTree::new(64);
            for (i, w) in weights.iter().enumerate() {
                t.set_weight(i as u32 + 1, *w);
            }
            let n = weights.len() as u32;
            let picks = t.sample(&seed, k, n);
            prop_assert!(picks.len() <= k as usize);
            let mut sorted = picks.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), picks.len());
            for p in &picks {
                prop_assert!(*p >= 1 && *p <= n);
                prop_assert!(weights[*p as usize - 1] > 0);
            }
            prop_assert_eq!(t.sample(&seed, k, n), picks);
        }

        /// A tree that starts with one slot and doubles whenever a slot outgrows it holds the
        /// same prefix sums as one built at full size: every find answers the same, after
        /// weights went up and down.
        #[test]
        fn a_doubling_tree_finds_what_a_full_size_tree_finds(
            updates in prop::collection::vec((1u32..=40, 0u128..1_000), 1..80),
            points in prop::collection::vec(any::<u128>(), 8),
        ) {
            let mut full = MemoryTree::new(64);
            let mut grown = MemoryTree::new(1);
            for (slot, weight) in updates {
                while grown.capacity < slot {
                    grown.double();
                }
                full.set_weight(slot, weight);
                grown.set_weight(slot, weight);
            }
            let total = full.total();
            prop_assume!(total > 0);
            for p in points {
                let p = p % total;
                let a = fenwick_find::<()>(full.capacity, p, |i| Ok(full.nodes[i as usize])).unwrap();
                let b = fenwick_find::<()>(grown.capacity, p, |i| Ok(grown.nodes[i as usize])).unwrap();
                prop_assert_eq!(a, b);
            }
        }

        /// stake_power is floor(S^beta) for every supported beta and any stake.
        #[test]
        fn stake_power_matches_exact_integer_roots(stake in any::<u128>(), small in 0u128..1_000_000, p in 1u32..=4) {
            let beta = Decimal::percent(25 * u64::from(p));
            for s in [stake, small] {
                prop_assert_eq!(stake_power(Uint128::new(s), beta), Some(Uint128::new(exact_root(s, p))));
            }
        }

        /// The tree's find agrees with a linear scan of the prefix sums.
        #[test]
        fn find_matches_linear_scan(
            weights in prop::collection::vec(0u128..1_000, 1..32),
            frac in 0u128..1_000_000,
        ) {
            let mut t = MemoryTree::new(32);
            for (i, w) in weights.iter().enumerate() {
                t.set_weight(i as u32 + 1, *w);
            }
            let total = t.total();
            prop_assume!(total > 0);
            let point = frac % total;
            let mut acc = 0u128;
            let mut expected = 0u32;
            for (i, w) in weights.iter().enumerate() {
                acc += w;
                if acc > point {
                    expected = i as u32 + 1;
                    break;
                }
            }
            let got = fenwick_find::<()>(32, point, |i| Ok(t.nodes[i as usize])).unwrap();
            prop_assert_eq!(got, expected);
        }
    }
}
