//! One ring hop between two pinned threads: `rtrb` SPSC ring vs
//! `std::sync::mpsc`, measured as a ping-pong round trip (two hops) so the
//! clock is read on one thread only. The echo thread lives for the whole
//! benchmark, pinned to core 1; the measuring thread is pinned to core 0.
//! `cargo bench --bench ring -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// A message the size of the pipeline's `MdEvent` (48 bytes).
#[derive(Clone, Copy)]
struct Msg(#[allow(dead_code)] [u64; 6]);

fn pin(core: usize) {
    if let Some(id) =
        core_affinity::get_core_ids().and_then(|ids| ids.into_iter().find(|c| c.id == core))
    {
        core_affinity::set_for_current(id);
    }
}

/// `None` tells the echo thread to stop.
type Ping = Option<Msg>;

fn rtrb_hop(c: &mut Criterion) {
    let (mut ping_tx, mut ping_rx) = rtrb::RingBuffer::<Ping>::new(1024);
    let (mut pong_tx, mut pong_rx) = rtrb::RingBuffer::<Msg>::new(1024);
    let echo = thread::spawn(move || {
        pin(1);
        loop {
            match ping_rx.pop() {
                Ok(Some(m)) => {
                    while pong_tx.push(m).is_err() {
                        std::hint::spin_loop();
                    }
                }
                Ok(None) => return,
                Err(_) => std::hint::spin_loop(),
            }
        }
    });
    pin(0);
    c.benchmark_group("ring_round_trip")
        .bench_function("rtrb_spsc", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters {
                    while ping_tx.push(Some(Msg([i; 6]))).is_err() {
                        std::hint::spin_loop();
                    }
                    loop {
                        if let Ok(m) = pong_rx.pop() {
                            black_box(m);
                            break;
                        }
                        std::hint::spin_loop();
                    }
                }
                start.elapsed()
            })
        });
    while ping_tx.push(None).is_err() {
        std::hint::spin_loop();
    }
    let _ = echo.join();
}

fn mpsc_hop(c: &mut Criterion) {
    let (ping_tx, ping_rx) = mpsc::channel::<Ping>();
    let (pong_tx, pong_rx) = mpsc::channel::<Msg>();
    let echo = thread::spawn(move || {
        pin(1);
        while let Ok(Some(m)) = ping_rx.recv() {
            if pong_tx.send(m).is_err() {
                return;
            }
        }
    });
    pin(0);
    c.benchmark_group("ring_round_trip")
        .bench_function("std_mpsc", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters {
                    if ping_tx.send(Some(Msg([i; 6]))).is_err() {
                        return Duration::MAX;
                    }
                    match pong_rx.recv() {
                        Ok(m) => {
                            black_box(m);
                        }
                        Err(_) => return Duration::MAX,
                    }
                }
                start.elapsed()
            })
        });
    let _ = ping_tx.send(None);
    let _ = echo.join();
}

criterion_group!(benches, rtrb_hop, mpsc_hop);
criterion_main!(benches);
