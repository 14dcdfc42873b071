//! Attestations of sealed batches and the relayers' confirmation votes.

use cosmwasm_std::{Addr, DepsMut, Empty, Env, HexBinary, MessageInfo, Response, StdResult, Storage};

use arena_types::settlement::evm::{parse_hex_array, to_hex_0x};
use arena_types::settlement::{batch_digest, evm_address_from_pubkey, Bytes32, EvmSignature};

use crate::error::ContractError;
use crate::msg::BatchStatus;
use crate::state::{
    source, Attestation, AttesterSet, Batch, ATTESTATIONS, ATTESTERS, BATCHES, BATCHES_BY_STATUS, CONFIG, CONFIRMATIONS,
};

/// Attestations of `batch_id` that count: by a current attester, over `digest`. Reads one record
/// per attester, so it is bounded by the set's size.
pub(crate) fn count_attestations(
    storage: &dyn Storage,
    batch_id: u64,
    set: &AttesterSet,
    digest: &Bytes32,
) -> StdResult<u32> {
    let mut count = 0;
    for attester in &set.attesters {
        let key = (batch_id, attester.evm_address.as_bytes().as_slice());
        if let Some(a) = ATTESTATIONS.may_load(storage, key)? {
            if a.digest.as_slice() == digest.as_slice() {
                count += 1;
            }
        }
    }
    Ok(count)
}

pub(crate) fn set_status(
    storage: &mut dyn Storage,
    batch_id: u64,
    batch: &mut Batch,
    status: BatchStatus,
) -> StdResult<()> {
    BATCHES_BY_STATUS.remove(storage, (batch.status.as_str(), batch_id));
    BATCHES_BY_STATUS.save(storage, (status.as_str(), batch_id), &Empty {})?;
    batch.status = status;
    Ok(())
}

pub(crate) fn load_batch(storage: &dyn Storage, batch_id: u64) -> Result<Batch, ContractError> {
    BATCHES.may_load(storage, batch_id)?.ok_or(ContractError::UnknownBatch { batch_id })
}

pub fn execute_attest(deps: DepsMut, env: Env, batch_id: u64, signature: String) -> Result<Response, ContractError> {
    let config = CONFIG.load(deps.storage)?;
    let mut batch = load_batch(deps.storage, batch_id)?;
    if batch.status == BatchStatus::Confirmed {
        return Err(ContractError::BatchConfirmed {
            batch_id,
            evm_tx_hash: batch.evm_tx_hash.map(|h| to_hex_0x(&h)).unwrap_or_default(),
        });
    }
    let domain = config.domain().ok_or(ContractError::SettlementAddressNotSet {})?;
    let digest = batch_digest(&domain, &batch.header(batch_id, source(&env)));
    let signature = EvmSignature::from_hex(&signature)?;
    let pubkey = deps
        .api
        .secp256k1_recover_pubkey(&digest, &signature.rs(), signature.recovery_id)
        .map_err(|e| ContractError::Unrecoverable { batch_id, reason: e.to_string() })?;
    let signer = evm_address_from_pubkey(&pubkey)?;

    let set = ATTESTERS.load(deps.storage)?;
    if !set.contains(&signer) {
        return Err(ContractError::NotAttester { batch_id, signer: signer.to_string(), digest: to_hex_0x(&digest) });
    }
    let key = (batch_id, signer.as_bytes().as_slice());
    if let Some(previous) = ATTESTATIONS.may_load(deps.storage, key)? {
        // A signature over an older digest (the settlement address changed) may be replaced.
        if previous.digest.as_slice() == digest.as_slice() {
            return Err(ContractError::DuplicateAttestation { batch_id, signer: signer.to_string() });
        }
    }
    ATTESTATIONS.save(
        deps.storage,
        key,
        &Attestation {
            signature: HexBinary::from(signature.to_bytes().as_slice()),
            digest: HexBinary::from(digest.as_slice()),
            height: env.block.height,
        },
    )?;
    let count = count_attestations(deps.storage, batch_id, &set, &digest)?;
    if batch.status == BatchStatus::Sealed && count >= set.threshold {
        set_status(deps.storage, batch_id, &mut batch, BatchStatus::Attested)?;
        BATCHES.save(deps.storage, batch_id, &batch)?;
    }
    Ok(Response::new()
        .add_attribute("action", "attest")
        .add_attribute("batch_id", batch_id.to_string())
        .add_attribute("signer", signer.to_string())
        .add_attribute("digest", to_hex_0x(&digest))
        .add_attribute("attestations", count.to_string())
        .add_attribute("threshold", set.threshold.to_string())
        .add_attribute("status", batch.status.as_str()))
}

pub fn execute_confirm(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    batch_id: u64,
    evm_tx_hash: String,
) -> Result<Response, ContractError> {
    let set = ATTESTERS.load(deps.storage)?;
    if !set.is_operator(&info.sender) {
        return Err(ContractError::NotRelayer { sender: info.sender });
    }
    let tx_hash: Bytes32 = parse_hex_array("EVM tx hash", &evm_tx_hash)?;
    let mut batch = load_batch(deps.storage, batch_id)?;
    let response = Response::new()
        .add_attribute("action", "confirm")
        .add_attribute("batch_id", batch_id.to_string())
        .add_attribute("evm_tx_hash", to_hex_0x(&tx_hash));
    match batch.status {
        BatchStatus::Confirmed => {
            let recorded = batch.evm_tx_hash.unwrap_or_default();
            if recorded.as_slice() == tx_hash.as_slice() {
                // A late relayer confirming the same post: nothing changes.
                return Ok(response.add_attribute("already_confirmed", "true"));
            }
            Err(ContractError::ConflictingConfirmation {
                batch_id,
                recorded: to_hex_0x(&recorded),
                given: to_hex_0x(&tx_hash),
            })
        }
        BatchStatus::Sealed => {
            let config = CONFIG.load(deps.storage)?;
            let attestations = match config.domain() {
                Some(domain) => {
                    let digest = batch_digest(&domain, &batch.header(batch_id, source(&env)));
                    count_attestations(deps.storage, batch_id, &set, &digest)?
                }
                None => 0,
            };
            Err(ContractError::NotAttested { batch_id, attestations, threshold: set.threshold })
        }
        BatchStatus::Attested => {
            // The sender's vote; a later vote of the same operator replaces it (it may have seen a
            // post that a reorganisation dropped).
            CONFIRMATIONS.save(deps.storage, (batch_id, &info.sender), &HexBinary::from(tx_hash.as_slice()))?;
            let votes = count_confirmations(deps.storage, batch_id, &set, &tx_hash)?;
            let response = response
                .add_attribute("confirmations", votes.to_string())
                .add_attribute("threshold", set.threshold.to_string())
                .add_attribute("already_confirmed", "false");
            if votes < set.threshold {
                return Ok(response.add_attribute("status", BatchStatus::Attested.as_str()));
            }
            set_status(deps.storage, batch_id, &mut batch, BatchStatus::Confirmed)?;
            batch.evm_tx_hash = Some(HexBinary::from(tx_hash.as_slice()));
            batch.confirmed_by = Some(info.sender.clone());
            BATCHES.save(deps.storage, batch_id, &batch)?;
            Ok(response
                .add_attribute("status", BatchStatus::Confirmed.as_str())
                .add_attribute("confirmed_by", info.sender))
        }
    }
}

/// Distinct operators of the current attester set that voted `tx_hash` for `batch_id`. One
/// operator counts once even if it runs several attester keys: the threshold is of independent
/// relayers. Reads one record per attester, so it is bounded by the set's size.
pub(crate) fn count_confirmations(
    storage: &dyn Storage,
    batch_id: u64,
    set: &AttesterSet,
    tx_hash: &Bytes32,
) -> StdResult<u32> {
    let mut operators: Vec<&Addr> = set.attesters.iter().map(|a| &a.operator).collect();
    operators.sort();
    operators.dedup();
    let mut count = 0;
    for operator in operators {
        if CONFIRMATIONS.may_load(storage, (batch_id, operator))?.is_some_and(|h| h.as_slice() == tx_hash.as_slice()) {
            count += 1;
        }
    }
    Ok(count)
}
