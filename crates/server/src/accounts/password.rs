//! Password hashing with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Hashes `password` into a PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub fn verify_phc(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same time as checking a real password, for logins with an unknown email, so that
/// response times do not reveal which emails have accounts.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("partlogic-dummy-password").unwrap_or_default());
    let _ = verify_phc(password, phc);
}

/// A turn at the password checker: at most `permits` checks run at once (each holds about
/// 19 MiB for tens of milliseconds), so a flood of logins queues here instead of exhausting
/// memory. A turn that does not come within 10 seconds is answered 503 `server_busy`.
pub(crate) async fn check_permit(
    permits: &tokio::sync::Semaphore,
) -> Result<tokio::sync::SemaphorePermit<'_>, crate::error::ApiError> {
    tokio::time::timeout(std::time::Duration::from_secs(10), permits.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(crate::error::ApiError::Busy(5))
}

/// A turn at whichever of two password checkers comes free first (`first` when both are), with
/// the same 10-second bound as [`check_permit`]: a trusted browser takes its own turn or any
/// other, so one busy lane never holds it up.
pub(crate) async fn check_permit_either<'a>(
    first: &'a tokio::sync::Semaphore,
    second: &'a tokio::sync::Semaphore,
) -> Result<tokio::sync::SemaphorePermit<'a>, crate::error::ApiError> {
    let either = async {
        tokio::select! {
            biased;
            p = first.acquire() => p,
            p = second.acquire() => p,
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), either)
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(crate::error::ApiError::Busy(5))
}

/// Checks `password` against `phc` (or spends the same time when there is no such user) on the
/// blocking pool, off the request workers. Hold a [`check_permit`] while calling it.
pub(crate) async fn verify(
    password: String,
    phc: Option<String>,
) -> Result<bool, crate::error::ApiError> {
    actix_web::web::block(move || match phc {
        Some(phc) => verify_phc(&password, &phc),
        None => {
            verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(|e| crate::error::ApiError::Internal(format!("password check: {e}")))
}
