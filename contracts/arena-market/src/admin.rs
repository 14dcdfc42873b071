//! The admin's whole power: pause in an emergency, hand the role on, and name the bridge that
//! `WithdrawToEvm` sends to. Nothing economic: no balance, stake or parameter moves.

use cosmwasm_std::{Decimal, DepsMut, MessageInfo, Response};

use crate::error::ContractError;
use crate::state::{Config, CONFIG};

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
    let mut config = CONFIG.load(deps.storage)?;
    assert_admin(&config, &info)?;
    config.paused = paused;
    CONFIG.save(deps.storage, &config)?;
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

/// Names the arena-bridge contract `WithdrawToEvm` sends to. Every later withdrawal to an EVM
/// address goes there, so only the admin may change it; withdrawals already queued in the old
/// bridge stay there.
pub fn execute_set_bridge(deps: DepsMut, info: MessageInfo, bridge: String) -> Result<Response, ContractError> {
    let mut config = CONFIG.load(deps.storage)?;
    assert_admin(&config, &info)?;
    let bridge = deps.api.addr_validate(&bridge)?;
    config.bridge = Some(bridge.clone());
    CONFIG.save(deps.storage, &config)?;
    Ok(Response::new().add_attribute("action", "set_bridge").add_attribute("bridge", bridge))
}
