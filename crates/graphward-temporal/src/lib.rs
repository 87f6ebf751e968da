//! graphward-temporal: Cypher's temporal semantics over the value types of
//! `graphward_core::temporal`: the functions (`date(...)`, `datetime.truncate(...)`,
//! `duration.between(...)` ...), accessors (`d.year`), arithmetic, comparison and ordering,
//! and the parsing of ISO 8601 strings in the forms Cypher accepts.
//!
//! The executor reaches everything through a handful of functions: [`call`], [`property`],
//! [`add`]/[`sub`]/[`mul`]/[`div`], [`compare`], [`equals`], [`order`] and [`to_string`].

mod ops;
mod parse;
#[cfg(test)]
mod tests;

pub use ops::{
    add, call, compare, div, equals, is_function, mul, order, parse_literal, property, sub,
    to_string,
};

use graphward_core::temporal::{
    cal, format, Date, DateTime, Duration, LocalDateTime, LocalTime, Time, Zone,
};
use graphward_core::{Error, Result};

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
