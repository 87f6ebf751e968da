//! Password hashing (argon2id), a bound on concurrent hash computations, and per-user+address
//! failure rate limiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use graphward_core::{Error, Result};

/// Longest password accepted (argon2 takes any length; this bounds the work a client causes).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Random bytes from the system generator.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    use aws_lc_rs::rand::SecureRandom;
    let mut buf = vec![0u8; n];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| Error::internal("the system random generator failed"))?;
    Ok(buf)
}

/// A random password: 24 characters from an unambiguous alphabet (about 135 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let bytes = random_bytes(64)?;
    // Rejection sampling keeps the distribution uniform.
    let limit = 256 - (256 % ALPHABET.len());
    let out: String = bytes
        .iter()
        .filter(|b| (**b as usize) < limit)
        .take(24)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    if out.len() < 24 {
        return generate_password();
    }
    Ok(out)
}

/// Hash a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane).
pub fn hash_password(password: &str) -> Result<String> {
    check_password_policy(password)?;
    let salt = SaltString::encode_b64(&random_bytes(16)?)
        .map_err(|e| Error::internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// Passwords must be 8 to 1024 bytes.
pub fn check_password_policy(password: &str) -> Result<()> {
    if password.len() < 8 {
        return Err(Error::argument(
            "a password must be at least 8 characters long",
        ));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::argument(format!(
            "a password must be at most {MAX_PASSWORD_LEN} bytes long"
        )));
    }
    Ok(())
}

/// Verify `password` against a PHC string; a malformed hash counts as a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Bounds how many hashes run at once, so that a storm of logins leaves cores for queries.
pub struct HashGate {
    max: usize,
    busy: Mutex<usize>,
    freed: Condvar,
}

impl HashGate {
    pub fn new(max: usize) -> Self {
        HashGate {
            max: max.max(1),
            busy: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Run `f` once a slot is free.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        if let Ok(mut busy) = self.busy.lock() {
            while *busy >= self.max {
                busy = match self.freed.wait(busy) {
                    Ok(b) => b,
                    Err(p) => p.into_inner(),
                };
            }
            *busy += 1;
        }
        let out = f();
        if let Ok(mut busy) = self.busy.lock() {
            *busy = busy.saturating_sub(1);
        }
        self.freed.notify_one();
        out
    }
}

/// Failed logins per (user, address): after `free_failures` failures the next attempt must
/// wait, doubling from one second up to `max_delay`. A success clears the entry.
pub struct RateLimiter {
    free_failures: u32,
    max_delay: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<(String, Option<IpAddr>), Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    blocked_until: Option<Instant>,
    last: Instant,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(5, Duration::from_secs(300))
    }
}

impl RateLimiter {
    pub fn new(free_failures: u32, max_delay: Duration) -> Self {
        RateLimiter {
            free_failures,
            max_delay,
            max_entries: 100_000,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while the pair is locked out.
    pub fn check(&self, user: &str, addr: Option<IpAddr>) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let Ok(map) = self.entries.lock() else {
            return Ok(());
        };
        match map
            .get(&(user.to_string(), addr))
            .and_then(|e| e.blocked_until)
        {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    pub fn failure(&self, user: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= self.max_entries {
            // Forget entries idle for longer than the longest delay, then the oldest half.
            let horizon = self.max_delay;
            map.retain(|_, e| now.duration_since(e.last) < horizon);
            if map.len() >= self.max_entries {
                let mut lasts: Vec<Instant> = map.values().map(|e| e.last).collect();
                lasts.sort();
                if let Some(cut) = lasts.get(lasts.len() / 2).copied() {
                    map.retain(|_, e| e.last > cut);
                }
            }
        }
        let e = map.entry((user.to_string(), addr)).or_insert(Entry {
            failures: 0,
            blocked_until: None,
            last: now,
        });
        // A pair quiet for longer than the longest delay starts over.
        if now.duration_since(e.last) > self.max_delay {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last = now;
        if e.failures >= self.free_failures {
            let exp = (e.failures - self.free_failures).min(20);
            let delay = Duration::from_secs(1u64 << exp).min(self.max_delay);
            e.blocked_until = Some(now + delay);
        }
    }

    pub fn success(&self, user: &str, addr: Option<IpAddr>) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(&(user.to_string(), addr));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse!", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }

    #[test]
    fn rate_limit_after_failures() {
        let r = RateLimiter::new(3, Duration::from_secs(60));
        let ip: Option<IpAddr> = "127.0.0.1".parse().ok();
        for _ in 0..2 {
            r.failure("u", ip);
            assert!(r.check("u", ip).is_ok());
        }
        r.failure("u", ip);
        assert!(r.check("u", ip).is_err());
        assert!(r.check("u", None).is_ok());
        assert!(r.check("v", ip).is_ok());
        r.success("u", ip);
        assert!(r.check("u", ip).is_ok());
    }
}

/// How long a verified password is remembered (Neo4j's `dbms.security.auth_cache_ttl` default).
pub const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(600);
/// Most users remembered at once; beyond, the cache starts over.
const CREDENTIAL_CACHE_MAX: usize = 10_000;

/// Remembers passwords that verified recently, so a client that sends Basic credentials with
/// every HTTP request pays argon2id once per [`CREDENTIAL_CACHE_TTL`], not per request (what
/// Neo4j's auth cache does).
///
/// Only successes are remembered: a wrong password always costs a full argon2id check. The
/// cache holds, per user, an HMAC-SHA-256 (under a random key made at start and never stored)
/// of the user name, the password and the user's current PHC hash string, so a password change
/// (a new hash) or a dropped user invalidates the entry by itself; the password itself is never
/// kept.
pub struct CredentialCache {
    key: aws_lc_rs::hmac::Key,
    ttl: Duration,
    entries: Mutex<HashMap<String, (Vec<u8>, Instant)>>,
}

impl CredentialCache {
    pub fn new(ttl: Duration) -> Result<Self> {
        let secret = random_bytes(32)?;
        Ok(CredentialCache {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
            ttl,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn digest(&self, user: &str, password: &str, phc: &str) -> Vec<u8> {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.key);
        for part in [user, password, phc] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        ctx.sign().as_ref().to_vec()
    }

    /// Whether this exact (user, password, hash) verified within the TTL.
    pub fn hit(&self, user: &str, password: &str, phc: &str) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let d = self.digest(user, password, phc);
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        match entries.get(user) {
            // Constant-time comparison of the digests.
            Some((known, at)) => {
                at.elapsed() < self.ttl
                    && aws_lc_rs::constant_time::verify_slices_are_equal(known, &d).is_ok()
            }
            None => false,
        }
    }

    /// Remember a password that just verified against `phc`.
    pub fn remember(&self, user: &str, password: &str, phc: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let d = self.digest(user, password, phc);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CREDENTIAL_CACHE_MAX && !entries.contains_key(user) {
                entries.clear();
            }
            entries.insert(user.to_string(), (d, Instant::now()));
        }
    }
}

#[cfg(test)]
mod credential_cache_tests {
    use super::*;

    #[test]
    fn remembers_successes_only_and_follows_the_hash() {
        let c = CredentialCache::new(Duration::from_secs(60)).unwrap();
        assert!(!c.hit("alice", "pw-1", "$argon2id$h1"));
        c.remember("alice", "pw-1", "$argon2id$h1");
        assert!(c.hit("alice", "pw-1", "$argon2id$h1"));
        assert!(!c.hit("alice", "pw-2", "$argon2id$h1"), "another password");
        assert!(
            !c.hit("alice", "pw-1", "$argon2id$h2"),
            "the password changed"
        );
        assert!(!c.hit("bob", "pw-1", "$argon2id$h1"), "another user");
        // user/password boundaries cannot be shifted
        c.remember("ab", "c", "h");
        assert!(!c.hit("a", "bc", "h"));
        let off = CredentialCache::new(Duration::ZERO).unwrap();
        off.remember("alice", "pw-1", "h");
        assert!(!off.hit("alice", "pw-1", "h"));
        let short = CredentialCache::new(Duration::from_millis(1)).unwrap();
        short.remember("alice", "pw-1", "h");
        std::thread::sleep(Duration::from_millis(5));
        assert!(!short.hit("alice", "pw-1", "h"));
    }
}
