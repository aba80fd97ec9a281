//! The latency picture: percentile curves of every stage in one SVG, in
//! the usual HdrHistogram layout (x = percentile on a "number of nines"
//! scale, y = latency on a log scale), with labelled axes, a legend that
//! gives each stage's p50 / p99 / p99.9 and sample count, and those three
//! percentiles marked on every curve.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

const W: f64 = 1100.0;
const H: f64 = 540.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 330.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#111111",
];
const MAX_NINES: f64 = 5.0;
/// Percentiles marked on every curve and given in the legend.
const MARKED: [(f64, &str); 3] = [(0.5, "p50"), (0.99, "p99"), (0.999, "p99.9")];

/// A latency in ns as a short human label (`850 ns`, `1.2 µs`, `3 ms`).
fn human(ns: f64) -> String {
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if v >= 100.0 || v == v.trunc() {
        format!("{v:.0} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

/// "Number of nines" of a quantile: 0.9 -> 1, 0.99 -> 2 (capped).
fn nines(q: f64) -> f64 {
    if q >= 1.0 {
        MAX_NINES
    } else {
        (1.0 / (1.0 - q)).log10().min(MAX_NINES)
    }
}

/// Renders the percentile curves of `stages` (ns histograms) as SVG text.
pub fn percentile_plot(title: &str, stages: &[(&'static str, Histogram<u64>)]) -> String {
    let present = || stages.iter().filter(|(_, h)| !h.is_empty());
    let max_ns = present().map(|(_, h)| h.max()).max().unwrap_or(1).max(10) as f64;
    let min_ns = present().map(|(_, h)| h.min().max(1)).min().unwrap_or(1) as f64;
    let ly0 = min_ns.log10().floor();
    let ly1 = max_ns.log10().ceil().max(ly0 + 1.0);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |n: f64| LEFT + n / MAX_NINES * plot_w;
    let y = |ns: f64| TOP + plot_h - (ns.max(1.0).log10() - ly0) / (ly1 - ly0) * plot_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{LEFT}" y="22" font-size="15" font-weight="bold">{title}</text>"#
    );
    // Percentile grid and labels (x).
    let ticks = [
        (0.0, "0%"),
        (nines(0.5), "50%"),
        (1.0, "90%"),
        (2.0, "99%"),
        (3.0, "99.9%"),
        (4.0, "99.99%"),
        (5.0, "99.999%"),
    ];
    for (n, label) in ticks {
        let xv = x(n);
        let _ = writeln!(
            s,
            r##"<line x1="{xv:.1}" y1="{TOP}" x2="{xv:.1}" y2="{:.1}" stroke="#ddd"/><text x="{xv:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile (share of events at or below the latency; log scale of 1/(1−p))</text>"#,
        LEFT + plot_w / 2.0,
        H - 18.0
    );
    // Latency grid and labels (y).
    let mut decade = ly0;
    while decade <= ly1 {
        let ns = 10f64.powf(decade);
        let yv = y(ns);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yv:.1}" x2="{:.1}" y2="{yv:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yv + 4.0,
            human(ns)
        );
        decade += 1.0;
    }
    let _ = writeln!(
        s,
        r#"<text transform="translate(18,{:.1}) rotate(-90)" text-anchor="middle">latency (log scale)</text>"#,
        TOP + plot_h / 2.0
    );
    // One curve per stage, its marked percentiles, and its legend entry.
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{TOP}" font-weight="bold">stage: p50 / p99 / p99.9 (samples)</text>"#,
        LEFT + plot_w + 20.0
    );
    for (i, (name, h)) in stages.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let ly = TOP + 22.0 + 34.0 * i as f64;
        let lx = LEFT + plot_w + 20.0;
        if h.is_empty() {
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{ly:.1}" fill="#888">{name}: no samples</text>"##,
                lx + 18.0
            );
            continue;
        }
        let mut pts = String::new();
        for v in h.iter_quantiles(5) {
            let _ = write!(
                pts,
                "{:.1},{:.1} ",
                x(nines(v.quantile_iterated_to())),
                y(v.value_iterated_to() as f64)
            );
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>"#
        );
        let mut legend = Vec::new();
        for (q, _) in MARKED {
            let ns = h.value_at_quantile(q) as f64;
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"/>"#,
                x(nines(q)),
                y(ns)
            );
            legend.push(human(ns));
        }
        let _ = writeln!(
            s,
            r##"<rect x="{lx:.1}" y="{:.1}" width="12" height="4" fill="{color}"/><text x="{:.1}" y="{ly:.1}">{name}</text><text x="{:.1}" y="{:.1}" fill="#444">{} ({} samples)</text>"##,
            ly - 4.0,
            lx + 18.0,
            lx + 18.0,
            ly + 15.0,
            legend.join(" / "),
            h.len()
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_labels_axes_units_and_each_stages_percentiles() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1 << 40, 3).expect("bounds");
        for v in 1..=1000u64 {
            h.record(v * 1000).expect("record");
        }
        let empty = Histogram::<u64>::new_with_bounds(1, 1 << 40, 3).expect("bounds");
        let svg = percentile_plot("t", &[("decode", h), ("risk", empty)]);
        assert!(svg.contains("latency (log scale)") && svg.contains("percentile ("));
        assert!(svg.contains(">50%<") && svg.contains(">99.9%<"));
        assert!(
            svg.contains("decode") && svg.contains("(1000 samples)"),
            "{svg}"
        );
        assert!(svg.contains("500 µs / 990 µs / 999 µs"), "{svg}");
        assert!(svg.contains("risk: no samples"));
        assert_eq!(
            svg.matches("<circle").count(),
            3,
            "three marked percentiles"
        );
    }
}
