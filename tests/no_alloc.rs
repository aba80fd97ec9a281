//! No heap allocation per frame on the hot path after warm-up, proven on a
//! real-data replay: every stage of the pipeline is polled on this thread
//! (the same `poll` code the executors run) under a counting allocator;
//! after the first 10% of frames (warm-up: buffers reach their working
//! size) the count must stay at zero until the input ends.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tickwire_capture::Capture;
use tickwire_capture::ReplaySource;
use tickwire_core::source::Pace;
use tickwire_core::stage::Progress;
use tickwire_md::OnFull;
use tickwire_runtime::pipeline;

use common::alloc::{ALLOCS, COUNTING};

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

fn allocations_after_warmup(capture: Capture) -> (u64, u64) {
    let cfg = common::shipped("affinity.toml");
    let total = capture.len() as u64;
    let opts = common::test_options(OnFull::Wait);
    let built = pipeline::build(
        &cfg,
        ReplaySource::new(capture, Pace::Max),
        &opts,
        Arc::new(AtomicBool::new(false)),
    );
    let progress = built.progress.clone();
    // The counter itself must see allocations, or a zero proves nothing.
    COUNTING.set(true);
    std::hint::black_box(vec![0u8; 64]);
    COUNTING.set(false);
    assert_eq!(
        ALLOCS.replace(0),
        1,
        "the counting allocator missed an allocation"
    );
    let mut stages = built.stages.map(Some);
    let warmup = total / 10;
    let mut counted_frames = 0;
    while stages.iter().any(Option::is_some) {
        for slot in stages.iter_mut() {
            let Some(stage) = slot else { continue };
            if !COUNTING.get() && progress.load(Ordering::Relaxed) >= warmup {
                counted_frames = total - progress.load(Ordering::Relaxed);
                COUNTING.set(true);
            }
            if stage.poll().expect("stage poll") == Progress::Done {
                // Building the end-of-run report may allocate; that is not
                // the hot path.
                let was = COUNTING.replace(false);
                if let Some(s) = slot.take() {
                    s.finish();
                }
                COUNTING.set(was);
            }
        }
    }
    COUNTING.set(false);
    (ALLOCS.get(), counted_frames)
}

#[test]
fn real_replay_allocates_nothing_per_frame_after_warmup() {
    let Some(dir) = common::marketdata() else {
        return;
    };
    let args = [
        dir.join("spot_btcusdt_20240808.gz").display().to_string(),
        dir.join("usdm_btcusdt_20240808.gz").display().to_string(),
    ];
    let capture = Capture::open(&args).expect("open captures");
    let (allocs, frames) = allocations_after_warmup(capture);
    assert!(frames > 100_000, "counted only {frames} frames");
    assert_eq!(
        allocs, 0,
        "{allocs} heap allocations during {frames} steady-state frames"
    );
}
