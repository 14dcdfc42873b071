//! The admin's whole power: pause in an emergency, hand the role on, and announce the bridge
//! that `WithdrawToEvm` sends to, which takes effect only after a delay everybody can see. No
//! balance, stake or parameter moves.

use cosmwasm_std::{Decimal, DepsMut, Env, MessageInfo, Response};

use crate::error::ContractError;
use crate::state::{Config, CONFIG, PAUSED};

fn assert_admin(config: &Config, info: &MessageInfo) -> Result<(), ContractError> {
    match &config.admin {
        Some(admin) if *admin == info.sender => Ok(()),
        Some(admin) => Err(ContractError::Unauthorized { expected: admin.to_string() }),
        None => Err(ContractError::Unauthorized { expected: "no one (the market has no admin)".to_string() }),
    }
}

/// Commission bounds are shares: at most 1.
pub fn validate_commission_bounds(config: &Config) -> Result<(), ContractError> {
    if config.max_commission > Decimal::one() {
        return Err(ContractError::CommissionTooHigh { max: Decimal::one(), got: config.max_commission });
    }
    if config.max_commission_change > Decimal::one() {
        return Err(ContractError::CommissionChangeTooLarge { max: Decimal::one(), got: config.max_commission_change });
    }
    Ok(())
}

pub fn execute_set_paused(deps: DepsMut, info: MessageInfo, paused: bool) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    assert_admin(&config, &info)?;
    PAUSED.save(deps.storage, &paused)?;
    Ok(Response::new().add_attribute("action", "set_paused").add_attribute("paused", paused.to_string()))
}

pub fn execute_update_admin(
    deps: DepsMut,
    info: MessageInfo,
    admin: Option<String>,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    assert_admin(&config, &info)?;
    config.admin = admin.map(|a| deps.api.addr_validate(&a)).transpose()?;
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "update_admin")
        .add_attribute("admin", config.admin.map(|a| a.to_string()).unwrap_or_default()))
}

/// Announces the arena-bridge contract `WithdrawToEvm` sends to, used from `bridge_change_delay`
/// seconds on. Every later withdrawal to an EVM address goes there, so a compromised admin key
/// could redirect them: the delay gives users the time to see the `set_bridge` event and claim
/// on this chain instead. Withdrawals already queued in the old bridge stay there. A second
/// announcement replaces the first and restarts the delay.
pub fn execute_set_bridge(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    bridge: String,
) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    assert_admin(&config, &info)?;
    let bridge = deps.api.addr_validate(&bridge)?;
    let now = env.block.time.seconds();
    // An announcement whose delay passed is the bridge now.
    config.bridge = config.bridge_at(now).cloned();
    let effective_at = now + config.bridge_change_delay;
    config.pending_bridge = Some((bridge.clone(), effective_at));
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new()
        .add_attribute("action", "set_bridge")
        .add_attribute("bridge", bridge)
        .add_attribute("effective_at", effective_at.to_string()))
}
