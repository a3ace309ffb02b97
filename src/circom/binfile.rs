//! The container every iden3 file shares (`.zkey`, `.wtns`, `.r1cs`, `.ptau`): four bytes of
//! magic, a version (u32 little-endian), the number of sections (u32), then each section as its
//! id (u32), its length in bytes (u64) and its bytes. Sections may come in any order.
//!
//! [`BinFile::parse`] walks the section table once without copying anything and refuses what a
//! reader could trip on later: a length past the end, an id twice, bytes after the last section.
//! Its errors are the caller's ([`Corrupt`]): a broken `.zkey` is `ZKEY_CORRUPT`, a broken
//! `.wtns` `INVALID_INPUT`.

use crate::error::{Error, Result};

/// Makes the caller's error for a broken file: the section it is in (`header` for the container
/// itself) and what is wrong.
pub type Corrupt = fn(section: &str, what: String) -> Error;

/// A parsed container: its version and its sections, borrowed from the file's bytes.
#[derive(Debug, Clone)]
pub struct BinFile<'a> {
    /// The version after the magic.
    pub version: u32,
    sections: Vec<(u32, &'a [u8])>,
    corrupt: Corrupt,
}

impl<'a> BinFile<'a> {
    /// Reads the container of `bytes`, which must start with `magic`.
    pub fn parse(bytes: &'a [u8], magic: &[u8; 4], corrupt: Corrupt) -> Result<Self> {
        let header = |what: String| corrupt("header", what);
        if bytes.len() < 12 {
            return Err(header(format!(
                "{} bytes: too short for a file",
                bytes.len()
            )));
        }
        if &bytes[..4] != magic {
            return Err(header(format!(
                "does not start with {:?}: not a .{} file",
                String::from_utf8_lossy(magic),
                String::from_utf8_lossy(magic)
            )));
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let version = u32_at(4);
        let count = u32_at(8);
        let mut at = 12usize;
        let mut sections: Vec<(u32, &[u8])> = Vec::new();
        for n in 0..count {
            if bytes.len() - at < 12 {
                return Err(header(format!(
                    "ends inside the table of section {n} of {count} (truncated?)"
                )));
            }
            let id = u32_at(at);
            let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().expect("8 bytes"));
            at += 12;
            let end = usize::try_from(len)
                .ok()
                .and_then(|len| at.checked_add(len))
                .filter(|&end| end <= bytes.len())
                .ok_or_else(|| {
                    corrupt(
                        &id.to_string(),
                        format!(
                            "says {len} bytes, {} are left in the file (truncated?)",
                            bytes.len() - at
                        ),
                    )
                })?;
            if sections.iter().any(|&(seen, _)| seen == id) {
                return Err(corrupt(&id.to_string(), "appears twice".into()));
            }
            sections.push((id, &bytes[at..end]));
            at = end;
        }
        if at != bytes.len() {
            return Err(header(format!(
                "{} bytes after the last of its {count} sections",
                bytes.len() - at
            )));
        }
        Ok(BinFile {
            version,
            sections,
            corrupt,
        })
    }

    /// Section `id`'s bytes, if the file has it.
    pub fn section(&self, id: u32) -> Option<&'a [u8]> {
        self.sections
            .iter()
            .find(|&&(seen, _)| seen == id)
            .map(|&(_, bytes)| bytes)
    }

    /// Section `id`'s bytes, or the caller's error naming it `name` (`4 (coefficients)`).
    pub fn required(&self, id: u32, name: &str) -> Result<&'a [u8]> {
        self.section(id)
            .ok_or_else(|| (self.corrupt)(&format!("{id} ({name})"), "is missing".into()))
    }

    /// The ids of the sections, in file order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.sections.iter().map(|&(id, _)| id)
    }

    /// Every section's id and length, in file order.
    pub fn sizes(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.sections.iter().map(|&(id, bytes)| (id, bytes.len()))
    }
}

/// Writes a container front to back into memory.
#[derive(Debug)]
pub struct BinWriter {
    bytes: Vec<u8>,
}

impl BinWriter {
    /// A file of `sections` sections; write each with [`BinWriter::section`].
    pub fn new(magic: &[u8; 4], version: u32, sections: u32) -> Self {
        let mut bytes = Vec::with_capacity(1 << 12);
        bytes.extend_from_slice(magic);
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&sections.to_le_bytes());
        BinWriter { bytes }
    }

    /// Appends section `id` with `body`.
    pub fn section(&mut self, id: u32, body: &[u8]) {
        self.bytes.extend_from_slice(&id.to_le_bytes());
        self.bytes
            .extend_from_slice(&(body.len() as u64).to_le_bytes());
        self.bytes.extend_from_slice(body);
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corrupt(section: &str, what: String) -> Error {
        Error::input(format!("test section {section}"), what)
    }

    fn sample() -> Vec<u8> {
        let mut w = BinWriter::new(b"test", 2, 2);
        w.section(2, b"second");
        w.section(1, b"first");
        w.finish()
    }

    #[test]
    fn sections_in_any_order_are_found_by_id() {
        let bytes = sample();
        let file = BinFile::parse(&bytes, b"test", corrupt).unwrap();
        assert_eq!(file.version, 2);
        assert_eq!(file.section(1), Some(&b"first"[..]));
        assert_eq!(file.section(2), Some(&b"second"[..]));
        assert_eq!(file.section(3), None);
        assert_eq!(file.ids().collect::<Vec<_>>(), [2, 1]);
        let missing = file.required(3, "three").unwrap_err().to_string();
        assert!(missing.contains("3 (three)"), "{missing}");
    }

    #[test]
    fn every_broken_container_is_the_callers_error() {
        let bytes = sample();
        let refused = |bytes: &[u8]| {
            BinFile::parse(bytes, b"test", corrupt)
                .unwrap_err()
                .to_string()
        };
        assert!(refused(b"nope").contains("too short"));
        assert!(refused(&[b"wtns", &bytes[4..]].concat()).contains("not a .test file"));
        for cut in 12..bytes.len() {
            let message = refused(&bytes[..cut]);
            assert!(message.contains("truncated"), "cut at {cut}: {message}");
        }
        assert!(refused(&[&bytes[..], b"x"].concat()).contains("after the last"));
        let mut twice = BinWriter::new(b"test", 1, 2);
        twice.section(1, b"a");
        twice.section(1, b"b");
        assert!(refused(&twice.finish()).contains("appears twice"));
        // A length that overflows the address space is refused, not added.
        let mut huge = bytes.clone();
        huge[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(refused(&huge).contains("truncated"));
    }
}
