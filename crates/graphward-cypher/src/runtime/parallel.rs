//! Morsel-driven parallel scans: a big label scan split into ranges of node ids (morsels)
//! that this thread and a helper thread take in turn from a shared counter, each folding its
//! morsels' rows into a state of its own; the states come back in the morsels' order, so
//! merging them gives what one thread reading the whole scan in order gives. A thread that
//! is slowed (another query on its core) simply takes fewer morsels.
//!
//! Helpers are bounded server-wide: one fewer than the cores the process may use (none on
//! one core), taken without waiting. A query that finds none runs on its own thread, as
//! every query did before; so does a scan that reads from a write transaction or counts its
//! reads (PROFILE), since only a read snapshot may be read by two threads at once
//! (`GraphRead::shared`). Each helper reads with the query's own limits: the cancel flag and
//! the time limit are checked before every page, the page it holds is charged to the
//! query's memory account, and the first error stops every thread. An aggregate that needs
//! only a page's totals reads none of its rows ([`scan_stats`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use graphward_core::memory::Reservation;
use graphward_core::value::Value;
use graphward_core::{Error, Result};
use graphward_storage::{GraphRead, NodeId};

use super::eval::Env;

/// A scan over fewer ids than this runs on one thread (a helper costs a thread's start,
/// some tens of microseconds, and the scan's first morsel is its own).
pub(crate) const MIN_SPAN: u64 = 1 << 16;
/// A scan of fewer nodes than this (its label's stored count) runs on one thread.
pub(crate) const MIN_NODES: u64 = 1 << 14;
/// Ids per morsel at least; a scan is cut into about [`MORSELS`] of them.
const MIN_MORSEL: u64 = 1 << 14;
const MORSELS: u64 = 32;
/// Ids a helper reads from the storage at a time (as a scan's pages, see `plan::ScanPages`).
const PAGE: usize = 1024;

/// Helper threads in use, server-wide.
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// How many helpers may run at once: one fewer than the cores the process may use.
pub(crate) fn capacity() -> usize {
    static CAP: OnceLock<usize> = OnceLock::new();
    *CAP.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get().saturating_sub(1))
            .unwrap_or(0)
    })
}

/// The right to run one helper thread, given back when dropped.
pub(crate) struct Helper(());

impl Drop for Helper {
    fn drop(&mut self) {
        BUSY.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A helper if one is free now (never waits).
pub(crate) fn helper() -> Option<Helper> {
    let cap = capacity();
    BUSY.fetch_update(Ordering::AcqRel, Ordering::Acquire, |busy| {
        (busy < cap).then_some(busy + 1)
    })
    .ok()
    .map(|_| Helper(()))
}

/// A label scan (every node for `label: None`) over the ids `first..=last`, reading the
/// property `key` with each node.
pub(crate) struct Scan<'a> {
    pub g: &'a (dyn GraphRead + Sync),
    pub env: &'a Env,
    pub label: Option<&'a str>,
    pub key: Option<&'a str>,
    pub first: NodeId,
    pub last: NodeId,
}

/// What one morsel gave: its index, the fold's state, and the rows it read.
struct Done<T> {
    morsel: u64,
    state: T,
    rows: u64,
}

/// A page of a scan: node ids, ascending, each with the value of the property the scan reads
/// with it.
pub(crate) type Page = Vec<(NodeId, Option<Value>)>;

/// Shared between the threads of one scan.
struct Shared<'a, T> {
    scan: &'a Scan<'a>,
    size: u64,
    count: u64,
    next: AtomicU64,
    failed: AtomicBool,
    error: Mutex<Option<Error>>,
    done: Mutex<Vec<Done<T>>>,
}

/// Runs the scan on this thread and `helper`'s: each morsel's rows (pages of ascending
/// ids, each with the value of `key` when the scan reads one) are folded by `fold` into a
/// state `init` makes for it, with a context `worker` makes once per thread (on it). The
/// states, in the order of the morsels (the order of the ids), and the number of rows read.
pub(crate) fn scan<C, T, W, I, F>(
    scan: &Scan<'_>,
    helper: Helper,
    worker: W,
    init: I,
    fold: F,
) -> Result<(Vec<T>, u64)>
where
    T: Send,
    W: Fn() -> C + Sync,
    I: Fn() -> T + Sync,
    F: Fn(&mut C, &mut T, Page) -> Result<()> + Sync,
{
    scan_with(
        scan,
        helper,
        worker,
        init,
        |shared, morsel, held, cx, state| read_morsel(shared, morsel, held, cx, state, &fold),
    )
}

/// [`scan`] for a fold that takes a page's totals ([`GraphRead::node_property_stats`]) as
/// well as its rows: `absorb` is offered each page's totals of `key` (no row or value made)
/// and, when it declines (`false`: a value that is not an integer, an aggregate that needs
/// the rows), the page is read again and its rows handed to `fold`.
pub(crate) fn scan_stats<C, T, W, I, A, F>(
    scan: &Scan<'_>,
    key: &str,
    helper: Helper,
    worker: W,
    init: I,
    absorb: A,
    fold: F,
) -> Result<(Vec<T>, u64)>
where
    T: Send,
    W: Fn() -> C + Sync,
    I: Fn() -> T + Sync,
    A: Fn(&mut T, &graphward_storage::PropertyStats) -> Result<bool> + Sync,
    F: Fn(&mut C, &mut T, Page) -> Result<()> + Sync,
{
    scan_with(
        scan,
        helper,
        worker,
        init,
        |shared, morsel, held, cx, state| {
            let scan = shared.scan;
            morsel_pages(shared, morsel, |after, hi, limit| {
                let st = scan
                    .g
                    .node_property_stats(scan.label, key, after, hi, limit)?;
                if !absorb(state, &st)? {
                    // This page item by item (the same items: ids after `after`, at most
                    // `limit`, none past `hi`).
                    let (page, _) = read_page_within(scan, Some(key), after, hi, limit)?;
                    held.resize(super::plan::page_bytes(&page))?;
                    fold(cx, state, page)?;
                }
                Ok((st.rows, st.last, st.rows == limit))
            })
        },
    )
}

/// Runs the scan, each morsel read by `read` (see [`scan`]).
fn scan_with<C, T, W, I, R>(
    scan: &Scan<'_>,
    helper: Helper,
    worker: W,
    init: I,
    read: R,
) -> Result<(Vec<T>, u64)>
where
    T: Send,
    W: Fn() -> C + Sync,
    I: Fn() -> T + Sync,
    R: Fn(&Shared<'_, T>, u64, &mut Reservation, &mut C, &mut T) -> Result<u64> + Sync,
{
    let span = scan.last.saturating_sub(scan.first).saturating_add(1);
    let size = (span / MORSELS).max(MIN_MORSEL);
    let shared = Shared {
        scan,
        size,
        count: span.div_ceil(size),
        next: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        error: Mutex::new(None),
        done: Mutex::new(Vec::new()),
    };
    let work = || run(&shared, &worker, &init, &read);
    let helped = std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .name("graphward-scan".into())
            .spawn_scoped(s, work);
        work();
        match spawned {
            // A helper that panicked stopped the scan (its morsel is missing).
            Ok(h) => h.join().is_ok(),
            // No thread to be had: this thread took every morsel.
            Err(_) => true,
        }
    });
    drop(helper);
    if let Some(e) = shared.error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e);
    }
    let mut done = shared
        .done
        .into_inner()
        .map_err(|_| Error::internal("a parallel scan's thread failed"))?;
    if !helped || done.len() as u64 != shared.count {
        return Err(Error::internal("a parallel scan's thread failed"));
    }
    done.sort_by_key(|d| d.morsel);
    let rows = done.iter().map(|d| d.rows).sum();
    Ok((done.into_iter().map(|d| d.state).collect(), rows))
}

/// One thread's part: morsels taken in turn until none is left or a thread failed.
fn run<C, T, W, I, R>(shared: &Shared<'_, T>, worker: &W, init: &I, read: &R)
where
    W: Fn() -> C,
    I: Fn() -> T,
    R: Fn(&Shared<'_, T>, u64, &mut Reservation, &mut C, &mut T) -> Result<u64>,
{
    let mut cx = worker();
    let mut held = shared.scan.env.mem.reservation();
    while !shared.failed.load(Ordering::Acquire) {
        let morsel = shared.next.fetch_add(1, Ordering::AcqRel);
        if morsel >= shared.count {
            break;
        }
        let mut state = init();
        match read(shared, morsel, &mut held, &mut cx, &mut state) {
            Ok(rows) => {
                if let Ok(mut d) = shared.done.lock() {
                    d.push(Done {
                        morsel,
                        state,
                        rows,
                    });
                }
            }
            Err(e) => {
                shared.failed.store(true, Ordering::Release);
                if let Ok(mut slot) = shared.error.lock() {
                    slot.get_or_insert(e);
                }
                break;
            }
        }
    }
    held.free();
}

/// The ids of morsel `morsel`: `lo..=hi`.
fn morsel_ids<T>(shared: &Shared<'_, T>, morsel: u64) -> (NodeId, NodeId) {
    let lo = shared
        .scan
        .first
        .saturating_add(morsel.saturating_mul(shared.size));
    (lo, lo.saturating_add(shared.size - 1).min(shared.scan.last))
}

/// Folds the rows of morsel `morsel` (ids `lo..=hi`) into `state`; the rows read.
fn read_morsel<C, T, F>(
    shared: &Shared<'_, T>,
    morsel: u64,
    held: &mut Reservation,
    cx: &mut C,
    state: &mut T,
    fold: &F,
) -> Result<u64>
where
    F: Fn(&mut C, &mut T, Page) -> Result<()>,
{
    let scan = shared.scan;
    morsel_pages(shared, morsel, |after, hi, limit| {
        let (page, full) = read_page_within(scan, scan.key, after, hi, limit)?;
        let (n, last) = (page.len(), page.last().map(|(id, _)| *id));
        held.resize(super::plan::page_bytes(&page))?;
        fold(cx, state, page)?;
        Ok((n, last, full))
    })
}

/// Reads morsel `morsel` a page at a time: `page(after, hi, limit)` takes the next page (at
/// most `limit` items with ids after `after`, none past `hi`) and says how many items it
/// took, the last one's id, and whether the morsel may go on past it (the page was full and
/// did not reach past `hi`). The limits are checked before every page; the items taken.
fn morsel_pages<T>(
    shared: &Shared<'_, T>,
    morsel: u64,
    mut page: impl FnMut(Option<NodeId>, NodeId, usize) -> Result<(usize, Option<NodeId>, bool)>,
) -> Result<u64> {
    let (lo, hi) = morsel_ids(shared, morsel);
    let mut after = lo.checked_sub(1);
    let mut rows = 0u64;
    loop {
        shared.scan.env.check()?;
        if shared.failed.load(Ordering::Acquire) {
            return Ok(rows);
        }
        // No more ids than the morsel has left: a dense scan reads hardly past its end.
        let left = (hi - after.map_or(lo, |a| a + 1)).saturating_add(1);
        let limit = usize::try_from(left).unwrap_or(PAGE).min(PAGE);
        let (n, last, more) = page(after, hi, limit)?;
        rows += n as u64;
        match last {
            Some(id) if more && id < hi => after = Some(id),
            _ => return Ok(rows),
        }
    }
}

/// The page of `scan` after `after` (at most `limit` items, the property `key` with each)
/// without the items past `hi`; whether it was full and reached no item past `hi`.
fn read_page_within(
    scan: &Scan<'_>,
    key: Option<&str>,
    after: Option<NodeId>,
    hi: NodeId,
    limit: usize,
) -> Result<(Page, bool)> {
    let mut page: Page = super::plan::read_page(scan.g, scan.label, key, after, limit)?;
    let full = page.len() == limit;
    let inside = page.partition_point(|(id, _)| *id <= hi);
    let past = inside < page.len();
    page.truncate(inside);
    Ok((page, full && !past))
}
