//! One ring hop between two pinned threads: `rtrb` SPSC ring vs
//! `std::sync::mpsc`, measured as a ping-pong round trip (two hops) so the
//! clock is read on one thread only. Run side by side:
//! `cargo bench --bench ring -- --warm-up-time 1 --measurement-time 3`.

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

/// The message the pipeline actually sends (one md event's size).
#[derive(Clone, Copy)]
struct Msg(#[allow(dead_code)] [u64; 6]);

fn pin(core: usize) {
    if let Some(id) =
        core_affinity::get_core_ids().and_then(|ids| ids.into_iter().find(|c| c.id == core))
    {
        core_affinity::set_for_current(id);
    }
}

fn rtrb_round_trips(iters: u64) -> Duration {
    let (mut ping_tx, mut ping_rx) = rtrb::RingBuffer::<Msg>::new(1024);
    let (mut pong_tx, mut pong_rx) = rtrb::RingBuffer::<Msg>::new(1024);
    let echo = thread::spawn(move || {
        pin(1);
        for _ in 0..iters {
            let m = loop {
                if let Ok(m) = ping_rx.pop() {
                    break m;
                }
                std::hint::spin_loop();
            };
            while pong_tx.push(m).is_err() {
                std::hint::spin_loop();
            }
        }
    });
    pin(0);
    let start = Instant::now();
    for i in 0..iters {
        while ping_tx.push(Msg([i; 6])).is_err() {
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
    let elapsed = start.elapsed();
    let _ = echo.join();
    elapsed
}

fn mpsc_round_trips(iters: u64) -> Duration {
    let (ping_tx, ping_rx) = mpsc::channel::<Msg>();
    let (pong_tx, pong_rx) = mpsc::channel::<Msg>();
    let echo = thread::spawn(move || {
        pin(1);
        for _ in 0..iters {
            let Ok(m) = ping_rx.recv() else { return };
            if pong_tx.send(m).is_err() {
                return;
            }
        }
    });
    pin(0);
    let start = Instant::now();
    for i in 0..iters {
        if ping_tx.send(Msg([i; 6])).is_err() {
            break;
        }
        match pong_rx.recv() {
            Ok(m) => {
                black_box(m);
            }
            Err(_) => break,
        }
    }
    let elapsed = start.elapsed();
    let _ = echo.join();
    elapsed
}

fn ring_hop(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_round_trip");
    g.bench_function("rtrb_spsc", |b| b.iter_custom(rtrb_round_trips));
    g.bench_function("std_mpsc", |b| b.iter_custom(mpsc_round_trips));
    g.finish();
}

criterion_group!(benches, ring_hop);
criterion_main!(benches);
