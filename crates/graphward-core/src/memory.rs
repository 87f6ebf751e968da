//! Memory accounting for queries: a server-wide [`MemoryPool`] shared by every query, a
//! per-query [`QueryMemory`] charged against it, and [`Reservation`]s that operators and
//! expression evaluation grow before they allocate and that give their bytes back when dropped.
//!
//! The executor charges an estimate of every allocation it makes on behalf of a query
//! (intermediate rows, sort/aggregation/collect/distinct state, and values built inside
//! expressions: strings, lists, maps, paths) *before* it allocates. Past the query's limit or
//! the pool's, the charge fails with `Neo.TransientError.General.MemoryPoolOutOfMemoryError`
//! and the query ends cleanly; the process never aborts on a client's query.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, ErrorCode, Result};

/// The memory all running queries together may hold (`limits.max_total_query_memory`).
#[derive(Debug)]
pub struct MemoryPool {
    limit: u64,
    used: AtomicU64,
}

impl MemoryPool {
    pub fn new(limit: u64) -> Arc<MemoryPool> {
        Arc::new(MemoryPool {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// Bytes currently charged by all queries.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn try_grow(&self, n: u64) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|x| *x <= self.limit) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    fn shrink(&self, n: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(n))
            });
    }
}

/// One query's account: its own limit (`limits.max_query_memory`) and the server's pool.
/// Dropping it gives back to the pool whatever the query still held.
#[derive(Debug)]
pub struct QueryMemory {
    pool: Arc<MemoryPool>,
    limit: u64,
    used: AtomicU64,
    peak: AtomicU64,
}

impl QueryMemory {
    pub fn new(limit: u64, pool: Arc<MemoryPool>) -> Arc<QueryMemory> {
        Arc::new(QueryMemory {
            pool,
            limit,
            used: AtomicU64::new(0),
            peak: AtomicU64::new(0),
        })
    }

    /// An account with only a per-query limit (tests and tools): its own private pool.
    pub fn standalone(limit: u64) -> Arc<QueryMemory> {
        Self::new(limit, MemoryPool::new(u64::MAX))
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The most this query held at once.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Charge `n` bytes, or fail (charging nothing) if the query's limit or the pool's
    /// would be exceeded.
    pub fn try_grow(&self, n: u64) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let next = match cur.checked_add(n) {
                Some(x) if x <= self.limit => x,
                _ => return Err(self.query_limit_error(cur.saturating_add(n))),
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    break;
                }
                Err(actual) => cur = actual,
            }
        }
        if !self.pool.try_grow(n) {
            self.release(n);
            return Err(self.pool_limit_error(n));
        }
        Ok(())
    }

    /// Give back `n` bytes charged earlier.
    pub fn shrink(&self, n: u64) {
        if n == 0 {
            return;
        }
        let released = self.release(n);
        self.pool.shrink(released);
    }

    fn release(&self, n: u64) -> u64 {
        let mut released = 0;
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                released = c.min(n);
                Some(c - released)
            });
        released
    }

    fn query_limit_error(&self, wanted: u64) -> Error {
        Error::new(
            ErrorCode::MemoryLimit,
            format!(
                "the query needs more memory than its limit of {} (it would hold about {}); raise \
                 limits.max_query_memory (--max-query-memory, GRAPHWARD_MAX_QUERY_MEMORY) or make \
                 the query hold less",
                human_bytes(self.limit),
                human_bytes(wanted)
            ),
        )
    }

    fn pool_limit_error(&self, n: u64) -> Error {
        Error::new(
            ErrorCode::MemoryLimit,
            format!(
                "the server's memory for running queries is exhausted (limit {}, in use {}, this \
                 query asked for {} more); retry later, or raise limits.max_total_query_memory \
                 (--max-total-query-memory, GRAPHWARD_MAX_TOTAL_QUERY_MEMORY)",
                human_bytes(self.pool.limit()),
                human_bytes(self.pool.used()),
                human_bytes(n)
            ),
        )
    }
}

impl Drop for QueryMemory {
    fn drop(&mut self) {
        let left = self.used.swap(0, Ordering::Relaxed);
        self.pool.shrink(left);
    }
}

/// A part of a query's account held by one operator or one evaluation: grows before the
/// holder allocates, and gives its bytes back when dropped.
#[derive(Debug)]
pub struct Reservation {
    mem: Arc<QueryMemory>,
    size: AtomicU64,
}

impl Reservation {
    pub fn new(mem: &Arc<QueryMemory>) -> Reservation {
        Reservation {
            mem: mem.clone(),
            size: AtomicU64::new(0),
        }
    }

    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Relaxed)
    }

    pub fn grow(&self, n: u64) -> Result<()> {
        self.mem.try_grow(n)?;
        self.size.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    pub fn shrink(&self, n: u64) {
        let mut released = 0;
        let _ = self
            .size
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                released = c.min(n);
                Some(c - released)
            });
        self.mem.shrink(released);
    }

    /// Set the reservation to `n` bytes (growing may fail; shrinking never does).
    pub fn resize(&self, n: u64) -> Result<()> {
        let cur = self.size();
        if n > cur {
            self.grow(n - cur)
        } else {
            self.shrink(cur - n);
            Ok(())
        }
    }

    pub fn free(&self) {
        self.shrink(u64::MAX);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.free();
    }
}

/// `1.5 GiB`, `64 MiB`, `512 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn query_limit_refuses_and_charges_nothing() {
        let pool = MemoryPool::new(1000);
        let q = QueryMemory::new(100, pool.clone());
        q.try_grow(60).unwrap();
        let e = q.try_grow(50).unwrap_err();
        assert_eq!(e.code, ErrorCode::MemoryLimit);
        assert_eq!(q.used(), 60);
        assert_eq!(pool.used(), 60);
        q.shrink(60);
        assert_eq!(pool.used(), 0);
    }

    #[test]
    fn pool_limit_is_shared_between_queries() {
        let pool = MemoryPool::new(100);
        let a = QueryMemory::new(80, pool.clone());
        let b = QueryMemory::new(80, pool.clone());
        a.try_grow(70).unwrap();
        let e = b.try_grow(40).unwrap_err();
        assert_eq!(e.code, ErrorCode::MemoryLimit);
        assert_eq!(b.used(), 0);
        b.try_grow(30).unwrap();
        assert_eq!(pool.used(), 100);
        drop(a);
        assert_eq!(pool.used(), 30);
        b.try_grow(40).unwrap();
    }

    #[test]
    fn reservations_give_back_on_drop_and_resize() {
        let pool = MemoryPool::new(1 << 20);
        let q = QueryMemory::new(1000, pool.clone());
        {
            let r = Reservation::new(&q);
            r.grow(500).unwrap();
            r.resize(800).unwrap();
            assert_eq!(q.used(), 800);
            assert!(r.resize(2000).is_err());
            assert_eq!(q.used(), 800);
            r.resize(100).unwrap();
            assert_eq!(q.used(), 100);
        }
        assert_eq!(q.used(), 0);
        assert_eq!(pool.used(), 0);
        assert_eq!(q.peak(), 800);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(64 << 20), "64 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }
}
