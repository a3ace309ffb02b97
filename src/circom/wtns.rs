//! snarkjs's witness file, `.wtns` (what `snarkjs wtns calculate` writes and `groth16 prove`
//! reads), in the [`binfile`](super::binfile) container with magic `wtns`, version 2:
//!
//! ```text
//! section 1 (header)   n8 (u32, bytes per element: 32), the prime (n8 bytes, little-endian),
//!                      the number of witness values (u32)
//! section 2 (values)   each value in n8 bytes, little-endian, canonical (not Montgomery)
//! ```
//!
//! The witness is `[1, public signals.., private signals..]`, in circom's signal order. Reading
//! checks the prime is BN254's scalar field and every value is below it: a broken file is
//! `INVALID_INPUT` naming the section, never a panic.

use ark_ff::{BigInteger, PrimeField};

use super::binfile::{BinFile, BinWriter};
use crate::error::{Error, Result};
use crate::field::{fr_from_le_bytes, fr_to_le_bytes, Fr};

const MAGIC: &[u8; 4] = b"wtns";
const VERSION: u32 = 2;
const N8: usize = 32;

fn corrupt(section: &str, what: String) -> Error {
    Error::input(format!("wtns section {section}"), what)
}

/// Reads a `.wtns` file: the witness, `[1, public.., private..]`.
pub fn read(bytes: &[u8]) -> Result<Vec<Fr>> {
    let file = BinFile::parse(bytes, MAGIC, corrupt)?;
    if file.version != VERSION {
        return Err(corrupt(
            "header",
            format!("version {}: only version {VERSION} is read", file.version),
        ));
    }
    let header = file.required(1, "header")?;
    let section = |what: String| corrupt("1 (header)", what);
    if header.len() < 4 {
        return Err(section("ends before n8".into()));
    }
    let n8 = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    if n8 != N8 || header.len() != 4 + N8 + 4 {
        return Err(section(format!(
            "n8 {n8} in {} bytes: a BN254 witness has n8 32 in 40 bytes",
            header.len()
        )));
    }
    if header[4..4 + N8] != Fr::MODULUS.to_bytes_le()[..] {
        return Err(section(
            "its prime is not BN254's scalar field (a witness of another curve)".into(),
        ));
    }
    let count = u32::from_le_bytes(header[4 + N8..].try_into().expect("4 bytes")) as usize;
    let values = file.required(2, "values")?;
    if values.len() != count * N8 {
        return Err(corrupt(
            "2 (values)",
            format!(
                "{} bytes for {count} values of {N8} bytes (truncated?)",
                values.len()
            ),
        ));
    }
    let witness = values
        .chunks_exact(N8)
        .enumerate()
        .map(|(i, chunk)| {
            fr_from_le_bytes(chunk.try_into().expect("n8 bytes")).ok_or_else(|| {
                corrupt(
                    "2 (values)",
                    format!("value {i} is not below the field's prime"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if witness.first() != Some(&Fr::from(1u64)) {
        return Err(corrupt(
            "2 (values)",
            "the first value is not 1 (a witness starts with the constant signal)".into(),
        ));
    }
    Ok(witness)
}

/// Writes `witness` as snarkjs does.
pub fn write(witness: &[Fr]) -> Vec<u8> {
    let mut header = Vec::with_capacity(4 + N8 + 4);
    header.extend_from_slice(&(N8 as u32).to_le_bytes());
    header.extend_from_slice(&Fr::MODULUS.to_bytes_le());
    header.extend_from_slice(&(witness.len() as u32).to_le_bytes());
    let mut values = Vec::with_capacity(witness.len() * N8);
    for w in witness {
        values.extend_from_slice(&fr_to_le_bytes(w));
    }
    let mut file = BinWriter::new(MAGIC, VERSION, 2);
    file.section(1, &header);
    file.section(2, &values);
    file.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Fr> {
        vec![Fr::from(1u64), Fr::from(33u64), -Fr::from(2u64)]
    }

    #[test]
    fn round_trips() {
        let bytes = write(&sample());
        assert_eq!(&bytes[..4], b"wtns");
        assert_eq!(read(&bytes).unwrap(), sample());
    }

    #[test]
    fn a_broken_witness_file_is_invalid_input_naming_its_section() {
        let good = write(&sample());
        let refused = |bytes: &[u8]| {
            let e = read(bytes).unwrap_err();
            assert_eq!(e.code(), "INVALID_INPUT");
            e.to_string()
        };
        // Another prime (BLS12-381's scalar field starts 0x01 0x00 0x00 0x00 0xff 0xff ...).
        let mut other = good.clone();
        other[12 + 12 + 4] ^= 1;
        assert!(refused(&other).contains("another curve"));
        // A value at or above p.
        let mut big = good.clone();
        let last = big.len() - 1;
        big[last] = 0xff;
        assert!(refused(&big).contains("value 2 is not below"));
        // Values that do not fill their count.
        let mut short = write(&sample());
        short.truncate(short.len() - 32);
        assert!(refused(&short).contains("truncated"));
        let mut no_one = sample();
        no_one[0] = Fr::from(2u64);
        assert!(refused(&write(&no_one)).contains("first value is not 1"));
        assert!(refused(b"wtns\x03\0\0\0\0\0\0\0").contains("version 3"));
    }
}
