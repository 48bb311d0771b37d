//! The run-time configuration: Kconfig defaults, overridden by the settings subsystem on
//! Zephyr, read out of the shim's store.

use core::ffi::CStr;
use core::fmt;

use crate::client::{Auth, Config, Timeouts};
use crate::error::Field;
use crate::limits::{MAX_ADDRESS, MAX_DOMAIN, MAX_PASSWORD, MAX_USERNAME};
use crate::sys;

/// Receive and transmit buffers of the clients this module builds (Kconfig
/// CONFIG_SMTP_CLIENT_RX_BUFFER_SIZE / CONFIG_SMTP_CLIENT_TX_BUFFER_SIZE).
pub use crate::limits::{RX_BUFFER_SIZE, TX_BUFFER_SIZE};

/// Room for server, domain, from, user and password with their NULs.
const ARENA: usize = 2 * (MAX_DOMAIN + 1) + (MAX_ADDRESS + 1) + (MAX_USERNAME + 1) + (MAX_PASSWORD + 1);

/// Why [`ShimConfig::load`] (or [`configured_timing`]) failed: which key, the client
/// configuration field it feeds, and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigError {
    /// The key in the shim's store (`smtp_shim.h`), e.g. `c"timeout_send"`.
    pub key: &'static CStr,
    /// The field of the client configuration the key feeds.
    pub field: Field,
    pub problem: ConfigProblem,
}

/// What is wrong with a configuration value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The shim does not know the key (a shim older than this code).
    UnknownKey,
    /// A value does not fit (limits of the shim and of this build disagree).
    TooLong,
    /// A value is not UTF-8 or not a number where one is needed.
    Invalid,
}

/// A key of the shim's store and the field it feeds.
#[derive(Clone, Copy)]
struct Key {
    name: &'static CStr,
    field: Field,
}

impl Key {
    const fn new(name: &'static CStr, field: Field) -> Self {
        Key { name, field }
    }

    fn error(self, problem: ConfigProblem) -> ConfigError {
        ConfigError { key: self.name, field: self.field, problem }
    }
}

const SERVER: Key = Key::new(c"server", Field::Server);
const PORT: Key = Key::new(c"port", Field::Port);
const DOMAIN: Key = Key::new(c"domain", Field::Domain);
const FROM: Key = Key::new(c"from", Field::From);
const USER: Key = Key::new(c"user", Field::Username);
const PASSWORD: Key = Key::new(c"password", Field::Password);
const AUTH: Key = Key::new(c"auth", Field::Auth);
const PIPELINING: Key = Key::new(c"pipelining", Field::Pipelining);
/// The timeouts, in the order of [`Timeouts`]' fields.
const TIMEOUTS: [Key; 6] = [
    Key::new(c"timeout_connect", Field::Timeouts),
    Key::new(c"timeout_greeting", Field::Timeouts),
    Key::new(c"timeout_reply", Field::Timeouts),
    Key::new(c"timeout_send", Field::Timeouts),
    Key::new(c"timeout_final", Field::Timeouts),
    Key::new(c"timeout_total", Field::Timeouts),
];

/// The run-time configuration (Kconfig defaults, overridden by the settings subsystem on
/// Zephyr), copied out of the shim into one fixed buffer.
pub struct ShimConfig {
    arena: [u8; ARENA],
    used: usize,
    server: (usize, usize),
    domain: (usize, usize),
    from: (usize, usize),
    user: (usize, usize),
    password: (usize, usize),
    port: u16,
    auth: Auth,
    timeouts: Timeouts,
    pipelining: bool,
}

impl ShimConfig {
    /// Loads persisted values (`smtp_shim_config_load`) and copies the configuration.
    pub fn load() -> Result<Self, ConfigError> {
        // A load error leaves the defaults in force, which is what the caller gets then.
        let _ = sys::config_load();
        let mut c = ShimConfig {
            arena: [0; ARENA],
            used: 0,
            server: (0, 0),
            domain: (0, 0),
            from: (0, 0),
            user: (0, 0),
            password: (0, 0),
            port: 25,
            auth: Auth::None,
            timeouts: Timeouts::DEFAULT,
            pipelining: true,
        };
        c.server = c.take(SERVER)?;
        c.domain = c.take(DOMAIN)?;
        c.from = c.take(FROM)?;
        c.user = c.take(USER)?;
        c.password = c.take(PASSWORD)?;

        let mut small = [0u8; 16];
        c.port = number(PORT, &mut small, u16::MAX.into())? as u16;
        c.auth = match get(AUTH, &mut small)? {
            b"plain" => Auth::Plain,
            b"login" => Auth::Login,
            b"none" => Auth::None,
            _ => return Err(AUTH.error(ConfigProblem::Invalid)),
        };
        (c.timeouts, c.pipelining) = configured_timing()?;
        Ok(c)
    }

    /// Copies one value into the arena; returns its (start, len).
    fn take(&mut self, key: Key) -> Result<(usize, usize), ConfigError> {
        let start = self.used;
        // `used` never passes the arena's end (each value leaves room for its NUL).
        let free = self.arena.get_mut(start..).ok_or(key.error(ConfigProblem::TooLong))?;
        let value = get(key, free)?;
        core::str::from_utf8(value).map_err(|_| key.error(ConfigProblem::Invalid))?;
        let len = value.len();
        self.used = start + len + 1;
        Ok((start, len))
    }

    fn text(&self, (start, len): (usize, usize)) -> &str {
        // Checked to be UTF-8 in `take`; never fails.
        self.arena.get(start..start + len).and_then(|value| core::str::from_utf8(value).ok()).unwrap_or("")
    }

    pub fn server(&self) -> &str {
        self.text(self.server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn domain(&self) -> &str {
        self.text(self.domain)
    }

    pub fn from(&self) -> &str {
        self.text(self.from)
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The client configuration (credentials included; never log it with `{:?}` of the parts).
    pub fn config(&self) -> Config<'_> {
        let config = Config::new(self.server(), self.port, self.domain(), self.from())
            .timeouts(self.timeouts)
            .pipelining(self.pipelining)
            .tls(crate::limits::TLS_MODE)
            .allow_plaintext_auth(crate::limits::ALLOW_PLAINTEXT_AUTH);
        match self.auth {
            Auth::None => config,
            mechanism => config.auth(mechanism, self.text(self.user), self.text(self.password)),
        }
    }
}

impl fmt::Debug for ShimConfig {
    // By hand: the password never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShimConfig")
            .field("server", &self.server())
            .field("port", &self.port)
            .field("domain", &self.domain())
            .field("from", &self.from())
            .field("auth", &self.auth)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The configured timeouts and pipelining switch (Kconfig defaults, settings overrides),
/// without the rest of the configuration: what the NetX C API takes from the module's
/// configuration, since its create() has no place for them.
pub fn configured_timing() -> Result<(Timeouts, bool), ConfigError> {
    let mut small = [0u8; 16];
    // A loop over a table rather than six calls: less code on the device.
    let mut ms = [0u32; TIMEOUTS.len()];
    for (value, key) in ms.iter_mut().zip(TIMEOUTS) {
        *value = number(key, &mut small, u32::MAX)?;
    }
    let [connect_ms, greeting_ms, reply_ms, send_ms, final_reply_ms, total_ms] = ms;
    let timeouts = Timeouts { connect_ms, greeting_ms, reply_ms, send_ms, final_reply_ms, total_ms };
    let pipelining = get(PIPELINING, &mut small)? != b"n";
    Ok((timeouts, pipelining))
}

/// The value of `key`, copied into `buf`: its bytes (without the NUL).
fn get(key: Key, buf: &mut [u8]) -> Result<&[u8], ConfigError> {
    let room = buf.len();
    match sys::config_get(key.name, buf) {
        Ok(len) if len < room => buf.get(..len).ok_or(key.error(ConfigProblem::TooLong)),
        Ok(_) => Err(key.error(ConfigProblem::TooLong)),
        Err(rc) if sys::error_class(rc) == sys::CLASS_HOST_NOT_FOUND => Err(key.error(ConfigProblem::UnknownKey)),
        Err(_) => Err(key.error(ConfigProblem::TooLong)),
    }
}

/// The value of `key` as a decimal number of at most `max`.
fn number(key: Key, buf: &mut [u8], max: u32) -> Result<u32, ConfigError> {
    let text = get(key, buf)?;
    decimal(text).filter(|n| *n <= max).ok_or(key.error(ConfigProblem::Invalid))
}

/// `text` as a decimal u32: `None` when empty, not all digits or too large.
fn decimal(text: &[u8]) -> Option<u32> {
    if text.is_empty() || text.len() > 10 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    u32::try_from(n).ok()
}
