//! The byte encodings that validators, the contract and auditors hash identically: the score
//! commitment, the round seed and the per-submission assignment seed.

use sha2::{Digest, Sha256};

/// Scores are integers in `[0, MAX_SCORE]`, higher is better (accuracy in parts per million).
pub const MAX_SCORE: u32 = 1_000_000;

/// The commitment a validator publishes before revealing its score:
///
/// ```text
/// sha256( task_id       u64, 8 bytes big-endian
///      || round         u32, 4 bytes big-endian
///      || submission_id u64, 8 bytes big-endian
///      || len(addr)     u16, 2 bytes big-endian, then the UTF-8 bytes of the validator's
///                       bech32 address string exactly as the chain reports it (lowercase)
///      || score         u32, 4 bytes big-endian
///      || salt          32 bytes )
/// ```
///
/// The length prefix keeps the address from running into the score; fixed-width integers keep
/// every other field unambiguous. The gpu-worker calls this same function.
pub fn score_commitment(
    task_id: u64,
    round: u32,
    submission_id: u64,
    validator: &str,
    score: u32,
    salt: &[u8; 32],
) -> [u8; 32] {
    let addr = validator.as_bytes();
    // Bech32 addresses are at most 90 characters, far below u16::MAX; saturate rather than
    // wrap so an absurd input can never collide with a shorter one.
    let len = u16::try_from(addr.len()).unwrap_or(u16::MAX);
    let mut h = Sha256::new();
    h.update(task_id.to_be_bytes());
    h.update(round.to_be_bytes());
    h.update(submission_id.to_be_bytes());
    h.update(len.to_be_bytes());
    h.update(addr);
    h.update(score.to_be_bytes());
    h.update(salt);
    h.finalize().into()
}

/// The first round's seed: `sha256("arena-seed" || task_id u64 BE || creation height u64 BE ||
/// creation time in nanoseconds u64 BE)`. Later rounds mix in revealed salts
/// ([`mix_salt`], [`next_round_seed`]), so no single party picks them.
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

/// The seed of `round`: `sha256(previous seed || mix of the salts revealed since || round u32 BE)`.
pub fn next_round_seed(prev_seed: &[u8; 32], mix: &[u8; 32], round: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev_seed);
    h.update(mix);
    h.update(round.to_be_bytes());
    h.finalize().into()
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
        bytes.extend_from_slice(&salt);
        let expected: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(score_commitment(3, 2, 11, addr, 654_321, &salt), expected);
        assert_eq!(bytes.len(), 8 + 4 + 8 + 2 + addr.len() + 4 + 32);
    }

    #[test]
    fn commitment_binds_every_field() {
        let s = [1u8; 32];
        let base = score_commitment(1, 1, 1, "a", 5, &s);
        assert_ne!(base, score_commitment(2, 1, 1, "a", 5, &s));
        assert_ne!(base, score_commitment(1, 2, 1, "a", 5, &s));
        assert_ne!(base, score_commitment(1, 1, 2, "a", 5, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "b", 5, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "a", 6, &s));
        assert_ne!(base, score_commitment(1, 1, 1, "a", 5, &[2u8; 32]));
    }

    #[test]
    fn seeds_depend_on_their_inputs() {
        let s0 = initial_seed(1, 10, 20);
        assert_ne!(s0, initial_seed(2, 10, 20));
        let m = mix_salt(&[0u8; 32], &[9u8; 32]);
        assert_ne!(next_round_seed(&s0, &m, 2), next_round_seed(&s0, &[0u8; 32], 2));
        assert_ne!(assignment_seed(1, 1, 1, &s0), assignment_seed(1, 1, 2, &s0));
    }
}
