//! What the outbox asks of its storage: keyed records of bounded size, each written, replaced
//! or deleted atomically, as Zephyr's ZMS and NVS give them; and where each record of a mail
//! lives in the key space.

/// Why a storage operation failed. Nothing was changed by a failed write or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageError {
    /// No room for the record: the storage is full.
    NoSpace,
    /// The medium failed (an I/O error, a flash error).
    Failed,
}

/// Keyed records of at most [`record_size`](Storage::record_size) bytes.
///
/// The outbox's correctness rests on one promise: a [`write`](Storage::write) or
/// [`delete`](Storage::delete) is atomic per record. After a power cut at any moment, a record
/// is either as it was before the call or as the call left it, whole; a call that returned
/// `Ok` survives a power cut. Zephyr's ZMS and NVS keep this promise (a new entry is valid only
/// once its allocation table entry is written); a directory of files keeps it with
/// write-to-temporary, fsync, rename, fsync of the directory. Every record also carries a CRC,
/// so a backend that breaks the promise loses a mail visibly rather than sending a corrupted
/// one.
///
/// Keys are 16-bit (NVS's ids are; ZMS's 32-bit ids take them unchanged), from
/// [`FIRST_KEY`] to [`LAST_KEY`]: an application that shares a ZMS or NVS partition with the
/// outbox keeps its own ids below `FIRST_KEY`.
pub trait Storage {
    /// The largest record, in bytes (header included): an NVS or ZMS entry's limit, or a
    /// smaller one. At least [`MIN_RECORD_SIZE`].
    fn record_size(&self) -> usize;
    /// Reads record `key` into `buf` and returns its length (`None`: there is no such record).
    /// A record longer than `buf` fills it and returns its whole length.
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError>;
    /// Writes record `key` (replacing any record of that key) atomically.
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError>;
    /// Deletes record `key` atomically; deleting a record that does not exist succeeds.
    fn delete(&mut self, key: u16) -> Result<(), StorageError>;
}

impl<S: Storage + ?Sized> Storage for &mut S {
    fn record_size(&self) -> usize {
        (**self).record_size()
    }
    fn read(&mut self, key: u16, buf: &mut [u8]) -> Result<Option<usize>, StorageError> {
        (**self).read(key, buf)
    }
    fn write(&mut self, key: u16, data: &[u8]) -> Result<(), StorageError> {
        (**self).write(key, data)
    }
    fn delete(&mut self, key: u16) -> Result<(), StorageError> {
        (**self).delete(key)
    }
}

/// The smallest record size a storage may have: a record header and 48 bytes of data.
pub const MIN_RECORD_SIZE: usize = super::record::HEADER_LEN + 48;

/// Mails an outbox can hold at most (one per slot; each slot owns 256 keys).
pub const MAX_SLOTS: usize = 255;

/// Data records of one mail at most (its size is at most this many records' data).
pub const MAX_CHUNKS: usize = 254;

/// The lowest key the outbox uses.
pub const FIRST_KEY: u16 = 0x0100;
/// The highest key the outbox uses.
pub const LAST_KEY: u16 = 0xFFFF;

/// The key of slot `slot`'s head record: the mail's commit record, written last.
pub(crate) const fn head_key(slot: usize) -> u16 {
    FIRST_KEY + (slot as u16) * 256
}

/// The key of slot `slot`'s state record (its delivery state; absent: queued, never tried).
pub(crate) const fn state_key(slot: usize) -> u16 {
    head_key(slot) + 1
}

/// The key of data record `index` of slot `slot`.
pub(crate) const fn chunk_key(slot: usize, index: usize) -> u16 {
    head_key(slot) + 2 + index as u16
}

const _: () = assert!(chunk_key(MAX_SLOTS - 1, MAX_CHUNKS - 1) == LAST_KEY);
