//! Reading a key file's binary parts without trusting them: every read names what it wanted, and
//! running out of bytes is [`Error::KeyIntegrity`], never a panic or an absurd allocation.

use crate::error::{Error, Result};

/// A cursor over bytes from a key file. `region` names them in errors ("the key file's header").
pub(crate) struct ByteReader<'a> {
    bytes: &'a [u8],
    /// Where the next read starts.
    at: usize,
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

    /// Where the next read starts.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Fails unless `count` items of `size` bytes are left (before allocating room for them).
    pub fn fits(&self, count: usize, size: usize, what: &str) -> Result<()> {
        let left = self.left();
        match count.checked_mul(size) {
            Some(n) if n <= left => Ok(()),
            _ => Err(self.integrity(format!(
                "{what} claims {count} items, there is room for {}",
                left / size
            ))),
        }
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<()> {
        match self.left() {
            0 => Ok(()),
            extra => Err(self.integrity(format!("{extra} unexpected bytes after its end"))),
        }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: Error) -> String {
        assert_eq!(e.code(), "KEY_INTEGRITY");
        e.to_string()
    }

    #[test]
    fn reads_in_order_and_names_what_ran_out() {
        let bytes = [1, 0, 0, 0, 0x96, 0x01, 9];
        let mut r = ByteReader::new(&bytes, "the test bytes");
        assert_eq!(r.u32("a count").unwrap(), 1);
        assert_eq!(r.varint("a varint").unwrap(), 150);
        assert_eq!(r.position(), 6);
        let err = message(r.finish().unwrap_err());
        assert!(err.contains("the test bytes: 1 unexpected bytes"), "{err}");
        let err = message(r.take(2, "the tail").unwrap_err());
        assert!(
            err.contains("the test bytes: ends inside the tail"),
            "{err}"
        );
        // A failed read consumes nothing.
        assert_eq!(r.array::<1>("the last byte").unwrap(), [9]);
        r.finish().unwrap();
    }

    #[test]
    fn varints_longer_than_five_bytes_or_over_32_bits_are_refused() {
        for bytes in [&[0x80u8; 6][..], &[0xff, 0xff, 0xff, 0xff, 0x10]] {
            let err = message(ByteReader::new(bytes, "v").varint("n").unwrap_err());
            assert!(err.contains("v: n has a bad number"), "{err}");
        }
        let err = message(ByteReader::new(&[0x80, 0x80], "v").varint("n").unwrap_err());
        assert!(err.contains("v: ends inside n"), "{err}");
        let max = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(ByteReader::new(&max, "v").varint("n").unwrap(), u32::MAX);
    }

    #[test]
    fn claimed_counts_are_checked_before_allocating() {
        let r = ByteReader::new(&[0; 8], "the test bytes");
        r.fits(4, 2, "pairs").unwrap();
        let err = message(r.fits(5, 2, "pairs").unwrap_err());
        assert!(
            err.contains("pairs claims 5 items, there is room for 4"),
            "{err}"
        );
        message(r.fits(usize::MAX, 2, "pairs").unwrap_err());
    }
}
