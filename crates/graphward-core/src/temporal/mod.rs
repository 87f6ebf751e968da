//! Temporal value types. The representations match Bolt's wire structures so the protocol
//! layer can encode them without calendar math. Calendar arithmetic, parsing and formatting
//! live here too (see the functions below).
//!
//! The executor reaches everything through a handful of functions: [`call`] (the temporal
//! functions `date(...)`, `duration.between(...)` ...), [`property`] (accessors such as
//! `d.year`), [`add`]/[`sub`]/[`mul`]/[`div`], [`compare`], [`equals`] and [`to_string`].

mod cal;
mod format;
mod ops;
mod parse;
#[cfg(test)]
mod tests;

pub use ops::{
    add, call, compare, div, equals, is_function, mul, order, parse_literal, property, sub,
    to_string,
};

use crate::error::{Error, Result};

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

    pub(crate) fn from_parts(
        months: i128,
        days: i128,
        seconds: i128,
        nanos: i128,
    ) -> Result<Duration> {
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

/// Neo4j's `DurationValue.approximate`: whole units are kept, fractions cascade into the
/// smaller units using an average month of 30.436875 days.
pub(crate) fn approximate(months: f64, days: f64, seconds: f64, nanos: f64) -> Result<Duration> {
    const AVG_NANOS_PER_MONTH: f64 = 2_629_746_000_000_000.0;
    const NANOS_PER_SECOND: f64 = 1_000_000_000.0;
    const SECONDS_PER_DAY: f64 = 86_400.0;
    let to_long = |d: f64| -> Result<i64> {
        if d.is_nan() || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&d) {
            Err(cal::overflow("duration"))
        } else {
            Ok(d as i64)
        }
    };
    let months_l = to_long(months)?;
    let month_diff = AVG_NANOS_PER_MONTH * months - AVG_NANOS_PER_MONTH * months_l as f64;
    let days = days + month_diff / (NANOS_PER_SECOND * SECONDS_PER_DAY);
    let days_l = to_long(days)?;
    let day_diff = NANOS_PER_SECOND * SECONDS_PER_DAY * days
        - NANOS_PER_SECOND * SECONDS_PER_DAY * days_l as f64;
    let seconds = seconds + day_diff / NANOS_PER_SECOND;
    let seconds_l = to_long(seconds)?;
    let sec_diff = NANOS_PER_SECOND * seconds - NANOS_PER_SECOND * seconds_l as f64;
    let nanos = nanos + sec_diff;
    let nanos_l = to_long(nanos)?;
    Duration::new(months_l, days_l, seconds_l, nanos_l)
}

#[cfg(test)]
pub(crate) fn format_date(days: i64) -> String {
    Date { days }.to_string()
}

/// A statement's notion of "now": every `date()`, `datetime.statement()` ... in one statement
/// sees the same instant. `zone` of `now` is the default time zone (UTC by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub now: DateTime,
}

impl Clock {
    /// The current system time, in UTC.
    pub fn system() -> Clock {
        Clock { now: system_now() }
    }
}

pub(crate) fn system_now() -> DateTime {
    let now = chrono::Utc::now();
    DateTime {
        seconds: now.timestamp(),
        nanos: now.timestamp_subsec_nanos().min(999_999_999),
        zone: Zone::Offset(0),
    }
}

pub(crate) fn arg_error(msg: impl Into<String>) -> Error {
    Error::argument(msg).with_detail("InvalidArgumentValue")
}

pub(crate) fn type_error(msg: impl Into<String>) -> Error {
    Error::type_error(msg).with_detail("InvalidArgumentType")
}
