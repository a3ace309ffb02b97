//! Which proving-key encoding loads fastest end to end: checked vs unchecked and compressed vs
//! uncompressed points, for a key file made by `airprover setup`.
//!
//! ```text
//! cargo run --release --example key_formats -- path/to/threshold-d20-k8.pk [Mbit/s]
//! ```
//!
//! For each encoding it prints the payload size, the deserialisation time (median of 3), the
//! SHA-256 time, and the end-to-end load time for a first visit (download at the given rate, 50
//! Mbit/s by default, plus hashing and deserialising) and for a later visit (the bytes read from
//! the key cache: hashing and deserialising only).

use std::time::Instant;

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use sha2::{Digest, Sha256};

use airprover::prover::keys::KeyFile;
use airprover::prover::ProvingKey;

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[1]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: key_formats <proving key file> [Mbit/s]");
    let mbits: f64 = args.next().map_or(50.0, |a| a.parse().expect("Mbit/s"));
    let file = std::fs::read(&path).expect("read the key file");
    let key = KeyFile::parse(&file).expect("a key file");
    let pk = ProvingKey::deserialize_with_mode(key.payload(), Compress::No, Validate::No)
        .expect("a proving key");
    println!(
        "{path}: {} ({} threads)",
        key.header.circuit,
        rayon_threads()
    );
    println!(
        "| points | checks | bytes | deserialise ms | SHA-256 ms | first load at {mbits} Mbit/s ms | cached load ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    for compress in [Compress::No, Compress::Yes] {
        let mut bytes = Vec::new();
        pk.serialize_with_mode(&mut bytes, compress).unwrap();
        let sha = median_ms(|| {
            std::hint::black_box(Sha256::digest(&bytes));
        });
        for validate in [Validate::No, Validate::Yes] {
            let de = median_ms(|| {
                let back =
                    ProvingKey::deserialize_with_mode(&bytes[..], compress, validate).unwrap();
                std::hint::black_box(back);
            });
            let download = bytes.len() as f64 * 8.0 / (mbits * 1e6) * 1000.0;
            println!(
                "| {} | {} | {} | {de:.0} | {sha:.0} | {:.0} | {:.0} |",
                if compress == Compress::Yes {
                    "compressed"
                } else {
                    "uncompressed"
                },
                if validate == Validate::Yes {
                    "checked"
                } else {
                    "unchecked"
                },
                bytes.len(),
                download + sha + de,
                sha + de,
            );
        }
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
