//! Attester-set and threshold changes while batches are in flight: which attestations count
//! afterwards, and that no sealed batch is stranded by the change.

use super::suite::{contract_error, Options, Suite, TestAttester};
use crate::msg::{Attester, BatchStatus, ExecuteMsg};
use crate::ContractError;

fn listed(attesters: &[&TestAttester]) -> Vec<Attester> {
    attesters.iter().map(|a| Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() }).collect()
}

fn update(s: &mut Suite, attesters: Vec<Attester>, threshold: u32) {
    let admin = s.admin.clone();
    s.execute(&admin, ExecuteMsg::UpdateAttesters { attesters, threshold }).unwrap();
}

#[test]
fn raising_the_threshold_while_a_batch_is_sealed_needs_the_new_threshold() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    s.attest_by(0, id).unwrap();
    let everyone = listed(&[&s.attesters[0], &s.attesters[1], &s.attesters[2]]);
    update(&mut s, everyone, 3);

    // Two attestations were the old threshold; now they are not enough.
    s.attest_by(1, id).unwrap();
    let batch = s.batch(id);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Sealed, 2));
    s.attest_by(2, id).unwrap();
    let batch = s.batch(id);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 3));
}

#[test]
fn a_removed_attesters_attestation_stops_counting_on_a_sealed_batch() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    s.attest_by(0, id).unwrap();
    assert_eq!(s.batch(id).attestation_count, 1);
    let newcomer = TestAttester::new(&s.app, 9);
    let rotated = listed(&[&s.attesters[1], &s.attesters[2], &newcomer]);
    update(&mut s, rotated, 2);

    // The record stays readable but no longer counts, and its signer may not add another.
    assert_eq!(s.attestations(id, None, None).attestations.len(), 1);
    assert_eq!(s.batch(id).attestation_count, 0);
    assert!(matches!(contract_error(s.attest_by(0, id).unwrap_err()), ContractError::NotAttester { .. }));
    s.attest_by(1, id).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Sealed, "one current attestation of two");
    let signature = newcomer.sign_digest(&s.digest(id));
    s.attest(id, signature).unwrap();
    let batch = s.batch(id);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 2));
}

#[test]
fn lowering_the_threshold_attests_a_sealed_batch_that_now_meets_it() {
    // Three of three were needed; two signed; the third attester is retired (its relayer is
    // gone) and the threshold lowered to the two that did sign. Neither may sign again
    // (DuplicateAttestation), and nobody else is left to: the change itself must attest it.
    let mut s = Suite::with(Options { threshold: 3, ..Options::default() });
    let id = s.sealed_batch();
    s.attest_by(0, id).unwrap();
    s.attest_by(1, id).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Sealed);
    let two = listed(&[&s.attesters[0], &s.attesters[1]]);
    update(&mut s, two, 2);

    let batch = s.batch(id);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 2));
    assert_eq!(s.batches(Some(BatchStatus::Sealed), None, None).batches, vec![]);
    let err = contract_error(s.attest_by(0, id).unwrap_err());
    assert!(matches!(err, ContractError::DuplicateAttestation { .. }), "{err:?}");
}

#[test]
fn a_batch_attested_before_a_rotation_stays_attested_and_new_operators_confirm_it() {
    // The bridge's Attested is a record that the threshold was met; whether the signatures
    // still suffice is the settlement contract's call (the relayer re-attests when they do not).
    let mut s = Suite::new();
    let id = s.attested_batch();
    let newcomer = TestAttester::new(&s.app, 9);
    let rotated = listed(&[&s.attesters[2], &newcomer]);
    update(&mut s, rotated, 2);

    let batch = s.batch(id);
    assert_eq!((batch.status, batch.attestation_count), (BatchStatus::Attested, 0));
    // The current attesters may add theirs over the same digest.
    s.attest_by(2, id).unwrap();
    let signature = newcomer.sign_digest(&s.digest(id));
    s.attest(id, signature).unwrap();
    assert_eq!(s.batch(id).attestation_count, 2);

    // Confirmation votes count by the current set's operators only.
    let hash = format!("0x{}", "22".repeat(32));
    let old = s.attesters[0].operator.clone();
    assert_eq!(contract_error(s.confirm(&old, id, &hash).unwrap_err()), ContractError::NotRelayer { sender: old });
    let (a, b) = (s.attesters[2].operator.clone(), newcomer.operator.clone());
    s.confirm(&a, id, &hash).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested, "one vote of two");
    s.confirm(&b, id, &hash).unwrap();
    let batch = s.batch(id);
    assert_eq!(batch.status, BatchStatus::Confirmed);
    assert_eq!(batch.evm_tx_hash.as_deref(), Some(hash.as_str()));
}

#[test]
fn a_rotation_between_batches_applies_to_the_next_one_only_by_who_signs() {
    // Batch 1 attested by the old set, batch 2 sealed after the rotation: each counts the
    // current set's attestations, the same rule for both.
    let mut s = Suite::new();
    let first = s.attested_batch();
    let second = {
        let (alice, bob) = (s.alice.clone(), s.bob.clone());
        s.withdraw(&alice, 1, super::suite::RECIPIENT).unwrap();
        s.withdraw(&bob, 2, super::suite::RECIPIENT).unwrap();
        s.withdraw(&alice, 3, super::suite::RECIPIENT_2).unwrap();
        s.seal().unwrap();
        2
    };
    let one = listed(&[&s.attesters[1]]);
    update(&mut s, one, 1);
    assert_eq!(s.batch(first).attestation_count, 1);
    assert_eq!(s.batch(second).status, BatchStatus::Sealed);
    s.attest_by(1, second).unwrap();
    assert_eq!(s.batch(second).status, BatchStatus::Attested);
    s.assert_conservation();
}
