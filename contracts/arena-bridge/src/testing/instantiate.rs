//! Instantiation: the stored configuration, and each invalid parameter.

use arena_types::settlement::SettlementError;
use cosmwasm_std::Uint128;

use super::suite::{contract_error, Options, Suite, TestAttester, CHAIN_ID, SETTLEMENT};
use crate::msg::{Attester, BatchPolicy, MAX_ATTESTERS, MAX_BATCH_LEAVES};
use crate::ContractError;

#[test]
fn instantiate_stores_the_configuration() {
    let s = Suite::new();
    let config = s.config();
    assert_eq!(config.admin, s.admin);
    assert_eq!(config.token, s.token);
    assert_eq!(config.threshold, 2);
    assert_eq!(config.evm_chain_id, CHAIN_ID);
    assert_eq!(config.evm_settlement.as_deref(), Some(SETTLEMENT));
    assert_eq!(config.batch_policy, BatchPolicy { max_leaves: 3, max_age_blocks: 10 });
    assert!(!config.paused);
    let expected: Vec<Attester> = s
        .attesters
        .iter()
        .map(|a| Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() })
        .collect();
    assert_eq!(config.attesters, expected);
    let domain = arena_types::settlement::SettlementDomain {
        chain_id: CHAIN_ID,
        verifying_contract: arena_types::settlement::EvmAddress::parse(SETTLEMENT).unwrap(),
    };
    assert_eq!(config.domain_separator, Some(arena_types::settlement::evm::to_hex_0x(&domain.separator())));
    let outbox = s.outbox();
    assert_eq!(outbox.next_batch_id, 1);
    assert_eq!(outbox.queued_amount, Uint128::zero());
    assert!(!outbox.sealable);
}

#[test]
fn instantiate_without_settlement_address_leaves_the_domain_unset() {
    let s = Suite::with(Options { evm_settlement: None, ..Options::default() });
    let config = s.config();
    assert_eq!(config.evm_settlement, None);
    assert_eq!(config.domain_separator, None);
}

#[test]
fn zero_threshold_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.threshold = 0;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidThreshold { threshold: 0, attesters: 3 });
}

#[test]
fn threshold_above_the_set_size_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.threshold = 4;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidThreshold { threshold: 4, attesters: 3 });
}

#[test]
fn empty_attester_set_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.attesters.clear();
    msg.threshold = 1;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidThreshold { threshold: 1, attesters: 0 });
}

#[test]
fn too_many_attesters_are_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.attesters = (1..=MAX_ATTESTERS as u8 + 1)
        .map(|i| {
            let a = TestAttester::new(&s.app, i);
            Attester { evm_address: a.evm.to_string(), operator: a.operator.to_string() }
        })
        .collect();
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::TooManyAttesters { count: MAX_ATTESTERS + 1, max: MAX_ATTESTERS });
}

#[test]
fn an_attester_listed_twice_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    // The same key in lower case is the same attester.
    let mut again = msg.attesters[0].clone();
    again.evm_address = again.evm_address.to_lowercase();
    msg.attesters.push(again);
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::DuplicateAttester { evm_address: s.attesters[0].evm.to_string() });
}

#[test]
fn a_malformed_attester_address_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.attesters[1].evm_address = "0x1234".to_string();
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(
        err,
        ContractError::Settlement(SettlementError::MalformedAddress {
            input: "0x1234".to_string(),
            reason: "it has 4 hex digits, not 40".to_string()
        })
    );
}

#[test]
fn zero_max_leaves_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.batch_policy.max_leaves = 0;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidMaxLeaves { max_leaves: 0, limit: MAX_BATCH_LEAVES });
}

#[test]
fn max_leaves_above_the_limit_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.batch_policy.max_leaves = MAX_BATCH_LEAVES + 1;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidMaxLeaves { max_leaves: MAX_BATCH_LEAVES + 1, limit: MAX_BATCH_LEAVES });
}

#[test]
fn zero_chain_id_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.evm_chain_id = 0;
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::InvalidChainId {});
}

#[test]
fn zero_settlement_address_is_refused() {
    let mut s = Suite::new();
    let mut msg = s.instantiate_msg();
    msg.evm_settlement = Some(format!("0x{}", "0".repeat(40)));
    let err = contract_error(s.instantiate_bridge(&msg).unwrap_err());
    assert_eq!(err, ContractError::ZeroSettlementAddress {});
}
