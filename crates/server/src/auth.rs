//! Who may do what: bearer tokens, each with one role scoped to a subtree
//! of the tenancy tree (operator -> lessee -> tenant -> project).
//!
//! A token is `abl_<id>_<secret>`: the id is public (lists, revocation,
//! the audit log name it), the secret is 32 random bytes from the OS and
//! is shown once; only its SHA-256 is kept, and a presented secret is
//! compared with it in constant time. A high-entropy secret needs no slow
//! password hash: nobody can guess 2^256 inputs, so a fast hash loses
//! nothing and keeps authentication off the request's critical path.
//!
//! This module decides; it does no I/O. The writer makes token changes
//! durable, the API's auth layer asks [`Tokens::authenticate`].

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a role may do. A role is a fixed set of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read jobs, tenancy and events of the subtree.
    Read,
    /// Submit and cancel jobs in the subtree.
    Submit,
    /// Create, change and retire tenant nodes below the scope.
    Tenancy,
    /// Create, list and revoke tokens at or below the scope.
    Tokens,
    /// Drain, resume, repair, power caps, reservations: the campus's
    /// hardware, and its inventory beyond the caller's own jobs.
    Hardware,
    /// Read the audit log of the subtree.
    Audit,
}

/// The roles of the security model (SECURITY.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// All of the campus: hardware, power, every tenant. Scope: the root.
    OperatorAdmin,
    /// A lessee's subtree: tenants and their quotas within its guarantee.
    LesseeAdmin,
    /// A tenant's subtree: projects, quotas inside its share, its tokens.
    TenantAdmin,
    /// Submits and cancels jobs in its subtree, reads it.
    Submitter,
    /// Reads its subtree.
    Viewer,
    /// Reads the audit log of its subtree.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::OperatorAdmin,
        Role::LesseeAdmin,
        Role::TenantAdmin,
        Role::Submitter,
        Role::Viewer,
        Role::Auditor,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::OperatorAdmin => "operator-admin",
            Role::LesseeAdmin => "lessee-admin",
            Role::TenantAdmin => "tenant-admin",
            Role::Submitter => "submitter",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == s)
    }

    pub fn can(self, a: Action) -> bool {
        use Action::*;
        match self {
            Role::OperatorAdmin => true,
            Role::LesseeAdmin | Role::TenantAdmin => {
                matches!(a, Read | Submit | Tenancy | Tokens)
            }
            Role::Submitter => matches!(a, Read | Submit),
            Role::Viewer => matches!(a, Read),
            Role::Auditor => matches!(a, Audit),
        }
    }

    fn rank(self) -> u8 {
        match self {
            Role::OperatorAdmin => 5,
            Role::LesseeAdmin => 4,
            Role::TenantAdmin => 3,
            Role::Submitter => 2,
            Role::Viewer | Role::Auditor => 1,
        }
    }

    /// Whether a holder of `self` may make a token of `role`: never a
    /// higher role, never one that can do something `self` cannot (an
    /// admin of a tenant cannot mint an auditor: it cannot read the audit
    /// log itself).
    pub fn may_grant(self, role: Role) -> bool {
        const EVERY: [Action; 6] = [
            Action::Read,
            Action::Submit,
            Action::Tenancy,
            Action::Tokens,
            Action::Hardware,
            Action::Audit,
        ];
        self.can(Action::Tokens)
            && role.rank() <= self.rank()
            && EVERY.iter().all(|&a| !role.can(a) || self.can(a))
    }
}

/// Longest token name.
pub const MAX_TOKEN_NAME: usize = 128;
/// Most tokens a store holds, revoked ones included: bounds the registry.
pub const MAX_TOKENS: usize = 100_000;
/// Longest lifetime a token may be given: ten years, in seconds.
pub const MAX_EXPIRES_S: u64 = 10 * 366 * 86_400;

const PREFIX: &str = "abl_";
const ID_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;

/// A token as stored: everything but its secret, of which only the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The tenant node whose subtree the token reaches; None: the whole
    /// campus (the operator's).
    pub scope: Option<String>,
    /// Wall-clock ms since the epoch.
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
    pub revoked_ms: Option<u64>,
    /// The id of the token that created it; None for the first.
    pub created_by: Option<String>,
    /// SHA-256 of the secret, hex.
    pub hash: String,
}

impl TokenRecord {
    /// Neither revoked nor expired at `now_ms`: the one definition the
    /// guard, open event streams and the last-operator rule all use.
    pub fn live(&self, now_ms: u64) -> bool {
        self.revoked_ms.is_none() && self.expires_ms.is_none_or(|e| now_ms < e)
    }
}

/// A new token: the record to store and the string shown once.
pub struct Minted {
    pub record: TokenRecord,
    pub token: String,
}

/// Makes a token from the OS's randomness.
pub fn mint(
    name: &str,
    role: Role,
    scope: Option<String>,
    now_ms: u64,
    expires_ms: Option<u64>,
    created_by: Option<String>,
) -> Result<Minted, String> {
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id).map_err(|e| format!("the OS gave no randomness: {e}"))?;
    getrandom::fill(&mut secret).map_err(|e| format!("the OS gave no randomness: {e}"))?;
    let id = hex(&id);
    let secret = hex(&secret);
    Ok(Minted {
        record: TokenRecord {
            id: id.clone(),
            name: name.to_string(),
            role,
            scope,
            created_ms: now_ms,
            expires_ms,
            revoked_ms: None,
            created_by,
            hash: hash_secret(&secret),
        },
        token: format!("{PREFIX}{id}_{secret}"),
    })
}

/// Lower-case hex of `b`. By table, not `format!` per byte: hashes are
/// written in hex on every request (the token's, the request's, the audit
/// chain's), and formatting was a fifth of a submission's instructions.
pub(crate) fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(b.len() * 2);
    for &x in b {
        out.push(char::from(DIGITS[usize::from(x >> 4)]));
        out.push(char::from(DIGITS[usize::from(x & 0xf)]));
    }
    out
}

fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Why a presented token was refused (all answer 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Not a token of this server, or a wrong secret.
    Invalid,
    Expired,
    Revoked,
}

impl Refused {
    pub fn code(self) -> &'static str {
        match self {
            Refused::Missing => "unauthenticated",
            Refused::Invalid => "bad_token",
            Refused::Expired => "token_expired",
            Refused::Revoked => "token_revoked",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Refused::Missing => "send `Authorization: Bearer <token>`",
            Refused::Invalid => "the token is not one of this server's",
            Refused::Expired => "the token has expired",
            Refused::Revoked => "the token has been revoked",
        }
    }
}

/// Every token the server knows, by id.
#[derive(Debug, Default, Clone)]
pub struct Tokens {
    by_id: HashMap<String, TokenRecord>,
}

impl Tokens {
    pub fn new(records: Vec<TokenRecord>) -> Tokens {
        Tokens {
            by_id: records.into_iter().map(|r| (r.id.clone(), r)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&TokenRecord> {
        self.by_id.get(id)
    }

    /// Puts a new or changed record (a revocation) in place.
    pub fn put(&mut self, r: TokenRecord) {
        self.by_id.insert(r.id.clone(), r);
    }

    pub fn all(&self) -> impl Iterator<Item = &TokenRecord> {
        self.by_id.values()
    }

    /// Operator-admin tokens neither revoked nor expired at `now_ms`.
    pub fn live_operators(&self, now_ms: u64) -> usize {
        self.by_id
            .values()
            .filter(|t| t.role == Role::OperatorAdmin && t.live(now_ms))
            .count()
    }

    /// The record of a presented token, if it is valid at `now_ms`.
    /// The secret is compared in constant time; a wrong id and a wrong
    /// secret are refused alike.
    pub fn authenticate(&self, presented: &str, now_ms: u64) -> Result<&TokenRecord, Refused> {
        let rest = presented.strip_prefix(PREFIX).ok_or(Refused::Invalid)?;
        let (id, secret) = rest.split_once('_').ok_or(Refused::Invalid)?;
        let record = self.by_id.get(id).ok_or(Refused::Invalid)?;
        let given = hash_secret(secret);
        if !bool::from(given.as_bytes().ct_eq(record.hash.as_bytes())) {
            return Err(Refused::Invalid);
        }
        if record.revoked_ms.is_some() {
            return Err(Refused::Revoked);
        }
        if record.expires_ms.is_some_and(|e| now_ms >= e) {
            return Err(Refused::Expired);
        }
        Ok(record)
    }
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: Option<&[u8]>) -> Result<&str, Refused> {
    let v = header.ok_or(Refused::Missing)?;
    let v = std::str::from_utf8(v).map_err(|_| Refused::Invalid)?;
    let (scheme, token) = v.trim().split_once(' ').ok_or(Refused::Invalid)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refused::Missing);
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_minted_token_authenticates_and_nothing_near_it_does() {
        let m = mint("t", Role::Viewer, Some("openai".into()), 1_000, None, None).unwrap();
        let tokens = Tokens::new(vec![m.record.clone()]);
        assert_eq!(
            tokens.authenticate(&m.token, 2_000).unwrap().id,
            m.record.id
        );
        // One character of the secret changed.
        let mut wrong = m.token.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert_eq!(tokens.authenticate(&wrong, 2_000), Err(Refused::Invalid));
        assert_eq!(
            tokens.authenticate("abl_nope", 2_000),
            Err(Refused::Invalid)
        );
        assert_eq!(tokens.authenticate("", 2_000), Err(Refused::Invalid));
        // The stored record holds no secret.
        assert!(!m.token.contains(&m.record.hash));
        let secret = m.token.rsplit('_').next().unwrap();
        assert!(!format!("{:?}", m.record).contains(secret));
    }

    #[test]
    fn expired_and_revoked_tokens_are_refused_at_once() {
        let m = mint("t", Role::Viewer, None, 1_000, Some(5_000), None).unwrap();
        let mut tokens = Tokens::new(vec![m.record.clone()]);
        assert!(tokens.authenticate(&m.token, 4_999).is_ok());
        assert_eq!(tokens.authenticate(&m.token, 5_000), Err(Refused::Expired));
        let mut r = m.record.clone();
        r.revoked_ms = Some(2_000);
        tokens.put(r);
        assert_eq!(tokens.authenticate(&m.token, 3_000), Err(Refused::Revoked));
    }

    #[test]
    fn roles_grant_only_what_they_hold() {
        use Role::*;
        assert!(OperatorAdmin.may_grant(Auditor));
        assert!(!TenantAdmin.may_grant(Auditor));
        assert!(!TenantAdmin.may_grant(LesseeAdmin));
        assert!(LesseeAdmin.may_grant(TenantAdmin));
        assert!(TenantAdmin.may_grant(Submitter));
        assert!(
            !Submitter.may_grant(Viewer),
            "a submitter cannot make tokens"
        );
        assert!(!Viewer.may_grant(Viewer));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()), Some(r));
        }
        assert!(!Viewer.can(Action::Submit));
        assert!(!Auditor.can(Action::Read));
        assert!(!LesseeAdmin.can(Action::Hardware));
    }

    #[test]
    fn bearer_headers_read_as_rfc_6750_says() {
        assert_eq!(bearer(Some(b"Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some(b"bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(None), Err(Refused::Missing));
        assert_eq!(bearer(Some(b"Basic abc")), Err(Refused::Missing));
        assert_eq!(bearer(Some(b"Bearer")), Err(Refused::Invalid));
    }
}
