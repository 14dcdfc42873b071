//! Sealing: when it is allowed, what a batch holds, and that the root is the shared tree's.

use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{verify_proof, EvmAddress, MerkleTree, WithdrawalLeaf};
use cosmwasm_std::{Uint128, Uint256};

use super::suite::{contract_error, decode_hex, Options, Suite, RECIPIENT, RECIPIENT_2};
use crate::msg::{BatchStatus, ExecuteMsg};
use crate::ContractError;

#[test]
fn seal_with_nothing_queued_is_refused() {
    let mut s = Suite::new();
    let err = contract_error(s.seal().unwrap_err());
    assert_eq!(err, ContractError::NothingQueued {});
}

#[test]
fn seal_before_size_or_age_is_reached_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let queued_at = s.height();
    s.withdraw(&alice, 10, RECIPIENT).unwrap();
    s.withdraw(&alice, 20, RECIPIENT).unwrap();
    s.advance_blocks(9);
    assert!(!s.outbox().sealable);
    let err = contract_error(s.seal().unwrap_err());
    assert_eq!(
        err,
        ContractError::NotReady { queued: 2, max_leaves: 3, oldest_height: queued_at, ready_at_height: queued_at + 10 }
    );
}

#[test]
fn seal_once_max_leaves_are_queued() {
    let mut s = Suite::new();
    let sealed_at = s.height();
    let id = s.sealed_batch();
    assert_eq!(id, 1, "batch ids start at 1");
    let batch = s.batch(1);
    assert_eq!(batch.status, BatchStatus::Sealed);
    assert_eq!(batch.count, 3);
    assert_eq!(batch.total, Uint128::new(357));
    assert_eq!(batch.sealed_height, sealed_at);
    assert_eq!(batch.attestation_count, 0);
    assert_eq!(batch.evm_tx_hash, None);
    assert_eq!(batch.digest, Some(to_hex_0x(&s.digest(1))));

    // The leaves are the withdrawals in the order they were queued.
    let leaves = s.leaves(1, None, None).leaves;
    let got: Vec<(u32, u64, &str, u128)> =
        leaves.iter().map(|l| (l.index, l.withdrawal_id, l.evm_recipient.as_str(), l.amount.u128())).collect();
    assert_eq!(got, vec![(0, 0, RECIPIENT, 100), (1, 1, RECIPIENT_2, 250), (2, 2, RECIPIENT, 7)]);
    // The root is the shared StandardMerkleTree's over those leaves.
    let values: Vec<WithdrawalLeaf> = leaves
        .iter()
        .map(|l| WithdrawalLeaf {
            batch_id: 1,
            index: l.index,
            recipient: EvmAddress::parse(&l.evm_recipient).unwrap(),
            amount: Uint256::from(l.amount),
        })
        .collect();
    assert_eq!(batch.root, to_hex_0x(&MerkleTree::of(&values).unwrap().root()));

    let outbox = s.outbox();
    assert_eq!(outbox.queued_count, 0);
    assert_eq!(outbox.queued_amount, Uint128::zero());
    assert_eq!(outbox.sealed_amount, Uint128::new(357));
    assert_eq!(outbox.next_batch_id, 2);
    assert!(s.pending(None, None).withdrawals.is_empty());
    s.assert_conservation();
}

#[test]
fn seal_after_max_age_takes_fewer_leaves() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    s.withdraw(&alice, 10, RECIPIENT).unwrap();
    s.advance_blocks(10);
    assert!(s.outbox().sealable);
    let res = s.seal().unwrap();
    let batch = s.batch(1);
    assert_eq!((batch.count, batch.total), (1, Uint128::new(10)));
    // A one-leaf tree's root is the leaf hash, and its proof is empty.
    let proof = s.proof(1, 0);
    assert_eq!(proof.root, batch.root);
    assert_eq!(proof.leaf_hash, batch.root);
    assert!(proof.proof.is_empty());

    let wasm =
        res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "seal_batch")).unwrap();
    let attr = |k: &str| wasm.attributes.iter().find(|a| a.key == k).unwrap().value.clone();
    assert_eq!(attr("batch_id"), "1");
    assert_eq!(attr("root"), batch.root);
    assert_eq!(attr("count"), "1");
    assert_eq!(attr("total"), "10");
}

#[test]
fn seal_takes_at_most_max_leaves_oldest_first() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    for amount in 1..=5u128 {
        let who = if amount % 2 == 0 { &bob } else { &alice };
        s.withdraw(who, amount, RECIPIENT).unwrap();
    }
    s.seal().unwrap();
    let first: Vec<u64> = s.leaves(1, None, None).leaves.iter().map(|l| l.withdrawal_id).collect();
    assert_eq!(first, vec![0, 1, 2]);
    let left: Vec<u64> = s.pending(None, None).withdrawals.iter().map(|w| w.id).collect();
    assert_eq!(left, vec![3, 4]);
    s.assert_conservation();

    // Two left: not enough for size, and they are young.
    assert!(matches!(contract_error(s.seal().unwrap_err()), ContractError::NotReady { queued: 2, .. }));
    s.advance_blocks(10);
    s.seal().unwrap();
    let second: Vec<u64> = s.leaves(2, None, None).leaves.iter().map(|l| l.withdrawal_id).collect();
    assert_eq!(second, vec![3, 4]);
    assert_eq!(s.batch(2).total, Uint128::new(9));
    s.assert_conservation();
}

#[test]
fn every_leaf_has_a_proof_that_verifies_against_the_root() {
    let mut s = Suite::with(Options { max_leaves: 11, ..Options::default() });
    let alice = s.alice.clone();
    for i in 0..11u128 {
        s.withdraw(&alice, 1 + i * 13, if i % 3 == 0 { RECIPIENT } else { RECIPIENT_2 }).unwrap();
    }
    s.seal().unwrap();
    let batch = s.batch(1);
    let root: [u8; 32] = decode_hex(&batch.root).try_into().unwrap();
    for index in 0..11u32 {
        let p = s.proof(1, index);
        assert_eq!(p.leaf.index, index);
        assert_eq!(p.root, batch.root);
        let leaf = WithdrawalLeaf {
            batch_id: 1,
            index,
            recipient: EvmAddress::parse(&p.leaf.evm_recipient).unwrap(),
            amount: Uint256::from(p.leaf.amount),
        };
        assert_eq!(p.leaf_hash, to_hex_0x(&leaf.hash()));
        let proof: Vec<[u8; 32]> = p.proof.iter().map(|h| decode_hex(h).try_into().unwrap()).collect();
        assert!(verify_proof(&root, &leaf.hash(), &proof));
        assert_eq!(p.leaf.to_leaf(), Ok(leaf));
        assert_eq!(p.verify(), Ok(true));
    }
}

#[test]
fn proof_of_a_missing_leaf_or_batch_is_an_error() {
    let mut s = Suite::new();
    s.sealed_batch();
    let err = s.query_err(&crate::msg::QueryMsg::Proof { batch_id: 1, index: 3 });
    assert!(err.contains("leaf 3 is out of range: the tree has 3 leaves"), "{err}");
    let err = s.query_err(&crate::msg::QueryMsg::Proof { batch_id: 2, index: 0 });
    assert!(err.contains("batch 2 does not exist"), "{err}");
}

#[test]
fn seal_while_paused_is_refused() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.alice.clone());
    for _ in 0..3 {
        s.withdraw(&alice, 1, RECIPIENT).unwrap();
    }
    s.execute(&admin, ExecuteMsg::SetPaused { paused: true }).unwrap();
    assert!(!s.outbox().sealable);
    assert_eq!(contract_error(s.seal().unwrap_err()), ContractError::Paused {});
}
