//! The batch total cap: the EVM settlement contract stores a batch's total in a `uint112`, so no
//! batch may total more than 2^112 - 1 and no single withdrawal may be larger than that.

use cosmwasm_std::{Addr, Uint128};
use cw_multi_test::Executor;

use super::suite::{contract_error, Suite, RECIPIENT, RECIPIENT_2, START_BALANCE};
use crate::msg::MAX_BATCH_TOTAL;
use crate::ContractError;

const CAP: u128 = MAX_BATCH_TOTAL.u128();

/// The suite's admin is the token's minter: gives `to` enough tokens for amounts near the cap.
fn mint(s: &mut Suite, to: &Addr, amount: u128) {
    let msg = arena_token::msg::ExecuteMsg::Mint { recipient: to.to_string(), amount: Uint128::new(amount) };
    let (admin, token) = (s.admin.clone(), s.token.clone());
    s.app.execute_contract(admin, token, &msg, &[]).unwrap();
}

/// (withdrawal id, amount) of each leaf of a batch, in leaf order.
fn leaves_of(s: &Suite, batch_id: u64) -> Vec<(u64, u128)> {
    s.leaves(batch_id, None, None).leaves.iter().map(|l| (l.withdrawal_id, l.amount.u128())).collect()
}

#[test]
fn a_withdrawal_above_the_cap_is_refused_when_queued() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    mint(&mut s, &alice, CAP + 1);
    let err = contract_error(s.withdraw(&alice, CAP + 1, RECIPIENT).unwrap_err());
    assert_eq!(err, ContractError::WithdrawalTooLarge { amount: Uint128::new(CAP + 1), max: MAX_BATCH_TOTAL });
    // Nothing moved.
    assert_eq!(s.outbox().queued_count, 0);
    assert_eq!(s.token_balance(&alice), START_BALANCE + CAP + 1);
    s.assert_conservation();
}

#[test]
fn a_withdrawal_of_exactly_the_cap_is_queued_and_sealed_alone() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    mint(&mut s, &alice, CAP);
    s.withdraw(&alice, CAP, RECIPIENT).unwrap();
    s.withdraw(&bob, 5, RECIPIENT_2).unwrap();
    s.withdraw(&bob, 6, RECIPIENT_2).unwrap();
    // Three are queued (max_leaves): sealable, but only the first fits.
    s.seal().unwrap();
    let batch = s.batch(1);
    assert_eq!((batch.count, batch.total), (1, MAX_BATCH_TOTAL));
    assert_eq!(leaves_of(&s, 1), vec![(0, CAP)]);
    assert!(s.proof(1, 0).verify().unwrap());
    let outbox = s.outbox();
    assert_eq!((outbox.queued_count, outbox.queued_amount), (2, Uint128::new(11)));
    s.assert_conservation();
}

#[test]
fn sealing_stops_adding_leaves_before_the_cap() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    mint(&mut s, &alice, CAP);
    s.withdraw(&alice, CAP - 10, RECIPIENT).unwrap();
    s.withdraw(&bob, 10, RECIPIENT_2).unwrap();
    s.withdraw(&bob, 1, RECIPIENT_2).unwrap();
    let res = s.seal().unwrap();
    // The first two reach the cap exactly; the third would pass it.
    let batch = s.batch(1);
    assert_eq!((batch.count, batch.total), (2, MAX_BATCH_TOTAL));
    assert_eq!(leaves_of(&s, 1), vec![(0, CAP - 10), (1, 10)]);
    assert_eq!(batch.header(s.source()).unwrap().total, cosmwasm_std::Uint256::from(MAX_BATCH_TOTAL));
    assert!(s.proof(1, 1).verify().unwrap());
    let wasm = res.events.iter().find(|e| e.ty == "wasm").unwrap();
    let queued_left = wasm.attributes.iter().find(|a| a.key == "queued_left").unwrap();
    assert_eq!(queued_left.value, "1");

    // The one left behind seals on its own once it is old enough.
    s.advance_blocks(10);
    s.seal().unwrap();
    let batch = s.batch(2);
    assert_eq!((batch.count, batch.total), (1, Uint128::new(1)));
    assert_eq!(leaves_of(&s, 2), vec![(2, 1)]);
    assert_eq!(s.outbox().sealed_amount, Uint128::new(CAP + 1));
    s.assert_conservation();
}

#[test]
fn a_withdrawal_that_does_not_fit_opens_the_next_batch_first_in_first_out() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    mint(&mut s, &alice, CAP);
    s.withdraw(&bob, 1, RECIPIENT_2).unwrap();
    s.withdraw(&alice, CAP, RECIPIENT).unwrap();
    s.withdraw(&bob, 2, RECIPIENT_2).unwrap();
    s.seal().unwrap();
    // The later small withdrawal does not jump the queue past the large one.
    assert_eq!(leaves_of(&s, 1), vec![(0, 1)]);
    s.advance_blocks(10);
    s.seal().unwrap();
    assert_eq!(leaves_of(&s, 2), vec![(1, CAP)]);
    s.advance_blocks(10);
    s.seal().unwrap();
    assert_eq!(leaves_of(&s, 3), vec![(2, 2)]);
    for id in 1..=3 {
        assert!(s.batch(id).total <= MAX_BATCH_TOTAL);
    }
    assert_eq!(s.outbox().queued_count, 0);
    s.assert_conservation();
}
