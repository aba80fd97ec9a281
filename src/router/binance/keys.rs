//! API credentials for the live venue: read from the environment or from a
//! private key file, never from committed config, never printed.
//!
//! `Debug` and `Display` show the first four characters of the API key and
//! nothing of the secret; both strings are wiped from memory on drop.

use std::fmt;
use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

/// Environment variable holding the API key.
pub(super) const ENV_API_KEY: &str = "TICKWIRE_API_KEY";
/// Environment variable holding the API secret.
pub(super) const ENV_API_SECRET: &str = "TICKWIRE_API_SECRET";

/// Why credentials could not be loaded. No variant carries key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A variable is missing from the environment.
    #[error("{0} is not set: export {ENV_API_KEY} and {ENV_API_SECRET}, or pass a key file")]
    MissingEnv(&'static str),
    /// The key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Group or others may read the key file.
    #[error(
        "key file {path} is readable by other users (mode {mode:o}): run `chmod 600 {path}` and try again"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not the expected TOML. The message never quotes the file.
    #[error(
        "key file {path} is not valid: {msg}; expected exactly `api_key = \"...\"` and `api_secret = \"...\"`"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser said (without the file's text).
        msg: String,
    },
    /// A key or secret is empty or holds characters that cannot travel in a header.
    #[error(
        "{0} is empty or contains whitespace or non-ASCII characters: copy it again from the venue"
    )]
    Invalid(&'static str),
}

/// An API key and its secret. Wiped on drop; redacted when formatted.
#[derive(Clone)]
pub struct Credentials {
    api_key: Zeroizing<String>,
    api_secret: Zeroizing<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    api_key: String,
    api_secret: String,
}

impl Credentials {
    /// Builds credentials from strings (tests, or a caller with its own store).
    pub fn new(api_key: &str, api_secret: &str) -> Result<Credentials, KeyError> {
        check("api_key", api_key)?;
        check("api_secret", api_secret)?;
        Ok(Credentials {
            api_key: Zeroizing::new(api_key.to_owned()),
            api_secret: Zeroizing::new(api_secret.to_owned()),
        })
    }

    /// Reads `TICKWIRE_API_KEY` and `TICKWIRE_API_SECRET` from the environment.
    pub fn from_env() -> Result<Credentials, KeyError> {
        Credentials::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`] with a custom variable lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Credentials, KeyError> {
        let key = Zeroizing::new(get(ENV_API_KEY).ok_or(KeyError::MissingEnv(ENV_API_KEY))?);
        let secret =
            Zeroizing::new(get(ENV_API_SECRET).ok_or(KeyError::MissingEnv(ENV_API_SECRET))?);
        Credentials::new(&key, &secret)
    }

    /// Reads a TOML key file (`api_key = "..."`, `api_secret = "..."`).
    /// Refuses a file that group or others may read.
    pub fn from_file(path: &Path) -> Result<Credentials, KeyError> {
        let read_err = |source| KeyError::Read {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::Permissions {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(read_err)?);
        let mut file: KeyFile = toml::from_str(&text).map_err(|e| KeyError::Format {
            path: path.to_owned(),
            // `message()` is the parser's reason alone; `Display` would quote the line.
            msg: e.message().to_owned(),
        })?;
        let creds = Credentials::new(&file.api_key, &file.api_secret);
        file.api_key.zeroize();
        file.api_secret.zeroize();
        creds
    }

    /// The API key, for the `X-MBX-APIKEY` header.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret, for the signer only.
    pub(crate) fn secret_bytes(&self) -> &[u8] {
        self.api_secret.as_bytes()
    }

    fn key_hint(&self) -> String {
        let head: String = self.api_key.chars().take(4).collect();
        format!("{head}…(redacted)")
    }
}

fn check(what: &'static str, v: &str) -> Result<(), KeyError> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(KeyError::Invalid(what));
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.key_hint())
            .field("api_secret", &"(redacted)")
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "api_key {}", self.key_hint())
    }
}
