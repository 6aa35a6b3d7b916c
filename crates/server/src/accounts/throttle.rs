//! Login throttling that a guesser elsewhere cannot turn against the owner.
//!
//! The policy (also in docs/operations.md, "Login throttling"):
//! - A browser that has logged in to an account before carries a *trusted-browser* cookie for it
//!   (signed by the server over the email, the time it was issued and the account's current
//!   password, so it lapses after a year or when the password changes). Its attempts for that
//!   email count only against that cookie: [`PER_TRUSTED_BROWSER`] per window. Nobody else's
//!   failures touch it.
//! - Any other client counts against its email from its network ([`PER_EMAIL_AND_NETWORK`]) and
//!   its network for every email ([`PER_NETWORK`]): hard limits, refused with 429 and
//!   `Retry-After` until the window (15 minutes from its first counted attempt) ends. A network
//!   is an IPv4 address or an IPv6 /64, since one IPv6 client holds a whole /64.
//! - The email from anywhere ([`SLOWDOWN_AFTER`] attempts from untrusted clients) is never a
//!   lock: past it, every untrusted attempt for that email waits a few seconds before its
//!   password is checked. A guesser spread over many networks is slowed; the owner, even on a
//!   browser that never logged in before, still gets in.
//! - Refused attempts are not counted and never move a window, so hammering a locked subject
//!   does not keep it locked. A successful login takes its own attempt back and clears its
//!   email-and-network and trusted-browser counters.
//!
//! State is one row per subject and window, upserted atomically and pruned as windows end, and a
//! subject is stored only as an HMAC under a key the server keeps in its database: a password
//! typed into the email field never lands anywhere in plain text.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use partlogic_entity::{login_throttle, server_secret};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::Sha256;

/// How long a window lasts.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Attempts for one email from one network per window.
pub const PER_EMAIL_AND_NETWORK: i32 = 5;
/// Attempts from one network (any email) per window.
pub const PER_NETWORK: i32 = 30;
/// Attempts for one email from untrusted clients anywhere, per window, before each further one
/// is slowed down.
pub const SLOWDOWN_AFTER: i32 = 10;
/// How long a browser stays trusted after the login that trusted it.
pub const TRUST_DAYS: i64 = 365;
/// Attempts from one trusted browser for its email per window.
pub const PER_TRUSTED_BROWSER: i32 = 10;

const SECRET_NAME: &str = "login_throttle";

/// The server's throttle key: subjects are HMACs under it, and trusted-browser cookies are
/// signed with it. Every instance loads the same key from the database.
#[derive(Clone)]
pub struct Throttle {
    key: [u8; 32],
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Throttle(<key>)")
    }
}

/// One counter an attempt is charged to, and its limit.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    digest: String,
    limit: i32,
    /// Over the limit: refused (a lock) or only slowed down.
    lock: bool,
    /// Cleared on success (rather than just taking this attempt back).
    clear_on_success: bool,
    /// The counter of a trusted browser (the only subject such an attempt has).
    trusted_browser: bool,
}

/// Whether these are a trusted browser's subjects: its attempt is never slowed, and has a
/// password check of its own to wait for.
pub(crate) fn is_trusted(subjects: &[Subject]) -> bool {
    subjects.iter().any(|s| s.trusted_browser)
}

/// What counting an attempt found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counted {
    /// Seconds to wait: a lock's limit was passed (a parallel burst).
    pub wait: Option<u64>,
    /// A slowdown's threshold was passed: check the password only after a pause.
    pub slow: bool,
}

/// The account a login names, as far as the throttle needs it.
pub(crate) struct Account<'a> {
    /// The email, as parsed.
    pub email: &'a str,
    /// The stored password hash, if there is such a user: trusted-browser cookies are bound to
    /// it, so changing the password distrusts every browser.
    pub password_hash: Option<&'a str>,
}

impl Throttle {
    /// Loads the key, making it on first start. Two instances starting at once cannot end up
    /// with different keys: the insert that loses simply does nothing, and both read the winner.
    pub async fn load(db: &impl ConnectionTrait) -> Result<Self, DbErr> {
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| DbErr::Custom(format!("no randomness: {e}")))?;
        server_secret::Entity::insert(server_secret::ActiveModel {
            name: sea_orm::ActiveValue::Set(SECRET_NAME.to_owned()),
            value: sea_orm::ActiveValue::Set(URL_SAFE_NO_PAD.encode(fresh)),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
        let stored = server_secret::Entity::find_by_id(SECRET_NAME.to_owned())
            .one(db)
            .await?
            .ok_or_else(|| DbErr::Custom("the throttle key vanished".to_owned()))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(stored.value.as_bytes())
            .map_err(|_| DbErr::Custom("the stored throttle key is not base64".to_owned()))?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            DbErr::Custom("the stored throttle key has the wrong length".to_owned())
        })?;
        Ok(Self { key })
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length; this cannot fail.
        let Ok(mut m) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return [0; 32];
        };
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    fn subject(&self, kind: &str, parts: &[&[u8]], limit: i32, lock: bool, clear: bool) -> Subject {
        let mut all: Vec<&[u8]> = vec![b"subject", kind.as_bytes()];
        all.extend_from_slice(parts);
        Subject {
            digest: URL_SAFE_NO_PAD.encode(self.mac(&all)),
            limit,
            lock,
            clear_on_success: clear,
            trusted_browser: kind == "browser",
        }
    }

    /// What an attempt to log in to `account` from `ip` is charged to: the trusted-browser
    /// counter if `trusted_browser` is a valid cookie for this account, the untrusted counters
    /// otherwise.
    pub(crate) fn subjects(
        &self,
        account: &Account<'_>,
        ip: Option<IpAddr>,
        trusted_browser: Option<&str>,
        now: DateTime<Utc>,
    ) -> Vec<Subject> {
        if let Some(nonce) = trusted_browser.and_then(|c| self.verify_browser(account, c, now)) {
            return vec![self.subject(
                "browser",
                &[nonce.as_bytes()],
                PER_TRUSTED_BROWSER,
                true,
                true,
            )];
        }
        let email = account.email;
        let network = network_of(ip);
        vec![
            self.subject(
                "email+network",
                &[email.as_bytes(), network.as_bytes()],
                PER_EMAIL_AND_NETWORK,
                true,
                true,
            ),
            self.subject("network", &[network.as_bytes()], PER_NETWORK, true, false),
            self.subject("email", &[email.as_bytes()], SLOWDOWN_AFTER, false, false),
        ]
    }

    fn browser_mac(&self, account: &Account<'_>, issued: &str, nonce: &str) -> Option<[u8; 32]> {
        let hash = account.password_hash?;
        Some(self.mac(&[
            b"browser",
            account.email.as_bytes(),
            issued.as_bytes(),
            nonce.as_bytes(),
            hash.as_bytes(),
        ]))
    }

    /// A new trusted-browser cookie value for `account`: when it was issued, a random nonce, and
    /// the server's MAC over those, the email and the current password hash. It proves only
    /// "this browser logged in to this account, with its current password, within a year".
    pub(crate) fn browser_cookie(
        &self,
        account: &Account<'_>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let mut nonce = [0u8; 18];
        getrandom::fill(&mut nonce).ok()?;
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let issued = now.timestamp().to_string();
        let mac = self.browser_mac(account, &issued, &nonce)?;
        Some(format!("{issued}.{nonce}.{}", URL_SAFE_NO_PAD.encode(mac)))
    }

    /// The cookie's nonce if [`Throttle::browser_cookie`] made it for `account` (as it is now)
    /// less than [`TRUST_DAYS`] ago.
    fn verify_browser(
        &self,
        account: &Account<'_>,
        cookie: &str,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let mut parts = cookie.splitn(3, '.');
        let (issued, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let want = self.browser_mac(account, issued, nonce)?;
        use subtle::ConstantTimeEq;
        if !bool::from(want.as_slice().ct_eq(&mac)) {
            return None;
        }
        let age = now.timestamp() - issued.parse::<i64>().ok()?;
        (-86_400..TRUST_DAYS * 86_400)
            .contains(&age)
            .then(|| nonce.to_owned())
    }
}

/// The network an address belongs to for throttling: the address itself for IPv4, its /64 for
/// IPv6 (an IPv4-mapped IPv6 address counts as the IPv4 one).
pub(crate) fn network_of(ip: Option<IpAddr>) -> String {
    match ip {
        None => "unknown".to_owned(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn seconds_left(window_start: i64, now: i64) -> u64 {
    Ord::max(
        u64::try_from(window_start + WINDOW_SECS - now).unwrap_or(1),
        1,
    )
}

/// Seconds to wait if any locking subject is over its limit now. Reads only: a refused attempt
/// leaves no mark.
pub(crate) async fn locked_for(
    db: &impl ConnectionTrait,
    subjects: &[Subject],
    now: DateTime<Utc>,
) -> Result<Option<u64>, DbErr> {
    let now = now.timestamp();
    let rows = login_throttle::Entity::find()
        .filter(
            login_throttle::Column::Subject
                .is_in(subjects.iter().filter(|s| s.lock).map(|s| s.digest.clone())),
        )
        .filter(login_throttle::Column::WindowStart.gt(now - WINDOW_SECS))
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let limit = subjects.iter().find(|s| s.digest == row.subject)?.limit;
            (row.attempts >= limit).then(|| seconds_left(row.window_start, now))
        })
        .max())
}

/// Counts an attempt against every subject (one atomic upsert each: a window that has ended
/// starts afresh), prunes rows whose window has ended, and says whether a lock's limit was
/// passed (a burst of parallel guesses that all passed [`locked_for`] at once) or a slowdown's.
pub(crate) async fn record(
    db: &impl ConnectionTrait,
    subjects: &[Subject],
    now: DateTime<Utc>,
) -> Result<Counted, DbErr> {
    use login_throttle::Column as C;
    let now = now.timestamp();
    let ended = now - WINDOW_SECS;
    login_throttle::Entity::delete_many()
        .filter(C::WindowStart.lte(ended))
        .exec(db)
        .await?;
    let mut counted = Counted::default();
    for s in subjects {
        let stale = Expr::col((login_throttle::Entity, C::WindowStart)).lte(ended);
        let stmt = Query::insert()
            .into_table(login_throttle::Entity)
            .columns([C::Subject, C::WindowStart, C::Attempts])
            .values([s.digest.clone().into(), now.into(), 1i32.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .on_conflict(
                OnConflict::column(C::Subject)
                    .values([
                        (
                            C::Attempts,
                            Expr::case(stale.clone(), 1i32)
                                .finally(Expr::col((login_throttle::Entity, C::Attempts)).add(1))
                                .into(),
                        ),
                        (
                            C::WindowStart,
                            Expr::case(stale, now)
                                .finally(Expr::col((login_throttle::Entity, C::WindowStart)))
                                .into(),
                        ),
                    ])
                    .to_owned(),
            )
            .returning(Query::returning().columns([C::Attempts, C::WindowStart]))
            .to_owned();
        let row = db
            .query_one(&stmt)
            .await?
            .ok_or_else(|| DbErr::Custom("the throttle upsert returned nothing".to_owned()))?;
        let attempts: i32 = row.try_get("", "attempts")?;
        let window_start: i64 = row.try_get("", "window_start")?;
        if attempts > s.limit {
            if s.lock {
                let left = seconds_left(window_start, now);
                counted.wait = Some(counted.wait.map_or(left, |w: u64| Ord::max(w, left)));
            } else {
                counted.slow = true;
            }
        }
    }
    Ok(counted)
}

/// Takes a counted attempt back from every subject: the server could not check it (busy), so it
/// must not count against anyone.
pub(crate) async fn take_back(
    db: &impl ConnectionTrait,
    subjects: &[Subject],
) -> Result<(), DbErr> {
    use login_throttle::Column as C;
    login_throttle::Entity::update_many()
        .col_expr(C::Attempts, Expr::col(C::Attempts).sub(1))
        .filter(C::Subject.is_in(subjects.iter().map(|s| s.digest.clone())))
        .filter(C::Attempts.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// After a successful login: clears the subjects that belong to this client alone and takes
/// this attempt back from the shared ones.
pub(crate) async fn forgive(db: &impl ConnectionTrait, subjects: &[Subject]) -> Result<(), DbErr> {
    use login_throttle::Column as C;
    let (clear, shared): (Vec<&Subject>, Vec<&Subject>) =
        subjects.iter().partition(|s| s.clear_on_success);
    if !clear.is_empty() {
        login_throttle::Entity::delete_many()
            .filter(C::Subject.is_in(clear.iter().map(|s| s.digest.clone())))
            .exec(db)
            .await?;
    }
    if !shared.is_empty() {
        login_throttle::Entity::update_many()
            .col_expr(C::Attempts, Expr::col(C::Attempts).sub(1))
            .filter(C::Subject.is_in(shared.iter().map(|s| s.digest.clone())))
            .filter(C::Attempts.gt(0))
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle { key: [7; 32] }
    }

    #[test]
    fn ipv6_clients_are_counted_by_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(Some(a)), network_of(Some(b)));
        assert_ne!(network_of(Some(a)), network_of(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(Some(mapped)), "192.0.2.7");
    }

    fn account<'a>(email: &'a str, hash: &'a str) -> Account<'a> {
        Account {
            email,
            password_hash: Some(hash),
        }
    }

    #[test]
    fn browser_cookies_are_bound_to_their_account_password_and_age() {
        let t = throttle();
        let now = Utc::now();
        let a = account("a@x.test", "$argon2id$one");
        let c = t.browser_cookie(&a, now).unwrap();
        assert!(t.verify_browser(&a, &c, now).is_some());
        assert!(
            t.verify_browser(&account("b@x.test", "$argon2id$one"), &c, now)
                .is_none()
        );
        // A new password distrusts every browser.
        assert!(
            t.verify_browser(&account("a@x.test", "$argon2id$two"), &c, now)
                .is_none()
        );
        // So does a year.
        let later = now + chrono::Duration::days(TRUST_DAYS);
        assert!(t.verify_browser(&a, &c, later).is_none());
        let forged = format!("{c}x");
        assert!(t.verify_browser(&a, &forged, now).is_none());
        let unknown = Account {
            email: "a@x.test",
            password_hash: None,
        };
        assert!(t.verify_browser(&unknown, &c, now).is_none());
        assert_eq!(t.subjects(&a, None, Some(&c), now).len(), 1);
        assert_eq!(t.subjects(&unknown, None, Some(&c), now).len(), 3);
    }

    #[test]
    fn subjects_never_hold_the_typed_text() {
        let t = throttle();
        let typed = Account {
            email: "hunter2-typed-as-email",
            password_hash: None,
        };
        for s in t.subjects(&typed, None, None, Utc::now()) {
            assert!(!s.digest.contains("hunter2"));
            assert_eq!(s.digest.len(), 43);
        }
    }
}
