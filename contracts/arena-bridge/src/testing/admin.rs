//! Admin messages, pause, and migration.

use arena_types::migrate::MigrateError;
use cw_multi_test::Executor;

use super::suite::{contract_error, Suite, TestAttester, RECIPIENT};
use crate::msg::{Attester, BatchPolicy, BatchStatus, ExecuteMsg, MigrateMsg};
use crate::ContractError;

/// EIP-55's fourth example address, as a second settlement contract.
const OTHER_SETTLEMENT: &str = "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb";

fn unauthorized(s: &Suite) -> ContractError {
    ContractError::Unauthorized { sender: s.alice.clone(), admin: s.admin.clone() }
}

#[test]
fn admin_messages_from_anyone_else_are_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let attesters = s.config().attesters;
    let messages = [
        ExecuteMsg::UpdateAttesters { attesters, threshold: 1 },
        ExecuteMsg::SetEvmSettlement { address: OTHER_SETTLEMENT.to_string() },
        ExecuteMsg::UpdateBatchPolicy { batch_policy: BatchPolicy { max_leaves: 5, max_age_blocks: 1 } },
        ExecuteMsg::UpdateAdmin { admin: alice.to_string() },
        ExecuteMsg::SetPaused { paused: true },
    ];
    for msg in messages {
        let err = contract_error(s.execute(&alice, msg).unwrap_err());
        assert_eq!(err, unauthorized(&s));
    }
    assert_eq!(s.config().admin, s.admin);
}

#[test]
fn update_attesters_replaces_the_set_and_threshold() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let newcomer = TestAttester::new(&s.app, 9);
    let attesters = vec![
        Attester { evm_address: s.attesters[0].evm.to_string(), operator: s.attesters[0].operator.to_string() },
        Attester { evm_address: newcomer.evm.to_string(), operator: newcomer.operator.to_string() },
    ];
    s.execute(&admin, ExecuteMsg::UpdateAttesters { attesters: attesters.clone(), threshold: 2 }).unwrap();
    let config = s.config();
    assert_eq!(config.attesters, attesters);
    assert_eq!(config.threshold, 2);

    // Removed attesters no longer count, the newcomer does.
    let id = s.sealed_batch();
    assert!(matches!(contract_error(s.attest_by(1, id).unwrap_err()), ContractError::NotAttester { .. }));
    s.attest_by(0, id).unwrap();
    let signature = newcomer.sign_digest(&s.digest(id));
    s.attest(id, signature).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
    // A removed attester's operator may no longer confirm.
    let old = s.attesters[2].operator.clone();
    let err = contract_error(s.confirm(&old, id, &format!("0x{}", "11".repeat(32))).unwrap_err());
    assert_eq!(err, ContractError::NotRelayer { sender: old });
}

#[test]
fn update_attesters_with_an_invalid_threshold_is_refused() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let attesters = s.config().attesters;
    let err = contract_error(s.execute(&admin, ExecuteMsg::UpdateAttesters { attesters, threshold: 4 }).unwrap_err());
    assert_eq!(err, ContractError::InvalidThreshold { threshold: 4, attesters: 3 });
    assert_eq!(s.config().threshold, 2);
}

#[test]
fn changing_the_settlement_address_changes_the_digest_and_voids_old_attestations() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let id = s.sealed_batch();
    let old_digest = s.digest(id);
    s.attest_by(0, id).unwrap();
    assert_eq!(s.batch(id).attestation_count, 1);

    s.execute(&admin, ExecuteMsg::SetEvmSettlement { address: OTHER_SETTLEMENT.to_string() }).unwrap();
    assert_eq!(s.config().evm_settlement.as_deref(), Some(OTHER_SETTLEMENT));
    assert_ne!(s.digest(id), old_digest);
    assert_eq!(s.batch(id).attestation_count, 0);
    // The old signature no longer recovers to an attester for the new digest...
    let stale = s.attesters[0].sign_digest(&old_digest);
    assert!(matches!(contract_error(s.attest(id, stale).unwrap_err()), ContractError::NotAttester { .. }));
    // ...and the same attester may sign the new digest.
    s.attest_by(0, id).unwrap();
    s.attest_by(1, id).unwrap();
    assert_eq!(s.batch(id).status, BatchStatus::Attested);
}

#[test]
fn changing_the_settlement_address_with_an_attested_unconfirmed_batch_is_refused() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let id = s.attested_batch();
    let set = |s: &mut Suite| s.execute(&admin, ExecuteMsg::SetEvmSettlement { address: OTHER_SETTLEMENT.to_string() });
    let err = contract_error(set(&mut s).unwrap_err());
    assert_eq!(err, ContractError::AttestedBatchPending { batch_id: id });
    s.confirm_by_threshold(id, &format!("0x{}", "11".repeat(32)));
    set(&mut s).unwrap();
    assert_eq!(s.config().evm_settlement.as_deref(), Some(OTHER_SETTLEMENT));
}

#[test]
fn update_batch_policy_changes_when_batches_seal() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.alice.clone());
    s.withdraw(&alice, 5, RECIPIENT).unwrap();
    assert!(!s.outbox().sealable);
    let policy = BatchPolicy { max_leaves: 1, max_age_blocks: 100 };
    s.execute(&admin, ExecuteMsg::UpdateBatchPolicy { batch_policy: policy.clone() }).unwrap();
    assert_eq!(s.config().batch_policy, policy);
    assert!(s.outbox().sealable);
    s.seal().unwrap();
    assert_eq!(s.batch(1).count, 1);
}

#[test]
fn update_batch_policy_with_zero_leaves_is_refused() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    let err = contract_error(
        s.execute(
            &admin,
            ExecuteMsg::UpdateBatchPolicy { batch_policy: BatchPolicy { max_leaves: 0, max_age_blocks: 1 } },
        )
        .unwrap_err(),
    );
    assert!(matches!(err, ContractError::InvalidMaxLeaves { max_leaves: 0, .. }));
}

#[test]
fn update_admin_hands_over_the_role() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.alice.clone());
    s.execute(&admin, ExecuteMsg::UpdateAdmin { admin: alice.to_string() }).unwrap();
    assert_eq!(s.config().admin, alice);
    let err = contract_error(s.execute(&admin, ExecuteMsg::SetPaused { paused: true }).unwrap_err());
    assert_eq!(err, ContractError::Unauthorized { sender: admin, admin: alice.clone() });
    s.execute(&alice, ExecuteMsg::SetPaused { paused: true }).unwrap();
    assert!(s.config().paused);
}

#[test]
fn unpause_resumes_withdrawals() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.alice.clone());
    s.execute(&admin, ExecuteMsg::SetPaused { paused: true }).unwrap();
    assert!(s.withdraw(&alice, 5, RECIPIENT).is_err());
    s.execute(&admin, ExecuteMsg::SetPaused { paused: false }).unwrap();
    s.withdraw(&alice, 5, RECIPIENT).unwrap();
    assert_eq!(s.outbox().queued_count, 1);
}

#[test]
fn migrate_to_the_same_version_keeps_the_state() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let (admin, bridge, code) = (s.admin.clone(), s.bridge.clone(), s.bridge_code);
    s.app.migrate_contract(admin, bridge, &MigrateMsg {}, code).unwrap();
    assert_eq!(s.batch(id).count, 3);
    s.assert_conservation();
}

#[test]
fn migrate_from_another_contract_is_refused() {
    let mut s = Suite::new();
    let admin = s.admin.clone();
    // A token instance (cw2 name crates.io:arena-token) may not become a bridge.
    let token = s
        .app
        .instantiate_contract(
            s.token_code,
            admin.clone(),
            &arena_token::msg::InstantiateMsg {
                name: "Other Token".to_string(),
                symbol: "OTHER".to_string(),
                decimals: 6,
                initial_balances: vec![],
                mint: None,
                marketing: None,
            },
            &[],
            "other",
            Some(admin.to_string()),
        )
        .unwrap();
    let err = contract_error(s.app.migrate_contract(admin, token, &MigrateMsg {}, s.bridge_code).unwrap_err());
    assert_eq!(
        err,
        ContractError::Migrate(MigrateError::WrongContract {
            expected: "crates.io:arena-bridge".to_string(),
            found: "crates.io:arena-token".to_string(),
        })
    );
}
