//! Request parameters and Binance's signed-endpoint checks: API key,
//! HMAC-SHA256 signature over query string + body, timestamp window.

use ring::hmac;

use super::http::ApiError;

/// Largest `recvWindow` Binance accepts (ms).
const MAX_RECV_WINDOW: u64 = 60_000;

/// Lowercase hex HMAC-SHA256 of `payload` under `secret` (Binance's
/// request signature).
pub fn sign(secret: &[u8], payload: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    to_hex(hmac::sign(&key, payload).as_ref())
}

/// Decoded request parameters, query string first, then body.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `a=1&b=2` parts of the query string and an urlencoded body.
    pub(crate) fn parse(query: &str, body: &str) -> Params {
        let mut v = Vec::new();
        for part in [query, body] {
            for kv in part.split('&').filter(|s| !s.is_empty()) {
                let (k, val) = kv.split_once('=').unwrap_or((kv, ""));
                v.push((decode(k), decode(val)));
            }
        }
        Params(v)
    }

    /// The first value of `key`, if present and not empty.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The value of a mandatory parameter.
    pub(crate) fn need(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key).ok_or_else(|| {
            ApiError::bad(
                -1102,
                format!("Mandatory parameter '{key}' was not sent, was empty/null, or malformed."),
            )
        })
    }
}

/// Percent-decoding (`+` is a space, as in form bodies); bad escapes are
/// kept as written.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lowercase hex of `bytes`.
fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Bytes of a hex string (either case); `None` if it is not hex.
fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some(hex_val(p[0])? * 16 + hex_val(p[1])?))
        .collect()
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// `part` without its `signature=` parameter, and that signature.
fn strip_signature(part: &str) -> (String, Option<String>) {
    let mut sig = None;
    let kept: Vec<&str> = part
        .split('&')
        .filter(|kv| match kv.strip_prefix("signature=") {
            Some(s) => {
                sig = Some(s.to_string());
                false
            }
            None => true,
        })
        .collect();
    (kept.join("&"), sig)
}

/// Checks the API key header.
pub(crate) fn check_key(expected: &str, header: Option<&str>) -> Result<(), ApiError> {
    match header {
        Some(k) if !expected.is_empty() && k == expected => Ok(()),
        _ => Err(ApiError {
            http: 401,
            code: -2015,
            msg: "Invalid API-key, IP, or permissions for action.".into(),
            retry_after: None,
        }),
    }
}

/// Checks key, signature and timestamp of a signed request and returns its
/// parameters.
pub(crate) fn check_signed(
    key: &str,
    secret: &str,
    header: Option<&str>,
    query: &str,
    body: &str,
    now_ms: u64,
) -> Result<Params, ApiError> {
    check_key(key, header)?;
    let (q, sq) = strip_signature(query);
    let (b, sb) = strip_signature(body);
    let Some(sig) = sq.or(sb) else {
        return Err(ApiError::bad(
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.".into(),
        ));
    };
    let total = format!("{q}{b}");
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    // Constant-time comparison inside ring.
    let ok = from_hex(&sig).is_some_and(|s| hmac::verify(&key, total.as_bytes(), &s).is_ok());
    if !ok {
        return Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.".into(),
        ));
    }
    let params = Params::parse(query, body);
    let ts: u64 = params.need("timestamp")?.parse().map_err(|_| {
        ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'."
                .into(),
        )
    })?;
    let window: u64 = match params.get("recvWindow") {
        None => 5_000,
        Some(w) => w.parse().map_err(|_| {
            ApiError::bad(-1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.".into())
        })?,
    };
    if window > MAX_RECV_WINDOW {
        return Err(ApiError::bad(
            -1131,
            "recvWindow must be less than 60000".into(),
        ));
    }
    if ts > now_ms + 1_000 || now_ms.saturating_sub(ts) > window {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.".into(),
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_of_binance_doc_example_matches() {
        // The example request and key of Binance's "SIGNED endpoint" docs.
        let secret = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        let payload = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            sign(secret, payload),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
    }

    #[test]
    fn percent_escapes_are_decoded() {
        let p = Params::parse("a=x%2Dy&b=1+2", "c=%zz");
        assert_eq!(p.get("a"), Some("x-y"));
        assert_eq!(p.get("b"), Some("1 2"));
        assert_eq!(p.get("c"), Some("%zz"));
    }
}
