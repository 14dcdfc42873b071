//! The EIP-712 digest attesters sign for a sealed batch, and the settlement contract recomputes.
//!
//! ```text
//! domainSeparator = keccak256(abi.encode(
//!     keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
//!     keccak256("ArenaSettlement"), keccak256("1"), chainId, verifyingContract))
//! structHash = keccak256(abi.encode(
//!     keccak256("Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64 batchId,bytes32 root,uint256 total,uint32 count)"),
//!     sourceChain, sourceBridge, batchId, root, total, count))
//! digest = keccak256(0x19 || 0x01 || domainSeparator || structHash)
//! ```
//! The Solidity side gets the same with OpenZeppelin's `EIP712("ArenaSettlement", "1")` and
//! `_hashTypedDataV4(keccak256(abi.encode(BATCH_TYPEHASH, sourceChain, sourceBridge, batchId, root, total, count)))`.
//!
//! `sourceChain` and `sourceBridge` name the Cosmos side ([`BatchSource`]): batch ids restart at 1
//! in every bridge, so without them a signature over "batch 1" of one bridge (or of a bridge
//! instantiated again, or of another chain) would be a valid signature over "batch 1" of another,
//! and a relayer could confirm on one bridge a batch only the other bridge's users can claim. The
//! settlement contract is deployed for one source and refuses every other.

use cosmwasm_std::Uint256;

use super::evm::{keccak256, Bytes32, EvmAddress};

/// The EIP-712 domain type, as every EIP-712 library spells it (no spaces after commas).
pub const DOMAIN_TYPE: &str = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
/// The signed struct's type string. Changing a byte of it changes every digest.
pub const BATCH_TYPE: &str =
    "Batch(bytes32 sourceChain,bytes32 sourceBridge,uint64 batchId,bytes32 root,uint256 total,uint32 count)";
/// The domain name of Arena's settlement contract.
pub const DOMAIN_NAME: &str = "ArenaSettlement";
/// The domain version of Arena's settlement contract.
pub const DOMAIN_VERSION: &str = "1";

/// `keccak256(DOMAIN_TYPE)`.
pub fn domain_typehash() -> Bytes32 {
    keccak256(DOMAIN_TYPE.as_bytes())
}

/// `keccak256(BATCH_TYPE)`: the settlement contract's `BATCH_TYPEHASH`.
pub fn batch_typehash() -> Bytes32 {
    keccak256(BATCH_TYPE.as_bytes())
}

/// Where the signatures count: the EVM chain and the settlement contract on it. A signature for
/// one chain or contract does not verify on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettlementDomain {
    /// EIP-155 chain id (Base Sepolia: 84532).
    pub chain_id: u64,
    /// The settlement contract's address.
    pub verifying_contract: EvmAddress,
}

impl SettlementDomain {
    /// The domain separator under Arena's name and version.
    pub fn separator(&self) -> Bytes32 {
        domain_separator(DOMAIN_NAME, DOMAIN_VERSION, self.chain_id, &self.verifying_contract)
    }
}

/// The Cosmos side a batch comes from, as it is signed: `keccak256` of the chain id text
/// (`arena-local-1`) and of the bridge contract's bech32 address text (`inj1...`, lower case as
/// the chain writes it). Hashes, not the texts, so the signed struct stays fixed-size words and
/// the settlement contract stores two immutable `bytes32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct BatchSource {
    /// `keccak256(chain_id)`.
    pub chain: Bytes32,
    /// `keccak256(bridge_address)`.
    pub bridge: Bytes32,
}

impl BatchSource {
    /// The source of batches sealed by the bridge at `bridge` on the chain `chain_id`.
    pub fn new(chain_id: &str, bridge: &str) -> Self {
        Self { chain: keccak256(chain_id.as_bytes()), bridge: keccak256(bridge.as_bytes()) }
    }
}

/// The header of a sealed batch: what is signed (the leaves are behind `root`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// The chain and bridge that sealed the batch.
    pub source: BatchSource,
    pub batch_id: u64,
    /// The Merkle root of the batch's leaves ([`super::MerkleTree`]).
    pub root: Bytes32,
    /// The sum of the leaves' amounts.
    pub total: Uint256,
    /// The number of leaves.
    pub count: u32,
}

/// The domain separator of an EIP-712 domain with fields (name, version, chainId,
/// verifyingContract). Arena uses [`SettlementDomain::separator`]; the general form is here so
/// it can be checked against EIP-712's own example.
pub fn domain_separator(name: &str, version: &str, chain_id: u64, verifying_contract: &EvmAddress) -> Bytes32 {
    let mut enc = [0u8; 160];
    enc[0..32].copy_from_slice(&domain_typehash());
    enc[32..64].copy_from_slice(&keccak256(name.as_bytes()));
    enc[64..96].copy_from_slice(&keccak256(version.as_bytes()));
    enc[120..128].copy_from_slice(&chain_id.to_be_bytes());
    enc[128..160].copy_from_slice(&verifying_contract.to_abi_word());
    keccak256(&enc)
}

/// `keccak256(abi.encode(BATCH_TYPEHASH, sourceChain, sourceBridge, batchId, root, total, count))`.
pub fn batch_struct_hash(batch: &BatchHeader) -> Bytes32 {
    let mut enc = [0u8; 224];
    enc[0..32].copy_from_slice(&batch_typehash());
    enc[32..64].copy_from_slice(&batch.source.chain);
    enc[64..96].copy_from_slice(&batch.source.bridge);
    enc[120..128].copy_from_slice(&batch.batch_id.to_be_bytes());
    enc[128..160].copy_from_slice(&batch.root);
    enc[160..192].copy_from_slice(&batch.total.to_be_bytes());
    enc[220..224].copy_from_slice(&batch.count.to_be_bytes());
    keccak256(&enc)
}

/// `keccak256(0x1901 || domainSeparator || structHash)`: the 32 bytes an attester signs (as a
/// raw digest, without the `personal_sign` prefix).
pub fn typed_data_digest(domain_separator: &Bytes32, struct_hash: &Bytes32) -> Bytes32 {
    let mut enc = [0u8; 66];
    enc[0] = 0x19;
    enc[1] = 0x01;
    enc[2..34].copy_from_slice(domain_separator);
    enc[34..66].copy_from_slice(struct_hash);
    keccak256(&enc)
}

/// The digest of `batch` under `domain`.
pub fn batch_digest(domain: &SettlementDomain, batch: &BatchHeader) -> Bytes32 {
    typed_data_digest(&domain.separator(), &batch_struct_hash(batch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settlement::evm::to_hex_0x;

    // EIP-712's own example (eips.ethereum.org/EIPS/eip-712, Example.js): the "Ether Mail"
    // domain and its Mail message, with the separator and digest the EIP states.
    #[test]
    fn domain_separator_matches_the_eip712_example() {
        let contract = EvmAddress::parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC").unwrap();
        assert_eq!(
            to_hex_0x(&domain_separator("Ether Mail", "1", 1, &contract)),
            "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
        );
    }

    #[test]
    fn typed_data_digest_matches_the_eip712_example() {
        let contract = EvmAddress::parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC").unwrap();
        let separator = domain_separator("Ether Mail", "1", 1, &contract);
        // Mail(Person from,Person to,string contents), hashed as the EIP's example does.
        let person_type = "Person(string name,address wallet)";
        let mail_type = format!("Mail(Person from,Person to,string contents){person_type}");
        let person = |name: &str, wallet: &str| {
            let mut enc = [0u8; 96];
            enc[0..32].copy_from_slice(&keccak256(person_type.as_bytes()));
            enc[32..64].copy_from_slice(&keccak256(name.as_bytes()));
            enc[64..96].copy_from_slice(&EvmAddress::parse(wallet).unwrap().to_abi_word());
            keccak256(&enc)
        };
        let mut mail = [0u8; 128];
        mail[0..32].copy_from_slice(&keccak256(mail_type.as_bytes()));
        mail[32..64].copy_from_slice(&person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"));
        mail[64..96].copy_from_slice(&person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"));
        mail[96..128].copy_from_slice(&keccak256(b"Hello, Bob!"));
        let struct_hash = keccak256(&mail);
        assert_eq!(to_hex_0x(&struct_hash), "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e");
        assert_eq!(
            to_hex_0x(&typed_data_digest(&separator, &struct_hash)),
            "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
        );
    }

    #[test]
    fn the_source_is_the_keccak_of_the_chain_id_and_bridge_texts() {
        let source = BatchSource::new("arena-local-1", "inj1bridge");
        assert_eq!(source.chain, keccak256(b"arena-local-1"));
        assert_eq!(source.bridge, keccak256(b"inj1bridge"));
    }

    #[test]
    fn the_digest_changes_with_every_field_of_batch_and_domain() {
        let domain = SettlementDomain { chain_id: 84532, verifying_contract: EvmAddress([0x11; 20]) };
        let source = BatchSource::new("arena-local-1", "inj1bridge");
        let batch = BatchHeader { source, batch_id: 1, root: [0x22; 32], total: Uint256::from(1000u128), count: 3 };
        let base = batch_digest(&domain, &batch);
        let variants = [
            // Another chain, or another bridge on the same chain (ids restart at 1 in each).
            batch_digest(&domain, &BatchHeader { source: BatchSource::new("arena-local-2", "inj1bridge"), ..batch }),
            batch_digest(&domain, &BatchHeader { source: BatchSource::new("arena-local-1", "inj1other"), ..batch }),
            batch_digest(&SettlementDomain { chain_id: 1, ..domain }, &batch),
            batch_digest(&SettlementDomain { verifying_contract: EvmAddress([0x12; 20]), ..domain }, &batch),
            batch_digest(&domain, &BatchHeader { batch_id: 2, ..batch }),
            batch_digest(&domain, &BatchHeader { root: [0x23; 32], ..batch }),
            batch_digest(&domain, &BatchHeader { total: Uint256::from(1001u128), ..batch }),
            batch_digest(&domain, &BatchHeader { count: 4, ..batch }),
        ];
        for v in variants {
            assert_ne!(v, base);
        }
    }
}
