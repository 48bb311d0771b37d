//! A queued mail's data ("image"), as it is stored across data records: a fixed part of
//! tagged fields (the envelope, the header fields, the Message-ID and Date fixed at submit
//! time, the body, the HTML alternative, each attachment's name and type), then each
//! attachment's bytes, then each attachment's size (8 bytes each). The fixed part is read
//! into memory to send the mail; the attachments are streamed from storage.
//!
//! A field is `tag (1 byte) | length (4 bytes, little-endian) | value`; recipient lists are
//! addresses separated by NUL (an address cannot hold one). An unknown tag makes the image
//! unreadable, never a mail sent without that field.

use crate::session::Origin;
use crate::wire::header::Priority;
use crate::wire::out::Sink;

const FROM: u8 = 1;
const TO: u8 = 2;
const CC: u8 = 3;
const BCC: u8 = 4;
const SUBJECT: u8 = 5;
const PRIORITY: u8 = 6;
const ORIGIN: u8 = 7;
const BODY: u8 = 8;
const HTML: u8 = 9;
const ATTACHMENT: u8 = 10;
const ALLOW_PARTIAL: u8 = 11;

/// Attachments one queued mail may have at most.
pub const MAX_ATTACHMENTS: usize = 8;

/// The fields of a mail as stored: what [`write_fixed`] writes and [`parse_fixed`] reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed<'a> {
    pub origin: Origin<'a>,
    /// Addresses separated by NUL.
    pub to: &'a [u8],
    pub cc: &'a [u8],
    pub bcc: &'a [u8],
    pub subject: &'a str,
    pub priority: Priority,
    pub allow_partial: bool,
    pub body: &'a [u8],
    pub html: &'a [u8],
    /// Name and content type (empty: guessed from the name) of each attachment.
    pub attachments: [(&'a str, &'a str); MAX_ATTACHMENTS],
    pub attachment_count: usize,
}

impl Fixed<'_> {
    /// No field seen yet: what parsing starts from.
    pub const EMPTY: Fixed<'static> = Fixed {
        origin: Origin { from: "", date: None, message_id: (0, 0, 0) },
        to: &[],
        cc: &[],
        bcc: &[],
        subject: "",
        priority: Priority::Normal,
        allow_partial: false,
        body: &[],
        html: &[],
        attachments: [("", ""); MAX_ATTACHMENTS],
        attachment_count: 0,
    };
}

fn field<S: Sink + ?Sized>(out: &mut S, tag: u8, parts: &[&[u8]]) -> Result<(), S::Error> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.put(&[tag])?;
    out.put(&(len as u32).to_le_bytes())?;
    for p in parts {
        out.put(p)?;
    }
    Ok(())
}

/// A recipient list as one field: the addresses separated by NUL.
fn list<S: Sink + ?Sized>(out: &mut S, tag: u8, addresses: &[&str]) -> Result<(), S::Error> {
    let len = addresses.iter().map(|a| a.len()).sum::<usize>() + addresses.len().saturating_sub(1);
    out.put(&[tag])?;
    out.put(&(len as u32).to_le_bytes())?;
    for (i, a) in addresses.iter().enumerate() {
        if i > 0 {
            out.put(&[0])?;
        }
        out.put(a.as_bytes())?;
    }
    Ok(())
}

/// The recipient lists, as a mail has them.
pub struct Lists<'a> {
    pub to: &'a [&'a str],
    pub cc: &'a [&'a str],
    pub bcc: &'a [&'a str],
}

/// Writes the fixed part. `attachments`: each attachment's name and content type ("": guess).
pub fn write_fixed<'a, S: Sink + ?Sized>(
    out: &mut S,
    origin: &Origin<'_>,
    lists: &Lists<'_>,
    fields: &Fixed<'_>,
    attachments: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), S::Error> {
    field(out, FROM, &[origin.from.as_bytes()])?;
    list(out, TO, lists.to)?;
    list(out, CC, lists.cc)?;
    list(out, BCC, lists.bcc)?;
    field(out, SUBJECT, &[fields.subject.as_bytes()])?;
    let priority = match fields.priority {
        Priority::Low => 0,
        Priority::Normal => 1,
        Priority::High => 2,
    };
    field(out, PRIORITY, &[&[priority]])?;
    field(out, ALLOW_PARTIAL, &[&[u8::from(fields.allow_partial)]])?;
    let (time, sequence, entropy) = origin.message_id;
    let date = origin.date.unwrap_or(0);
    field(
        out,
        ORIGIN,
        &[&[u8::from(origin.date.is_some())], &date.to_le_bytes(), &time.to_le_bytes(), &sequence.to_le_bytes(), &entropy.to_le_bytes()],
    )?;
    field(out, BODY, &[fields.body])?;
    field(out, HTML, &[fields.html])?;
    for (name, content_type) in attachments {
        let (n, t) = (name.len() as u16, content_type.len() as u16);
        field(out, ATTACHMENT, &[&n.to_le_bytes(), name.as_bytes(), &t.to_le_bytes(), content_type.as_bytes()])?;
    }
    Ok(())
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_array<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    take(rest, N)?.try_into().ok()
}

fn text(bytes: &[u8]) -> Option<&str> {
    core::str::from_utf8(bytes).ok()
}

/// Reads a fixed part back; `None` when it is not one this format wrote.
pub fn parse_fixed(mut rest: &[u8]) -> Option<Fixed<'_>> {
    let mut f = Fixed::EMPTY;
    let mut seen_origin = false;
    while !rest.is_empty() {
        let [tag] = take_array::<1>(&mut rest)?;
        let len = u32::from_le_bytes(take_array::<4>(&mut rest)?) as usize;
        let mut value = take(&mut rest, len)?;
        match tag {
            FROM => f.origin.from = text(value)?,
            TO => f.to = value,
            CC => f.cc = value,
            BCC => f.bcc = value,
            SUBJECT => f.subject = text(value)?,
            PRIORITY => {
                f.priority = match value {
                    [0] => Priority::Low,
                    [1] => Priority::Normal,
                    [2] => Priority::High,
                    _ => return None,
                }
            }
            ALLOW_PARTIAL => f.allow_partial = value == [1],
            ORIGIN => {
                let [has_date] = take_array::<1>(&mut value)?;
                let date = u32::from_le_bytes(take_array::<4>(&mut value)?);
                let time = u64::from_le_bytes(take_array::<8>(&mut value)?);
                let sequence = u32::from_le_bytes(take_array::<4>(&mut value)?);
                let entropy = u32::from_le_bytes(take_array::<4>(&mut value)?);
                f.origin.date = (has_date == 1).then_some(date);
                f.origin.message_id = (time, sequence, entropy);
                seen_origin = true;
            }
            BODY => f.body = value,
            HTML => f.html = value,
            ATTACHMENT => {
                let n = usize::from(u16::from_le_bytes(take_array::<2>(&mut value)?));
                let name = text(take(&mut value, n)?)?;
                let t = usize::from(u16::from_le_bytes(take_array::<2>(&mut value)?));
                let content_type = text(take(&mut value, t)?)?;
                let slot = f.attachments.get_mut(f.attachment_count)?;
                *slot = (name, content_type);
                f.attachment_count += 1;
            }
            _ => return None,
        }
    }
    (seen_origin && !f.origin.from.is_empty()).then_some(f)
}

/// Splits a NUL-separated list into `out`; returns how many addresses it holds (`None`: more
/// than fit, or not UTF-8).
pub fn split<'a>(joined: &'a [u8], out: &mut [&'a str]) -> Option<usize> {
    if joined.is_empty() {
        return Some(0);
    }
    let mut n = 0;
    for part in joined.split(|&b| b == 0) {
        *out.get_mut(n)? = text(part)?;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vec8(std::vec::Vec<u8>);
    impl Sink for Vec8 {
        type Error = ();
        fn put(&mut self, b: &[u8]) -> Result<(), ()> {
            self.0.extend_from_slice(b);
            Ok(())
        }
    }

    #[test]
    fn a_fixed_part_reads_back_as_written() {
        let origin = Origin { from: "dev@example.com", date: Some(1_700_000_000), message_id: (5, 6, 7) };
        let lists = Lists { to: &["a@x.example", "b@x.example"], cc: &[], bcc: &["c@x.example"] };
        let mut fields = Fixed::EMPTY;
        fields.subject = "Pump 3";
        fields.priority = Priority::High;
        fields.body = b"hot\n";
        fields.html = b"<b>hot</b>";
        let mut out = Vec8(std::vec::Vec::new());
        write_fixed(&mut out, &origin, &lists, &fields, [("a.csv", ""), ("b.bin", "application/x-b")].into_iter()).unwrap();
        let back = parse_fixed(&out.0).unwrap();
        assert_eq!(back.origin, origin);
        assert_eq!((back.subject, back.priority, back.body, back.html), ("Pump 3", Priority::High, &b"hot\n"[..], &b"<b>hot</b>"[..]));
        let mut to = [""; 4];
        assert_eq!(split(back.to, &mut to), Some(2));
        assert_eq!(&to[..2], &["a@x.example", "b@x.example"]);
        assert_eq!(split(back.cc, &mut to), Some(0));
        assert_eq!(back.attachment_count, 2);
        assert_eq!(back.attachments[1], ("b.bin", "application/x-b"));
        // Every truncation is refused or reads a prefix of fields, never garbage past the end.
        for cut in 0..out.0.len() {
            if let Some(f) = parse_fixed(&out.0[..cut]) {
                assert_eq!(f.origin, origin);
            }
        }
        // An unknown field makes the image unreadable.
        let mut unknown = out.0.clone();
        unknown.extend_from_slice(&[99, 0, 0, 0, 0]);
        assert_eq!(parse_fixed(&unknown), None);
    }
}
