//! The latency picture: percentile curves of every stage in one SVG, in
//! the usual HdrHistogram layout (x = percentile on a "number of nines"
//! scale, y = latency, log scale).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

const W: f64 = 900.0;
const H: f64 = 500.0;
const LEFT: f64 = 70.0;
const BOTTOM: f64 = 40.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#111111",
];

/// Renders the percentile curves of `stages` (ns histograms) as SVG text.
pub fn percentile_plot(title: &str, stages: &[(&'static str, Histogram<u64>)]) -> String {
    let max_nines = 5.0_f64;
    let max_ns = stages
        .iter()
        .map(|(_, h)| h.max())
        .max()
        .unwrap_or(1)
        .max(10) as f64;
    let min_ns = stages
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(_, h)| h.min().max(1))
        .min()
        .unwrap_or(1) as f64;
    let (ly0, ly1) = (
        min_ns.log10().floor(),
        max_ns.log10().ceil().max(min_ns.log10().floor() + 1.0),
    );
    let x = |nines: f64| LEFT + nines.min(max_nines) / max_nines * (W - LEFT - 20.0);
    let y =
        |ns: f64| (H - BOTTOM) - (ns.max(1.0).log10() - ly0) / (ly1 - ly0) * (H - BOTTOM - 30.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="18" font-size="14">{title}</text>"#
    );
    for (i, label) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        .iter()
        .enumerate()
    {
        let xv = x(i as f64);
        let _ = writeln!(
            s,
            r##"<line x1="{xv}" y1="30" x2="{xv}" y2="{}" stroke="#ddd"/><text x="{xv}" y="{}" text-anchor="middle">{label}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 16.0
        );
    }
    let mut decade = ly0;
    while decade <= ly1 {
        let ns = 10f64.powf(decade);
        let yv = y(ns);
        let label = if ns >= 1e6 {
            format!("{} ms", ns / 1e6)
        } else if ns >= 1e3 {
            format!("{} µs", ns / 1e3)
        } else {
            format!("{ns} ns")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yv}" x2="{}" y2="{yv}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{label}</text>"##,
            W - 20.0,
            LEFT - 6.0,
            yv + 4.0
        );
        decade += 1.0;
    }
    for (i, (name, h)) in stages.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        let color = COLORS[i % COLORS.len()];
        let mut pts = String::new();
        for v in h.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            let nines = if q >= 1.0 {
                max_nines
            } else {
                (1.0 / (1.0 - q)).log10()
            };
            let _ = write!(
                pts,
                "{:.1},{:.1} ",
                x(nines),
                y(v.value_iterated_to() as f64)
            );
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>"#
        );
        let ly = 40.0 + 16.0 * i as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{}">{name}</text>"#,
            LEFT + 10.0,
            ly - 4.0,
            LEFT + 28.0,
            ly
        );
    }
    s.push_str("</svg>\n");
    s
}
