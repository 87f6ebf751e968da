//! Password hashing (argon2id), a bound on concurrent hash computations, and per-user+address
//! failure rate limiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use graphward_core::{Error, ErrorCode, Result};

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

/// Hash a password with argon2id (the crate's defaults: 19 MiB, 2 passes, 1 lane), allocating
/// the working memory for this one call. The server hashes through [`HashGate::hash`], which
/// reuses a bounded pool of buffers instead.
pub fn hash_password(password: &str) -> Result<String> {
    let mut memory = Vec::new();
    hash_password_with(password, &mut memory)
}

/// Largest argon2 memory (in 1 KiB blocks) a stored hash may ask for (256 MiB): a hash beyond
/// is treated as malformed rather than allocated.
const MAX_HASH_BLOCKS: usize = 256 * 1024;

/// Hash with argon2id's default parameters, using (and growing if needed) `memory` as the
/// working area.
fn hash_password_with(password: &str, memory: &mut Vec<Block>) -> Result<String> {
    use base64::Engine as _;
    check_password_policy(password)?;
    let salt = random_bytes(16)?;
    let params = Params::default();
    let mut out = [0u8; 32];
    let blocks = ensure_blocks(memory, params.block_count())
        .ok_or_else(|| Error::internal("argon2 memory"))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, blocks)
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))?;
    // The PHC string format (B64 is standard base64 without padding).
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// The first `n` blocks of `memory`, growing it (once) when it is too small.
fn ensure_blocks(memory: &mut Vec<Block>, n: usize) -> Option<&mut [Block]> {
    if n > MAX_HASH_BLOCKS {
        return None;
    }
    if memory.len() < n {
        memory.resize(n, Block::new());
    }
    memory.get_mut(..n)
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

/// Verify `password` against a PHC string; a malformed hash counts as a mismatch. Allocates
/// the working memory for this one call (see [`HashGate::verify`]).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let mut memory = Vec::new();
    verify_password_with(password, phc, &mut memory)
}

/// Verify using (and growing if needed) `memory` as argon2's working area.
fn verify_password_with(password: &str, phc: &str, memory: &mut Vec<Block>) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm) else {
        return false;
    };
    let version = match h.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let expected = expected.as_bytes();
    let mut out = vec![0u8; expected.len()];
    let Some(blocks) = ensure_blocks(memory, params.block_count()) else {
        return false;
    };
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, blocks)
        .is_err()
    {
        return false;
    }
    aws_lc_rs::constant_time::verify_slices_are_equal(&out, expected).is_ok()
}

/// How the hash gate is sized (`auth.hash_*` settings).
#[derive(Debug, Clone, Copy)]
pub struct HashLimits {
    /// argon2id computations at once (each holds 19 MiB while it runs; the buffers are kept
    /// and reused, so the gate's memory is at most `concurrency` × 19 MiB).
    pub concurrency: usize,
    /// Password checks waiting for a slot, over all clients; beyond, `AuthBusy`.
    pub queue: usize,
    /// Password checks running or waiting for one client address; beyond, `AuthBusy` (so one
    /// address cannot fill the queue and keep others out).
    pub per_address: usize,
    /// Longest wait for a slot; beyond, `AuthBusy`.
    pub max_wait: Duration,
}

impl Default for HashLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        HashLimits {
            concurrency: cores,
            queue: 64,
            per_address: 8,
            max_wait: Duration::from_secs(5),
        }
    }
}

/// Bounds argon2id work: at most `concurrency` hashes run at once, each in a working buffer
/// taken from a pool (allocated once per slot and reused, so a login storm does not pile up
/// memory); a bounded number wait, and at most `per_address` per client address run or wait.
/// Past any bound, or after `max_wait`, the caller gets `AuthBusy` at once: a transient
/// refusal that costs no hash.
pub struct HashGate {
    limits: HashLimits,
    state: Mutex<GateState>,
    freed: Condvar,
}

#[derive(Default)]
struct GateState {
    busy: usize,
    waiting: usize,
    per_address: HashMap<Option<IpAddr>, usize>,
    pool: Vec<Vec<Block>>,
}

/// The refusal when the gate is full.
fn busy_error() -> Error {
    Error::new(
        ErrorCode::AuthBusy,
        "The server is busy checking passwords: try again shortly (or authenticate with a token).",
    )
}

impl HashGate {
    pub fn new(limits: HashLimits) -> Self {
        HashGate {
            limits: HashLimits {
                concurrency: limits.concurrency.max(1),
                per_address: limits.per_address.max(1),
                ..limits
            },
            state: Mutex::new(GateState::default()),
            freed: Condvar::new(),
        }
    }

    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// Hash a new password (policy checked) through the gate.
    pub fn hash(&self, password: &str, addr: Option<IpAddr>) -> Result<String> {
        check_password_policy(password)?;
        self.run(addr, |memory| hash_password_with(password, memory))?
    }

    /// Verify a password through the gate.
    pub fn verify(&self, password: &str, phc: &str, addr: Option<IpAddr>) -> Result<bool> {
        self.run(addr, |memory| verify_password_with(password, phc, memory))
    }

    /// Run `f` with a pooled working buffer once a slot is free; `AuthBusy` past the bounds.
    fn run<T>(&self, addr: Option<IpAddr>, f: impl FnOnce(&mut Vec<Block>) -> T) -> Result<T> {
        let lock = || self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut memory = {
            let mut st = lock();
            let mine = st.per_address.get(&addr).copied().unwrap_or(0);
            if mine >= self.limits.per_address {
                return Err(busy_error());
            }
            let must_wait = st.busy >= self.limits.concurrency;
            if must_wait && st.waiting >= self.limits.queue {
                return Err(busy_error());
            }
            *st.per_address.entry(addr).or_insert(0) += 1;
            if must_wait {
                st.waiting += 1;
                let deadline = Instant::now() + self.limits.max_wait;
                while st.busy >= self.limits.concurrency {
                    let now = Instant::now();
                    if now >= deadline {
                        st.waiting -= 1;
                        release_address(&mut st, addr);
                        return Err(busy_error());
                    }
                    st = match self.freed.wait_timeout(st, deadline - now) {
                        Ok((g, _)) => g,
                        Err(p) => p.into_inner().0,
                    };
                }
                st.waiting -= 1;
            }
            st.busy += 1;
            st.pool.pop().unwrap_or_default()
        };
        let out = f(&mut memory);
        {
            let mut st = lock();
            st.busy = st.busy.saturating_sub(1);
            release_address(&mut st, addr);
            // At most one buffer per slot is kept.
            if st.pool.len() < self.limits.concurrency {
                st.pool.push(memory);
            }
        }
        self.freed.notify_one();
        Ok(out)
    }
}

fn release_address(st: &mut GateState, addr: Option<IpAddr>) {
    if let Some(n) = st.per_address.get_mut(&addr) {
        *n -= 1;
        if *n == 0 {
            st.per_address.remove(&addr);
        }
    }
}

/// Failed logins per (user, address): after `free_failures` failures the next attempt from
/// that address must wait, doubling from one second up to `max_delay`. A success clears the
/// entry. Failures from one address never delay the same user from another address.
///
/// Logins for user names that do not exist share one global budget instead
/// ([`RateLimiter::take_unknown`]): `UNKNOWN_USER_BURST` at once, refilled at
/// `UNKNOWN_USER_RATE` per second, so spraying random names cannot keep the hash gate busy.
pub struct RateLimiter {
    free_failures: u32,
    max_delay: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<(String, Option<IpAddr>), Entry>>,
    unknown: Mutex<Bucket>,
}

/// Password checks for unknown users per second, over all clients.
pub const UNKNOWN_USER_RATE: f64 = 20.0;
/// Password checks for unknown users allowed in a burst.
pub const UNKNOWN_USER_BURST: f64 = 100.0;

struct Bucket {
    tokens: f64,
    at: Instant,
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
            unknown: Mutex::new(Bucket {
                tokens: UNKNOWN_USER_BURST,
                at: Instant::now(),
            }),
        }
    }

    /// Take one unit of the global budget for logins naming a user that does not exist;
    /// false when it is spent (the login is refused without a hash).
    pub fn take_unknown(&self) -> bool {
        let mut b = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(b.at).as_secs_f64() * UNKNOWN_USER_RATE;
        b.tokens = (b.tokens + refill).min(UNKNOWN_USER_BURST);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
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
    fn gate_hashes_and_verifies_with_pooled_memory() {
        let gate = HashGate::new(HashLimits {
            concurrency: 1,
            queue: 1,
            per_address: 2,
            max_wait: Duration::from_secs(5),
        });
        let h = gate.hash("correct horse", None).unwrap();
        // The PHC string is the standard one: the argon2 crate verifies it.
        let parsed = PasswordHash::new(&h).unwrap();
        use argon2::PasswordVerifier;
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        assert!(gate.verify("correct horse", &h, None).unwrap());
        assert!(!gate.verify("wrong horse!", &h, None).unwrap());
        // A hash made by the crate itself verifies through the gate.
        let theirs = {
            use argon2::password_hash::{PasswordHasher, SaltString};
            let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
            Argon2::default()
                .hash_password(b"pw-theirs", &salt)
                .unwrap()
                .to_string()
        };
        assert!(gate.verify("pw-theirs", &theirs, None).unwrap());
        assert!(!gate.verify("pw-other", &theirs, None).unwrap());
        assert_eq!(gate.state.lock().unwrap().pool.len(), 1, "one buffer kept");
    }

    #[test]
    fn gate_refuses_past_its_bounds() {
        use std::sync::Arc;
        let gate = Arc::new(HashGate::new(HashLimits {
            concurrency: 1,
            queue: 1,
            per_address: 1,
            max_wait: Duration::from_millis(200),
        }));
        let a: Option<IpAddr> = "127.0.0.1".parse().ok();
        let b: Option<IpAddr> = "127.0.0.2".parse().ok();
        let c: Option<IpAddr> = "127.0.0.3".parse().ok();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let g = gate.clone();
        let holder = std::thread::spawn(move || {
            g.run(a, |_| {
                started_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            })
        });
        started_rx.recv().unwrap();
        // The same address is over its share at once.
        let e = gate.run(a, |_| ()).unwrap_err();
        assert_eq!(e.code, ErrorCode::AuthBusy);
        // Another address waits, then gives up after max_wait.
        let g = gate.clone();
        let waiter = std::thread::spawn(move || g.run(b, |_| ()));
        std::thread::sleep(Duration::from_millis(50));
        // The queue (1) is full: a third address is refused at once.
        assert_eq!(gate.run(c, |_| ()).unwrap_err().code, ErrorCode::AuthBusy);
        assert_eq!(
            waiter.join().unwrap().unwrap_err().code,
            ErrorCode::AuthBusy
        );
        release_tx.send(()).unwrap();
        holder.join().unwrap().unwrap();
        // Everything was released.
        assert!(gate.run(a, |_| ()).is_ok());
        let st = gate.state.lock().unwrap();
        assert_eq!((st.busy, st.waiting, st.per_address.len()), (0, 0, 0));
    }

    #[test]
    fn unknown_user_budget() {
        let r = RateLimiter::default();
        let mut taken = 0;
        while r.take_unknown() {
            taken += 1;
            assert!(taken <= 1000);
        }
        assert!(taken >= UNKNOWN_USER_BURST as i32);
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
    /// Checks in progress, by digest: the same credentials arriving at once (a connection
    /// pool warming up) wait for the first check instead of each hashing.
    flights: Mutex<HashMap<Vec<u8>, Arc<Flight>>>,
}

/// One password check in progress; `None` until it ends (`Some(Err)`: it was refused busy).
#[derive(Default)]
struct Flight {
    outcome: Mutex<Option<std::result::Result<bool, ()>>>,
    done: Condvar,
}

/// How long identical credentials wait for the check in progress.
const FLIGHT_WAIT: Duration = Duration::from_secs(10);

impl CredentialCache {
    pub fn new(ttl: Duration) -> Result<Self> {
        let secret = random_bytes(32)?;
        Ok(CredentialCache {
            key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret),
            ttl,
            entries: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        })
    }

    /// Run `check` for these credentials unless the very same (user, password, hash) is being
    /// checked already: then wait for that check's outcome (at most [`FLIGHT_WAIT`]) and share
    /// it. Different passwords never wait for each other.
    pub fn single_flight(
        &self,
        user: &str,
        password: &str,
        phc: &str,
        check: impl FnOnce() -> Result<bool>,
    ) -> Result<bool> {
        let d = self.digest(user, password, phc);
        let (flight, leader) = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(&d) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight::default());
                    flights.insert(d.clone(), f.clone());
                    (f, true)
                }
            }
        };
        if leader {
            let out = check();
            {
                let mut o = flight.outcome.lock().unwrap_or_else(|p| p.into_inner());
                *o = Some(out.as_ref().map(|ok| *ok).map_err(|_| ()));
            }
            flight.done.notify_all();
            self.flights
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&d);
            return out;
        }
        let deadline = Instant::now() + FLIGHT_WAIT;
        let mut o = flight.outcome.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(outcome) = *o {
                return outcome.map_err(|_| busy_error());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(busy_error());
            }
            o = match flight.done.wait_timeout(o, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
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
    fn identical_credentials_share_one_check() {
        let c = Arc::new(CredentialCache::new(Duration::from_secs(60)).unwrap());
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (c, runs) = (c.clone(), runs.clone());
                std::thread::spawn(move || {
                    c.single_flight("alice", "pw-1", "h", || {
                        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(true)
                    })
                })
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap().unwrap());
        }
        // The first check ran; the others (arriving within 300 ms) shared its outcome.
        assert!(runs.load(std::sync::atomic::Ordering::SeqCst) < 8);
        // Another password is checked on its own, and the map is empty again.
        assert!(!c.single_flight("alice", "pw-2", "h", || Ok(false)).unwrap());
        assert!(c.flights.lock().unwrap().is_empty());
    }

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
