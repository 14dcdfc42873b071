//! OpenZeppelin's `StandardMerkleTree` (npm `@openzeppelin/merkle-tree` 1.0.8), for Arena's
//! withdrawal leaves `(uint64 batchId, uint32 index, address recipient, uint256 amount)`.
//!
//! Matching it exactly is what lets a claim on Base verify with OpenZeppelin's `MerkleProof`:
//! - leaf hash = `keccak256(bytes.concat(keccak256(abi.encode(batchId, index, recipient, amount))))`
//!   (hashed twice so a leaf can never be read as an inner node);
//! - inner node = `keccak256(min(a, b) || max(a, b))` (sorted pairs: proofs need no left/right bits);
//! - the leaf hashes are sorted ascending, then laid out as a complete binary tree in one array:
//!   node `i` has children `2i + 1` and `2i + 2`, the root is node 0, and sorted leaf `k` sits at
//!   `len - 1 - k` (so the leaves fill the array's tail in reverse order). With a number of
//!   leaves that is not a power of two this is NOT the usual "pair up, carry the odd one" tree:
//!   some leaves sit one level higher than others.

use cosmwasm_std::Uint256;

use super::error::SettlementError;
use super::evm::{keccak256, Bytes32, EvmAddress};

/// One withdrawal as it is claimed on the EVM side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WithdrawalLeaf {
    /// The batch the leaf belongs to (a leaf cannot be replayed in another batch).
    pub batch_id: u64,
    /// The leaf's position in its batch, 0-based, in the order the bridge queued the withdrawals.
    pub index: u32,
    pub recipient: EvmAddress,
    pub amount: Uint256,
}

impl WithdrawalLeaf {
    /// `abi.encode(uint64, uint32, address, uint256)`: four 32-byte big-endian words.
    pub fn abi_encode(&self) -> [u8; 128] {
        let mut out = [0u8; 128];
        out[24..32].copy_from_slice(&self.batch_id.to_be_bytes());
        out[60..64].copy_from_slice(&self.index.to_be_bytes());
        out[64..96].copy_from_slice(&self.recipient.to_abi_word());
        out[96..128].copy_from_slice(&self.amount.to_be_bytes());
        out
    }

    /// The leaf hash: `keccak256(keccak256(abi.encode(values)))`.
    pub fn hash(&self) -> Bytes32 {
        keccak256(&keccak256(&self.abi_encode()))
    }
}

/// The hash of an inner node: `keccak256` of the two children, smaller first.
pub fn hash_pair(a: &Bytes32, b: &Bytes32) -> Bytes32 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(lo);
    buf[32..].copy_from_slice(hi);
    keccak256(&buf)
}

/// Folds a proof onto a leaf hash, as `MerkleProof.processProof` does on chain.
pub fn process_proof(leaf_hash: &Bytes32, proof: &[Bytes32]) -> Bytes32 {
    proof.iter().fold(*leaf_hash, |node, sibling| hash_pair(&node, sibling))
}

/// Whether `proof` links `leaf_hash` to `root` (OpenZeppelin's `MerkleProof.verify`).
pub fn verify_proof(root: &Bytes32, leaf_hash: &Bytes32, proof: &[Bytes32]) -> bool {
    process_proof(leaf_hash, proof) == *root
}

/// A built tree: every node, and where each input value's leaf ended up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    /// `2n - 1` nodes, root first, in OpenZeppelin's array layout.
    nodes: Vec<Bytes32>,
    /// For input value `v`, the array position of its leaf.
    tree_index: Vec<usize>,
}

impl MerkleTree {
    /// `StandardMerkleTree.of(values, ["uint64", "uint32", "address", "uint256"])`.
    pub fn of(values: &[WithdrawalLeaf]) -> Result<Self, SettlementError> {
        let hashes: Vec<Bytes32> = values.iter().map(WithdrawalLeaf::hash).collect();
        Self::from_leaf_hashes(&hashes)
    }

    /// The tree over already-hashed leaves, in input order (they are sorted here, as OpenZeppelin
    /// sorts them; the sort is stable, like JavaScript's, so equal hashes keep their order).
    pub fn from_leaf_hashes(leaf_hashes: &[Bytes32]) -> Result<Self, SettlementError> {
        let n = leaf_hashes.len();
        if n == 0 {
            return Err(SettlementError::EmptyTree);
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| leaf_hashes[a].cmp(&leaf_hashes[b]));

        let len = 2 * n - 1;
        let mut nodes = vec![[0u8; 32]; len];
        let mut tree_index = vec![0usize; n];
        for (sorted_pos, &value_index) in order.iter().enumerate() {
            let at = len - 1 - sorted_pos;
            nodes[at] = leaf_hashes[value_index];
            tree_index[value_index] = at;
        }
        // Inner nodes are positions 0 ..= len - 1 - n, filled from the bottom up.
        for i in (0..len - n).rev() {
            nodes[i] = hash_pair(&nodes[2 * i + 1], &nodes[2 * i + 2]);
        }
        Ok(Self { nodes, tree_index })
    }

    /// The root (node 0).
    pub fn root(&self) -> Bytes32 {
        self.nodes[0]
    }

    /// How many leaves the tree holds.
    pub fn len(&self) -> usize {
        self.tree_index.len()
    }

    /// Always false: a tree has at least one leaf.
    pub fn is_empty(&self) -> bool {
        self.tree_index.is_empty()
    }

    /// The leaf hash of input value `value_index`.
    pub fn leaf_hash(&self, value_index: usize) -> Result<Bytes32, SettlementError> {
        Ok(self.nodes[self.position(value_index)?])
    }

    /// The proof of input value `value_index` (its position in the slice given to [`Self::of`],
    /// which for a batch is the leaf's `index`): the siblings from the leaf up to the root.
    pub fn proof(&self, value_index: usize) -> Result<Vec<Bytes32>, SettlementError> {
        let mut at = self.position(value_index)?;
        let mut proof = Vec::new();
        while at > 0 {
            // Left children are odd, right children even.
            let sibling = if at % 2 == 1 { at + 1 } else { at - 1 };
            proof.push(self.nodes[sibling]);
            at = (at - 1) / 2;
        }
        Ok(proof)
    }

    fn position(&self, value_index: usize) -> Result<usize, SettlementError> {
        self.tree_index
            .get(value_index)
            .copied()
            .ok_or(SettlementError::LeafOutOfRange { index: value_index, len: self.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(index: u32, amount: u128) -> WithdrawalLeaf {
        WithdrawalLeaf {
            batch_id: 7,
            index,
            recipient: EvmAddress([index as u8 + 1; 20]),
            amount: Uint256::from(amount),
        }
    }

    #[test]
    fn abi_encoding_puts_each_value_right_aligned_in_its_word() {
        let l = WithdrawalLeaf {
            batch_id: 0x0102,
            index: 0x0304,
            recipient: EvmAddress([0xaa; 20]),
            amount: Uint256::from(0x0506u128),
        };
        let enc = l.abi_encode();
        let mut expected = [0u8; 128];
        expected[30] = 0x01;
        expected[31] = 0x02;
        expected[62] = 0x03;
        expected[63] = 0x04;
        expected[76..96].copy_from_slice(&[0xaa; 20]);
        expected[126] = 0x05;
        expected[127] = 0x06;
        assert_eq!(enc, expected);
    }

    #[test]
    fn a_single_leaf_is_its_own_root_with_an_empty_proof() {
        let t = MerkleTree::of(&[leaf(0, 5)]).unwrap();
        assert_eq!(t.root(), leaf(0, 5).hash());
        assert_eq!(t.proof(0).unwrap(), Vec::<Bytes32>::new());
    }

    #[test]
    fn five_leaves_follow_the_array_layout_not_pairwise_carry() {
        let leaves: Vec<WithdrawalLeaf> = (0..5).map(|i| leaf(i, 10 + i as u128)).collect();
        let mut s: Vec<Bytes32> = leaves.iter().map(|l| l.hash()).collect();
        s.sort();
        // Array of 9: [root, n1, n2, n3, s4, s3, s2, s1, s0]; n3 = (s1, s0), n2 = (s3, s2),
        // n1 = (n3, s4), root = (n1, n2).
        let n3 = hash_pair(&s[1], &s[0]);
        let n2 = hash_pair(&s[3], &s[2]);
        let n1 = hash_pair(&n3, &s[4]);
        let root = hash_pair(&n1, &n2);
        let t = MerkleTree::of(&leaves).unwrap();
        assert_eq!(t.root(), root);
        // Pairing up level by level and carrying the odd leaf gives another root.
        let carried = hash_pair(&hash_pair(&n3, &n2), &s[4]);
        assert_ne!(root, carried);
        // The leaf sorted last sits one level higher: its proof is [n3, n2].
        let last = leaves.iter().position(|l| l.hash() == s[4]).unwrap();
        assert_eq!(t.proof(last).unwrap(), vec![n3, n2]);
    }

    #[test]
    fn every_proof_verifies_and_a_tampered_one_does_not() {
        let leaves: Vec<WithdrawalLeaf> = (0..13).map(|i| leaf(i, 100 + i as u128)).collect();
        let t = MerkleTree::of(&leaves).unwrap();
        for (i, l) in leaves.iter().enumerate() {
            let proof = t.proof(i).unwrap();
            assert!(verify_proof(&t.root(), &l.hash(), &proof));
            assert_eq!(t.leaf_hash(i).unwrap(), l.hash());
            let mut other = *l;
            other.amount = Uint256::from(1_000_000u128);
            assert!(!verify_proof(&t.root(), &other.hash(), &proof));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn every_proof_verifies_for_any_tree_size(n in 1usize..130, seed in 0u64..1000) {
            let leaves: Vec<WithdrawalLeaf> = (0..n)
                .map(|i| WithdrawalLeaf {
                    batch_id: seed,
                    index: i as u32,
                    recipient: EvmAddress([(i % 7) as u8; 20]),
                    amount: Uint256::from(seed * 1000 + i as u64),
                })
                .collect();
            let t = MerkleTree::of(&leaves).unwrap();
            for (i, l) in leaves.iter().enumerate() {
                let proof = t.proof(i).unwrap();
                // A complete tree: leaves sit at depth floor(log2 n) or floor(log2(2n - 1)).
                let log2 = |x: usize| (usize::BITS - 1 - x.leading_zeros()) as usize;
                proptest::prop_assert!((log2(n)..=log2(2 * n - 1)).contains(&proof.len()));
                proptest::prop_assert!(verify_proof(&t.root(), &l.hash(), &proof));
            }
        }
    }

    #[test]
    fn empty_input_and_out_of_range_index_are_errors() {
        assert_eq!(MerkleTree::of(&[]), Err(SettlementError::EmptyTree));
        let t = MerkleTree::of(&[leaf(0, 1), leaf(1, 2)]).unwrap();
        assert_eq!(t.proof(2), Err(SettlementError::LeafOutOfRange { index: 2, len: 2 }));
    }
}
