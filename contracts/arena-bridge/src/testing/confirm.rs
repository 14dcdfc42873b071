//! Confirmations: a relayer records the EVM transaction that posted a batch.

use arena_types::settlement::SettlementError;

use super::suite::{contract_error, Suite};
use crate::msg::BatchStatus;
use crate::ContractError;

fn tx_hash(byte: &str) -> String {
    format!("0x{}", byte.repeat(32))
}

#[test]
fn confirm_by_a_relayer_marks_the_batch_confirmed() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    // Any attester's operator may confirm, not only those who signed.
    let relayer = s.attesters[2].operator.clone();
    let res = s.confirm(&relayer, id, &tx_hash("ab").to_uppercase().replace("0X", "0x")).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Confirmed);
    assert_eq!(batch.evm_tx_hash, Some(tx_hash("ab")));
    assert_eq!(batch.confirmed_by, Some(relayer));
    assert_eq!(s.batches(Some(BatchStatus::Confirmed), None, None).batches.len(), 1);
    assert!(s.batches(Some(BatchStatus::Attested), None, None).batches.is_empty());
    let wasm = res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "confirm")).unwrap();
    let attr = |k: &str| wasm.attributes.iter().find(|a| a.key == k).unwrap().value.clone();
    assert_eq!(attr("already_confirmed"), "false");
    assert_eq!(attr("evm_tx_hash"), tx_hash("ab"));
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
    let (r0, r1) = (s.attesters[0].operator.clone(), s.attesters[1].operator.clone());
    s.confirm(&r0, id, &tx_hash("ab")).unwrap();
    let before = s.batch(id);
    let res = s.confirm(&r1, id, &tx_hash("ab")).unwrap();
    assert_eq!(s.batch(id), before);
    assert_eq!(before.confirmed_by, Some(r0));
    let wasm = res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "confirm")).unwrap();
    assert!(wasm.attributes.iter().any(|a| a.key == "already_confirmed" && a.value == "true"));
}

#[test]
fn confirm_with_a_conflicting_hash_is_refused() {
    let mut s = Suite::new();
    let id = s.attested_batch();
    let relayer = s.attesters[0].operator.clone();
    s.confirm(&relayer, id, &tx_hash("ab")).unwrap();
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
    assert_eq!(s.batch(id).status, BatchStatus::Confirmed);
}
