//! What can be wrong with settlement input: addresses, hex, signatures, trees.

use thiserror::Error;

/// Every way settlement input can be refused. Messages carry the offending value and say what
/// to do, because they end up in a failed transaction's log or a relayer's error line.
#[derive(Error, Debug, Clone, PartialEq, Eq)]
pub enum SettlementError {
    #[error("EVM address {input:?} is malformed: {reason}; write it as 0x followed by 40 hex digits")]
    MalformedAddress { input: String, reason: String },

    #[error("EVM address {input} fails its EIP-55 checksum (the checksummed form is {expected}); copy the address again from its source, or write it all in lower case to skip the check")]
    BadChecksum { input: String, expected: String },

    #[error("{what} {input:?} is not 0x followed by {expected_len} bytes of hex ({reason})")]
    MalformedHex { what: String, input: String, expected_len: usize, reason: String },

    #[error("a signature is 65 bytes (r || s || v), this one is {len}; send the full signature as 0x-prefixed hex")]
    SignatureLength { len: usize },

    #[error("signature v = {v} is not 27 or 28 (nor 0 or 1); send the recovery byte the signer produced")]
    InvalidRecoveryByte { v: u8 },

    #[error("signature has r = 0 or s = 0, which no signer produces; sign again")]
    ZeroScalar,

    #[error("signature s is in the upper half of the curve order, the malleable form OpenZeppelin's ECDSA refuses; sign with a library that produces low-s signatures (EIP-2)")]
    HighS,

    #[error(
        "public key is {len} bytes starting with {prefix:#04x}; expected a 65-byte uncompressed key starting with 0x04"
    )]
    BadPublicKey { len: usize, prefix: u8 },

    #[error("a Merkle tree needs at least one leaf")]
    EmptyTree,

    #[error("leaf {index} is out of range: the tree has {len} leaves")]
    LeafOutOfRange { index: usize, len: usize },
}
