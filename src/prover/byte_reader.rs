//! Reading a key file's binary parts without trusting them: every read names what it wanted, and
//! running out of bytes is [`Error::KeyIntegrity`], never a panic or an absurd allocation.

use crate::error::{Error, Result};

/// A cursor over bytes from a key file. `region` names them in errors ("the key file's header").
pub(crate) struct ByteReader<'a> {
    bytes: &'a [u8],
    /// Where the next read starts.
    pub at: usize,
    region: &'static str,
}

impl<'a> ByteReader<'a> {
    pub fn new(bytes: &'a [u8], region: &'static str) -> Self {
        ByteReader {
            bytes,
            at: 0,
            region,
        }
    }

    fn integrity(&self, message: String) -> Error {
        Error::key_integrity(format!("{}: {message}", self.region))
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.integrity(format!("ends inside {what} (truncated?)")))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        Ok(self.take(N, what)?.try_into().expect("took N bytes"))
    }

    /// A little-endian u32.
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// An unsigned LEB128 varint of at most five bytes that fits 32 bits.
    pub fn varint(&mut self, what: &str) -> Result<u32> {
        let mut value = 0u64;
        for i in 0..5 {
            let [byte] = self.array(what)?;
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return u32::try_from(value)
                    .map_err(|_| self.integrity(format!("{what} has a bad number")));
            }
        }
        Err(self.integrity(format!("{what} has a bad number")))
    }

    /// Fails unless `count` items of `size` bytes are left (before allocating room for them).
    pub fn fits(&self, count: usize, size: usize, what: &str) -> Result<()> {
        let left = self.bytes.len() - self.at;
        match count.checked_mul(size) {
            Some(n) if n <= left => Ok(()),
            _ => Err(self.integrity(format!(
                "{what} claims {count} items, there is room for {}",
                left / size
            ))),
        }
    }

    /// Whether every byte has been read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Bytes not read yet.
    pub fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
}
