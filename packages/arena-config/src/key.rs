//! Where a signing key comes from, and the one permission check on secret files.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a key comes from, written the same way in every config:
///
/// ```toml
/// key = { file = "/etc/arena/operator.key" }   # mode 600: readable by its owner only
/// key = { env = "ARENA_OPERATOR_KEY" }
/// key = { devnet_account = 2 }                  # local devnets only: the keys are public
/// ```
///
/// A file or variable holds a BIP39 mnemonic (account 0 is used) or a 32-byte hex secret key
/// (EVM keys: hex only).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// A file readable by its owner only.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// Account `N` of the devnet's well-known mnemonic (`testnet accounts` lists them).
    DevnetAccount(u32),
}

/// What a [`KeySource`] holds once read.
pub enum Secret {
    /// The text of the file or variable: a mnemonic or a hex key.
    Text(String),
    /// A devnet account's index; its key is derived from the devnet mnemonic.
    DevnetAccount(u32),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Where a secret lives is not itself secret; what it holds never passes through here.
        f.write_str(&self.describe())
    }
}

impl KeySource {
    /// How to name this source in messages: the path, `$VAR` or `devnet account N`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Env(var) => format!("${var}"),
            Self::DevnetAccount(index) => format!("devnet account {index}"),
        }
    }

    /// Reads the secret: the file (refused if others can read it) or the variable. The error
    /// names the source, never the secret.
    pub fn read(&self) -> Result<Secret, String> {
        match self {
            Self::File(path) => read_private_file(path).map(Secret::Text),
            Self::Env(var) => {
                std::env::var(var).map(Secret::Text).map_err(|_| format!("environment variable {var} is not set"))
            }
            Self::DevnetAccount(index) => Ok(Secret::DevnetAccount(*index)),
        }
    }
}

/// Reads a file that holds a secret, refusing it if group or others may read it. The error
/// names the file and says how to fix it.
pub fn read_private_file(path: &Path) -> Result<String, String> {
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_err(|e| format!("{shown}: cannot read it: {e}"))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!("{shown} is readable by others (mode {:o}); run `chmod 600 {shown}`", mode & 0o777));
        }
    }
    std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read it: {e}"))
}

/// Writes a secret to a new file of mode 0600 and syncs it to disk; an existing file is never
/// replaced (it may hold another secret). The error names the file.
pub fn write_private_file_new(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let shown = path.display();
    let err = |e: std::io::Error| format!("{shown}: cannot write it: {e}");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(err)?;
    file.write_all(text.as_bytes()).map_err(err)?;
    file.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        key: KeySource,
    }

    #[test]
    fn one_syntax_for_every_source_and_it_round_trips() {
        for (text, key) in [
            ("key = { file = \"k.key\" }", KeySource::File("k.key".into())),
            ("key = { env = \"K\" }", KeySource::Env("K".into())),
            ("key = { devnet_account = 3 }", KeySource::DevnetAccount(3)),
            ("[key]\nenv = \"K\"", KeySource::Env("K".into())),
        ] {
            let holder: Holder = crate::parse(text).unwrap();
            assert_eq!(holder.key, key);
            assert_eq!(crate::parse::<Holder>(&crate::to_toml(&holder)).unwrap(), holder);
        }
    }

    #[test]
    fn two_sources_or_an_unknown_one_are_refused() {
        let two = crate::parse::<Holder>("key = { env = \"K\", devnet_account = 1 }").unwrap_err();
        assert!(two.contains("key"), "{two}");
        // The worker's old `key_file` is not read any more; the error lists what is.
        let old = crate::parse::<Holder>("[key]\nkey_file = \"k\"").unwrap_err();
        assert!(old.contains("key_file") && old.contains("`file`, `env`, `devnet_account`"), "{old}");
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_and_mode_600_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write_private_file_new(&path, "secret words").unwrap();
        assert!(matches!(KeySource::File(path.clone()).read(), Ok(Secret::Text(t)) if t == "secret words"));
        assert!(write_private_file_new(&path, "other").unwrap_err().contains("k.key"), "never replaced");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = KeySource::File(path.clone()).read().err().unwrap();
            assert!(err.contains("chmod 600") && !err.contains("secret words"), "{err}");
        }
    }

    #[test]
    fn debug_names_the_source_only() {
        assert_eq!(format!("{:?}", KeySource::Env("OP".into())), "$OP");
        let missing = KeySource::Env("ARENA_CONFIG_TEST_UNSET_VARIABLE".into()).read().err().unwrap();
        assert!(missing.contains("ARENA_CONFIG_TEST_UNSET_VARIABLE is not set"), "{missing}");
    }
}
