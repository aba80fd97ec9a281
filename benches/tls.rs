//! The cost of TLS on the feed, per market-data message: what `wss://`
//! adds over `ws://` on the receiving side. A rustls server and client
//! (the crates and cipher suites the feed client uses, TLS 1.3 negotiated
//! in memory) pass real-sized depth-update messages; the server's
//! encryption happens in each iteration's setup, only the client's work is
//! timed: read the record, decrypt, copy the plaintext out. The plain
//! baseline is the copy alone (what a `ws://` read does after the socket).
//! `cargo bench --bench tls -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs)] // criterion's macros generate undocumented items

#[path = "../tests/common/self_signed.rs"]
mod self_signed;

use std::cell::RefCell;
use std::hint::black_box;
use std::io::{Read, Write};
use std::sync::Arc;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ServerConnection};

/// A client and a server that finished their handshake in memory.
struct Pair {
    client: ClientConnection,
    server: ServerConnection,
    wire: Vec<u8>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn pair() -> Pair {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(self_signed::certificate())
        .expect("trust the test certificate");
    let client_cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("server name");
    let mut p = Pair {
        client: ClientConnection::new(Arc::new(client_cfg), name).expect("client"),
        server: ServerConnection::new(self_signed::server_config()).expect("server"),
        wire: Vec::with_capacity(1 << 16),
    };
    while p.client.is_handshaking() || p.server.is_handshaking() {
        p.wire.clear();
        p.client.write_tls(&mut p.wire).expect("client hello");
        p.server.read_tls(&mut &p.wire[..]).expect("server reads");
        p.server.process_new_packets().expect("server processes");
        p.wire.clear();
        p.server.write_tls(&mut p.wire).expect("server flight");
        p.client.read_tls(&mut &p.wire[..]).expect("client reads");
        p.client.process_new_packets().expect("client processes");
    }
    if let Some(suite) = p.client.negotiated_cipher_suite() {
        eprintln!("negotiated {:?}", suite.suite());
    }
    p
}

/// A depth-update-like JSON message of about `len` bytes.
fn message(len: usize) -> Vec<u8> {
    let mut m = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723075200123,"s":"BTCUSDT","U":100,"u":160,"b":["#.to_vec();
    while m.len() + 40 < len {
        m.extend_from_slice(br#"["61685.99000000","0.01234000"],"#);
    }
    m.extend_from_slice(br#"["1","1"]],"a":[]}}"#);
    m
}

fn receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("feed_message_receive");
    // Small ticker, typical spot diff, busy USD-M diff.
    for len in [160usize, 1_000, 4_000] {
        let msg = message(len);
        let mut out = vec![0u8; msg.len() + 64];
        g.bench_with_input(BenchmarkId::new("plain_copy", len), &msg, |b, msg| {
            b.iter(|| {
                out[..msg.len()].copy_from_slice(black_box(msg));
                black_box(&out);
            })
        });
        let p = RefCell::new(pair());
        g.bench_with_input(BenchmarkId::new("tls_decrypt", len), &msg, |b, msg| {
            b.iter_batched(
                || {
                    let mut p = p.borrow_mut();
                    let p = &mut *p;
                    p.server.writer().write_all(msg).expect("server writes");
                    p.wire.clear();
                    p.server.write_tls(&mut p.wire).expect("server encrypts");
                    p.wire.clone()
                },
                |record| {
                    let mut p = p.borrow_mut();
                    p.client
                        .read_tls(&mut &record[..])
                        .expect("client reads the record");
                    p.client.process_new_packets().expect("client decrypts");
                    let n = p.client.reader().read(&mut out).expect("plaintext");
                    black_box(n)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, receive);
criterion_main!(benches);
