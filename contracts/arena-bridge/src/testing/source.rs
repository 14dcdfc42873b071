//! The signed batch names its source (scenario 8 of issue 11): batch ids restart at 1 in every
//! bridge, so the digest of "batch 1" must differ between two bridges, and between chains.

use arena_types::settlement::evm::to_hex_0x;
use arena_types::settlement::{keccak256, BatchSource};
use cosmwasm_std::{to_json_binary, Addr, Uint128};
use cw_multi_test::Executor;

use super::suite::{contract_error, Suite, RECIPIENT, RECIPIENT_2};
use crate::msg::{BatchResponse, ExecuteMsg, QueryMsg, ReceiveMsg};
use crate::ContractError;

/// Sends `amount` from `from` to `bridge` as a withdrawal to `recipient`.
fn withdraw_to(s: &mut Suite, bridge: &Addr, from: &Addr, amount: u128, recipient: &str) {
    let msg = arena_token::msg::ExecuteMsg::Send {
        contract: bridge.to_string(),
        amount: Uint128::new(amount),
        msg: to_json_binary(&ReceiveMsg::Withdraw { evm_recipient: recipient.to_string() }).unwrap(),
    };
    let token = s.token.clone();
    s.app.execute_contract(from.clone(), token, &msg, &[]).unwrap();
}

/// A second bridge on the same chain, same settlement address and attesters, holding the same
/// withdrawals as the suite's batch 1, sealed as its own batch 1.
fn twin_bridge(s: &mut Suite) -> Addr {
    let msg = s.instantiate_msg();
    let twin = s.instantiate_bridge(&msg).unwrap();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    withdraw_to(s, &twin, &alice, 100, RECIPIENT);
    withdraw_to(s, &twin, &bob, 250, RECIPIENT_2);
    withdraw_to(s, &twin, &alice, 7, RECIPIENT);
    let cranker = s.app.api().addr_make("cranker");
    s.app.execute_contract(cranker, twin.clone(), &ExecuteMsg::SealBatch {}, &[]).unwrap();
    twin
}

#[test]
fn two_bridges_sign_different_digests_for_the_same_batch() {
    let mut s = Suite::new();
    let id = s.sealed_batch();
    let twin = twin_bridge(&mut s);
    let ours = s.batch(id);
    let theirs: BatchResponse = s.app.wrap().query_wasm_smart(twin.clone(), &QueryMsg::Batch { batch_id: id }).unwrap();
    // Same id, same leaves, same root: only the source tells them apart.
    assert_eq!((ours.root.clone(), ours.total, ours.count), (theirs.root.clone(), theirs.total, theirs.count));
    assert_ne!(ours.digest, theirs.digest);
    assert_eq!(ours.digest.as_deref(), Some(to_hex_0x(&s.digest(id)).as_str()));

    // A signature over the suite bridge's batch 1 does not count on the twin.
    let signature = s.sign(0, id);
    let cranker = s.app.api().addr_make("cranker");
    let err = s.app.execute_contract(cranker, twin, &ExecuteMsg::Attest { batch_id: id, signature }, &[]).unwrap_err();
    assert!(matches!(contract_error(err), ContractError::NotAttester { .. }));
}

#[test]
fn the_config_names_the_source_it_signs_with() {
    let s = Suite::new();
    let config = s.config();
    let chain_id = s.app.block_info().chain_id;
    assert_eq!(config.source_chain_id, chain_id);
    assert_eq!(config.source_chain, to_hex_0x(&keccak256(chain_id.as_bytes())));
    assert_eq!(config.source_bridge, to_hex_0x(&keccak256(s.bridge.as_str().as_bytes())));
    assert_eq!(s.source(), BatchSource::new(&chain_id, s.bridge.as_str()));
}
