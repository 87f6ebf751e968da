//! Temporal value types. The representations match Bolt's wire structures so the protocol
//! layer can encode them without calendar math. Calendar arithmetic, parsing and formatting
//! live here too (see the functions below).

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
