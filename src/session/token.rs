//! Where an OAuth 2.0 bearer token comes from ([`TokenSource`]): asked once per AUTH, right
//! before the AUTH command, so a token replaced (or refreshed) between sends is the one sent.

/// The token source could not give a token (a refresh failed): the send ends before any
/// credential is sent, as `InvalidInput(Field::Token, Invalid::Empty)` in the AUTH phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenUnavailable;

/// Gives the engine the current OAuth 2.0 access token for XOAUTH2 or OAUTHBEARER.
///
/// The engine calls [`TokenSource::lend_token`] once per authentication, right before it
/// writes the AUTH command, and uses the token only inside `use_token`: it is streamed to the
/// server as base64 through the transmit buffer (which is zeroed afterwards), never copied
/// whole, never logged, never in an error or `Debug` output. Tokens expire (typically after an
/// hour): a source that holds one behind a lock lets the caller replace it between sends.
///
/// Implemented for `&str` (a fixed token) and, with `std`, for `Mutex<T>` and `RwLock<T>` of
/// anything that is `AsRef<[u8]>` (a `String` the caller replaces).
///
/// ```no_run
/// # #[cfg(feature = "std")] {
/// use std::sync::Mutex;
/// use zsmtp::{Auth, Client, Config, Mail, TlsMode};
/// use zsmtp::transport::host::{StdClock, StdTransport};
///
/// # fn fetch_access_token() -> String { String::new() }
/// let token = Mutex::new(fetch_access_token());
/// let config = Config::new("smtp.office365.com", 587, "device-17.example.com", "device@example.com")
///     .tls(TlsMode::StartTls)
///     .oauth(Auth::XOAuth2, "device@example.com", &token);
/// let mut client: Client<'_, _, _> = Client::new(config, StdTransport::new(), StdClock::new())?;
/// client.send(&Mail::new("Pump 3", b"Over temperature.\n").to(&["ops@example.com"]))?;
/// // An hour later: a new token for the next send.
/// *token.lock().unwrap() = fetch_access_token();
/// client.send(&Mail::new("Pump 3", b"Back to normal.\n").to(&["ops@example.com"]))?;
/// # }
/// # Ok::<(), zsmtp::Error>(())
/// ```
pub trait TokenSource {
    /// Calls `use_token` with the current token (at most once). Returning without calling it,
    /// or with `Err`, ends the send before any credential is sent.
    fn lend_token(&self, use_token: &mut dyn FnMut(&[u8])) -> Result<(), TokenUnavailable>;
}

impl TokenSource for &str {
    fn lend_token(&self, use_token: &mut dyn FnMut(&[u8])) -> Result<(), TokenUnavailable> {
        use_token(self.as_bytes());
        Ok(())
    }
}

#[cfg(feature = "std")]
impl<T: AsRef<[u8]>> TokenSource for std::sync::Mutex<T> {
    fn lend_token(&self, use_token: &mut dyn FnMut(&[u8])) -> Result<(), TokenUnavailable> {
        let token = self.lock().map_err(|_| TokenUnavailable)?;
        use_token((*token).as_ref());
        Ok(())
    }
}

#[cfg(feature = "std")]
impl<T: AsRef<[u8]>> TokenSource for std::sync::RwLock<T> {
    fn lend_token(&self, use_token: &mut dyn FnMut(&[u8])) -> Result<(), TokenUnavailable> {
        let token = self.read().map_err(|_| TokenUnavailable)?;
        use_token((*token).as_ref());
        Ok(())
    }
}
