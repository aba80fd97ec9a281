//! `GET /api/v3/depth`: the simulator's own book, consistent with the
//! diffs it has served.

use std::fmt::Write;

use super::auth::Params;
use super::engine::levels;
use super::http::{Answer, ApiError, Req};
use super::{Shared, lock};
use tickwire_core::types::{Level, Side, SymbolName};

/// Most levels per side Binance returns.
const MAX_LIMIT: usize = 5_000;

/// Answers a depth request.
pub(crate) fn answer(shared: &Shared, r: &Req<'_>) -> Answer {
    let p = Params::parse(r.query, r.body);
    let sym = match p.need("symbol") {
        Ok(s) => s.to_ascii_uppercase(),
        Err(e) => return e.into(),
    };
    let limit = match p.get("limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'limit'.".into(),
            )
            .into();
        }
    };
    let eng = lock(&shared.engine);
    let inst = SymbolName::new(sym.as_bytes()).and_then(|n| eng.find(r.market, &n));
    let Some(i) = inst else {
        return ApiError::bad(-1121, "Invalid symbol.".into()).into();
    };
    if !eng.synced(i) {
        return Answer::Err(ApiError {
            http: 503,
            code: -1001,
            msg: "Internal error; unable to process your request. Please try again.".into(),
            retry_after: None,
        });
    }
    let mut out = format!("{{\"lastUpdateId\":{}", eng.snapshot_id(i));
    let inst = &eng.insts[i];
    if r.market != tickwire_core::types::Market::Spot {
        let now = super::now_ms();
        let _ = write!(out, ",\"E\":{now},\"T\":{now}");
    }
    out.push_str(",\"bids\":");
    side(&mut out, &levels(&inst.book, Side::Buy, limit));
    out.push_str(",\"asks\":");
    side(&mut out, &levels(&inst.book, Side::Sell, limit));
    out.push('}');
    Answer::Json(200, out)
}

fn side(out: &mut String, lv: &[Level]) {
    out.push('[');
    for (k, l) in lv.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        let _ = write!(out, "[\"{}\",\"{}\"]", l.px, l.qty);
    }
    out.push(']');
}
