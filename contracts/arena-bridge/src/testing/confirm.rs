//! Confirmations: a relayer records the EVM transaction that posted a batch.

use arena_types::settlement::SettlementError;

use super::suite::{contract_error, Suite};
use crate::msg::{Attester, BatchStatus, ConfirmationResponse, ExecuteMsg};
use crate::ContractError;

fn tx_hash(byte: &str) -> String {
    format!("0x{}", byte.repeat(32))
}

/// The `confirm` wasm event's attribute `key`.
fn attr(res: &cw_multi_test::AppResponse, key: &str) -> String {
    let wasm = res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "confirm")).unwrap();
    wasm.attributes.iter().find(|a| a.key == key).unwrap().value.clone()
}

#[test]
fn threshold_operators_naming_one_hash_mark_the_batch_confirmed() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    // Any attester's operator may confirm, not only those who signed.
    let (r2, r0) = (s.attesters[2].operator.clone(), s.attesters[0].operator.clone());
    let first = s.confirm(&r2, id, &tx_hash("ab")).unwrap();
    assert_eq!((attr(&first, "confirmations"), attr(&first, "status")), ("1".to_string(), "attested".to_string()));
    let res = s.confirm(&r0, id, &tx_hash("ab").to_uppercase().replace("0X", "0x")).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Confirmed);
    assert_eq!(batch.evm_tx_hash, Some(tx_hash("ab")));
    assert_eq!(batch.confirmed_by, Some(r0));
    assert_eq!(batch.confirmations.len(), 2);
    assert_eq!(s.batches(Some(BatchStatus::Confirmed), None, None).batches.len(), 1);
    assert!(s.batches(Some(BatchStatus::Attested), None, None).batches.is_empty());
    assert_eq!(attr(&res, "already_confirmed"), "false");
    assert_eq!(attr(&res, "evm_tx_hash"), tx_hash("ab"));
    assert_eq!(attr(&res, "status"), "confirmed");
}

// Scenario 10 of issue 11: one operator key could mark an unposted batch confirmed with a
// made-up hash, and no relayer would ever post it.
#[test]
fn one_operator_cannot_confirm_with_a_made_up_hash() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let liar = s.attesters[0].operator.clone();
    s.confirm(&liar, id, &tx_hash("66")).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Attested);
    assert_eq!(batch.evm_tx_hash, None);
    assert_eq!(batch.confirmations, vec![ConfirmationResponse { operator: liar, evm_tx_hash: tx_hash("66") }]);
    // The honest relayers still see it open, post it and confirm the real hash.
    assert_eq!(s.batches(Some(BatchStatus::Attested), None, None).batches.len(), 1);
    let (r1, r2) = (s.attesters[1].operator.clone(), s.attesters[2].operator.clone());
    s.confirm(&r1, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
    s.confirm(&r2, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
    assert_eq!(s.batch(id).evm_tx_hash, Some(tx_hash("ab")));
}

#[test]
fn an_operator_may_change_its_vote_until_the_batch_is_confirmed() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let (r0, r1) = (s.attesters[0].operator.clone(), s.attesters[1].operator.clone());
    s.confirm(&r0, id, &tx_hash("cd")).unwrap();
    s.confirm(&r1, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
    s.confirm(&r0, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
    assert_eq!(s.batch(id).evm_tx_hash, Some(tx_hash("ab")));
}

#[test]
fn the_same_operator_voting_twice_counts_once() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let r0 = s.attesters[0].operator.clone();
    s.confirm(&r0, id, &tx_hash("ab")).unwrap();
    let again = s.confirm(&r0, id, &tx_hash("ab")).unwrap();
    assert_eq!(attr(&again, "confirmations"), "1");
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
}

#[test]
fn an_operator_of_two_attester_keys_counts_once() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    // The admin gives attester 1's key to attester 0's operator: one relayer, two keys.
    let shared = s.attesters[0].operator.clone();
    let attesters = vec![
        Attester { evm_address: s.attesters[0].evm.to_string(), operator: shared.to_string() },
        Attester { evm_address: s.attesters[1].evm.to_string(), operator: shared.to_string() },
        Attester { evm_address: s.attesters[2].evm.to_string(), operator: s.attesters[2].operator.to_string() },
    ];
    let admin = s.admin.clone();
    s.execute(&admin, ExecuteMsg::UpdateAttesters { attesters, threshold: 2 }).unwrap();
    s.confirm(&shared, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
    let r2 = s.attesters[2].operator.clone();
    s.confirm(&r2, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
}

#[test]
fn votes_of_operators_removed_since_do_not_count() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let (r0, r1) = (s.attesters[0].operator.clone(), s.attesters[1].operator.clone());
    s.confirm(&r0, id, &tx_hash("ab")).unwrap();
    // Attester 0 leaves the set; its vote stays recorded but no longer counts.
    let attesters = s.attesters[1..]
        .iter()
        .map(|a| Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() })
        .collect();
    let admin = s.admin.clone();
    s.execute(&admin, ExecuteMsg::UpdateAttesters { attesters, threshold: 2 }).unwrap();
    s.confirm(&r1, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
    let r2 = s.attesters[2].operator.clone();
    s.confirm(&r2, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
}

#[test]
fn confirm_by_a_non_relayer_is_refused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let alice = s.alice.clone();
    let err = contract_error(s.confirm(&alice, id, &tx_hash("ab")).unwrap_err());
    assert_eq!(err, ContractError::NotRelayer { sender: alice });
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
}

#[test]
fn confirm_again_with_the_same_hash_changes_nothing() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    s.confirm_by_threshold(id, &tx_hash("ab"));
    let before = s.batch(id);
    let late = s.attesters[2].operator.clone();
    let res = s.confirm(&late, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id), before);
    assert_eq!(before.confirmed_by, Some(s.attesters[1].operator.clone()));
    assert_eq!(attr(&res, "already_confirmed"), "true");
}

#[test]
fn confirm_with_a_conflicting_hash_is_refused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    s.confirm_by_threshold(id, &tx_hash("ab"));
    let relayer = s.attesters[2].operator.clone();
    let err = contract_error(s.confirm(&relayer, id, &tx_hash("cd")).unwrap_err());
    assert_eq!(
        err,
        ContractError::ConflictingConfirmation { batch_id: id, recorded: tx_hash("ab"), given: tx_hash("cd") }
    );
    assert_eq!(s.batch(id).evm_tx_hash, Some(tx_hash("ab")));
}

#[test]
fn confirm_of_a_batch_below_threshold_is_refused() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    s.attest_by(0, id).unwrap();
    let relayer = s.attesters[0].operator.clone();
    let err = contract_error(s.confirm(&relayer, id, &tx_hash("ab")).unwrap_err());
    assert_eq!(err, ContractError::NotAttested { batch_id: id, attestations: 1, threshold: 2 });
}

#[test]
fn confirm_of_an_unknown_batch_is_refused() {
    let mut s = Suite::new();
    let relayer = s.attesters[0].operator.clone();
    let err = contract_error(s.confirm(&relayer, 3, &tx_hash("ab")).unwrap_err());
    assert_eq!(err, ContractError::UnknownBatch { batch_id: 3 });
}

#[test]
fn confirm_with_a_malformed_tx_hash_is_refused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let relayer = s.attesters[0].operator.clone();
    let err = contract_error(s.confirm(&relayer, id, "0xabcd").unwrap_err());
    assert_eq!(
        err,
        ContractError::Settlement(SettlementError::MalformedHex {
            what: "EVM tx hash".to_string(),
            input: "0xabcd".to_string(),
            expected_len: 32,
            reason: "4 hex digits, expected 64".to_string(),
        })
    );
}

#[test]
fn confirm_still_records_while_paused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let (admin, relayer) = (s.admin.clone(), s.attesters[0].operator.clone());
    s.execute(&admin, crate::msg::ExecuteMsg::SetPaused { paused: true }).unwrap();
    s.confirm(&relayer, id, &tx_hash("ab")).unwrap();
    let other = s.attesters[1].operator.clone();
    s.confirm(&other, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
}
