//! Where writers put their bytes. Every writer of the wire layer writes through a [`Sink`],
//! so the same code fills a fixed buffer in a unit test and a transmit buffer that the
//! session flushes to the socket when it is full.

/// A byte sink. `put` either takes all of `bytes` or fails.
pub trait Sink {
    type Error;
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// Writes `n` in decimal, without `core::fmt`.
    fn put_decimal(&mut self, n: u32) -> Result<(), Self::Error> {
        let mut digits = [0u8; 10];
        let text = decimal(n, &mut digits);
        self.put(text)
    }

    /// Writes `n` as lower-case hexadecimal without leading zeros, without `core::fmt`.
    fn put_hex(&mut self, n: u64) -> Result<(), Self::Error> {
        let mut digits = [0u8; 16];
        let text = hex(n, &mut digits);
        self.put(text)
    }
}

/// `n` in lower-case hexadecimal without leading zeros, written at the end of `digits`;
/// returns the used tail.
fn hex(n: u64, digits: &mut [u8; 16]) -> &[u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    let mut rest = n;
    // 16 nibbles hold any u64: the loop always ends on `rest == 0`.
    for (i, digit) in digits.iter_mut().enumerate().rev() {
        *digit = HEX.get((rest & 0xf) as usize).copied().unwrap_or(b'0');
        start = i;
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    digits.get(start..).unwrap_or_default()
}

/// `n` in decimal, written at the end of `digits`; returns the used tail.
pub fn decimal(n: u32, digits: &mut [u8; 10]) -> &[u8] {
    let mut start = 0;
    let mut rest = n;
    // 10 digits hold any u32: the loop always ends on `rest == 0`.
    for (i, digit) in digits.iter_mut().enumerate().rev() {
        *digit = b'0' + (rest % 10) as u8;
        start = i;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    digits.get(start..).unwrap_or_default()
}

/// The buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A bounded output buffer over a borrowed slice.
pub struct Out<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Out<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Out { buf, len: 0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // `put` keeps `len <= buf.len()`.
        self.buf.get(..self.len).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Sink for Out<'_> {
    type Error = Full;

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(bytes.len()).ok_or(Full)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Full)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A sink that keeps everything, for the writers' unit tests.
#[cfg(test)]
pub(crate) struct VecSink(pub std::vec::Vec<u8>);

#[cfg(test)]
impl Sink for VecSink {
    type Error = core::convert::Infallible;
    fn put(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_all_or_nothing() {
        let mut buf = [0u8; 5];
        let mut out = Out::new(&mut buf);
        assert_eq!(out.put(b"abc"), Ok(()));
        assert_eq!(out.put(b"def"), Err(Full));
        assert_eq!(out.as_bytes(), b"abc");
        assert_eq!(out.put(b"de"), Ok(()));
        assert_eq!(out.put(b""), Ok(()));
        assert_eq!(out.put(b"x"), Err(Full));
        assert_eq!(out.as_bytes(), b"abcde");
        out.clear();
        assert!(out.is_empty());
    }

    #[test]
    fn numbers_by_hand() {
        let mut buf = [0u8; 64];
        let mut out = Out::new(&mut buf);
        for n in [0u32, 7, 10, 4096, 52_428_800, u32::MAX] {
            out.clear();
            out.put_decimal(n).unwrap();
            assert_eq!(out.as_bytes(), std::format!("{n}").as_bytes());
        }
        for n in [0u64, 7, 10, 4096, 52_428_800, u64::MAX] {
            out.clear();
            out.put_hex(n).unwrap();
            assert_eq!(out.as_bytes(), std::format!("{n:x}").as_bytes());
        }
    }
}
