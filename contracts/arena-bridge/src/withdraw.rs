//! Withdrawals into the outbox: the cw20 `send` hook and the queue.

use cosmwasm_std::{from_json, Addr, DepsMut, Env, MessageInfo, Response, Uint128};
use cw20::Cw20ReceiveMsg;

use arena_types::settlement::EvmAddress;

use crate::error::ContractError;
use crate::msg::{ReceiveMsg, MAX_BATCH_TOTAL};
use crate::state::{Withdrawal, CONFIG, OUTBOX, QUEUE};

pub fn execute_receive(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    wrapper: Cw20ReceiveMsg,
) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    if info.sender != config.token {
        return Err(ContractError::WrongToken { received: info.sender, accepted: config.token });
    }
    if wrapper.amount.is_zero() {
        return Err(ContractError::ZeroAmount {});
    }
    let sender = deps.api.addr_validate(&wrapper.sender)?;
    match from_json(&wrapper.msg)? {
        ReceiveMsg::Withdraw { evm_recipient } => execute_withdraw(deps, env, sender, wrapper.amount, evm_recipient),
    }
}

pub fn execute_withdraw(
    deps: DepsMut,
    env: Env,
    sender: Addr,
    amount: Uint128,
    evm_recipient: String,
) -> Result<Response, ContractError> {
    let recipient = EvmAddress::parse(&evm_recipient)?;
    if recipient == EvmAddress::default() {
        return Err(ContractError::ZeroRecipient {});
    }
    // No batch could ever hold it: it would stay queued and block the queue behind it.
    if amount > MAX_BATCH_TOTAL {
        return Err(ContractError::WithdrawalTooLarge { amount, max: MAX_BATCH_TOTAL });
    }
    let mut outbox = OUTBOX.load(deps.storage)?;
    let id = outbox.next_withdrawal_id;
    QUEUE.save(
        deps.storage,
        id,
        &Withdrawal { sender: sender.clone(), recipient, amount, queued_height: env.block.height },
    )?;
    outbox.next_withdrawal_id += 1;
    outbox.queued_count += 1;
    outbox.queued_amount = outbox.queued_amount.checked_add(amount)?;
    OUTBOX.save(deps.storage, &outbox)?;
    Ok(Response::new()
        .add_attribute("action", "withdraw")
        .add_attribute("withdrawal_id", id.to_string())
        .add_attribute("sender", sender)
        .add_attribute("evm_recipient", recipient.to_string())
        .add_attribute("amount", amount)
        .add_attribute("queued_count", outbox.queued_count.to_string()))
}
