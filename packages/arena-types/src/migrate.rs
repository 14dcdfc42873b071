//! The one rule every Arena contract's `migrate` applies before touching state.

use cosmwasm_std::{Response, StdError, Storage};
use thiserror::Error;

/// Why a migration was refused.
#[derive(Error, Debug, PartialEq)]
pub enum MigrateError {
    #[error("{0}")]
    Std(#[from] StdError),

    #[error("cannot migrate from contract {found}: this code migrates only {expected}")]
    WrongContract { expected: String, found: String },

    #[error("cannot migrate from version {found} to the older version {ours}")]
    Downgrade { found: String, ours: String },
}

/// Allows a migration from the stored `(contract, version)` (as cw2 recorded it) to `ours`:
/// the contract name must match and the version must not go backwards. Equal versions are
/// allowed, so a migration can be re-run to change only its parameters.
pub fn check_upgrade(
    expected_contract: &str,
    stored_contract: &str,
    stored_version: &str,
    ours: &str,
) -> Result<(), MigrateError> {
    if stored_contract != expected_contract {
        return Err(MigrateError::WrongContract {
            expected: expected_contract.to_string(),
            found: stored_contract.to_string(),
        });
    }
    if parse_version(ours) < parse_version(stored_version) {
        return Err(MigrateError::Downgrade { found: stored_version.to_string(), ours: ours.to_string() });
    }
    Ok(())
}

/// A contract's whole `migrate` step for the version bookkeeping: reads what cw2 recorded, applies
/// [`check_upgrade`], records `(contract, version)`, and answers with the migration's attributes.
pub fn migrate_contract(storage: &mut dyn Storage, contract: &str, version: &str) -> Result<Response, MigrateError> {
    let stored = cw2::get_contract_version(storage)?;
    check_upgrade(contract, &stored.contract, &stored.version, version)?;
    cw2::set_contract_version(storage, contract, version)?;
    Ok(Response::new()
        .add_attribute("action", "migrate")
        .add_attribute("from_version", stored.version)
        .add_attribute("to_version", version))
}

/// Dotted numeric versions compare part by part ("0.1.10" > "0.1.9"); a pre-release or other
/// non-numeric part counts as 0.
fn parse_version(v: &str) -> Vec<u64> {
    v.split(['.', '-', '+']).map(|p| p.parse::<u64>().unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_and_same_version_pass() {
        assert_eq!(check_upgrade("c", "c", "0.1.9", "0.1.10"), Ok(()));
        assert_eq!(check_upgrade("c", "c", "0.2.0", "0.2.0"), Ok(()));
    }

    #[test]
    fn downgrade_is_refused() {
        assert_eq!(
            check_upgrade("c", "c", "0.2.0", "0.1.99"),
            Err(MigrateError::Downgrade { found: "0.2.0".into(), ours: "0.1.99".into() })
        );
    }

    #[test]
    fn other_contract_is_refused() {
        assert!(matches!(check_upgrade("c", "cw20-base", "2.0.0", "0.1.0"), Err(MigrateError::WrongContract { .. })));
    }
}
