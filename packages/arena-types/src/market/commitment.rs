//! The byte encodings that nodes, the contract and auditors hash identically: the sealed model
//! commitment, the score commitment, the evaluation key's hash, the round seed and the
//! per-submission assignment seed.

use sha2::{Digest, Sha256};

/// Scores are integers in `[0, MAX_SCORE]`, higher is better (accuracy in parts per million).
pub const MAX_SCORE: u32 = 1_000_000;

/// The baseline a validator reveals when the round's evaluation shard cannot be used: the file
/// does not decrypt under the revealed key, or what it decrypts to does not hash to the committed
/// sha256. It reveals score 0 with it. When this is the consensus baseline of a submission, the
/// creator failed its duty as surely as with a missing key: the submission is `Void`, nobody is
/// slashed for not measuring, and the round's trainers share `creator_bond / rounds` of the bond
/// besides the round's emission. Without it, honest validators facing a broken shard could only
/// stay silent and be slashed for liveness, to the benefit of the pool the creator reclaims.
pub const UNUSABLE_SHARD: u32 = u32::MAX;

/// The domain tag of [`model_commitment`]: no other hash of Arena's starts with these bytes.
pub const MODEL_COMMITMENT_TAG: &[u8] = b"arena-model-v1";

/// Feeds an address into a hash as `len u16 BE || UTF-8 bytes`, the bech32 string exactly as the
/// chain reports it (lowercase). The length prefix keeps the address from running into the next
/// field. Bech32 addresses are at most 90 characters, far below u16::MAX; saturating rather than
/// wrapping means an absurd input can never collide with a shorter one.
fn update_address(h: &mut Sha256, address: &str) {
    let addr = address.as_bytes();
    let len = u16::try_from(addr.len()).unwrap_or(u16::MAX);
    h.update(len.to_be_bytes());
    h.update(addr);
}

/// The sealed commitment a training node submits in the submission phase; it reveals the model
/// and the salt in the model-reveal phase:
///
/// ```text
/// sha256( "arena-model-v1"  14 bytes, the domain tag
///      || task_id       u64, 8 bytes big-endian
///      || round         u32, 4 bytes big-endian
///      || len(addr)     u16, 2 bytes big-endian, then the trainer's address (UTF-8)
///      || model_sha256  32 bytes
///      || salt          32 bytes )
/// ```
///
/// Task, round and trainer are inside so that a commitment seen on chain cannot be replayed by
/// another trainer, in another round or another task; the salt keeps a known model (last round's
/// winner) from being recognised in a commitment before it is revealed.
pub fn model_commitment(task_id: u64, round: u32, trainer: &str, model_sha256: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(MODEL_COMMITMENT_TAG);
    h.update(task_id.to_be_bytes());
    h.update(round.to_be_bytes());
    update_address(&mut h, trainer);
    h.update(model_sha256);
    h.update(salt);
    h.finalize().into()
}

/// The commitment a validator publishes before revealing its score and the round's baseline
/// (what a trivial model scores on the round's evaluation shard):
///
/// ```text
/// sha256( task_id       u64, 8 bytes big-endian
///      || round         u32, 4 bytes big-endian
///      || submission_id u64, 8 bytes big-endian
///      || len(addr)     u16, 2 bytes big-endian, then the validator's address (UTF-8)
///      || score         u32, 4 bytes big-endian
///      || baseline      u32, 4 bytes big-endian
///      || salt          32 bytes )
/// ```
///
/// Fixed-width integers keep every field unambiguous. The gpu-worker calls this same function.
pub fn score_commitment(
    task_id: u64,
    round: u32,
    submission_id: u64,
    validator: &str,
    score: u32,
    baseline: u32,
    salt: &[u8; 32],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(task_id.to_be_bytes());
    h.update(round.to_be_bytes());
    h.update(submission_id.to_be_bytes());
    update_address(&mut h, validator);
    h.update(score.to_be_bytes());
    h.update(baseline.to_be_bytes());
    h.update(salt);
    h.finalize().into()
}

/// What the task commits to for each round's evaluation key: `sha256(key)`. The key is 32
/// uniformly random bytes drawn for that round alone, so its hash reveals nothing of it.
pub fn evaluation_key_hash(key: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(key).into()
}

/// The first round's seed: `sha256("arena-seed" || task_id u64 BE || creation height u64 BE ||
/// creation time in nanoseconds u64 BE)`. Known to everyone from the start: what makes each
/// round's seed unpredictable is what [`next_round_seed`] mixes in, the salts and the creator's
/// beacon, all revealed after the round's stakes froze.
pub fn initial_seed(task_id: u64, height: u64, time_nanos: u64) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"arena-seed");
    h.update(task_id.to_be_bytes());
    h.update(height.to_be_bytes());
    h.update(time_nanos.to_be_bytes());
    h.finalize().into()
}

/// Folds one revealed salt into the running mix: `mix' = sha256(mix || salt)`. Reveals are folded
/// in the order the chain executed them, which every node agrees on.
pub fn mix_salt(mix: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(mix);
    h.update(salt);
    h.finalize().into()
}

/// The seed of `round`: `sha256(previous seed || mix of the salts revealed since || beacon ||
/// round u32 BE)`, where `beacon` is the creator's beacon value for `round` ([`beacon_value`]),
/// or 32 zero bytes when the creator did not reveal it in time.
pub fn next_round_seed(prev_seed: &[u8; 32], mix: &[u8; 32], beacon: &[u8; 32], round: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_seed);
    h.update(mix);
    h.update(beacon);
    h.update(round.to_be_bytes());
    h.finalize().into()
}

/// One step of the creator's beacon chain: `sha256("arena-beacon" || value)`.
///
/// The creator draws a secret `s` and publishes only the anchor `H^rounds(s)` with the task. The
/// value of round `r` is `H^(rounds - r)(s)`: each one hashes to the one before it, so the chain
/// checks every reveal against the anchor, and nobody but the creator can compute a value
/// before it is revealed (that would invert sha256).
pub fn beacon_step(value: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"arena-beacon");
    h.update(value);
    h.finalize().into()
}

/// The beacon value of `round` (0 is the anchor) of a task of `rounds` rounds: `H^(rounds -
/// round)(secret)`.
pub fn beacon_value(secret: &[u8; 32], rounds: u32, round: u32) -> [u8; 32] {
    let mut v = *secret;
    for _ in round..rounds {
        v = beacon_step(&v);
    }
    v
}

/// Whether `value` is the beacon value of `round`, given the value `known` of an earlier round
/// `known_round` (the anchor is round 0): `H^(round - known_round)(value) == known`. Rounds the
/// creator skipped are hashed over, so a missed reveal does not break the chain.
pub fn beacon_follows(known: &[u8; 32], known_round: u32, value: &[u8; 32], round: u32) -> bool {
    if round <= known_round {
        return false;
    }
    let mut v = *value;
    for _ in known_round..round {
        v = beacon_step(&v);
    }
    &v == known
}

/// The seed a submission's validators are sampled from:
/// `sha256(task_id u64 BE || round u32 BE || submission_id u64 BE || round seed)`.
pub fn assignment_seed(task_id: u64, round: u32, submission_id: u64, round_seed: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(task_id.to_be_bytes());
    h.update(round.to_be_bytes());
    h.update(submission_id.to_be_bytes());
    h.update(round_seed);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_encoding_is_pinned() {
        // Recomputed by hand from the documented layout, so a change of encoding fails here.
        let salt = [7u8; 32];
        let addr = "arena1validator";
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&3u64.to_be_bytes());
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&11u64.to_be_bytes());
        bytes.extend_from_slice(&(addr.len() as u16).to_be_bytes());
        bytes.extend_from_slice(addr.as_bytes());
        bytes.extend_from_slice(&654_321u32.to_be_bytes());
        bytes.extend_from_slice(&100_000u32.to_be_bytes());
        bytes.extend_from_slice(&salt);
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(score_commitment(3, 2, 11, addr, 654_321, 100_000, &salt), expected);
        assert_eq!(bytes.len(), 8 + 4 + 8 + 2 + addr.len() + 4 + 4 + 32);

        let trainer = "arena1trainer";
        let mut bytes = b"arena-model-v1".to_vec();
        bytes.extend_from_slice(&3u64.to_be_bytes());
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&(trainer.len() as u16).to_be_bytes());
        bytes.extend_from_slice(trainer.as_bytes());
        bytes.extend_from_slice(&[5u8; 32]);
        bytes.extend_from_slice(&salt);
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(model_commitment(3, 2, trainer, &[5u8; 32], &salt), expected);
    }

    #[test]
    fn commitment_binds_every_field() {
        let s = [1u8; 32];
        let base = score_commitment(1, 1, 1, "a", 5, 0, &s);
        assert_ne!(base, score_commitment(2, 1, 1, "a", 5, 0, &s));
        assert_ne!(base, score_commitment(1, 2, 1, "a", 5, 0, &s));
        assert_ne!(base, score_commitment(1, 1, 2, "a", 5, 0, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "b", 5, 0, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "a", 6, 0, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "a", 5, 1, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "a", 5, 0, &[2u8; 32]));
    }

    proptest::proptest! {
        /// A model commitment opens to exactly one (task, round, trainer, model, salt): changing
        /// any one field, by any amount, changes the commitment.
        #[test]
        fn model_commitment_binds_every_field(
            task in 0u64..u64::MAX, round in 0u32..u32::MAX,
            trainer in "arena1[a-z0-9]{1,20}", other in "arena1[a-z0-9]{1,20}",
            model in proptest::array::uniform32(0u8..), salt in proptest::array::uniform32(0u8..),
            flip in 0usize..32, bit in 0u8..8,
        ) {
            let base = model_commitment(task, round, &trainer, &model, &salt);
            proptest::prop_assert_ne!(base, model_commitment(task.wrapping_add(1), round, &trainer, &model, &salt));
            proptest::prop_assert_ne!(base, model_commitment(task, round.wrapping_add(1), &trainer, &model, &salt));
            if other != trainer {
                proptest::prop_assert_ne!(base, model_commitment(task, round, &other, &model, &salt));
            }
            let mut m = model;
            m[flip] ^= 1 << bit;
            proptest::prop_assert_ne!(base, model_commitment(task, round, &trainer, &m, &salt));
            let mut s = salt;
            s[flip] ^= 1 << bit;
            proptest::prop_assert_ne!(base, model_commitment(task, round, &trainer, &model, &s));
        }
    }

    #[test]
    fn seeds_depend_on_their_inputs() {
        let s0 = initial_seed(1, 10, 20);
        assert_ne!(s0, initial_seed(2, 10, 20));
        let m = mix_salt(&[0u8; 32], &[9u8; 32]);
        let b = [5u8; 32];
        assert_ne!(next_round_seed(&s0, &m, &b, 2), next_round_seed(&s0, &[0u8; 32], &b, 2));
        assert_ne!(next_round_seed(&s0, &m, &b, 2), next_round_seed(&s0, &m, &[0u8; 32], 2));
        assert_ne!(assignment_seed(1, 1, 1, &s0), assignment_seed(1, 1, 2, &s0));
    }

    /// Off-chain replay of assignments depends on these bytes: pinned against sha256 of the
    /// documented layouts, written out by hand.
    #[test]
    fn seed_encodings_are_pinned() {
        let mut bytes = b"arena-seed".to_vec();
        bytes.extend_from_slice(&7u64.to_be_bytes());
        bytes.extend_from_slice(&100u64.to_be_bytes());
        bytes.extend_from_slice(&5_000u64.to_be_bytes());
        let s0: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(initial_seed(7, 100, 5_000), s0);
        let next: [u8; 32] = Sha256::digest([&s0[..], &[1u8; 32], &[2u8; 32], &[0, 0, 0, 3]].concat()).into();
        assert_eq!(next_round_seed(&s0, &[1u8; 32], &[2u8; 32], 3), next);
        let a: [u8; 32] =
            Sha256::digest([&[0, 0, 0, 0, 0, 0, 0, 7][..], &[0, 0, 0, 3], &[0, 0, 0, 0, 0, 0, 0, 9], &next].concat())
                .into();
        assert_eq!(assignment_seed(7, 3, 9, &next), a);
        let m: [u8; 32] = Sha256::digest([[4u8; 32], [6u8; 32]].concat()).into();
        assert_eq!(mix_salt(&[4u8; 32], &[6u8; 32]), m);
    }

    /// Known answers, computed independently with Python's hashlib from the documented layouts
    /// (off-chain tools that replay assignments must produce exactly these).
    #[test]
    fn known_answers() {
        let s0 = initial_seed(7, 100, 5_000);
        assert_eq!(hex::encode(s0), "3dffe9dcbc17bd5056490091b1000516ce3fcc2f298b74987848a6bbae25f24c");
        let next = next_round_seed(&s0, &[1u8; 32], &[2u8; 32], 3);
        assert_eq!(hex::encode(next), "5de71d27a177926a443e88d1534d945f0ad8bafdcfe30b6a53f916a49644d9af");
        assert_eq!(
            hex::encode(assignment_seed(7, 3, 9, &next)),
            "54b3b573b071e688389c86576a47b38583ba08e10fcb91f79bf0e193d5e95cb5"
        );
        assert_eq!(
            hex::encode(beacon_value(&[42u8; 32], 5, 0)),
            "c9ab4a2b24173a89d35839ab81938fccc799a8c72ba00373ed62caf863a6d73e"
        );
        assert_eq!(
            hex::encode(score_commitment(3, 2, 11, "arena1validator", 654_321, 100_000, &[7u8; 32])),
            "7909784d0c3f579a61d84abf94d46013abbbbc5fe5b58932f0e8aea740510888"
        );
        assert_eq!(
            hex::encode(model_commitment(3, 2, "arena1trainer", &[5u8; 32], &[7u8; 32])),
            "bc11367badd99e6298ec24c42816e79ca02fefa69f3dad14568cc132bfc83570"
        );
        assert_eq!(
            hex::encode(evaluation_key_hash(&[9u8; 32])),
            "8c0cc17a04942cc4f8e0fe0b302606d3108860c126428ba2ceeb5f9ed41c2b05"
        );
    }

    #[test]
    fn the_beacon_chain_checks_each_reveal_against_the_anchor() {
        let secret = [42u8; 32];
        let anchor = beacon_value(&secret, 5, 0);
        assert_eq!(anchor, beacon_step(&beacon_step(&beacon_step(&beacon_step(&beacon_step(&secret))))));
        assert_eq!(beacon_value(&secret, 5, 5), secret);
        let b1 = beacon_value(&secret, 5, 1);
        assert!(beacon_follows(&anchor, 0, &b1, 1));
        // Round 2 missed: round 3's value still follows round 1's.
        let b3 = beacon_value(&secret, 5, 3);
        assert!(beacon_follows(&b1, 1, &b3, 3));
        assert!(beacon_follows(&anchor, 0, &b3, 3));
        // A wrong value, a wrong round, or a replay of a known round fails.
        assert!(!beacon_follows(&anchor, 0, &[0u8; 32], 1));
        assert!(!beacon_follows(&anchor, 0, &b3, 2));
        assert!(!beacon_follows(&b1, 1, &b1, 1));
        assert!(!beacon_follows(&b1, 1, &anchor, 0));
    }
}
