//! Readers for the attachment tests: deterministic random bytes that are never all in memory,
//! and a reader that fails after a number of good bytes.

/// `len` bytes of deterministic random binary (xorshift64 from `seed`), as a reader: the
/// same bytes every time, never all in memory while sending.
pub struct RandomBytes {
    state: u64,
    left: usize,
}

impl RandomBytes {
    pub fn new(seed: u64, len: usize) -> Self {
        RandomBytes { state: seed | 1, left: len }
    }

    /// All the bytes at once (to compare with what arrived).
    pub fn all(seed: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        let mut r = RandomBytes::new(seed, len);
        embedded_io::Read::read_exact(&mut r, &mut out).unwrap();
        out
    }
}

impl embedded_io::ErrorType for RandomBytes {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for RandomBytes {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.left);
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = (self.state >> 32) as u8;
        }
        self.left -= n;
        Ok(n)
    }
}

/// Gives `good` random bytes, then fails.
pub struct FailingReader {
    inner: RandomBytes,
    good: usize,
}

impl FailingReader {
    pub fn new(good: usize) -> Self {
        FailingReader { inner: RandomBytes::new(8, usize::MAX), good }
    }
}

impl embedded_io::ErrorType for FailingReader {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if self.good == 0 {
            return Err(embedded_io::ErrorKind::Other);
        }
        let n = buf.len().min(self.good);
        self.good -= n;
        self.inner.read(&mut buf[..n])
    }
}
