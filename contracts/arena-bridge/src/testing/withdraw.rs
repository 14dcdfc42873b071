//! The cw20 `withdraw` hook: what is queued, and each bad input.

use arena_types::settlement::SettlementError;
use cosmwasm_std::{to_json_binary, Binary, Uint128};
use cw20::Cw20ReceiveMsg;

use super::suite::{contract_error, Suite, RECIPIENT, RECIPIENT_2, START_BALANCE};
use crate::msg::ExecuteMsg;
use crate::ContractError;

#[test]
fn withdraw_queues_sender_recipient_amount_and_height() {
    let mut s = Suite::new();
    let (alice, bob) = (s.alice.clone(), s.bob.clone());
    let height = s.height();
    let res = s.withdraw(&alice, 100, RECIPIENT).unwrap();
    // Lower-case input is answered checksummed.
    s.withdraw(&bob, 40, &RECIPIENT_2.to_lowercase()).unwrap();

    let pending = s.pending(None, None).withdrawals;
    assert_eq!(pending.len(), 2);
    assert_eq!((pending[0].id, &pending[0].sender, pending[0].evm_recipient.as_str()), (0, &alice, RECIPIENT));
    assert_eq!(pending[0].amount, Uint128::new(100));
    assert_eq!(pending[0].queued_height, height);
    assert_eq!((pending[1].id, &pending[1].sender, pending[1].evm_recipient.as_str()), (1, &bob, RECIPIENT_2));

    let outbox = s.outbox();
    assert_eq!(outbox.queued_count, 2);
    assert_eq!(outbox.queued_amount, Uint128::new(140));
    assert_eq!(outbox.oldest_queued_height, Some(height));
    assert_eq!(s.token_balance(&alice), START_BALANCE - 100);
    s.assert_conservation();

    let wasm =
        res.events.iter().find(|e| e.ty == "wasm" && e.attributes.iter().any(|a| a.value == "withdraw")).unwrap();
    let attr = |k: &str| wasm.attributes.iter().find(|a| a.key == k).unwrap().value.clone();
    assert_eq!(attr("withdrawal_id"), "0");
    assert_eq!(attr("evm_recipient"), RECIPIENT);
    assert_eq!(attr("amount"), "100");
    assert_eq!(attr("sender"), alice.to_string());
}

#[test]
fn withdraw_of_another_token_is_refused() {
    let mut s = Suite::new();
    let other = s.other_token();
    let alice = s.alice.clone();
    let err = contract_error(s.withdraw_via(&other, &alice, 100, RECIPIENT).unwrap_err());
    assert_eq!(err, ContractError::WrongToken { received: other, accepted: s.token.clone() });
    assert_eq!(s.outbox().queued_count, 0);
}

#[test]
fn receive_called_directly_by_an_account_is_refused_as_wrong_token() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let err = contract_error(
        s.execute(
            &alice,
            ExecuteMsg::Receive(Cw20ReceiveMsg {
                sender: alice.to_string(),
                amount: Uint128::new(1_000_000_000),
                msg: to_json_binary(&crate::msg::ReceiveMsg::Withdraw { evm_recipient: RECIPIENT.to_string() })
                    .unwrap(),
            }),
        )
        .unwrap_err(),
    );
    assert_eq!(err, ContractError::WrongToken { received: alice, accepted: s.token.clone() });
}

#[test]
fn zero_amount_is_refused() {
    // cw20-base itself never sends 0; the bridge still refuses it if a token did.
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let err = contract_error(
        s.receive_from_token(Cw20ReceiveMsg {
            sender: alice.to_string(),
            amount: Uint128::zero(),
            msg: to_json_binary(&crate::msg::ReceiveMsg::Withdraw { evm_recipient: RECIPIENT.to_string() }).unwrap(),
        })
        .unwrap_err(),
    );
    assert_eq!(err, ContractError::ZeroAmount {});
}

#[test]
fn recipient_without_0x_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let bad = &RECIPIENT[2..];
    let err = contract_error(s.withdraw(&alice, 5, bad).unwrap_err());
    assert_eq!(
        err,
        ContractError::Settlement(SettlementError::MalformedAddress {
            input: bad.to_string(),
            reason: "it does not start with 0x".to_string()
        })
    );
    assert_eq!(s.token_balance(&alice), START_BALANCE);
}

#[test]
fn recipient_of_wrong_length_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let bad = &RECIPIENT[..40];
    let err = contract_error(s.withdraw(&alice, 5, bad).unwrap_err());
    assert_eq!(
        err,
        ContractError::Settlement(SettlementError::MalformedAddress {
            input: bad.to_string(),
            reason: "it has 38 hex digits, not 40".to_string()
        })
    );
}

#[test]
fn recipient_with_a_bad_checksum_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    // RECIPIENT with its first letter's case flipped.
    let bad = "0xFB6916095ca1df60bB79Ce92cE3Ea74c37c5d359".to_string();
    let err = contract_error(s.withdraw(&alice, 5, &bad).unwrap_err());
    assert_eq!(
        err,
        ContractError::Settlement(SettlementError::BadChecksum { input: bad.clone(), expected: RECIPIENT.to_string() })
    );
}

#[test]
fn zero_recipient_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let err = contract_error(s.withdraw(&alice, 5, "0x0000000000000000000000000000000000000000").unwrap_err());
    assert_eq!(err, ContractError::ZeroRecipient {});
}

#[test]
fn unknown_hook_message_is_refused() {
    let mut s = Suite::new();
    let alice = s.alice.clone();
    let err = contract_error(
        s.receive_from_token(Cw20ReceiveMsg {
            sender: alice.to_string(),
            amount: Uint128::new(5),
            msg: Binary::from(br#"{"deposit":{}}"#.as_slice()),
        })
        .unwrap_err(),
    );
    assert!(matches!(err, ContractError::Std(_)), "{err:?}");
}

#[test]
fn withdraw_while_paused_is_refused() {
    let mut s = Suite::new();
    let (admin, alice) = (s.admin.clone(), s.alice.clone());
    s.execute(&admin, ExecuteMsg::SetPaused { paused: true }).unwrap();
    let err = contract_error(s.withdraw(&alice, 5, RECIPIENT).unwrap_err());
    assert_eq!(err, ContractError::Paused {});
}
