//! HdrHistogram files: the percentile-distribution text (`.hgrm`, the
//! format HdrHistogram's plotter reads) and an interval log (`.hlog`) in the
//! standard encoding every HdrHistogram implementation reads: one interval
//! per stage, each histogram V2 *compressed* (deflate, cookie `0x1c849304`)
//! and base64 encoded, as Java's `HistogramLogWriter` writes it (checked in
//! `tests/cli.rs` with the Python `hdrh` reader, which refuses uncompressed
//! V2). Values are written in microseconds in `.hgrm` (the
//! customary scale) and nanoseconds in `.hlog`.

use std::io::Write;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;

/// Writes the `.hgrm` percentile distribution of `h` (ns) in µs.
pub fn write_percentiles(h: &Histogram<u64>, out: &mut dyn Write) -> std::io::Result<()> {
    const SCALE: f64 = 1000.0;
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    if h.is_empty() {
        return writeln!(
            out,
            "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
            0.0, 0.0
        );
    }
    let mut total: u64 = 0;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = v.value_iterated_to() as f64 / SCALE;
        if q < 1.0 {
            writeln!(
                out,
                "{:12.3} {:2.12} {:10} {:14.2}",
                value,
                q,
                total,
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(out, "{:12.3} {:2.12} {:10}", value, q, total)?;
        }
    }
    writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / SCALE,
        h.stdev() / SCALE
    )?;
    writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / SCALE,
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        h.distinct_values()
    )
}

/// Writes `<dir>/<stage>.hgrm` and `<dir>/<stage>.hlog` for every stage;
/// returns the files written. `wall` is the length of the run (the logged
/// interval).
pub fn write_dir(
    dir: &Path,
    stages: &[(&'static str, Histogram<u64>)],
    wall: std::time::Duration,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, h) in stages {
        let p = dir.join(format!("{name}.hgrm"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p)?);
        write_percentiles(h, &mut f)?;
        f.flush()?;
        written.push(p);

        let p = dir.join(format!("{name}.hlog"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&p)?);
        let mut ser = V2DeflateSerializer::new();
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(&format!("tickwire {name} latency, ns"))
            .with_start_time(std::time::SystemTime::now())
            .begin_log_with(&mut f, &mut ser)?;
        log.write_histogram(h, std::time::Duration::ZERO, wall, None)
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        drop(log);
        f.flush()?;
        written.push(p);
    }
    Ok(written)
}
