//! Every storage item of the bridge.

use arena_types::settlement::eip712::{BatchHeader, BatchSource, SettlementDomain};
use arena_types::settlement::msg::{BatchPolicy, BatchStatus};
use arena_types::settlement::EvmAddress;
use cosmwasm_std::{Addr, Empty, Env, HexBinary, Uint128, Uint256};
use cw_storage_plus::{Item, Map};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Config {
    pub admin: Addr,
    /// The one cw20 the bridge accepts.
    pub token: Addr,
    pub evm_chain_id: u64,
    pub evm_settlement: Option<EvmAddress>,
    pub batch_policy: BatchPolicy,
    pub paused: bool,
}

impl Config {
    /// The EIP-712 domain, once the settlement address is known.
    pub fn domain(&self) -> Option<SettlementDomain> {
        self.evm_settlement
            .map(|verifying_contract| SettlementDomain { chain_id: self.evm_chain_id, verifying_contract })
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttesterEntry {
    pub evm_address: EvmAddress,
    pub operator: Addr,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AttesterSet {
    pub attesters: Vec<AttesterEntry>,
    pub threshold: u32,
}

impl AttesterSet {
    pub fn contains(&self, signer: &EvmAddress) -> bool {
        self.attesters.iter().any(|a| a.evm_address == *signer)
    }

    pub fn is_operator(&self, sender: &Addr) -> bool {
        self.attesters.iter().any(|a| a.operator == *sender)
    }
}

/// The queue's counters and the running totals the token balance is checked against.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Outbox {
    pub next_withdrawal_id: u64,
    pub queued_count: u64,
    pub queued_amount: Uint128,
    /// Sum of every sealed batch's total: locked here for good, claimable on the EVM side.
    pub sealed_amount: Uint128,
    pub next_batch_id: u64,
}

/// A queued withdrawal, not yet in a batch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Withdrawal {
    pub sender: Addr,
    pub recipient: EvmAddress,
    pub amount: Uint128,
    pub queued_height: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Batch {
    /// 32-byte Merkle root.
    pub root: HexBinary,
    pub total: Uint128,
    pub count: u32,
    pub sealed_height: u64,
    pub status: BatchStatus,
    /// 32-byte hash of the EVM transaction that posted the batch.
    pub evm_tx_hash: Option<HexBinary>,
    pub confirmed_by: Option<Addr>,
}

impl Batch {
    /// What attesters sign for batch `batch_id` of `source`.
    pub fn header(&self, batch_id: u64, source: BatchSource) -> BatchHeader {
        let mut root = [0u8; 32];
        root.copy_from_slice(self.root.as_slice());
        BatchHeader { source, batch_id, root, total: Uint256::from(self.total), count: self.count }
    }
}

/// This bridge as the source of its batches: the chain it runs on and its own address, both read
/// from `env`, so a second bridge, or this code instantiated again, signs different digests for
/// the same batch ids, and no configuration can make them equal.
pub fn source(env: &Env) -> BatchSource {
    BatchSource::new(&env.block.chain_id, env.contract.address.as_str())
}

/// One leaf of a sealed batch.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Leaf {
    pub withdrawal_id: u64,
    pub sender: Addr,
    pub recipient: EvmAddress,
    pub amount: Uint128,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Attestation {
    /// Canonical 65 bytes (v = 27/28).
    pub signature: HexBinary,
    /// The digest signed; it stops counting if the settlement address changes.
    pub digest: HexBinary,
    pub height: u64,
}

pub const CONFIG: Item<Config> = Item::new("config");
pub const ATTESTERS: Item<AttesterSet> = Item::new("attesters");
pub const OUTBOX: Item<Outbox> = Item::new("outbox");
/// Queued withdrawals by id: ascending id is first in, first out.
pub const QUEUE: Map<u64, Withdrawal> = Map::new("queue");
pub const BATCHES: Map<u64, Batch> = Map::new("batches");
/// (status, batch id): lists batches of one status without reading the others.
pub const BATCHES_BY_STATUS: Map<(&str, u64), Empty> = Map::new("batches_by_status");
/// (batch id, leaf index).
pub const LEAVES: Map<(u64, u32), Leaf> = Map::new("leaves");
/// (batch id, the signer's 20 address bytes).
pub const ATTESTATIONS: Map<(u64, &[u8]), Attestation> = Map::new("attestations");
/// (batch id, operator): the 32-byte EVM tx hash the operator says posted the batch. A batch is
/// confirmed once the operators of `threshold` current attesters name the same hash.
pub const CONFIRMATIONS: Map<(u64, &Addr), HexBinary> = Map::new("confirmations");

/// The first batch id: 0 never names a batch, so an unset `uint64` on the EVM side is never
/// mistaken for one.
pub const FIRST_BATCH_ID: u64 = 1;
