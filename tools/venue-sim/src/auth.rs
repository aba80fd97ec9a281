//! Request signing as Binance documents it (2026), checked with the
//! `hmac` + `sha2` crates.
//!
//! - REST (rest-api.md, "SIGNED Endpoint Examples", HMAC keys): the
//!   payload is the query string concatenated without separator to the
//!   body, **percent-encoded** (rule in force since 2026-01-15: a request
//!   signed over the raw, non-encoded text is refused `-1022`). The
//!   signature is lower- or upper-case hex of HMAC-SHA256(secret, payload).
//! - WebSocket API (web-socket-api.md, "SIGNED request example (HMAC)"):
//!   every param except `signature`, sorted by name, as `name=value` joined
//!   by `&`, UTF-8 (no percent-encoding).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lower-case hex HMAC-SHA256 of `payload` (what a client sends).
pub fn sign(secret: &str, payload: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(payload);
    let out = mac.finalize().into_bytes();
    let mut s = String::with_capacity(64);
    for b in out.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let b = s.as_bytes();
    (0..b.len())
        .step_by(2)
        .map(|i| {
            let h = (b[i] as char).to_digit(16)?;
            let l = (b[i + 1] as char).to_digit(16)?;
            Some((h * 16 + l) as u8)
        })
        .collect()
}

/// True when `sig_hex` (any case) is the HMAC of `payload` (constant-time).
pub(crate) fn verify(secret: &str, payload: &[u8], sig_hex: &str) -> bool {
    let Some(sig) = unhex(sig_hex) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(payload);
    mac.verify_slice(&sig).is_ok()
}

/// The REST signature payload of a request as it came on the wire, with
/// its `signature=` pair removed: query string + body, then every byte
/// that is not printable ASCII percent-encoded (already encoded `%XX`
/// stays as it is). A client that signs the raw UTF-8 text of a
/// non-ASCII value therefore fails, as on Binance since 2026-01-15.
pub(crate) fn rest_payload(query: &str, body: &str) -> (Vec<u8>, Option<String>) {
    let mut sig = None;
    let mut strip = |s: &str| -> String {
        s.split('&')
            .filter(|kv| {
                if let Some(v) = kv.strip_prefix("signature=") {
                    sig = Some(v.to_string());
                    false
                } else {
                    true
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let q = strip(query);
    let b = strip(body);
    let mut out = Vec::with_capacity(q.len() + b.len());
    for &c in q.as_bytes().iter().chain(b.as_bytes()) {
        if (0x21..0x7f).contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
    (out, sig)
}

/// The WebSocket API signature payload: params except `signature`, sorted
/// by name, `name=value` joined by `&` (strings as they are, numbers and
/// booleans as their JSON text).
pub(crate) fn ws_payload(params: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut keys: Vec<&String> = params
        .keys()
        .filter(|k| k.as_str() != "signature")
        .collect();
    keys.sort();
    keys.iter()
        .map(|k| {
            let v = match &params[k.as_str()] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    #[test]
    fn documented_rest_examples_verify() {
        // rest-api.md, HMAC example (ASCII).
        let q = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            sign(SECRET, q.as_bytes()),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        // Non-ASCII symbol, percent-encoded on the wire.
        let q2 = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let wire = format!(
            "{q2}&signature=E1353EC6B14D888F1164AE9AF8228A3DBD508BC82EB867DB8AB6046442F33EF3"
        );
        let (payload, sig) = rest_payload(&wire, "");
        assert!(verify(SECRET, &payload, &sig.unwrap()));
        // The same bytes sent raw are encoded before checking, so the
        // documented signature still verifies; a signature over the raw
        // text does not.
        let raw = "symbol=１２３４５６&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        let (payload, _) = rest_payload(raw, "");
        assert!(verify(
            SECRET,
            &payload,
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        ));
        assert!(!verify(SECRET, &payload, &sign(SECRET, raw.as_bytes())));
        assert!(!verify(SECRET, b"x", "zz"));
    }

    #[test]
    fn documented_ws_api_example_verifies() {
        let p: serde_json::Value = serde_json::json!({
            "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01000000", "price": "52000.00", "recvWindow": 100,
            "timestamp": 1645423376532u64,
            "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
            "signature": "x",
        });
        let payload = ws_payload(p.as_object().unwrap());
        assert!(payload.starts_with("apiKey=vmPUZE") && payload.ends_with("&type=LIMIT"));
        assert_eq!(
            sign(SECRET, payload.as_bytes()),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        );
    }
}
