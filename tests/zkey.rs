//! snarkjs's Groth16 `.zkey` read and proved with natively (`circom::zkey`, `prove_witness_until`):
//! on the shared circom fixtures (circuits compiled with circom2, keys from `snarkjs groth16
//! setup` and one contribution, witnesses from `snarkjs wtns calculate`), both kernels prove
//! what snarkjs's verifying key accepts with snarkjs's public signals, and every damaged zkey or
//! foreign witness is its code, never a panic.

mod common;

use std::fs;
use std::path::PathBuf;

use airprover::circom::{wtns, zkey};
use airprover::field::Fr;
use airprover::prover::export;
use airprover::prover::msm::Kernel;
use airprover::prover::prepared::PreparedProvingKey;
use airprover::prover::prove::prove_witness_until;
use airprover::prover::qap::Reduction;
use airprover::prover::verify::verify;
use airprover::prover::Proof;
use ark_bn254::{Fq, Fq2, G2Affine};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// A fixture's files (see tests/interop/circom-fixtures.mjs).
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn get(name: &str) -> Fixture {
        Fixture {
            dir: common::circom::fixture(name).dir,
        }
    }

    fn bytes(&self, file: &str) -> Vec<u8> {
        fs::read(self.dir.join(file)).unwrap()
    }

    fn text(&self, file: &str) -> String {
        fs::read_to_string(self.dir.join(file)).unwrap()
    }
}

fn prepared(zkey_bytes: &[u8], kernel: Kernel) -> airprover::Result<PreparedProvingKey> {
    let converted = zkey::Zkey::parse(zkey_bytes)?.convert()?;
    Ok(
        PreparedProvingKey::new(converted.proving_key, Some(converted.matrices), kernel)?
            .with_reduction(Reduction::Circom),
    )
}

fn prove(
    key: &PreparedProvingKey,
    witness: &[Fr],
    seed: u64,
) -> airprover::Result<(Proof, Vec<Fr>)> {
    prove_witness_until(
        witness,
        key,
        &mut ChaCha20Rng::seed_from_u64(seed),
        &mut |_| {},
        &|| false,
    )
}

/// Each fixture: the zkey's verifying key is snarkjs's export of it; both kernels prove, and
/// their proofs (the same with the same randomness) verify under snarkjs's verifying key with
/// snarkjs's public signals.
#[test]
fn both_kernels_prove_what_snarkjs_verifies() {
    for name in ["arrays", "multi"] {
        let f = Fixture::get(name);
        let bytes = f.bytes("circuit.zkey");
        let vk = export::verifying_key_from_json(&f.text("verification_key.json")).unwrap();
        assert_eq!(
            zkey::Zkey::parse(&bytes).unwrap().verifying_key().unwrap(),
            vk,
            "{name}"
        );
        let snarkjs_public = export::public_from_json(&f.text("public.json")).unwrap();
        let witness = wtns::read(&f.bytes("witness.wtns")).unwrap();
        let mut proofs = Vec::new();
        for kernel in [Kernel::Arkworks, Kernel::Wasm29] {
            let key = prepared(&bytes, kernel).unwrap();
            let mut stages = Vec::new();
            let (proof, public) = prove_witness_until(
                &witness,
                &key,
                &mut ChaCha20Rng::seed_from_u64(5),
                &mut |p| stages.push(p.stage),
                &|| false,
            )
            .unwrap();
            assert_eq!(public, snarkjs_public, "{name} {kernel:?}");
            assert!(verify(&vk, &public, &proof).unwrap(), "{name} {kernel:?}");
            assert_eq!(stages, airprover::prover::Stage::ALL, "{name} {kernel:?}");
            proofs.push(proof);
        }
        assert_eq!(proofs[0], proofs[1], "{name}: the kernels disagree");
    }
}

/// `zkey-info`'s facts agree with the circuit's (info.json from snarkjs r1cs info).
#[test]
fn info_has_the_circuits_counts() {
    let f = Fixture::get("multi");
    let bytes = f.bytes("circuit.zkey");
    let info = zkey::Zkey::parse(&bytes)
        .unwrap()
        .info(zkey::sha256_hex(&bytes))
        .unwrap();
    let facts: serde_json::Value = serde_json::from_str(&f.text("info.json")).unwrap();
    assert_eq!(info.protocol, "groth16");
    assert_eq!(info.curve, "bn128");
    assert_eq!(
        info.n_constraints as u64,
        facts["constraints"].as_u64().unwrap()
    );
    assert_eq!(
        info.n_public as u64,
        facts["publicSignals"].as_u64().unwrap()
    );
    let rows = info.n_constraints + info.n_public + 1;
    assert_eq!(info.domain_size, rows.next_power_of_two());
    assert_eq!(info.sections.len(), 10);
    assert_eq!(info.sha256.len(), 64);
}

/// Where each section's bytes start, and their length.
fn sections(bytes: &[u8]) -> Vec<(u32, usize, usize)> {
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut at = 12;
    let mut out = Vec::new();
    for _ in 0..u32_at(8) {
        let id = u32_at(at);
        let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        out.push((id, at + 12, len));
        at += 12 + len;
    }
    out
}

fn refused(bytes: &[u8]) -> airprover::Error {
    match zkey::Zkey::parse(bytes).and_then(|z| z.convert()) {
        Ok(_) => panic!("a damaged zkey was read"),
        Err(e) => e,
    }
}

/// A flipped byte in each section, truncations, a point off the curve, a G2 point outside the
/// subgroup, a PLONK zkey: each its code, naming the section.
#[test]
fn every_damaged_zkey_is_its_code() {
    let f = Fixture::get("multi");
    let good = f.bytes("circuit.zkey");
    let table = sections(&good);
    let start = |id: u32| table.iter().find(|s| s.0 == id).unwrap().1;

    // A byte of each point section's first coordinate: off the curve (or above q).
    for id in [3, 5, 6, 7, 8, 9] {
        let mut bad = good.clone();
        bad[start(id) + 3] ^= 0x10;
        let e = refused(&bad);
        assert_eq!(e.code(), "ZKEY_CORRUPT", "section {id}: {e}");
        assert!(e.to_string().contains(&format!("section {id} (")), "{e}");
    }
    // The Groth16 header: its primes are another curve's; nVars disagrees with the sections;
    // alpha1 off the curve.
    let g16 = start(2);
    let mut bad = good.clone();
    bad[g16 + 4] ^= 1;
    assert_eq!(refused(&bad).code(), "ZKEY_UNSUPPORTED");
    let mut bad = good.clone();
    bad[g16 + 4 + 32 + 4 + 32] ^= 1; // nVars
    let e = refused(&bad);
    assert_eq!(e.code(), "ZKEY_CORRUPT");
    assert!(e.to_string().contains("the Groth16 header"), "{e}");
    let mut bad = good.clone();
    bad[g16 + 84 + 5] ^= 0x01; // alpha1.x
    let e = refused(&bad);
    assert_eq!(e.code(), "ZKEY_CORRUPT");
    assert!(e.to_string().contains("alpha1"), "{e}");
    // Section 1: protocol 3 is no protocol snarkjs has.
    let mut bad = good.clone();
    bad[start(1)] ^= 2;
    assert_eq!(refused(&bad).code(), "ZKEY_UNSUPPORTED");
    // Coefficients: the count, an entry's matrix, a public-input row's value (snarkjs writes
    // those rows last).
    let coefficients = start(4);
    let count =
        u32::from_le_bytes(good[coefficients..coefficients + 4].try_into().unwrap()) as usize;
    let last_value = coefficients + 4 + 44 * (count - 1) + 12 + 3;
    for at in [coefficients, coefficients + 4, last_value] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        let e = refused(&bad);
        assert_eq!(e.code(), "ZKEY_CORRUPT", "byte {at}: {e}");
        assert!(e.to_string().contains("4 (coefficients)"), "{e}");
    }
    // The contributions are not read: a flip there is still a zkey.
    let mut contributions = good.clone();
    contributions[start(10) + 7] ^= 1;
    zkey::Zkey::parse(&contributions)
        .unwrap()
        .convert()
        .unwrap();

    // Truncated anywhere: the container or the section says so.
    for cut in [0, 11, 40, good.len() / 3, good.len() / 2, good.len() - 1] {
        let e = refused(&good[..cut]);
        assert_eq!(e.code(), "ZKEY_CORRUPT", "cut at {cut}: {e}");
    }

    // A point off the curve: A[1] = (1, 1).
    let mut bad = good.clone();
    let a1 = start(5) + 64;
    let one = Fq::from(1u64);
    bad[a1..a1 + 32].copy_from_slice(&mont(&one));
    bad[a1 + 32..a1 + 64].copy_from_slice(&mont(&one));
    let e = refused(&bad);
    assert_eq!(e.code(), "ZKEY_CORRUPT");
    assert!(
        e.to_string()
            .contains("section 5 (A): point 1 is not on the curve"),
        "{e}"
    );

    // A G2 point on the curve but outside the prime-order subgroup: B2[1].
    let mut x = Fq2::new(Fq::from(5u64), Fq::from(1u64));
    let outside = loop {
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, true) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                break p;
            }
        }
        x += Fq2::from(1u64);
    };
    let mut bad = good.clone();
    let b2 = start(7) + 128;
    for (i, c) in [outside.x.c0, outside.x.c1, outside.y.c0, outside.y.c1]
        .iter()
        .enumerate()
    {
        bad[b2 + 32 * i..b2 + 32 * (i + 1)].copy_from_slice(&mont(c));
    }
    let e = refused(&bad);
    assert_eq!(e.code(), "ZKEY_CORRUPT");
    assert!(
        e.to_string().contains("not in G2's prime-order subgroup"),
        "{e}"
    );

    // PLONK.
    let plonk = f.bytes("plonk.zkey");
    let e = refused(&plonk);
    assert_eq!(e.code(), "ZKEY_UNSUPPORTED");
    assert!(e.to_string().contains("plonk"), "{e}");
    // Not a zkey at all.
    assert_eq!(refused(&f.bytes("witness.wtns")).code(), "ZKEY_CORRUPT");
}

/// Montgomery form, as a zkey stores a coordinate: arkworks' own internal limbs.
fn mont(x: &Fq) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(x.0 .0) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// A witness of another circuit is ZKEY_MISMATCH; one value changed is WITNESS_FAILED (the
/// proof made from it does not verify), and a coefficient changed in the zkey too.
#[test]
fn foreign_or_broken_witnesses_are_refused() {
    let multi = Fixture::get("multi");
    let arrays = Fixture::get("arrays");
    let key = prepared(&multi.bytes("circuit.zkey"), Kernel::default()).unwrap();
    let foreign = wtns::read(&arrays.bytes("witness.wtns")).unwrap();
    let e = prove(&key, &foreign, 1).unwrap_err();
    assert_eq!(e.code(), "ZKEY_MISMATCH", "{e}");

    let mut witness = wtns::read(&multi.bytes("witness.wtns")).unwrap();
    let last = witness.len() - 1;
    witness[last] += Fr::from(1u64);
    let e = prove(&key, &witness, 1).unwrap_err();
    assert_eq!(e.code(), "WITNESS_FAILED", "{e}");

    // A constraint's coefficient changed (still a valid number): read, but no proof verifies.
    let good = multi.bytes("circuit.zkey");
    let mut bad = good.clone();
    let entry0_value = sections(&good).iter().find(|s| s.0 == 4).unwrap().1 + 4 + 12;
    bad[entry0_value] ^= 1;
    let key = prepared(&bad, Kernel::default()).unwrap();
    let witness = wtns::read(&multi.bytes("witness.wtns")).unwrap();
    assert_eq!(
        prove(&key, &witness, 1).unwrap_err().code(),
        "WITNESS_FAILED"
    );
}

/// The converted-key cache: the first load converts (every point checked) and writes the key
/// under the zkey's SHA-256; the second reads it back; the two keys prove what snarkjs's
/// verifying key accepts. A damaged entry, another zkey's entry under this name, and a key file
/// that is not a converted one are each replaced by a fresh conversion; without a cache, or with
/// one that cannot be written, the key still proves and nothing is left behind.
#[test]
fn the_converted_key_cache_reads_back_and_replaces_what_is_bad() {
    use airprover::circom::cache::{Origin, ZkeyBytes, ZkeyCache};
    let multi = Fixture::get("multi");
    let arrays = Fixture::get("arrays");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("zkey-cache");
    let _ = fs::remove_dir_all(&dir);
    let cache = ZkeyCache::at(&dir);
    let zkey = ZkeyBytes::new(multi.bytes("circuit.zkey"));
    let entry = cache.entry(zkey.sha256()).unwrap();
    assert_eq!(
        entry.file_name().unwrap().to_str().unwrap(),
        format!("{}.pk", zkey::sha256_hex(zkey.bytes()))
    );
    let vk = export::verifying_key_from_json(&multi.text("verification_key.json")).unwrap();
    let public = export::public_from_json(&multi.text("public.json")).unwrap();
    let witness = wtns::read(&multi.bytes("witness.wtns")).unwrap();
    let proves = |key: &PreparedProvingKey, what: &str| {
        let (proof, got) = prove(key, &witness, 3).unwrap();
        assert_eq!(got, public, "{what}");
        assert!(verify(&vk, &got, &proof).unwrap(), "{what}");
        proof
    };
    let load = || cache.load(zkey.clone(), Kernel::default()).unwrap();

    let (key, origin) = load();
    assert_eq!(
        origin,
        Origin::Converted {
            stored: Some(Ok(entry.clone())),
            replaced: None
        }
    );
    let converted = proves(&key, "converted");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the cache directory is its user's own");
    }
    let (key, origin) = load();
    assert_eq!(origin, Origin::Cached);
    assert_eq!(proves(&key, "cached"), converted, "the same key");
    let good = fs::read(&entry).unwrap();

    // A flipped byte (the payload's SHA-256 fails), a truncated file, another zkey's entry, a
    // key of ours without the circom flag: each replaced, then read back.
    let mut flipped = good.clone();
    let at = flipped.len() - 9;
    flipped[at] ^= 0x20;
    let (arrays_key, _) = ZkeyCache::at(dir.join("other"))
        .load(
            ZkeyBytes::new(arrays.bytes("circuit.zkey")),
            Kernel::default(),
        )
        .unwrap();
    drop(arrays_key);
    let other = fs::read_dir(dir.join("other"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pk"))
        .unwrap();
    // This zkey's key under its own name, but written for our reduction (no circom flag).
    let unflagged = {
        let converted = zkey::Zkey::parse(zkey.bytes()).unwrap().convert().unwrap();
        let id: airprover::circuit::id::CircuitId = zkey.sha256().parse().unwrap();
        airprover::prover::keys::write_proving_key(
            &converted.proving_key,
            Some(&converted.matrices),
            &id,
            false,
        )
        .unwrap()
    };
    for (what, bytes) in [
        ("flipped", flipped),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("another zkey's", fs::read(&other).unwrap()),
        ("not flagged circom", unflagged),
    ] {
        fs::write(&entry, &bytes).unwrap();
        let (key, origin) = load();
        let Origin::Converted {
            stored: Some(Ok(_)),
            replaced: Some(why),
        } = origin
        else {
            panic!("{what}: {origin:?}");
        };
        assert!(why.contains(&zkey.sha256()[..16]), "{what}: {why}");
        proves(&key, what);
        assert_eq!(fs::read(&entry).unwrap(), good, "{what}: written again");
    }

    // No cache: converted, nothing written.
    let (key, origin) = ZkeyCache::off()
        .load(zkey.clone(), Kernel::default())
        .unwrap();
    assert_eq!(
        origin,
        Origin::Converted {
            stored: None,
            replaced: None
        }
    );
    proves(&key, "no cache");
    // A cache that cannot be written (a file where its directory should be): converted, said.
    let blocked = dir.join("blocked");
    fs::write(&blocked, b"a file").unwrap();
    let (key, origin) = ZkeyCache::at(blocked.join("zkeys"))
        .load(zkey.clone(), Kernel::default())
        .unwrap();
    assert!(
        matches!(
            &origin,
            Origin::Converted {
                stored: Some(Err(_)),
                replaced: None
            }
        ),
        "{origin:?}"
    );
    proves(&key, "unwritable cache");
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fs::remove_dir_all(&dir).unwrap();
}
