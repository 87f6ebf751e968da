//! Temporal value types. The representations match Bolt's wire structures so the protocol
//! layer can encode them without calendar math. Beside them: the civil calendar on plain
//! integers and zone offsets ([`cal`]), and the canonical text of each value (`Display`,
//! [`format`]).
//!
//! Cypher's temporal semantics (the functions `date(...)`, `duration.between(...)` ...,
//! accessors, arithmetic, comparison, parsing) are the `graphward-temporal` crate.

pub mod cal;
pub mod format;

use crate::error::Result;

/// A calendar date: days since 1970-01-01 (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub days: i64,
}

/// A time of day without a zone: nanoseconds since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    pub nanos: i64,
}

/// A time of day with a UTC offset: local nanoseconds since midnight, and the offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    pub nanos: i64,
    pub offset_seconds: i32,
}

/// A date and time without a zone: local seconds since the epoch plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime {
    pub seconds: i64,
    pub nanos: u32,
}

/// The zone of a [`DateTime`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Zone {
    /// A fixed offset from UTC, in seconds.
    Offset(i32),
    /// A named IANA zone (e.g. `Europe/Stockholm`); the offset in force at the instant is
    /// computed from the tz database.
    Named(String),
}

/// An instant with a zone: UTC seconds since the epoch, nanoseconds, and the zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub seconds: i64,
    pub nanos: u32,
    pub zone: Zone,
}

/// A Cypher duration: months, days, seconds and nanoseconds kept apart (as Bolt does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
    pub seconds: i64,
    pub nanos: i32,
}

impl DateTime {
    /// The UTC offset (seconds east) in force at this instant.
    pub fn offset_seconds(&self) -> i32 {
        cal::offset_at(&self.zone, self.seconds)
    }
}

impl Duration {
    /// Builds a duration, normalising nanoseconds into `0..1_000_000_000` (seconds absorb the
    /// rest), as Neo4j does. Fails if a component overflows.
    pub fn new(months: i64, days: i64, seconds: i64, nanos: i64) -> Result<Duration> {
        Duration::from_parts(months as i128, days as i128, seconds as i128, nanos as i128)
    }

    pub fn from_parts(months: i128, days: i128, seconds: i128, nanos: i128) -> Result<Duration> {
        let ns = cal::NANOS_PER_SECOND as i128;
        let secs = seconds + nanos.div_euclid(ns);
        let n = nanos.rem_euclid(ns);
        let fit =
            |v: i128| -> Result<i64> { i64::try_from(v).map_err(|_| cal::overflow("duration")) };
        Ok(Duration {
            months: fit(months)?,
            days: fit(days)?,
            seconds: fit(secs)?,
            nanos: n as i32,
        })
    }
}
