//! The Rust StandardMerkleTree against OpenZeppelin's npm package itself: the same root and the
//! same proof for every value, for trees of several shapes (one leaf, powers of two, odd sizes
//! where leaves sit on two levels, and a full-size batch).

mod node;

use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{verify_proof, EvmAddress, MerkleTree, WithdrawalLeaf};
use cosmwasm_std::Uint256;
use node::SplitMix;

fn leaves(batch_id: u64, n: usize, seed: u64) -> Vec<WithdrawalLeaf> {
    let mut rng = SplitMix(seed);
    (0..n)
        .map(|i| {
            // Amounts of every width: small, cw20-sized (u128), and full uint256.
            let amount = match rng.next() % 3 {
                0 => Uint256::from(rng.next() % 1000),
                1 => Uint256::from(u128::from_be_bytes(rng.bytes::<16>())),
                _ => Uint256::from_be_bytes(rng.bytes::<32>()),
            };
            WithdrawalLeaf { batch_id, index: i as u32, recipient: EvmAddress(rng.bytes::<20>()), amount }
        })
        .collect()
}

fn assert_matches_openzeppelin(values: &[WithdrawalLeaf]) {
    let input = serde_json::json!({
        "values": values.iter().map(|v| serde_json::json!([
            v.batch_id.to_string(),
            v.index.to_string(),
            v.recipient.to_string(),
            v.amount.to_string(),
        ])).collect::<Vec<_>>()
    });
    let reference = node::run("oz_merkle.mjs", &input);

    let tree = MerkleTree::of(values).unwrap();
    let root = tree.root();
    assert_eq!(to_hex_0x(&root), reference["root"].as_str().unwrap(), "root of {} leaves", values.len());
    let proofs = reference["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), values.len());
    for (i, value) in values.iter().enumerate() {
        let ours = tree.proof(i).unwrap();
        let theirs: Vec<&str> = proofs[i].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        let ours_hex: Vec<String> = ours.iter().map(|p| to_hex_0x(p)).collect();
        assert_eq!(ours_hex, theirs, "proof of value {i} of {}", values.len());
        assert!(verify_proof(&root, &value.hash(), &ours));
    }
}

#[test]
fn one_leaf_matches_openzeppelin() {
    assert_matches_openzeppelin(&leaves(1, 1, 1));
}

#[test]
fn two_leaves_match_openzeppelin() {
    assert_matches_openzeppelin(&leaves(2, 2, 2));
}

#[test]
fn three_leaves_match_openzeppelin() {
    assert_matches_openzeppelin(&leaves(3, 3, 3));
}

#[test]
fn seven_leaves_match_openzeppelin() {
    assert_matches_openzeppelin(&leaves(u64::MAX, 7, 7));
}

#[test]
fn a_hundred_leaves_match_openzeppelin() {
    assert_matches_openzeppelin(&leaves(100, 100, 100));
}

#[test]
fn a_thousand_leaves_match_openzeppelin() {
    assert_matches_openzeppelin(&leaves(1000, 1000, 1000));
}

#[test]
fn repeated_recipients_and_amounts_match_openzeppelin() {
    // Same recipient and amount in every leaf: only the index tells them apart.
    let recipient = EvmAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed").unwrap();
    let values: Vec<WithdrawalLeaf> =
        (0..6).map(|i| WithdrawalLeaf { batch_id: 9, index: i, recipient, amount: Uint256::from(5u8) }).collect();
    assert_matches_openzeppelin(&values);
}
