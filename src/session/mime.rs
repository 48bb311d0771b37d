//! A MIME body (feature `mime`): the mail's text, its HTML alternative and attachments
//! streamed from readers, as one [`BodySource`].
//!
//! ```text
//! multipart/mixed                       (only with attachments)
//! ├── multipart/alternative             (only with HTML)
//! │   ├── text/plain; charset=utf-8     7bit, 8bit or quoted-printable
//! │   └── text/html; charset=utf-8      7bit, 8bit or quoted-printable
//! ├── <type>; attachment 1              base64
//! └── <type>; attachment 2 ...          base64
//! ```
//!
//! Everything it writes, structure and content, goes through the body encoder like any body
//! (CRLF, dot-stuffing, the line length limit): nothing bypasses it. The text parts are in
//! memory, so their encoding is chosen before the first byte ([`mime::text_encoding`]): as
//! they are when the server takes them, else quoted-printable. Attachments are read into the
//! client's receive buffer one piece at a time and leave as base64, so memory stays the same
//! whatever their size. A reader that fails (or ends before its declared size) aborts the mail
//! before its end: the connection is closed without the final dot, so nothing is delivered.

use super::{BodySource, Fault};
use crate::error::{ErrorKind, Field, Phase};
use crate::wire::base64_lines::{self, Base64Lines};
use crate::wire::body::{BodyEncoder, Counter};
use crate::wire::mime::{self, TransferEncoding, ALTERNATIVE, MIXED};
use crate::wire::out::Sink;
use crate::wire::quoted_printable::QuotedPrintable;

/// Where an attachment's bytes come from: any [`embedded_io::Read`] (a blanket impl), used as
/// `&mut dyn AttachmentSource`, so attachments of different reader types fit in one slice
/// without a heap.
pub trait AttachmentSource {
    /// Reads into `buf`; `Ok(0)` at the end.
    fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind>;
}

impl<R: embedded_io::Read + ?Sized> AttachmentSource for R {
    fn read_bytes(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        use embedded_io::Error as _;
        self.read(buf).map_err(|e| e.kind())
    }
}

/// One attachment: a file name, a content type (given, or guessed from the name's
/// extension) and the reader its bytes come from.
///
/// ```
/// use zsmtp::Attachment;
/// let readings = b"time,temperature\n0,21.5\n";
/// let mut csv = &readings[..];
/// let attachment = Attachment::new("Messwerte-Kühlhaus.csv", &mut csv).size(readings.len() as u64);
/// # let _ = attachment;
/// ```
pub struct Attachment<'a> {
    pub(crate) name: &'a str,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) size: Option<u64>,
    pub(crate) source: &'a mut dyn AttachmentSource,
}

impl<'a> Attachment<'a> {
    /// An attachment named `name` (UTF-8, 1 to 255 bytes, no control characters; sent per
    /// RFC 2231 when it is not plain ASCII) whose bytes `source` gives until it ends.
    pub fn new(name: &'a str, source: &'a mut dyn AttachmentSource) -> Self {
        Attachment { name, content_type: None, size: None, source }
    }

    /// The content type (`type/subtype`, parameters allowed), instead of the one guessed from
    /// the extension (.txt .csv .json .png .jpg/.jpeg .pdf .gz; else application/octet-stream).
    pub fn content_type(mut self, content_type: &'a str) -> Self {
        self.content_type = Some(content_type);
        self
    }

    /// The size in bytes, when known. Exactly this many bytes are read (a source that ends
    /// sooner fails the send); when every attachment's size is known, the mail's size is
    /// declared to a server that offers SIZE.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    /// The content type sent: the given one, else the guess from the name.
    pub fn content_type_or_guess(&self) -> &'a str {
        self.content_type.unwrap_or_else(|| mime::guess_content_type(self.name))
    }
}

impl core::fmt::Debug for Attachment<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Attachment")
            .field("name", &self.name)
            .field("content_type", &self.content_type_or_guess())
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A MIME body: the text, an optional HTML alternative (empty: none) and the attachments.
pub struct MimeBody<'m, 'a> {
    text: &'m [u8],
    html: &'m [u8],
    attachments: &'m mut [Attachment<'a>],
    text_encoding: TransferEncoding,
    html_encoding: TransferEncoding,
}

impl<'m, 'a> MimeBody<'m, 'a> {
    pub fn new(text: &'m [u8], html: &'m [u8], attachments: &'m mut [Attachment<'a>]) -> Self {
        // Quoted-printable until `fit` knows what the server takes: always safe.
        let safe = TransferEncoding::QuotedPrintable;
        MimeBody { text, html, attachments, text_encoding: safe, html_encoding: safe }
    }

    /// The whole structure; `attachment` writes the content of attachment `i`.
    fn write_parts<S: Sink + ?Sized>(
        &mut self,
        out: &mut S,
        mut attachment: impl FnMut(&mut S, &mut Attachment<'a>) -> Result<(), S::Error>,
    ) -> Result<(), S::Error> {
        let mixed = !self.attachments.is_empty();
        let alternative = !self.html.is_empty();
        if mixed {
            mime::put_delimiter(out, MIXED)?;
            if alternative {
                mime::put_alternative_part_headers(out)?;
            }
        }
        if alternative {
            mime::put_delimiter(out, ALTERNATIVE)?;
        }
        if mixed || alternative {
            mime::put_text_part_headers(out, b"plain", self.text_encoding)?;
        }
        put_text(out, self.text, self.text_encoding)?;
        if alternative {
            mime::put_delimiter(out, ALTERNATIVE)?;
            mime::put_text_part_headers(out, b"html", self.html_encoding)?;
            put_text(out, self.html, self.html_encoding)?;
            mime::put_close_delimiter(out, ALTERNATIVE)?;
        }
        for a in self.attachments.iter_mut() {
            mime::put_delimiter(out, MIXED)?;
            mime::put_attachment_headers(out, a.name, a.content_type_or_guess())?;
            attachment(out, a)?;
        }
        if mixed {
            mime::put_close_delimiter(out, MIXED)?;
        }
        Ok(())
    }
}

/// A text part's content in its transfer encoding.
fn put_text<S: Sink + ?Sized>(out: &mut S, text: &[u8], encoding: TransferEncoding) -> Result<(), S::Error> {
    match encoding {
        TransferEncoding::QuotedPrintable => {
            let mut qp = QuotedPrintable::new();
            qp.encode(text, out)?;
            qp.finish(out)
        }
        TransferEncoding::SevenBit | TransferEncoding::EightBit => out.put(text),
    }
}

fn invalid(field: Field, why: crate::error::Invalid) -> Fault {
    Fault::new(ErrorKind::InvalidInput(field, why), Phase::Validate)
}

/// A failed or short attachment reader: the mail is abandoned before its end.
const READ_FAILED: Fault = Fault::new(ErrorKind::BodyRead, Phase::Message);

/// Counts what the body encoder would write, to learn the body's size on the wire.
struct Measure {
    encoder: BodyEncoder,
    counter: Counter,
}

impl Sink for Measure {
    type Error = ();
    fn put(&mut self, bytes: &[u8]) -> Result<(), ()> {
        self.encoder.encode(bytes, &mut self.counter).map_err(|_| ())
    }
}

impl BodySource for MimeBody<'_, '_> {
    /// Checks the attachments' names and content types; nothing else can be refused (a text
    /// that could not go as it is goes quoted-printable).
    fn check(&self) -> Result<Option<u64>, Fault> {
        if self.text.is_empty() && self.html.is_empty() && self.attachments.is_empty() {
            return Err(invalid(Field::Body, crate::error::Invalid::Empty));
        }
        for a in self.attachments.iter() {
            mime::file_name(a.name).map_err(|why| invalid(Field::Attachment, why))?;
            if let Some(t) = a.content_type {
                mime::content_type(t).map_err(|why| invalid(Field::Attachment, why))?;
            }
        }
        Ok(None)
    }

    fn fit(&mut self, eight_bit_mime: bool, _checked: Option<u64>) -> Option<u64> {
        self.text_encoding = mime::text_encoding(self.text, eight_bit_mime);
        self.html_encoding = mime::text_encoding(self.html, eight_bit_mime);
        // The size is known only when every attachment's is: base64 lines never start with
        // '.', so their size on the wire is arithmetic; the rest is measured.
        let mut attachments = 0u64;
        for a in self.attachments.iter() {
            attachments = attachments.checked_add(base64_lines::encoded_len(a.size?)?)?;
        }
        let mut measure = Measure { encoder: BodyEncoder::new(), counter: Counter(0) };
        self.write_parts(&mut measure, |_, _| Ok(())).ok()?;
        measure.encoder.finish(&mut measure.counter).ok()?;
        measure.counter.0.checked_add(attachments)
    }

    fn content_headers(&self) -> &'static [u8] {
        mime::message_headers(!self.html.is_empty(), !self.attachments.is_empty(), self.text_encoding)
    }

    fn write_text<S: Sink<Error = Fault>>(&mut self, out: &mut S, scratch: &mut [u8]) -> Result<(), Fault> {
        self.write_parts(out, |out, a| {
            let mut base64 = Base64Lines::new();
            let mut left = a.size;
            loop {
                let room = match left {
                    Some(0) => break,
                    Some(n) => usize::try_from(n).unwrap_or(usize::MAX).min(scratch.len()),
                    None => scratch.len(),
                };
                let buf = scratch.get_mut(..room).unwrap_or_default();
                let n = a.source.read_bytes(buf).map_err(|_| READ_FAILED)?;
                let chunk = buf.get(..n).unwrap_or_default();
                if chunk.is_empty() {
                    if left.is_some() {
                        // The source ended before its declared size.
                        return Err(READ_FAILED);
                    }
                    break;
                }
                base64.encode(chunk, out)?;
                left = left.map(|l| l - chunk.len() as u64);
            }
            base64.finish(out)
        })
    }
}
