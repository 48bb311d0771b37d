//! EHLO capabilities (RFC 5321 section 4.1.1.1), parsed by keyword and token: "AUTH PLAIN"
//! offers PLAIN, "X-AUTH-PLAINISH" or "AUTH MOGIN QLAIN" do not. Keywords are matched
//! without regard to case. The first line of the EHLO reply is the server's name and is
//! not a capability: the caller passes only the following lines.

/// SASL mechanisms the server offers.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AuthMechanisms {
    /// An AUTH line was present (with any mechanisms).
    pub advertised: bool,
    pub plain: bool,
    pub login: bool,
    #[cfg(feature = "oauth2")]
    pub xoauth2: bool,
    #[cfg(feature = "oauth2")]
    pub oauthbearer: bool,
}

impl AuthMechanisms {
    /// No AUTH line seen.
    pub const NONE: AuthMechanisms = AuthMechanisms {
        advertised: false,
        plain: false,
        login: false,
        #[cfg(feature = "oauth2")]
        xoauth2: false,
        #[cfg(feature = "oauth2")]
        oauthbearer: false,
    };

    /// Whether a token mechanism (XOAUTH2, OAUTHBEARER) is offered by name; a password
    /// mechanism is always "offered" here (`choose_auth` decides between those).
    #[cfg(feature = "oauth2")]
    pub fn offers(&self, mechanism: super::command::Auth) -> bool {
        use super::command::Auth;
        match mechanism {
            Auth::XOAuth2 => self.xoauth2,
            Auth::OAuthBearer => self.oauthbearer,
            Auth::None | Auth::Plain | Auth::Login => true,
        }
    }
}

impl AuthMechanisms {
    /// Takes the mechanisms of an AUTH line, given its first word and the words after it;
    /// false when the line is not an AUTH line.
    pub fn add_line<'t>(&mut self, keyword: &'t [u8], mut words: impl Iterator<Item = &'t [u8]>) -> bool {
        // Old servers write "AUTH=LOGIN PLAIN": the first mechanism is glued to the keyword.
        let (head, tail) = keyword.split_at_checked(4).unwrap_or((keyword, &[]));
        let mut mechanism = match tail {
            [] => tail,
            [b'=', glued @ ..] => glued,
            _ => return false,
        };
        if !head.eq_ignore_ascii_case(b"AUTH") {
            return false;
        }
        self.advertised = true;
        loop {
            if mechanism.eq_ignore_ascii_case(b"PLAIN") {
                self.plain = true;
            } else if mechanism.eq_ignore_ascii_case(b"LOGIN") {
                self.login = true;
            }
            #[cfg(feature = "oauth2")]
            {
                self.xoauth2 |= mechanism.eq_ignore_ascii_case(b"XOAUTH2");
                self.oauthbearer |= mechanism.eq_ignore_ascii_case(b"OAUTHBEARER");
            }
            let Some(next) = words.next() else { return true };
            mechanism = next;
        }
    }
}

impl AuthMechanisms {
    /// Takes one capability line (the text after "250-" / "250 "): the mechanisms if it is an
    /// AUTH line ("AUTH PLAIN LOGIN", or the old "AUTH=LOGIN PLAIN"), nothing otherwise.
    #[cfg(not(feature = "small"))]
    pub fn add_text(&mut self, text: &[u8]) {
        let mut words = Words(text);
        if let Some(keyword) = words.next() {
            self.add_line(keyword, words);
        }
    }

    /// The small profile's body of `add_text`: one loop over words that end at SP, TAB or '='
    /// (no iterator, less code; a '=' after another word than AUTH also ends it).
    #[cfg(feature = "small")]
    pub fn add_text(&mut self, text: &[u8]) {
        let mut rest = text;
        let mut first = true;
        while !rest.is_empty() {
            let end = rest.iter().position(|&b| matches!(b, b' ' | b'\t' | b'=')).unwrap_or(rest.len());
            let (word, after) = rest.split_at_checked(end).unwrap_or((rest, &[]));
            if first {
                if !word.eq_ignore_ascii_case(b"AUTH") {
                    return;
                }
                self.advertised = true;
                first = false;
            } else {
                self.plain |= word.eq_ignore_ascii_case(b"PLAIN");
                self.login |= word.eq_ignore_ascii_case(b"LOGIN");
            }
            rest = after.get(1..).unwrap_or_default();
        }
    }
}

/// What the server says it supports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub auth: AuthMechanisms,
    pub pipelining: bool,
    /// `Some(0)`: SIZE offered without a fixed limit; `Some(n)`: messages up to n bytes.
    pub size: Option<u64>,
    pub eight_bit_mime: bool,
    pub smtputf8: bool,
    pub enhanced_status_codes: bool,
    pub starttls: bool,
}

impl Capabilities {
    pub const NONE: Capabilities = Capabilities {
        auth: AuthMechanisms::NONE,
        pipelining: false,
        size: None,
        eight_bit_mime: false,
        smtputf8: false,
        enhanced_status_codes: false,
        starttls: false,
    };

    /// Takes one capability line (the text after "250-" / "250 ").
    pub fn add_line(&mut self, text: &[u8]) {
        let mut words = Words(text);
        let Some(keyword) = words.next() else { return };
        if !self.auth.add_line(keyword, words.clone()) {
            self.add_extension(keyword, words);
        }
    }

    /// The extensions other than AUTH.
    fn add_extension<'t>(&mut self, keyword: &[u8], mut tokens: impl Iterator<Item = &'t [u8]>) {
        if keyword.eq_ignore_ascii_case(b"PIPELINING") {
            self.pipelining = true;
        } else if keyword.eq_ignore_ascii_case(b"SIZE") {
            self.size = Some(tokens.next().and_then(parse_u64).unwrap_or(0));
        } else if keyword.eq_ignore_ascii_case(b"8BITMIME") {
            self.eight_bit_mime = true;
        } else if keyword.eq_ignore_ascii_case(b"SMTPUTF8") {
            self.smtputf8 = true;
        } else if keyword.eq_ignore_ascii_case(b"ENHANCEDSTATUSCODES") {
            self.enhanced_status_codes = true;
        } else if keyword.eq_ignore_ascii_case(b"STARTTLS") {
            self.starttls = true;
        }
    }
}

/// The words of a line: runs of bytes other than space and tab.
#[derive(Clone)]
struct Words<'t>(&'t [u8]);

impl<'t> Iterator for Words<'t> {
    type Item = &'t [u8];

    fn next(&mut self) -> Option<&'t [u8]> {
        let start = self.0.iter().position(|&b| b != b' ' && b != b'\t')?;
        let rest = self.0.get(start..)?;
        let len = rest.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(rest.len());
        let (word, after) = rest.split_at_checked(len)?;
        self.0 = after;
        Some(word)
    }
}


/// A decimal number that fits in u64; anything else is not one.
fn parse_u64(token: &[u8]) -> Option<u64> {
    if token.is_empty() || token.len() > 19 {
        return None;
    }
    token.iter().try_fold(0u64, |n, &b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The password mechanisms (whatever else a build's `AuthMechanisms` holds stays unset).
    fn mechanisms(advertised: bool, plain: bool, login: bool) -> AuthMechanisms {
        let mut m = AuthMechanisms::NONE;
        (m.advertised, m.plain, m.login) = (advertised, plain, login);
        m
    }

    fn caps(lines: &[&[u8]]) -> Capabilities {
        let mut c = Capabilities::NONE;
        for l in lines {
            c.add_line(l);
        }
        c
    }

    #[test]
    fn postfix_ehlo() {
        let c = caps(&[
            b"PIPELINING",
            b"SIZE 52428800",
            b"ETRN",
            b"STARTTLS",
            b"AUTH PLAIN LOGIN",
            b"AUTH=PLAIN LOGIN",
            b"ENHANCEDSTATUSCODES",
            b"8BITMIME",
            b"DSN",
            b"SMTPUTF8",
            b"CHUNKING",
        ]);
        assert_eq!(
            c,
            Capabilities {
                auth: mechanisms(true, true, true),
                pipelining: true,
                size: Some(52_428_800),
                eight_bit_mime: true,
                smtputf8: true,
                enhanced_status_codes: true,
                starttls: true,
            }
        );
    }

    #[test]
    fn netx_regression_ehlo() {
        let c = caps(&[b"ETRN", b"AUTH LOGIN CRAM-MD5 PLAIN", b"8BITMIME", b"SIZE"]);
        assert!(c.auth.advertised && c.auth.login && c.auth.plain);
        assert_eq!(c.size, Some(0));
        assert!(!c.pipelining);
    }

    #[test]
    fn mechanisms_are_tokens_not_substrings() {
        let c = caps(&[b"AUTH MOGIN CRAM-MD5 QLAIN"]);
        assert_eq!(c.auth, mechanisms(true, false, false));
        let c = caps(&[b"X-AUTH-PLAIN LOGIN", b"PIPELININGX", b"XSIZE 10", b"AUTHPLAIN"]);
        assert_eq!(c, Capabilities::NONE);
        let c = caps(&[b"AUTH XOAUTH PLAINX LOGINPLAIN"]);
        assert_eq!(c.auth, mechanisms(true, false, false));
    }

    #[test]
    fn case_and_spacing_do_not_matter() {
        let c = caps(&[b"auth\tlogin  Plain", b"pipelining", b"size\t1000 ", b"Auth=Login"]);
        assert!(c.auth.plain && c.auth.login && c.pipelining);
        assert_eq!(c.size, Some(1000));
        let c = caps(&[b"AUTH="]);
        assert_eq!(c.auth, mechanisms(true, false, false));
    }

    #[test]
    fn odd_size_values() {
        assert_eq!(caps(&[b"SIZE"]).size, Some(0));
        assert_eq!(caps(&[b"SIZE abc"]).size, Some(0));
        assert_eq!(caps(&[b"SIZE 99999999999999999999999"]).size, Some(0));
        assert_eq!(caps(&[b"SIZE 18446744073709551615"]).size, Some(0));
        assert_eq!(caps(&[b"SIZE 9999999999999999999"]).size, Some(9_999_999_999_999_999_999));
    }

    #[test]
    fn auth_mechanisms_alone() {
        let mut auth = AuthMechanisms::default();
        assert!(!auth.add_line(b"PIPELINING", Words(b"")));
        assert!(!auth.add_line(b"X-AUTH-PLAIN", Words(b"")));
        assert!(auth.add_line(b"auth", Words(b"\tlogin  Plain")));
        assert_eq!(auth, mechanisms(true, true, true));
        let mut auth = AuthMechanisms::default();
        assert!(auth.add_line(b"AUTH=LOGIN", Words(b"")));
        assert_eq!(auth, mechanisms(true, false, true));
        assert_eq!(caps(&[b"AUTH=LOGIN PLAIN"]).auth, mechanisms(true, true, true));
    }

    /// `AuthMechanisms::add_text`, whichever body this build has (the small profile's or the
    /// full one's), against the same expectations as the capability parser.
    #[test]
    fn auth_lines_alone() {
        let auth = |lines: &[&[u8]]| {
            let mut a = AuthMechanisms::default();
            for l in lines {
                a.add_text(l);
            }
            a
        };
        let all: [&[&[u8]]; 4] = [&[b"ETRN", b"AUTH LOGIN CRAM-MD5 PLAIN", b"8BITMIME", b"SIZE"], &[b"auth\tlogin  Plain"], &[b"AUTH=LOGIN PLAIN"], &[b"AUTH=PLAIN", b"AUTH LOGIN"]];
        for lines in all {
            assert_eq!(auth(lines), mechanisms(true, true, true), "{lines:?}");
            assert_eq!(auth(lines), caps(lines).auth, "{lines:?}");
        }
        let none_known: [&[&[u8]]; 3] = [&[b"AUTH MOGIN CRAM-MD5 QLAIN"], &[b"AUTH XOAUTH PLAINX LOGINPLAIN"], &[b"AUTH="]];
        for lines in none_known {
            assert_eq!(auth(lines), mechanisms(true, false, false), "{lines:?}");
        }
        let not_auth: [&[&[u8]]; 5] = [&[b"X-AUTH-PLAIN LOGIN"], &[b"AUTHPLAIN"], &[b""], &[b" "], &[b"PIPELINING", b"SIZE 10"]];
        for lines in not_auth {
            assert_eq!(auth(lines), AuthMechanisms::default(), "{lines:?}");
        }
    }

    #[test]
    fn empty_and_binary_lines_are_ignored() {
        assert_eq!(caps(&[b"", b" ", b"\xff\xfe", b"\x00AUTH PLAIN"]), Capabilities::NONE);
    }

    #[cfg(feature = "oauth2")]
    #[test]
    fn token_mechanisms() {
        use crate::wire::command::Auth;
        let c = caps(&[b"AUTH PLAIN XOAUTH2 oauthbearer"]);
        assert!(c.auth.xoauth2 && c.auth.oauthbearer && c.auth.plain && !c.auth.login);
        assert!(c.auth.offers(Auth::XOAuth2) && c.auth.offers(Auth::OAuthBearer));
        let c = caps(&[b"AUTH=XOAUTH2", b"AUTH LOGIN"]);
        assert!(c.auth.xoauth2 && !c.auth.oauthbearer && c.auth.login);
        // Tokens, not substrings.
        let c = caps(&[b"AUTH XOAUTH XOAUTH2X OAUTHBEARER2 X-OAUTHBEARER PLAIN"]);
        assert!(!c.auth.offers(Auth::XOAuth2) && !c.auth.offers(Auth::OAuthBearer) && c.auth.plain);
        assert!(c.auth.offers(Auth::Plain));
    }
}
