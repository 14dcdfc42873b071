//! A batch of the largest size the policy allows (1,000 leaves, ten times a query page): sealed
//! whole, attested, and read back page by page with every leaf's proof against the root.

use arena_types::settlement::{verify_proof, EvmAddress, MerkleTree, WithdrawalLeaf};
use cosmwasm_std::{Uint128, Uint256};

use super::suite::{decode_hex, Options, Suite, RECIPIENT, RECIPIENT_2};
use crate::msg::{BatchStatus, LeafResponse, MAX_BATCH_LEAVES, MAX_LIMIT};

/// Leaf `i`'s amount: all different, so a leaf read from the wrong index shows.
fn amount(i: u32) -> u128 {
    1 + u128::from(i)
}

fn recipient(i: u32) -> &'static str {
    if i % 2 == 0 {
        RECIPIENT
    } else {
        RECIPIENT_2
    }
}

/// Every leaf of `batch_id`, following `start_after` pages of `limit`; also the size of each page.
fn all_leaves(s: &Suite, batch_id: u64, limit: Option<u32>) -> (Vec<LeafResponse>, Vec<usize>) {
    let (mut leaves, mut pages) = (Vec::new(), Vec::new());
    let mut start_after = None;
    loop {
        let page = s.leaves(batch_id, start_after, limit).leaves;
        let Some(last) = page.last() else { break };
        start_after = Some(last.index);
        pages.push(page.len());
        leaves.extend(page);
    }
    (leaves, pages)
}

#[test]
fn a_batch_of_max_leaves_is_sealed_attested_and_paged_with_valid_proofs() {
    let max = MAX_BATCH_LEAVES;
    let mut s = Suite::with(Options { max_leaves: max, max_age_blocks: 1_000_000, ..Options::default() });
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    // One more than a batch: the last one stays queued.
    for i in 0..=max {
        let from = if i % 2 == 0 { &alice } else { &bob };
        s.withdraw(from, amount(i), recipient(i)).unwrap();
    }
    assert!(s.outbox().sealable);
    s.seal().unwrap();

    let batch = s.batch(1);
    let expected_total: u128 = (0..max).map(amount).sum();
    assert_eq!((batch.count, batch.total, batch.status), (max, Uint128::new(expected_total), BatchStatus::Sealed));
    let outbox = s.outbox();
    assert_eq!((outbox.queued_count, outbox.queued_amount), (1, Uint128::new(amount(max))));

    // The root is the shared tree's over the 1,000 leaves, computed here.
    let values: Vec<WithdrawalLeaf> = (0..max)
        .map(|i| WithdrawalLeaf {
            batch_id: 1,
            index: i,
            recipient: EvmAddress::parse(recipient(i)).unwrap(),
            amount: Uint256::from(amount(i)),
        })
        .collect();
    let root = MerkleTree::of(&values).unwrap().root();
    assert_eq!(decode_hex(&batch.root), root.to_vec());

    // Pages are clamped to MAX_LIMIT: ten full pages, in order, each leaf once.
    let (leaves, pages) = all_leaves(&s, 1, Some(u32::MAX));
    assert_eq!(pages, vec![MAX_LIMIT as usize; (max / MAX_LIMIT) as usize]);
    let (default_paged, default_pages) = all_leaves(&s, 1, None);
    assert_eq!(default_paged, leaves);
    assert_eq!(default_pages.len(), (max as usize).div_ceil(30));
    assert_eq!(leaves.len(), max as usize);
    for (i, leaf) in leaves.iter().enumerate() {
        let i = i as u32;
        assert_eq!((leaf.index, leaf.amount.u128(), leaf.withdrawal_id), (i, amount(i), u64::from(i)));
        assert_eq!(leaf.evm_recipient, recipient(i));
        assert_eq!(leaf.sender, if i % 2 == 0 { alice.clone() } else { bob.clone() });
    }
    // Past the last leaf there is nothing; the page that crosses it is short.
    assert!(s.leaves(1, Some(max - 1), None).leaves.is_empty());
    assert_eq!(s.leaves(1, Some(max - 11), Some(50)).leaves.len(), 10);

    // Proofs verify against the root: the first and last pages whole (the tree's uneven edge is
    // at the end) and a stride through the middle (each proof rebuilds the 1,000-leaf tree).
    let sampled = (0..MAX_LIMIT).chain((MAX_LIMIT..max - MAX_LIMIT).step_by(37)).chain(max - MAX_LIMIT..max);
    for index in sampled {
        let p = s.proof(1, index);
        assert_eq!(p.leaf, leaves[index as usize]);
        let leaf = p.leaf.to_leaf().unwrap();
        let proof: Vec<[u8; 32]> = p.proof.iter().map(|h| decode_hex(h).try_into().unwrap()).collect();
        // OpenZeppelin's complete tree of 1,000 leaves: 9 or 10 levels to the root.
        assert!((9..=10).contains(&proof.len()), "leaf {index}: a proof of {} hashes", proof.len());
        assert!(verify_proof(&root, &leaf.hash(), &proof), "leaf {index}");
    }
    let err = s.query_err(&crate::msg::QueryMsg::Proof { batch_id: 1, index: max });
    assert!(err.contains(&format!("leaf {max} is out of range: the tree has {max} leaves")), "{err}");

    // Attested like any batch: the digest commits to the 1,000-leaf root, count and total.
    s.attest_by(0, 1).unwrap();
    s.attest_by(2, 1).unwrap();
    let batch = s.batch(1);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 2));
    assert_eq!(s.attestations(1, None, None).attestations.len(), 2);
    s.assert_conservation();
}
