//! What storage keeps of the people who use the dashboard: accounts with a role and, for a
//! viewer, the sites they may see; one-time setup codes; login failures and lockouts; and
//! sessions. Secrets are stored only as hashes (Argon2id for passwords, SHA-256 for codes
//! and session ids).

/// What a person may do: an admin sees and manages everything, a viewer reads the sites
/// they are bound to (all sites when bound to none).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A new account, with the hash of the one-time code that sets its password.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub sites: Vec<String>,
    pub setup_hash: String,
    pub setup_expires_ms: i64,
    pub at_ms: i64,
}

/// An account as `user list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub sites: Vec<String>,
    pub has_password: bool,
    /// A setup code is waiting to be used (until this time).
    pub setup_expires_ms: Option<i64>,
    pub disabled: bool,
    pub locked_until_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// What a login needs to know of the account it names.
#[derive(Clone, Debug)]
pub struct LoginAccount {
    pub id: i64,
    pub password_phc: Option<String>,
    pub disabled: bool,
    pub locked_until_ms: Option<i64>,
}

/// How a failed login leaves the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Still open; this many failures in a row so far.
    Counted(u32),
    /// Locked until this time.
    Locked(i64),
}

/// Whether a setup code set a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setup {
    /// The password of this account is set; the code is used up.
    Done { name: String },
    /// No such code (never made, used already, or replaced by a reset).
    Unknown,
    /// The code expired.
    Expired,
}

/// A new session: the hash of the cookie's value, its CSRF token and its end.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf: String,
    pub at_ms: i64,
    pub expires_ms: i64,
}

/// The person behind a valid session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionUser {
    pub name: String,
    pub role: Role,
    /// The sites a viewer is bound to; empty for all sites.
    pub sites: Vec<String>,
    pub csrf: String,
    pub expires_ms: i64,
}
