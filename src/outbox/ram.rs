//! Storage in RAM: survives outages (the mails wait for the network), not reboots.

use super::storage::{Storage, StorageError};

/// `RECORDS` records of at most `SIZE` bytes in RAM (`RECORDS * (SIZE + 4)` bytes). A mail
/// takes two records plus one per `SIZE - 16` bytes of its data.
pub struct RamStorage<const RECORDS: usize, const SIZE: usize> {
    /// Each record: its key (0: free; the outbox's keys start at 256), length and bytes.
    records: [(u16, u16, [u8; SIZE]); RECORDS],
}

impl<const RECORDS: usize, const SIZE: usize> RamStorage<RECORDS, SIZE> {
    pub const fn new() -> Self {
        const { assert!(SIZE >= super::MIN_RECORD_SIZE && SIZE <= u16::MAX as usize, "a record holds MIN_RECORD_SIZE..=65535 bytes") };
        RamStorage { records: [(0, 0, [0; SIZE]); RECORDS] }
    }

    /// How many records are in use.
    pub fn used(&self) -> usize {
        self.records.iter().filter(|r| r.0 != 0).count()
    }
}

impl<const RECORDS: usize, const SIZE: usize> Default for RamStorage<RECORDS, SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const RECORDS: usize, const SIZE: usize> Storage for RamStorage<RECORDS, SIZE> {
    fn record_size(&self) -> usize {
        SIZE
    }

    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        let Some((_, len, data)) = self.records.iter().find(|r| r.0 == key && key != 0) else { return Ok(None) };
        let len = usize::from(*len);
        let n = len.min(buf.len());
        if let (Some(b), Some(d)) = (buf.get_mut(..n), data.get(..n)) {
            b.copy_from_slice(d);
        }
        Ok(Some(len))
    }

    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        if key == 0 || data.len() > SIZE {
            return Err(StorageError::Failed);
        }
        let at = match self.records.iter().position(|r| r.0 == key) {
            Some(at) => at,
            None => self.records.iter().position(|r| r.0 == 0).ok_or(StorageError::NoSpace)?,
        };
        let record = self.records.get_mut(at).ok_or(StorageError::Failed)?;
        if let Some(d) = record.2.get_mut(..data.len()) {
            d.copy_from_slice(data);
        }
        record.0 = key;
        record.1 = data.len() as u16;
        Ok(())
    }

    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        for r in self.records.iter_mut().filter(|r| r.0 == key) {
            r.0 = 0;
        }
        Ok(())
    }
}
