//! The arena-bridge contract's messages.
//!
//! Other contracts (the market's reward withdrawals) and users withdraw to the EVM side by
//! sending the accepted cw20 to the bridge with [`ReceiveMsg::Withdraw`] as the hook message:
//!
//! ```json
//! {"send": {"contract": "<bridge>", "amount": "1000",
//!           "msg": base64({"withdraw": {"evm_recipient": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}})}}
//! ```
//!
//! EVM addresses, hashes and signatures are `0x` hex strings in every message and response
//! (EVM addresses are answered EIP-55 checksummed). Batch ids start at 1 (0 never names a batch,
//! so an unset `uint64` on the EVM side is never mistaken for one); leaf indexes start at 0.

use cosmwasm_schema::{cw_serde, QueryResponses};
use cosmwasm_std::{Addr, Uint128, Uint256};
use cw20::Cw20ReceiveMsg;

use super::eip712::{BatchHeader, BatchSource};
use super::error::SettlementError;
use super::evm::{parse_hex_array, Bytes32, EvmAddress};
use super::merkle::{verify_proof, WithdrawalLeaf};

/// The most leaves one batch may hold: sealing, and the proof query, touch every leaf of a
/// batch, so this bounds their gas.
pub const MAX_BATCH_LEAVES: u32 = 1000;
/// The largest total one batch may hold: 2^112 - 1, the most the settlement contract's packed
/// `uint112 total` stores (it refuses to post a batch above it). Sealing stops adding leaves
/// before a batch would pass it, and a single withdrawal above it is refused when queued.
pub const MAX_BATCH_TOTAL: Uint128 = Uint128::new((1u128 << 112) - 1);
/// The most attesters the set may hold: attesting reads one record per attester.
pub const MAX_ATTESTERS: u32 = 32;
/// Page size of list queries when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 30;
/// The largest page a list query returns.
pub const MAX_LIMIT: u32 = 100;

/// One relayer: the EVM key it signs batches with, and the Cosmos account it confirms with.
#[cw_serde]
pub struct Attester {
    /// EVM address of the attester key (`0x` + 40 hex; checksummed or all one case).
    pub evm_address: String,
    /// The relayer's Cosmos account: the only kind of sender that may `confirm` a batch.
    pub operator: String,
}

/// When a batch may be sealed: as soon as either limit is reached.
#[cw_serde]
pub struct BatchPolicy {
    /// Seal once this many withdrawals are queued; also the most leaves per batch
    /// (1 ..= [`MAX_BATCH_LEAVES`]).
    pub max_leaves: u32,
    /// Seal once the oldest queued withdrawal has waited this many blocks, however few are queued.
    pub max_age_blocks: u64,
}

#[cw_serde]
pub struct InstantiateMsg {
    /// May change the attester set, the EVM settlement address, the policy, and pause.
    pub admin: String,
    /// The cw20 (arena-token) the bridge locks; its tokens are minted on the EVM side.
    pub token: String,
    pub attesters: Vec<Attester>,
    /// How many distinct attester signatures make a batch postable (1 ..= attesters).
    pub threshold: u32,
    /// EIP-155 chain id of the EVM side (Base Sepolia: 84532), part of the signed domain.
    pub evm_chain_id: u64,
    /// The settlement contract on the EVM side (the EIP-712 verifying contract). May be left
    /// out and set later with `set_evm_settlement`; batches can be sealed but not attested until then.
    pub evm_settlement: Option<String>,
    pub batch_policy: BatchPolicy,
}

#[cw_serde]
pub enum ExecuteMsg {
    /// cw20 hook: the accepted token's `send` with a [`ReceiveMsg`] queues a withdrawal.
    Receive(Cw20ReceiveMsg),
    /// Anyone: seal the oldest queued withdrawals (up to `max_leaves`, first in first out) into
    /// the next batch, once the batch policy allows it. A batch stops before the withdrawal that
    /// would take its total past [`MAX_BATCH_TOTAL`]; that one opens the next batch.
    SealBatch {},
    /// Anyone may relay it; it counts for the attester the signature recovers to.
    Attest {
        batch_id: u64,
        /// 65 bytes `r || s || v` as hex (v = 27/28 or 0/1) over the batch's EIP-712 digest.
        signature: String,
    },
    /// An attester's operator: the batch was posted on the EVM side in this transaction. One
    /// operator's word is a vote, not a fact: the batch turns `confirmed` once the operators of
    /// `threshold` current attesters voted for the same hash (an operator may change its vote
    /// until then), so one relayer key cannot mark an unposted batch done with a made-up hash.
    Confirm { batch_id: u64, evm_tx_hash: String },
    /// Admin: replace the attester set and threshold.
    UpdateAttesters { attesters: Vec<Attester>, threshold: u32 },
    /// Admin: set the EVM settlement contract (changes the digest of every batch not yet
    /// confirmed: attestations made under the old address stop counting).
    SetEvmSettlement { address: String },
    /// Admin: change when batches may be sealed.
    UpdateBatchPolicy { batch_policy: BatchPolicy },
    /// Admin: hand the admin role to another account.
    UpdateAdmin { admin: String },
    /// Admin: pause or resume withdrawals, sealing and attesting (confirmations still record
    /// what happened on the EVM side).
    SetPaused { paused: bool },
}

/// The hook message of a cw20 `send` to the bridge.
#[cw_serde]
pub enum ReceiveMsg {
    /// Queue the sent amount for `evm_recipient` on the EVM side.
    Withdraw { evm_recipient: String },
}

#[cw_serde]
pub struct MigrateMsg {}

/// Where a batch is in its life.
#[cw_serde]
#[derive(Copy, Eq, PartialOrd, Ord)]
pub enum BatchStatus {
    /// Root fixed; collecting attestations.
    Sealed,
    /// Holds `threshold` attestations under the current attester set: ready to post.
    Attested,
    /// Posted on the EVM side; the tx hash is recorded.
    Confirmed,
}

impl BatchStatus {
    /// The storage key of the status index.
    pub fn as_str(&self) -> &'static str {
        match self {
            BatchStatus::Sealed => "sealed",
            BatchStatus::Attested => "attested",
            BatchStatus::Confirmed => "confirmed",
        }
    }
}

#[cw_serde]
#[derive(QueryResponses)]
pub enum QueryMsg {
    /// The configuration, attester set included.
    #[returns(ConfigResponse)]
    Config {},
    /// The queue and the amounts locked, and whether `seal_batch` would succeed now.
    #[returns(OutboxResponse)]
    Outbox {},
    /// Queued withdrawals, oldest first.
    #[returns(WithdrawalsResponse)]
    PendingWithdrawals { start_after: Option<u64>, limit: Option<u32> },
    /// One batch.
    #[returns(BatchResponse)]
    Batch { batch_id: u64 },
    /// Batches in id order, optionally only those with one status.
    #[returns(BatchesResponse)]
    Batches { status: Option<BatchStatus>, start_after: Option<u64>, limit: Option<u32> },
    /// The leaves of a batch, by index.
    #[returns(LeavesResponse)]
    Leaves { batch_id: u64, start_after: Option<u32>, limit: Option<u32> },
    /// The attestations recorded for a batch, by signer address.
    #[returns(AttestationsResponse)]
    Attestations { batch_id: u64, start_after: Option<String>, limit: Option<u32> },
    /// The Merkle proof of one leaf, to claim on the EVM side.
    #[returns(ProofResponse)]
    Proof { batch_id: u64, index: u32 },
}

#[cw_serde]
pub struct ConfigResponse {
    pub admin: Addr,
    pub token: Addr,
    /// Checksummed EVM addresses.
    pub attesters: Vec<Attester>,
    pub threshold: u32,
    pub evm_chain_id: u64,
    pub evm_settlement: Option<String>,
    /// The EIP-712 domain separator, once the settlement address is set.
    pub domain_separator: Option<String>,
    /// The Cosmos chain id batches are signed with (this chain's).
    pub source_chain_id: String,
    /// `keccak256(source_chain_id)`: the `sourceChain` of the signed batch, which the settlement
    /// contract must have been deployed with.
    pub source_chain: String,
    /// `keccak256(<this bridge's address>)`: the signed batch's `sourceBridge`.
    pub source_bridge: String,
    pub batch_policy: BatchPolicy,
    pub paused: bool,
}

#[cw_serde]
pub struct OutboxResponse {
    pub queued_count: u64,
    pub queued_amount: Uint128,
    /// Height at which the oldest queued withdrawal was queued.
    pub oldest_queued_height: Option<u64>,
    /// Whether `seal_batch` would succeed at the current height.
    pub sealable: bool,
    /// Sum of the totals of every sealed batch: tokens locked for the EVM side.
    pub sealed_amount: Uint128,
    /// The id the next sealed batch gets.
    pub next_batch_id: u64,
}

#[cw_serde]
pub struct WithdrawalResponse {
    /// Queue position: increasing, never reused.
    pub id: u64,
    /// Who sent the tokens (the cw20 `send`'s sender).
    pub sender: Addr,
    pub evm_recipient: String,
    pub amount: Uint128,
    pub queued_height: u64,
}

#[cw_serde]
pub struct WithdrawalsResponse {
    pub withdrawals: Vec<WithdrawalResponse>,
}

#[cw_serde]
pub struct BatchResponse {
    pub batch_id: u64,
    pub status: BatchStatus,
    /// Merkle root of the leaves.
    pub root: String,
    pub total: Uint128,
    pub count: u32,
    pub sealed_height: u64,
    /// The EIP-712 digest attesters sign, once the settlement address is set.
    pub digest: Option<String>,
    /// Attestations that count: by current attesters, over the current digest.
    pub attestation_count: u32,
    pub evm_tx_hash: Option<String>,
    /// The operator whose vote completed the confirmation.
    pub confirmed_by: Option<Addr>,
    /// Confirmation votes recorded so far, by operator (those of operators no longer in the
    /// attester set stay listed but do not count).
    pub confirmations: Vec<ConfirmationResponse>,
}

/// One operator's confirmation vote.
#[cw_serde]
pub struct ConfirmationResponse {
    pub operator: Addr,
    /// The EVM transaction it says posted the batch.
    pub evm_tx_hash: String,
}

impl BatchResponse {
    /// What attesters sign, read back from the answer, for batches of `source` (the relayer
    /// recomputes `root` from the leaves before it trusts this).
    pub fn header(&self, source: BatchSource) -> Result<BatchHeader, SettlementError> {
        Ok(BatchHeader {
            source,
            batch_id: self.batch_id,
            root: parse_hex_array("root", &self.root)?,
            total: Uint256::from(self.total),
            count: self.count,
        })
    }
}

#[cw_serde]
pub struct BatchesResponse {
    pub batches: Vec<BatchResponse>,
}

#[cw_serde]
pub struct LeafResponse {
    pub batch_id: u64,
    pub index: u32,
    pub evm_recipient: String,
    pub amount: Uint128,
    /// The queued withdrawal this leaf came from.
    pub withdrawal_id: u64,
    pub sender: Addr,
}

impl LeafResponse {
    /// The leaf as it is hashed into the tree and claimed on the EVM side.
    pub fn to_leaf(&self) -> Result<WithdrawalLeaf, SettlementError> {
        Ok(WithdrawalLeaf {
            batch_id: self.batch_id,
            index: self.index,
            recipient: EvmAddress::parse(&self.evm_recipient)?,
            amount: Uint256::from(self.amount),
        })
    }
}

#[cw_serde]
pub struct LeavesResponse {
    pub leaves: Vec<LeafResponse>,
}

#[cw_serde]
pub struct AttestationResponse {
    /// The recovered signer (checksummed).
    pub signer: String,
    /// Canonical 65-byte signature (v = 27/28), as the settlement contract takes it.
    pub signature: String,
    /// The digest it signs; attestations over a digest that is no longer current do not count.
    pub digest: String,
    pub height: u64,
}

#[cw_serde]
pub struct AttestationsResponse {
    pub attestations: Vec<AttestationResponse>,
}

#[cw_serde]
pub struct ProofResponse {
    pub leaf: LeafResponse,
    /// `keccak256(keccak256(abi.encode(batchId, index, recipient, amount)))`.
    pub leaf_hash: String,
    /// Siblings from the leaf up, as `MerkleProof.verify` takes them.
    pub proof: Vec<String>,
    pub root: String,
}

impl ProofResponse {
    /// Whether the answer is self-consistent: the leaf hashes to `leaf_hash` and the proof links
    /// it to `root`. (Whether `root` is the batch's root is for the caller to compare.)
    pub fn verify(&self) -> Result<bool, SettlementError> {
        let leaf_hash = self.leaf.to_leaf()?.hash();
        let proof: Vec<Bytes32> =
            self.proof.iter().map(|p| parse_hex_array("proof node", p)).collect::<Result<_, _>>()?;
        let root: Bytes32 = parse_hex_array("root", &self.root)?;
        Ok(parse_hex_array::<32>("leaf hash", &self.leaf_hash)? == leaf_hash && verify_proof(&root, &leaf_hash, &proof))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::evm::to_hex_0x;
    use crate::settlement::merkle::MerkleTree;

    fn leaf_response(index: u32, amount: u128) -> LeafResponse {
        LeafResponse {
            batch_id: 4,
            index,
            evm_recipient: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".to_string(),
            amount: Uint128::new(amount),
            withdrawal_id: 10 + u64::from(index),
            sender: Addr::unchecked("cosmwasm1sender"),
        }
    }

    #[test]
    fn a_proof_response_built_from_the_tree_verifies_and_a_tampered_one_does_not() {
        let responses: Vec<LeafResponse> = (0..5).map(|i| leaf_response(i, 100 + u128::from(i))).collect();
        let leaves: Vec<WithdrawalLeaf> = responses.iter().map(|r| r.to_leaf().unwrap()).collect();
        let tree = MerkleTree::of(&leaves).unwrap();
        let mut answer = ProofResponse {
            leaf: responses[3].clone(),
            leaf_hash: to_hex_0x(&leaves[3].hash()),
            proof: tree.proof(3).unwrap().iter().map(|p| to_hex_0x(p)).collect(),
            root: to_hex_0x(&tree.root()),
        };
        assert_eq!(answer.verify(), Ok(true));
        answer.leaf.amount = Uint128::new(1_000_000);
        assert_eq!(answer.verify(), Ok(false));
    }

    #[test]
    fn batch_header_reads_the_root_and_refuses_a_malformed_one() {
        let mut batch = BatchResponse {
            batch_id: 4,
            status: BatchStatus::Sealed,
            root: format!("0x{}", "ab".repeat(32)),
            total: Uint128::new(7),
            count: 2,
            sealed_height: 1,
            digest: None,
            attestation_count: 0,
            evm_tx_hash: None,
            confirmed_by: None,
            confirmations: vec![],
        };
        let source = BatchSource::new("arena-local-1", "inj1bridge");
        assert_eq!(
            batch.header(source),
            Ok(BatchHeader { source, batch_id: 4, root: [0xab; 32], total: Uint256::from(7u8), count: 2 })
        );
        batch.root = "0xab".to_string();
        assert!(matches!(batch.header(source), Err(SettlementError::MalformedHex { expected_len: 32, .. })));
    }

    #[test]
    fn the_batch_total_cap_is_the_settlement_contracts_uint112() {
        assert_eq!(MAX_BATCH_TOTAL.u128(), 5_192_296_858_534_827_628_530_496_329_220_095);
        assert_eq!(MAX_BATCH_TOTAL.u128().count_ones(), 112);
        assert_eq!(MAX_BATCH_TOTAL.u128() >> 112, 0);
    }

    #[test]
    fn hook_and_messages_have_the_documented_json() {
        let hook = ReceiveMsg::Withdraw { evm_recipient: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".to_string() };
        assert_eq!(
            serde_json::to_string(&hook).unwrap(),
            r#"{"withdraw":{"evm_recipient":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}}"#
        );
        assert_eq!(serde_json::to_string(&ExecuteMsg::SealBatch {}).unwrap(), r#"{"seal_batch":{}}"#);
        assert_eq!(
            serde_json::to_string(&QueryMsg::Batches {
                status: Some(BatchStatus::Attested),
                start_after: None,
                limit: Some(10)
            })
            .unwrap(),
            r#"{"batches":{"status":"attested","start_after":null,"limit":10}}"#
        );
    }
}
