//! Pagination of the list queries, and the token conservation invariant over a whole flow.

use cosmwasm_std::Uint128;

use super::suite::{Options, Suite, RECIPIENT, RECIPIENT_2, START_BALANCE};
use crate::msg::BatchStatus;

#[test]
fn pending_withdrawals_page_by_id() {
    let mut s = Suite::with(Options { max_leaves: 100, ..Options::default() });
    let alice = s.alice.clone();
    for amount in 1..=7u128 {
        s.withdraw(&alice, amount, RECIPIENT).unwrap();
    }
    let first: Vec<u64> = s.pending(None, Some(3)).withdrawals.iter().map(|w| w.id).collect();
    assert_eq!(first, vec![0, 1, 2]);
    let next: Vec<u64> = s.pending(Some(2), Some(3)).withdrawals.iter().map(|w| w.id).collect();
    assert_eq!(next, vec![3, 4, 5]);
    let last: Vec<u64> = s.pending(Some(5), Some(3)).withdrawals.iter().map(|w| w.id).collect();
    assert_eq!(last, vec![6]);
}

#[test]
fn batches_page_and_filter_by_status() {
    let mut s = Suite::with(Options { max_leaves: 1, ..Options::default() });
    let alice = s.alice.clone();
    for _ in 0..4 {
        s.withdraw(&alice, 10, RECIPIENT).unwrap();
        s.seal().unwrap();
    }
    // Batch 2 attested, batch 3 attested and confirmed.
    for id in [2, 3] {
        s.attest_by(0, id).unwrap();
        s.attest_by(1, id).unwrap();
    }
    s.confirm_by_threshold(3, &format!("0x{}", "33".repeat(32)));

    let ids = |b: Vec<crate::msg::BatchResponse>| b.iter().map(|b| b.batch_id).collect::<Vec<_>>();
    assert_eq!(ids(s.batches(None, None, None).batches), vec![1, 2, 3, 4]);
    assert_eq!(ids(s.batches(None, Some(1), Some(2)).batches), vec![2, 3]);
    assert_eq!(ids(s.batches(Some(BatchStatus::Sealed), None, None).batches), vec![1, 4]);
    assert_eq!(ids(s.batches(Some(BatchStatus::Sealed), Some(1), None).batches), vec![4]);
    assert_eq!(ids(s.batches(Some(BatchStatus::Attested), None, None).batches), vec![2]);
    assert_eq!(ids(s.batches(Some(BatchStatus::Confirmed), None, None).batches), vec![3]);
}

#[test]
fn leaves_and_attestations_page() {
    let mut s = Suite::with(Options { max_leaves: 5, ..Options::default() });
    let alice = s.alice.clone();
    for _ in 0..5 {
        s.withdraw(&alice, 10, RECIPIENT).unwrap();
    }
    s.seal().unwrap();
    let idx: Vec<u32> = s.leaves(1, Some(1), Some(2)).leaves.iter().map(|l| l.index).collect();
    assert_eq!(idx, vec![2, 3]);

    for i in 0..3 {
        s.attest_by(i, 1).unwrap();
    }
    let all = s.attestations(1, None, None).attestations;
    assert_eq!(all.len(), 3);
    let page = s.attestations(1, Some(all[0].signer.clone()), Some(1)).attestations;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].signer, all[1].signer);
    // Lower-case start_after is the same address.
    let page = s.attestations(1, Some(all[1].signer.to_lowercase()), None).attestations;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].signer, all[2].signer);
}

#[test]
fn bridge_balance_equals_queued_plus_sealed_through_a_whole_flow() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    s.assert_conservation();
    let mut sent = 0u128;
    for (i, amount) in [5u128, 17, 1, 999, 42, 8, 300].into_iter().enumerate() {
        let (who, to) = if i % 2 == 0 { (&alice, RECIPIENT) } else { (&bob, RECIPIENT_2) };
        s.withdraw(who, amount, to).unwrap();
        sent += amount;
        s.assert_conservation();
        if s.outbox().sealable {
            s.seal().unwrap();
            s.assert_conservation();
        }
    }
    // Failed withdrawals move nothing.
    assert!(s.withdraw(&alice, 5, "0xbad").is_err());
    s.assert_conservation();
    s.advance_blocks(10);
    s.seal().unwrap();
    s.attest_by(0, 1).unwrap();
    s.attest_by(2, 1).unwrap();
    s.confirm_by_threshold(1, &format!("0x{}", "01".repeat(32)));
    s.assert_conservation();

    let outbox = s.outbox();
    assert_eq!(outbox.queued_amount, Uint128::zero());
    assert_eq!(outbox.sealed_amount, Uint128::new(sent));
    assert_eq!(s.token_balance(&s.bridge), sent);
    assert_eq!(s.token_balance(&alice) + s.token_balance(&bob), 2 * START_BALANCE - sent);
    assert_eq!(outbox.next_batch_id, 4);
}
