//! Parse time per payload over every fixture payload (target: ≤ 5 µs median).
//!
//! One benchmark runs the whole corpus per iteration and reports the time per
//! payload via `Throughput::Elements`; per-vector benchmarks would be 56
//! separate groups and hide the figure that matters.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn payloads() -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../tests/fixtures/aamva-vectors.json"))
            .expect("fixture JSON");
    json.as_array()
        .expect("array of vectors")
        .iter()
        .map(|v| v["payload"].as_str().expect("payload").to_owned())
        .collect()
}

fn bench(c: &mut Criterion) {
    let payloads = payloads();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(payloads.len() as u64));
    group.bench_function("all_fixture_payloads", |b| {
        b.iter(|| {
            for p in &payloads {
                let _ = black_box(canopy_aamva::parse(black_box(p)));
            }
        })
    });
    group.finish();

    // Representative single payloads, so the median per payload can be read
    // directly: a textbook v10 card, a mangled v01 card, and the
    // no-separator scan path.
    for id in [
        "benhovinga-v1",
        "syfaro-rs-va-real-21",
        "idparser-ct-undefined-characters",
        "aamvajs-pdf417-ks",
    ] {
        let json: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/aamva-vectors.json"))
                .expect("fixture JSON");
        let Some(payload) = json
            .as_array()
            .and_then(|a| a.iter().find(|v| v["id"] == id))
            .and_then(|v| v["payload"].as_str())
            .map(str::to_owned)
        else {
            continue;
        };
        c.bench_function(&format!("parse/{id}"), |b| {
            b.iter(|| canopy_aamva::parse(black_box(&payload)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
