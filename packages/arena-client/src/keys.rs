//! Signing keys. Arena's Cosmos keys are plain secp256k1 keys derived on coin type 118 (what
//! `cosmrs` signs with); injectived accepts them beside its own eth_secp256k1 keys.

use std::fmt;

use cosmrs::bip32;
use cosmrs::crypto::secp256k1::SigningKey;
use cosmrs::crypto::PublicKey;
use cosmrs::AccountId;

use arena_config::{KeySource, Secret};

use crate::error::ClientError;

/// SLIP-44 coin type of Cosmos keys: `m/44'/118'/0'/0/index`.
pub const COSMOS_COIN_TYPE: u32 = 118;

/// The local devnet's development mnemonic (anvil's and Hardhat's, well known): its accounts are
/// funded in the devnet's genesis. Public knowledge: never hold anything of value under it.
pub const DEVNET_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// A key that signs transactions, and the address it signs for.
pub struct Signer {
    key: SigningKey,
    address: AccountId,
}

impl Signer {
    /// Derives account `index` of a BIP39 mnemonic on `m/44'/118'/0'/0/index`.
    pub fn from_mnemonic(phrase: &str, index: u32, bech32_prefix: &str) -> Result<Self, ClientError> {
        Self::from_secret_bytes(&derive_secret_key(phrase, index)?, bech32_prefix)
    }

    /// A raw 32-byte secp256k1 secret key.
    pub fn from_secret_bytes(secret: &[u8], bech32_prefix: &str) -> Result<Self, ClientError> {
        let key =
            SigningKey::from_slice(secret).map_err(|e| ClientError::Key(format!("not a secp256k1 secret key: {e}")))?;
        Self::from_signing_key(key, bech32_prefix)
    }

    /// The key a config names: a key file (refused if group or others can read it) or an
    /// environment variable holding a mnemonic (account 0) or a hex secret key, or a devnet
    /// account. Errors name the source, never the secret.
    pub fn from_source(source: &KeySource, bech32_prefix: &str) -> Result<Self, ClientError> {
        let described = |e: String| ClientError::Key(format!("{}: {e}", source.describe()));
        match source.read().map_err(described)? {
            Secret::Text(text) => Self::from_secret_text(&text, bech32_prefix).map_err(|e| described(e.to_string())),
            Secret::DevnetAccount(index) => Self::from_mnemonic(DEVNET_MNEMONIC, index, bech32_prefix),
        }
    }

    fn from_secret_text(text: &str, bech32_prefix: &str) -> Result<Self, ClientError> {
        let text = text.trim();
        let hex_key = text.strip_prefix("0x").unwrap_or(text);
        if hex_key.len() == 64 && hex_key.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes = hex::decode(hex_key).map_err(|e| ClientError::Key(e.to_string()))?;
            Self::from_secret_bytes(&bytes, bech32_prefix)
        } else {
            Self::from_mnemonic(text, 0, bech32_prefix)
        }
    }

    fn from_signing_key(key: SigningKey, bech32_prefix: &str) -> Result<Self, ClientError> {
        let address = key
            .public_key()
            .account_id(bech32_prefix)
            .map_err(|e| ClientError::Key(format!("bech32 prefix {bech32_prefix:?}: {e}")))?;
        Ok(Signer { key, address })
    }

    pub fn address(&self) -> &AccountId {
        &self.address
    }

    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

/// The secret key of account `index` of a BIP39 mnemonic on `m/44'/118'/0'/0/index`, for
/// writing a key file (which holds one key, not a whole mnemonic).
pub fn derive_secret_key(phrase: &str, index: u32) -> Result<[u8; 32], ClientError> {
    // The `bip39` crate, not bip32's own mnemonic type, which takes only 24-word phrases.
    let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, phrase.trim())
        .map_err(|e| ClientError::Key(format!("not a valid BIP39 English mnemonic: {e}")))?;
    let path: bip32::DerivationPath = format!("m/44'/{COSMOS_COIN_TYPE}'/0'/0/{index}")
        .parse()
        .map_err(|e| ClientError::Key(format!("derivation path: {e}")))?;
    let key = bip32::XPrv::derive_from_path(mnemonic.to_seed_normalized(""), &path)
        .map_err(|e| ClientError::Key(format!("cannot derive key {index}: {e}")))?;
    Ok(key.private_key().to_bytes().into())
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("address", &self.address.as_ref()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV_MNEMONIC: &str = DEVNET_MNEMONIC;

    #[test]
    fn mnemonic_accounts_are_deterministic_and_distinct() {
        let a0 = Signer::from_mnemonic(DEV_MNEMONIC, 0, "inj").unwrap();
        let a0_again = Signer::from_mnemonic(DEV_MNEMONIC, 0, "inj").unwrap();
        let a1 = Signer::from_mnemonic(DEV_MNEMONIC, 1, "inj").unwrap();
        assert_eq!(a0.address(), a0_again.address());
        assert_ne!(a0.address(), a1.address());
        assert!(a0.address().as_ref().starts_with("inj1"));
    }

    /// BIP39's all-"abandon" test mnemonic, whose Cosmos address is widely published
    /// (cosmjs's and Keplr's test vectors).
    const ABANDON_MNEMONIC: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn m_44_118_0_0_0_of_the_abandon_mnemonic_is_the_known_cosmos_account() {
        // Derived independently in Python (hashlib's PBKDF2-HMAC-SHA512 for the seed, BIP32's
        // HMAC-SHA512 steps with secp256k1 written out, RIPEMD160(SHA256(pubkey)), BIP173's
        // bech32); the cosmos address is the published one.
        let secret = derive_secret_key(ABANDON_MNEMONIC, 0).unwrap();
        assert_eq!(hex::encode(secret), "c4a48e2fce1481cd3294b4490f6678090ea98d3d0e5cd984558ab0968741b104");
        let signer = Signer::from_mnemonic(ABANDON_MNEMONIC, 0, "cosmos").unwrap();
        assert_eq!(
            hex::encode(signer.public_key().to_bytes()),
            "024f4e2ad99c34d60b9ba6283c9431a8418af8673212961f97a77b6377fcd05b62"
        );
        assert_eq!(signer.address().as_ref(), "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4");
        let inj = Signer::from_mnemonic(ABANDON_MNEMONIC, 0, "inj").unwrap();
        assert_eq!(inj.address().as_ref(), "inj19rl4cm2hmr8afy4kldpxz3fka4jguq0akf6edd");
    }

    #[test]
    fn a_derived_secret_signs_for_the_same_account() {
        let secret = derive_secret_key(DEV_MNEMONIC, 3).unwrap();
        let from_secret = Signer::from_secret_bytes(&secret, "inj").unwrap();
        assert_eq!(from_secret.address(), Signer::from_mnemonic(DEV_MNEMONIC, 3, "inj").unwrap().address());
    }

    #[test]
    fn prefix_changes_only_the_encoding() {
        let inj = Signer::from_mnemonic(DEV_MNEMONIC, 0, "inj").unwrap();
        let wasm = Signer::from_mnemonic(DEV_MNEMONIC, 0, "wasm").unwrap();
        assert_eq!(inj.address().to_bytes(), wasm.address().to_bytes());
        assert!(wasm.address().as_ref().starts_with("wasm1"));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let s = Signer::from_secret_bytes(&[7u8; 32], "inj").unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains("inj1") && !shown.contains("0707"));
    }

    #[test]
    fn bad_mnemonic_is_refused() {
        let err = Signer::from_mnemonic("not a mnemonic at all", 0, "inj").unwrap_err();
        assert!(matches!(err, ClientError::Key(m) if m.contains("BIP39")));
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "07".repeat(32)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Signer::from_source(&KeySource::File(path.clone()), "inj").unwrap_err();
        assert!(matches!(err, ClientError::Key(ref m) if m.contains("chmod 600")), "{err}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let ok = Signer::from_source(&KeySource::File(path.clone()), "inj").unwrap();
        assert_eq!(ok.address(), Signer::from_secret_bytes(&[7u8; 32], "inj").unwrap().address());
    }
}
