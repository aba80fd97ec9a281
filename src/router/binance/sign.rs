//! Request signing for Binance `SIGNED` endpoints: lowercase hex
//! HMAC-SHA256 of the total params (query string followed directly by the
//! body) keyed with the API secret.
//!
//! `ring::hmac` is used rather than `hmac` + `sha2`: ring is already compiled
//! into the binary for rustls (through ureq), so signing adds no crate, and
//! its HMAC is the one the TLS stack already trusts. The tests check it
//! against Binance's published example and an independent `hmac`/`sha2`
//! computation.

use std::fmt;

use super::keys::Credentials;

/// Lowercase hex HMAC-SHA256 signature (64 ASCII bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; 64]);

impl Signature {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the array.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signs request params with the secret of one set of credentials.
pub struct Signer {
    key: ring::hmac::Key,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(redacted)")
    }
}

impl Signer {
    /// A signer keyed with `creds`' secret.
    pub fn new(creds: &Credentials) -> Signer {
        Signer::from_secret(creds.secret_bytes())
    }

    /// A signer keyed with raw secret bytes.
    pub fn from_secret(secret: &[u8]) -> Signer {
        Signer {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
        }
    }

    /// Signature of the total params: `query` immediately followed by `body`
    /// (Binance concatenates them with no separator).
    pub fn sign(&self, query: &str, body: &str) -> Signature {
        let mut ctx = ring::hmac::Context::with_key(&self.key);
        ctx.update(query.as_bytes());
        ctx.update(body.as_bytes());
        let tag = ctx.sign();
        let mut out = [0u8; 64];
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, b) in tag.as_ref().iter().enumerate() {
            out[2 * i] = HEX[usize::from(b >> 4)];
            out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        Signature(out)
    }
}

/// Why a parameter cannot be placed into a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "parameter {name} has characters that would need URL encoding; only A-Z a-z 0-9 . - _ : / are sent"
)]
pub struct ParamError {
    /// Parameter name.
    pub name: &'static str,
}

/// An `a=b&c=d` parameter string built in order. Values are restricted to
/// characters that need no URL encoding, so the signed text is exactly the
/// text sent.
#[derive(Debug, Default, Clone)]
pub(super) struct Params {
    text: String,
}

impl Params {
    /// An empty parameter list.
    pub(super) fn new() -> Params {
        Params::default()
    }

    /// Appends `name=value`.
    pub(super) fn push(
        &mut self,
        name: &'static str,
        value: impl fmt::Display,
    ) -> Result<(), ParamError> {
        use std::fmt::Write;
        let start = self.text.len();
        if !self.text.is_empty() {
            self.text.push('&');
        }
        let vstart = self.text.len() + name.len() + 1;
        let _ = write!(self.text, "{name}={value}");
        let ok = self.text[vstart..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'/'));
        if !ok {
            self.text.truncate(start);
            return Err(ParamError { name });
        }
        Ok(())
    }

    /// Appends `recvWindow` and `timestamp`, as every signed request needs.
    pub(super) fn push_timing(&mut self, recv_window_ms: u64, timestamp_ms: u64) {
        // Integers never need encoding.
        let _ = self.push("recvWindow", recv_window_ms);
        let _ = self.push("timestamp", timestamp_ms);
    }

    /// The text so far.
    pub(super) fn as_str(&self) -> &str {
        &self.text
    }
}
