//! Credentials: the per-device secret a terminal sends with every request, the admin tokens
//! of central teams, and the short one-time enrolment codes staff type on site. The collector
//! stores only their SHA-256; the secret itself is printed once when it is made and never
//! appears in a log or a `Debug` output.
//!
//! A credential is 32 random bytes, so a plain SHA-256 is the right hash: there is nothing
//! for a slow password hash to protect against, and every request can be checked cheaply.

use std::fmt;

use sha2::{Digest, Sha256};

/// What a credential lets its holder do; the kind is visible in its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A terminal uploading its answers (`cesd_…`).
    Device,
    /// A central team reading exports, reports and the fleet (`cesa_…`).
    Admin,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Device => "cesd_",
            Kind::Admin => "cesa_",
        }
    }
}

const SECRET_BYTES: usize = 32;

/// A secret credential. `Debug` and `Display` never show it; [`Credential::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential(String);

/// Why a text is not a credential. Never contains the text itself.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not a {kind} credential: expected \"{prefix}\" followed by 64 hexadecimal digits \
     (as `ces-collector` printed it)"
)]
pub struct Malformed {
    kind: &'static str,
    prefix: &'static str,
}

impl Credential {
    /// Makes a new random credential of `kind`.
    pub fn generate(kind: Kind) -> Credential {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system provides random numbers");
        Credential(format!("{}{}", kind.prefix(), hex(&bytes)))
    }

    /// Reads a credential of `kind` from text (surrounding whitespace is ignored).
    pub fn parse(text: &str, kind: Kind) -> Result<Credential, Malformed> {
        let text = text.trim();
        let well_formed = text.strip_prefix(kind.prefix()).is_some_and(|rest| {
            rest.len() == SECRET_BYTES * 2
                && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        });
        if well_formed {
            Ok(Credential(text.to_owned()))
        } else {
            Err(Malformed {
                kind: match kind {
                    Kind::Device => "device",
                    Kind::Admin => "admin",
                },
                prefix: kind.prefix(),
            })
        }
    }

    /// The secret itself: for the `Authorization` header and the one time it is printed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the collector stores and looks up: the SHA-256 of the secret, in hex.
    pub fn hash(&self) -> String {
        hash_text(&self.0)
    }
}

/// A one-time enrolment code: 10 characters from an alphabet without look-alikes (no 0, O,
/// 1, I or L), shown as `ABCDE-FGHJK`. About 49 bits: enough for a code that works once,
/// expires within days and is tried at a rate-limited endpoint. Typed codes are read
/// case-insensitively, with or without the dash and spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentCode(String);

const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 10;

/// Why a typed text is not an enrolment code. Never contains the text itself.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an enrolment code: expected 10 letters and digits like ABCDE-FGHJK (no 0, O, 1, I or L)"
)]
pub struct MalformedCode;

impl EnrolmentCode {
    /// Makes a new random code. Bytes from 248 up are drawn again, so that each of the 31
    /// symbols is exactly as likely (248 = 8 × 31).
    pub fn generate() -> EnrolmentCode {
        let limit = 256 - 256 % CODE_ALPHABET.len();
        let mut code = String::with_capacity(CODE_LEN);
        while code.len() < CODE_LEN {
            let mut byte = [0u8; 1];
            getrandom::fill(&mut byte).expect("the operating system provides random numbers");
            let b = usize::from(byte[0]);
            if b < limit {
                code.push(char::from(CODE_ALPHABET[b % CODE_ALPHABET.len()]));
            }
        }
        EnrolmentCode(code)
    }

    /// Reads a typed code: case, dashes and spaces do not matter.
    pub fn parse(text: &str) -> Result<EnrolmentCode, MalformedCode> {
        let code: String = text
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Ok(EnrolmentCode(code))
        } else {
            Err(MalformedCode)
        }
    }

    /// The code as staff type it: `ABCDE-FGHJK`.
    pub fn expose(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// What the collector stores and looks up.
    pub fn hash(&self) -> String {
        hash_text(&self.0)
    }
}

impl fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnrolmentCode(<redacted>)")
    }
}

/// The SHA-256 of any presented token, in hex: a wrong or malformed token simply finds nothing.
pub fn hash_text(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_parse_and_differ() {
        let a = Credential::generate(Kind::Device);
        let b = Credential::generate(Kind::Device);
        assert_ne!(a, b);
        assert_eq!(Credential::parse(a.expose(), Kind::Device), Ok(a.clone()));
        assert!(Credential::parse(a.expose(), Kind::Admin).is_err());
        assert!(Credential::parse(&format!(" {}\n", a.expose()), Kind::Device).is_ok());
        assert!(Credential::parse("cesd_1234", Kind::Device).is_err());
        assert!(Credential::parse(&a.expose().to_uppercase(), Kind::Device).is_err());
    }

    #[test]
    fn the_secret_never_shows_in_debug_or_errors() {
        let c = Credential::generate(Kind::Admin);
        assert!(!format!("{c:?}").contains(&c.expose()[5..]));
        let e = Credential::parse("cesa_secret-typo", Kind::Admin).unwrap_err();
        assert!(!e.to_string().contains("secret-typo"), "{e}");
    }

    #[test]
    fn enrolment_codes_are_read_as_typed() {
        let code = EnrolmentCode::generate();
        let shown = code.expose();
        assert_eq!(shown.len(), 11);
        assert_eq!(&shown[5..6], "-");
        assert_eq!(EnrolmentCode::parse(&shown), Ok(code.clone()));
        let typed = format!(" {} ", shown.to_lowercase().replace('-', " "));
        assert_eq!(
            EnrolmentCode::parse(&typed).map(|c| c.hash()),
            Ok(code.hash())
        );
        assert_ne!(EnrolmentCode::generate(), code);
        for bad in [
            "",
            "ABCDE-FGHJ",
            "ABCDE-FGHJKM",
            "ABCDE-FGHJ0",
            "OBCDE-FGHJK",
            "ABCDE_FGHJK",
        ] {
            assert_eq!(EnrolmentCode::parse(bad), Err(MalformedCode), "{bad}");
        }
        assert!(!format!("{code:?}").contains(&shown[..5]));
    }

    #[test]
    fn the_hash_is_sha256_hex() {
        assert_eq!(
            hash_text("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let c = Credential::generate(Kind::Device);
        assert_eq!(c.hash(), hash_text(c.expose()));
    }
}
