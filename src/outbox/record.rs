//! The record format: every record of the outbox starts with one 16-byte header that names
//! what it is, to which mail it belongs, and carries a CRC-32 of the header and the payload,
//! so a torn, stale or corrupted record is recognised and never taken for part of a mail.
//!
//! ```text
//! 0   2  "ZO"          magic
//! 2   1  version       FORMAT_VERSION
//! 3   1  kind          head 1, state 2, data 3
//! 4   4  sequence      the mail's number (little-endian, as every field)
//! 8   2  index         a data record's place in the mail (0 for head and state)
//! 10  2  length        of the payload
//! 12  4  CRC-32        (IEEE) of bytes 0..12 and the payload
//! 16  .. payload
//! ```

/// Bytes of the header before every payload.
pub const HEADER_LEN: usize = 16;
/// The format written; a record of another version is not read as a mail.
pub const FORMAT_VERSION: u8 = 1;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The commit record of a mail: its size, record count and data CRC. Written last.
    Head = 1,
    /// The delivery state of a mail, replaced on every change.
    State = 2,
    /// A piece of the mail's data.
    Data = 3,
}

/// A record's header, as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    pub sequence: u32,
    pub index: u16,
}

/// Writes the header of a record whose payload is already in `record[HEADER_LEN..][..len]`
/// and returns the record's whole length.
pub fn seal(record: &mut [u8], header: Header, len: usize) -> usize {
    let mut head = [0u8; 12];
    head[0] = b'Z';
    head[1] = b'O';
    head[2] = FORMAT_VERSION;
    head[3] = header.kind as u8;
    head[4..8].copy_from_slice(&header.sequence.to_le_bytes());
    head[8..10].copy_from_slice(&header.index.to_le_bytes());
    head[10..12].copy_from_slice(&(len as u16).to_le_bytes());
    let payload = record.get(HEADER_LEN..HEADER_LEN + len).unwrap_or_default();
    let crc = crc32_finish(crc32_update(crc32_update(CRC32_INIT, &head), payload));
    if let Some(h) = record.get_mut(..12) {
        h.copy_from_slice(&head);
    }
    if let Some(h) = record.get_mut(12..HEADER_LEN) {
        h.copy_from_slice(&crc.to_le_bytes());
    }
    HEADER_LEN + len
}

/// Checks a record read back (`record`, its whole length) and returns its header and payload;
/// `None` for anything but a whole, intact record of this format.
pub fn open(record: &[u8]) -> Option<(Header, &[u8])> {
    let head: &[u8; HEADER_LEN] = record.get(..HEADER_LEN)?.try_into().ok()?;
    if head[0] != b'Z' || head[1] != b'O' || head[2] != FORMAT_VERSION {
        return None;
    }
    let kind = match head[3] {
        1 => Kind::Head,
        2 => Kind::State,
        3 => Kind::Data,
        _ => return None,
    };
    let len = usize::from(u16::from_le_bytes([head[10], head[11]]));
    if record.len() != HEADER_LEN + len {
        return None;
    }
    let payload = record.get(HEADER_LEN..)?;
    let crc = u32::from_le_bytes([head[12], head[13], head[14], head[15]]);
    if crc32_finish(crc32_update(crc32_update(CRC32_INIT, &head[..12]), payload)) != crc {
        return None;
    }
    let sequence = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let index = u16::from_le_bytes([head[8], head[9]]);
    Some((Header { kind, sequence, index }, payload))
}

/// The start value of a running CRC-32.
pub const CRC32_INIT: u32 = 0xFFFF_FFFF;

/// CRC-32 (IEEE 802.3, reflected, as zlib's) over `bytes`, continuing `crc`; four bits at a
/// time from a 16-entry table (64 bytes of flash).
pub fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    const TABLE: [u32; 16] = [
        0x0000_0000, 0x1DB7_1064, 0x3B6E_20C8, 0x26D9_30AC, 0x76DC_4190, 0x6B6B_51F4, 0x4DB2_6158, 0x5005_713C,
        0xEDB8_8320, 0xF00F_9344, 0xD6D6_A3E8, 0xCB61_B38C, 0x9B64_C2B0, 0x86D3_D2D4, 0xA00A_E278, 0xBDBD_F21C,
    ];
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..2 {
            // `crc & 0xF` is below 16: the lookup never misses.
            crc = (crc >> 4) ^ TABLE.get((crc & 0xF) as usize).copied().unwrap_or(0);
        }
    }
    crc
}

/// The CRC-32 value of a running CRC.
pub const fn crc32_finish(crc: u32) -> u32 {
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32_finish(crc32_update(CRC32_INIT, b"123456789")), 0xCBF4_3926);
        assert_eq!(crc32_finish(crc32_update(CRC32_INIT, b"")), 0);
    }

    #[test]
    fn a_record_reads_back_and_every_damage_is_seen() {
        let mut record = [0u8; HEADER_LEN + 5];
        record[HEADER_LEN..].copy_from_slice(b"hello");
        let header = Header { kind: Kind::Data, sequence: 7, index: 3 };
        let n = seal(&mut record, header, 5);
        assert_eq!(open(&record[..n]), Some((header, &b"hello"[..])));
        // Every flipped bit, every truncation is refused.
        for i in 0..n {
            for bit in 0..8 {
                let mut bad = record;
                bad[i] ^= 1 << bit;
                assert_eq!(open(&bad[..n]), None, "byte {i} bit {bit}");
            }
        }
        for cut in 0..n {
            assert_eq!(open(&record[..cut]), None, "cut at {cut}");
        }
    }
}
