//! The temporal functions, accessors and operators the Cypher executor calls.

use std::cmp::Ordering;

use super::cal::{
    self, civil_from_days, day_of_quarter, day_of_week, days_from_civil, days_in_month,
    days_in_quarter, days_in_year, iso_week, local_to_utc, offset_at, ordinal_day,
    quarter_start_month, week1_monday, weeks_in_week_year, NANOS_PER_DAY, NANOS_PER_SECOND,
    SECONDS_PER_DAY,
};
use super::{
    approximate, arg_error, parse, system_now, type_error, Clock, Date, DateTime, Duration,
    LocalDateTime, LocalTime, Time, Zone,
};
use graphward_core::value::{Map, Value};
use graphward_core::{Error, ErrorCode, Result};

// ---------------------------------------------------------------------------------------------
// Internal representation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Date,
    LocalTime,
    Time,
    LocalDateTime,
    DateTime,
}

impl Kind {
    fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "date" => Kind::Date,
            "localtime" => Kind::LocalTime,
            "time" => Kind::Time,
            "localdatetime" => Kind::LocalDateTime,
            "datetime" => Kind::DateTime,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Date => "date",
            Kind::LocalTime => "localtime",
            Kind::Time => "time",
            Kind::LocalDateTime => "localdatetime",
            Kind::DateTime => "datetime",
        }
    }
    fn has_date(self) -> bool {
        matches!(self, Kind::Date | Kind::LocalDateTime | Kind::DateTime)
    }
    fn has_time(self) -> bool {
        !matches!(self, Kind::Date)
    }
    fn has_zone(self) -> bool {
        matches!(self, Kind::Time | Kind::DateTime)
    }
}

/// A temporal value taken apart into local fields.
#[derive(Debug, Clone)]
struct Parts {
    /// Local epoch day.
    date: Option<i64>,
    /// Local nanoseconds of day.
    time: Option<i64>,
    zone: Option<Zone>,
    /// The offset in force (known for values that carry one).
    offset: Option<i32>,
}

fn split_local(seconds: i64, nanos: u32) -> (i64, i64) {
    (
        seconds.div_euclid(SECONDS_PER_DAY),
        seconds.rem_euclid(SECONDS_PER_DAY) * NANOS_PER_SECOND + nanos as i64,
    )
}

impl Parts {
    fn of(v: &Value) -> Option<Parts> {
        let p = |date, time, zone, offset| Parts {
            date,
            time,
            zone,
            offset,
        };
        Some(match v {
            Value::Date(d) => p(Some(d.days), None, None, None),
            Value::LocalTime(t) => p(None, Some(t.nanos), None, None),
            Value::Time(t) => p(
                None,
                Some(t.nanos),
                Some(Zone::Offset(t.offset_seconds)),
                Some(t.offset_seconds),
            ),
            Value::LocalDateTime(l) => {
                let (d, t) = split_local(l.seconds, l.nanos);
                p(Some(d), Some(t), None, None)
            }
            Value::DateTime(dt) => {
                let off = dt.offset_seconds();
                let (d, t) = split_local(dt.seconds.saturating_add(off as i64), dt.nanos);
                p(Some(d), Some(t), Some(dt.zone.clone()), Some(off))
            }
            _ => return None,
        })
    }

    fn src_zone(&self) -> Option<(Zone, i32)> {
        Some((self.zone.clone()?, self.offset?))
    }
}

/// Rejects temporal values whose fields lie outside what any constructor produces (they can
/// only come from a client or a damaged file); the calendar code below assumes sane values.
fn check_sane(v: &Value) -> Result<()> {
    let max_secs = (cal::MAX_ABS_DAYS * SECONDS_PER_DAY) as u64;
    let max_off = cal::MAX_OFFSET_SECONDS.unsigned_abs();
    let day_nanos = 0..NANOS_PER_DAY;
    let ok = match v {
        Value::Date(d) => d.days.unsigned_abs() <= cal::MAX_ABS_DAYS as u64,
        Value::LocalTime(t) => day_nanos.contains(&t.nanos),
        Value::Time(t) => {
            day_nanos.contains(&t.nanos) && t.offset_seconds.unsigned_abs() <= max_off
        }
        Value::LocalDateTime(l) => {
            l.seconds.unsigned_abs() <= max_secs && (l.nanos as i64) < NANOS_PER_SECOND
        }
        Value::DateTime(d) => {
            d.seconds.unsigned_abs() <= max_secs
                && (d.nanos as i64) < NANOS_PER_SECOND
                && match d.zone {
                    Zone::Offset(o) => o.unsigned_abs() <= max_off,
                    Zone::Named(_) => true,
                }
        }
        Value::Duration(d) => (0..NANOS_PER_SECOND).contains(&(d.nanos as i64)),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(arg_error(format!(
            "The {} value is outside the supported range",
            v.type_name()
        )))
    }
}

fn is_temporal(v: &Value) -> bool {
    matches!(
        v,
        Value::Date(_)
            | Value::LocalTime(_)
            | Value::Time(_)
            | Value::LocalDateTime(_)
            | Value::DateTime(_)
            | Value::Duration(_)
    )
}

fn local_seconds(date: i64, time: i64) -> (i64, u32) {
    (
        date * SECONDS_PER_DAY + time / NANOS_PER_SECOND,
        (time % NANOS_PER_SECOND) as u32,
    )
}

/// The offset a named zone has "now" (used when a zone name is given for a TIME value).
fn zone_offset_now(zone: &Zone, clock: &Clock) -> i32 {
    offset_at(zone, clock.now.seconds)
}

/// Assembles a value of `kind` from local fields. `zone` is required for zoned kinds;
/// `prefer` picks the offset in DST overlaps.
fn make(
    kind: Kind,
    date: Option<i64>,
    time: Option<i64>,
    zone: Option<&Zone>,
    prefer: Option<i32>,
    clock: &Clock,
) -> Result<Value> {
    let need_date = || arg_error(format!("A {} needs a date", kind.name()));
    let t = time.unwrap_or(0);
    let utc = Zone::Offset(0);
    let zone = zone.unwrap_or(&utc);
    Ok(match kind {
        Kind::Date => Value::Date(Date {
            days: cal::check_date(date.ok_or_else(need_date)?)?,
        }),
        Kind::LocalTime => Value::LocalTime(LocalTime { nanos: t }),
        Kind::Time => {
            let off = match zone {
                Zone::Offset(o) => *o,
                Zone::Named(_) => prefer.unwrap_or_else(|| zone_offset_now(zone, clock)),
            };
            Value::Time(Time {
                nanos: t,
                offset_seconds: off,
            })
        }
        Kind::LocalDateTime => {
            let d = cal::check_date(date.ok_or_else(need_date)?)?;
            let (seconds, nanos) = local_seconds(d, t);
            Value::LocalDateTime(LocalDateTime { seconds, nanos })
        }
        Kind::DateTime => {
            let d = cal::check_date(date.ok_or_else(need_date)?)?;
            let (local, nanos) = local_seconds(d, t);
            let (seconds, _) = local_to_utc(zone, local, prefer);
            Value::DateTime(DateTime {
                seconds,
                nanos,
                zone: zone.clone(),
            })
        }
    })
}

/// The current instant expressed as a value of `kind` in `zone` (default: the clock's zone).
fn now(kind: Kind, zone: Option<Zone>, instant: &DateTime, clock: &Clock) -> Result<Value> {
    let zone = zone.unwrap_or_else(|| clock.now.zone.clone());
    if kind == Kind::DateTime {
        return Ok(Value::DateTime(DateTime {
            seconds: instant.seconds,
            nanos: instant.nanos,
            zone,
        }));
    }
    let off = offset_at(&zone, instant.seconds);
    let (d, t) = split_local(instant.seconds + off as i64, instant.nanos);
    make(kind, Some(d), Some(t), Some(&zone), Some(off), clock)
}

// ---------------------------------------------------------------------------------------------
// Map fields
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone)]
struct Fields {
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    week: Option<i64>,
    day_of_week: Option<i64>,
    quarter: Option<i64>,
    day_of_quarter: Option<i64>,
    ordinal_day: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millisecond: Option<i64>,
    microsecond: Option<i64>,
    nanosecond: Option<i64>,
    timezone: Option<Zone>,
    epoch_seconds: Option<i64>,
    epoch_millis: Option<i64>,
    date: Option<Value>,
    time: Option<Value>,
    datetime: Option<Value>,
}

impl Fields {
    fn any_date_field(&self) -> bool {
        self.year.is_some()
            || self.month.is_some()
            || self.day.is_some()
            || self.week.is_some()
            || self.day_of_week.is_some()
            || self.quarter.is_some()
            || self.day_of_quarter.is_some()
            || self.ordinal_day.is_some()
    }
    fn any_time_field(&self) -> bool {
        self.hour.is_some()
            || self.minute.is_some()
            || self.second.is_some()
            || self.millisecond.is_some()
            || self.microsecond.is_some()
            || self.nanosecond.is_some()
    }
}

fn int_field(key: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(*f as i64),
        other => Err(type_error(format!(
            "The component '{key}' must be an INTEGER, got {}",
            other.type_name()
        ))),
    }
}

fn read_fields(map: &Map, clock: &Clock) -> Result<Fields> {
    let _ = clock;
    let mut f = Fields::default();
    for (key, v) in map {
        if v.is_null() {
            continue;
        }
        let k = key.to_ascii_lowercase();
        let slot = match k.as_str() {
            "year" => &mut f.year,
            "month" => &mut f.month,
            "day" => &mut f.day,
            "week" => &mut f.week,
            "dayofweek" | "weekday" => &mut f.day_of_week,
            "quarter" => &mut f.quarter,
            "dayofquarter" => &mut f.day_of_quarter,
            "ordinalday" => &mut f.ordinal_day,
            "hour" => &mut f.hour,
            "minute" => &mut f.minute,
            "second" => &mut f.second,
            "millisecond" => &mut f.millisecond,
            "microsecond" => &mut f.microsecond,
            "nanosecond" => &mut f.nanosecond,
            "epochseconds" => &mut f.epoch_seconds,
            "epochmillis" => &mut f.epoch_millis,
            "timezone" => {
                f.timezone = Some(match v {
                    Value::String(s) => cal::parse_zone(s)?,
                    other => {
                        return Err(type_error(format!(
                            "The time zone must be a STRING, got {}",
                            other.type_name()
                        )))
                    }
                });
                continue;
            }
            "date" => {
                f.date = Some(v.clone());
                continue;
            }
            "time" => {
                f.time = Some(v.clone());
                continue;
            }
            "datetime" => {
                f.datetime = Some(v.clone());
                continue;
            }
            _ => {
                return Err(arg_error(format!(
                    "No such field in a temporal value: '{key}'"
                )))
            }
        };
        *slot = Some(int_field(key, v)?);
    }
    Ok(f)
}

fn range(name: &str, v: i64, lo: i64, hi: i64) -> Result<i64> {
    if v < lo || v > hi {
        Err(arg_error(format!(
            "Invalid value for {name}: {v} (valid values {lo} - {hi})"
        )))
    } else {
        Ok(v)
    }
}

fn build_date(f: &Fields, base: Option<i64>) -> Result<i64> {
    let groups = [
        f.week.is_some() || f.day_of_week.is_some(),
        f.ordinal_day.is_some(),
        f.quarter.is_some() || f.day_of_quarter.is_some(),
        f.month.is_some() || f.day.is_some(),
    ];
    if groups.iter().filter(|g| **g).count() > 1 {
        return Err(arg_error(
            "Cannot mix calendar, week, quarter and ordinal date fields",
        ));
    }
    let bymd = base.map(civil_from_days);
    let year = match (f.year, bymd) {
        (Some(y), _) => Some(range("year", y, cal::MIN_YEAR, cal::MAX_YEAR)?),
        (None, Some((y, _, _))) => Some(y),
        (None, None) => None,
    };
    let need_year = || arg_error("The year must be specified");
    let days = if groups[0] {
        let (bwy, bw) = match base {
            Some(b) => {
                let (wy, w) = iso_week(b);
                (Some(wy), Some(w))
            }
            None => (None, None),
        };
        let wy = match f.year {
            Some(y) => range("year", y, cal::MIN_YEAR, cal::MAX_YEAR)?,
            None => bwy.ok_or_else(need_year)?,
        };
        let max_week = weeks_in_week_year(wy);
        let w = match f.week {
            Some(w) => range("week", w, 1, max_week)?,
            None => bw.unwrap_or(1).min(max_week),
        };
        let dow = match f.day_of_week {
            Some(d) => range("dayOfWeek", d, 1, 7)?,
            None => base.map(day_of_week).unwrap_or(1),
        };
        week1_monday(wy) + (w - 1) * 7 + dow - 1
    } else if groups[1] {
        let y = year.ok_or_else(need_year)?;
        let o = range("ordinalDay", f.ordinal_day.unwrap_or(1), 1, days_in_year(y))?;
        days_from_civil(y, 1, 1) + o - 1
    } else if groups[2] {
        let y = year.ok_or_else(need_year)?;
        let q = match (f.quarter, base) {
            (Some(q), _) => range("quarter", q, 1, 4)?,
            (None, Some(b)) => (civil_from_days(b).1 - 1) / 3 + 1,
            (None, None) => 1,
        };
        match (f.day_of_quarter, bymd) {
            (Some(dq), _) => {
                let dq = range("dayOfQuarter", dq, 1, days_in_quarter(y, q))?;
                days_from_civil(y, quarter_start_month(q), 1) + dq - 1
            }
            (None, Some((_, bm, bd))) => {
                let m = quarter_start_month(q) + (bm - 1) % 3;
                days_from_civil(y, m, bd.min(days_in_month(y, m)))
            }
            (None, None) => days_from_civil(y, quarter_start_month(q), 1),
        }
    } else {
        let y = year.ok_or_else(need_year)?;
        let m = match (f.month, bymd) {
            (Some(m), _) => range("month", m, 1, 12)?,
            (None, Some((_, bm, _))) => bm,
            (None, None) => 1,
        };
        let d = match (f.day, bymd) {
            (Some(d), _) => range("day", d, 1, days_in_month(y, m))?,
            (None, Some((_, _, bd))) => bd.min(days_in_month(y, m)),
            (None, None) => 1,
        };
        days_from_civil(y, m, d)
    };
    cal::check_date(days)
}

fn build_time(f: &Fields, base: Option<i64>) -> Result<i64> {
    let b = base.unwrap_or(0);
    let bsecs = b / NANOS_PER_SECOND;
    let bn = b % NANOS_PER_SECOND;
    let h = match f.hour {
        Some(h) => range("hour", h, 0, 23)?,
        None => bsecs / 3600,
    };
    let m = match f.minute {
        Some(m) => range("minute", m, 0, 59)?,
        None => (bsecs / 60) % 60,
    };
    let s = match f.second {
        Some(s) => range("second", s, 0, 59)?,
        None => bsecs % 60,
    };
    let nanos = if f.millisecond.is_none() && f.microsecond.is_none() {
        match f.nanosecond {
            None => bn,
            Some(ns) if ns >= 1000 || base.is_none() => range("nanosecond", ns, 0, 999_999_999)?,
            Some(ns) => bn - bn % 1000 + range("nanosecond", ns, 0, 999)?,
        }
    } else {
        let ms = match f.millisecond {
            Some(v) => range("millisecond", v, 0, 999)?,
            None => bn / 1_000_000,
        };
        let us = match f.microsecond {
            Some(v) if f.millisecond.is_some() => range("microsecond", v, 0, 999)?,
            Some(v) => range("microsecond", v, 0, 999_999)?,
            None if f.millisecond.is_some() && base.is_none() => 0,
            None => (bn / 1000) % 1000,
        };
        let ns = match f.nanosecond {
            Some(v) => range("nanosecond", v, 0, 999)?,
            None if base.is_none() => 0,
            None => bn % 1000,
        };
        range(
            "nanosecond",
            ms * 1_000_000 + us * 1000 + ns,
            0,
            999_999_999,
        )?
    };
    Ok((h * 3600 + m * 60 + s) * NANOS_PER_SECOND + nanos)
}

/// Builds a `kind` value from map fields layered over base values.
/// `src` is the zone carried by the time source; with `convert`, a `timezone` field converts
/// the instant into that zone, otherwise it just replaces the zone.
fn build(
    kind: Kind,
    f: &Fields,
    base_date: Option<i64>,
    base_time: Option<i64>,
    src: Option<(Zone, i32)>,
    convert: bool,
    clock: &Clock,
) -> Result<Value> {
    let date = if kind.has_date() {
        Some(build_date(f, base_date)?)
    } else {
        None
    };
    let time = if kind.has_time() {
        Some(build_time(f, base_time)?)
    } else {
        None
    };
    if !kind.has_zone() {
        return make(kind, date, time, None, None, clock);
    }
    let t = time.unwrap_or(0);
    match (&f.timezone, src) {
        (Some(tz), Some((sz, soff))) if convert => match kind {
            Kind::Time => {
                let target = match tz {
                    Zone::Offset(o) => *o,
                    Zone::Named(_) => zone_offset_now(tz, clock),
                };
                let n = (t - soff as i64 * NANOS_PER_SECOND + target as i64 * NANOS_PER_SECOND)
                    .rem_euclid(NANOS_PER_DAY);
                Ok(Value::Time(Time {
                    nanos: n,
                    offset_seconds: target,
                }))
            }
            _ => {
                let d = date.ok_or_else(|| arg_error("A datetime needs a date"))?;
                let (local, nanos) = local_seconds(d, t);
                let (seconds, _) = local_to_utc(&sz, local, Some(soff));
                Ok(Value::DateTime(DateTime {
                    seconds,
                    nanos,
                    zone: tz.clone(),
                }))
            }
        },
        (Some(tz), _) => make(kind, date, time, Some(tz), None, clock),
        (None, Some((sz, soff))) => make(kind, date, time, Some(&sz), Some(soff), clock),
        (None, None) => make(kind, date, time, Some(&clock.now.zone), None, clock),
    }
}

fn temporal_parts(key: &str, v: &Value) -> Result<Parts> {
    check_sane(v)?;
    Parts::of(v).ok_or_else(|| {
        type_error(format!(
            "The '{key}' component must be a temporal value, got {}",
            v.type_name()
        ))
    })
}

fn from_map(kind: Kind, map: &Map, clock: &Clock) -> Result<Value> {
    let f = read_fields(map, clock)?;
    if kind == Kind::DateTime && (f.epoch_seconds.is_some() || f.epoch_millis.is_some()) {
        let (secs, nanos) = match (f.epoch_seconds, f.epoch_millis) {
            (Some(s), _) => (s as i128, 0i128),
            (None, Some(ms)) => (
                (ms as i128).div_euclid(1000),
                (ms as i128).rem_euclid(1000) * 1_000_000,
            ),
            (None, None) => (0, 0),
        };
        let nanos = nanos
            + f.millisecond.unwrap_or(0) as i128 * 1_000_000
            + f.microsecond.unwrap_or(0) as i128 * 1000
            + f.nanosecond.unwrap_or(0) as i128;
        let nps = NANOS_PER_SECOND as i128;
        let secs =
            i64::try_from(secs + nanos.div_euclid(nps)).map_err(|_| cal::overflow("datetime"))?;
        let nanos = nanos.rem_euclid(nps) as i64;
        return epoch_datetime(secs, nanos, f.timezone.clone().unwrap_or(Zone::Offset(0)));
    }
    let only_tz = f.timezone.is_some()
        && !f.any_date_field()
        && !f.any_time_field()
        && f.date.is_none()
        && f.time.is_none()
        && f.datetime.is_none();
    if only_tz {
        return now(kind, f.timezone.clone(), &clock.now, clock);
    }
    let mut base_date = None;
    let mut base_time = None;
    let mut src = None;
    if let Some(v) = &f.datetime {
        if !v.is_null() {
            let p = temporal_parts("datetime", v)?;
            base_date = p.date;
            base_time = p.time;
            src = p.src_zone();
        }
    }
    if let Some(v) = &f.date {
        let p = temporal_parts("date", v)?;
        if kind.has_date() && p.date.is_none() {
            return Err(arg_error(format!(
                "Cannot select a date from a {}",
                v.type_name()
            )));
        }
        base_date = p.date;
    }
    if let Some(v) = &f.time {
        let p = temporal_parts("time", v)?;
        if p.time.is_none() {
            return Err(arg_error(format!(
                "Cannot select a time from a {}",
                v.type_name()
            )));
        }
        base_time = p.time;
        src = p.src_zone();
    }
    if kind.has_date() && base_date.is_none() && f.year.is_none() {
        return Err(arg_error(format!(
            "{}: the year (or a date to select from) must be specified",
            kind.name()
        )));
    }
    if !kind.has_date() && base_time.is_none() && f.hour.is_none() {
        return Err(arg_error(format!(
            "{}: the hour (or a time to select from) must be specified",
            kind.name()
        )));
    }
    build(kind, &f, base_date, base_time, src, true, clock)
}

fn epoch_datetime(secs: i64, nanos: i64, zone: Zone) -> Result<Value> {
    let v = DateTime {
        seconds: secs,
        nanos: nanos as u32,
        zone,
    };
    let (d, _) = split_local(v.seconds, 0);
    cal::check_date(d)?;
    Ok(Value::DateTime(v))
}

fn from_string(kind: Kind, s: &str, clock: &Clock) -> Result<Value> {
    let s = s.trim();
    match kind {
        Kind::Date => Ok(Value::Date(Date {
            days: parse::date(s)?,
        })),
        Kind::LocalTime => Ok(Value::LocalTime(LocalTime {
            nanos: parse::local_time(s)?,
        })),
        Kind::Time => {
            let (nanos, off) = parse::time(s)?;
            let off = match off {
                Some(o) => o,
                None => offset_at(&clock.now.zone, clock.now.seconds),
            };
            Ok(Value::Time(Time {
                nanos,
                offset_seconds: off,
            }))
        }
        Kind::LocalDateTime => {
            let p = parse::date_time(s)?;
            if p.offset.is_some() || p.zone.is_some() {
                return Err(arg_error(format!(
                    "Text cannot be parsed to a local date time (it has a time zone): '{s}'"
                )));
            }
            make(kind, Some(p.days), Some(p.nanos), None, None, clock)
        }
        Kind::DateTime => {
            let p = parse::date_time(s)?;
            let zone = match (&p.zone, p.offset) {
                (Some(z), _) => z.clone(),
                (None, Some(o)) => Zone::Offset(o),
                (None, None) => clock.now.zone.clone(),
            };
            make(
                kind,
                Some(p.days),
                Some(p.nanos),
                Some(&zone),
                p.offset,
                clock,
            )
        }
    }
}

fn convert(kind: Kind, v: &Value, clock: &Clock) -> Result<Value> {
    let p = temporal_parts(kind.name(), v)?;
    if kind.has_date() && p.date.is_none() {
        return Err(arg_error(format!(
            "Cannot construct a {} from a {}",
            kind.name(),
            v.type_name()
        )));
    }
    if !kind.has_date() && p.time.is_none() {
        return Err(arg_error(format!(
            "Cannot construct a {} from a {}",
            kind.name(),
            v.type_name()
        )));
    }
    if let (Kind::DateTime, Value::DateTime(_)) = (kind, v) {
        return Ok(v.clone());
    }
    let time = if kind.has_time() {
        Some(p.time.unwrap_or(0))
    } else {
        None
    };
    make(kind, p.date, time, p.zone.as_ref(), p.offset, clock)
}

fn construct(kind: Kind, args: &[Value], clock: &Clock) -> Result<Value> {
    match args {
        [] => now(kind, None, &clock.now, clock),
        [Value::Null] => Ok(Value::Null),
        [Value::String(s)] => from_string(kind, s, clock),
        [Value::Map(m)] => from_map(kind, m, clock),
        [v] if Parts::of(v).is_some() => convert(kind, v, clock),
        [v] => Err(type_error(format!(
            "{}() expects a STRING, MAP or temporal value, got {}",
            kind.name(),
            v.type_name()
        ))),
        _ => Err(arg_error(format!(
            "{}() takes at most one argument",
            kind.name()
        ))),
    }
}

fn now_variant(kind: Kind, args: &[Value], instant: &DateTime, clock: &Clock) -> Result<Value> {
    match args {
        [] => now(kind, None, instant, clock),
        [Value::Null] => Ok(Value::Null),
        [Value::String(s)] => now(kind, Some(cal::parse_zone(s)?), instant, clock),
        [Value::Map(m)] => {
            let f = read_fields(m, clock)?;
            if f.any_date_field()
                || f.any_time_field()
                || f.date.is_some()
                || f.time.is_some()
                || f.datetime.is_some()
            {
                return Err(arg_error("Only a timezone may be given here"));
            }
            now(kind, f.timezone, instant, clock)
        }
        [v] => Err(type_error(format!(
            "Expected a time zone STRING, got {}",
            v.type_name()
        ))),
        _ => Err(arg_error("Too many arguments")),
    }
}

// ---------------------------------------------------------------------------------------------
// truncate
// ---------------------------------------------------------------------------------------------

fn truncate(kind: Kind, args: &[Value], clock: &Clock) -> Result<Value> {
    let (unit, value, map) = match args {
        [u, v] => (u, v, None),
        [u, v, m] => (u, v, Some(m)),
        _ => {
            return Err(arg_error(format!(
                "{}.truncate() takes a unit, a temporal value and an optional map",
                kind.name()
            )))
        }
    };
    if unit.is_null() || value.is_null() {
        return Ok(Value::Null);
    }
    let unit = match unit {
        Value::String(s) => s.to_ascii_lowercase(),
        other => {
            return Err(type_error(format!(
                "The truncation unit must be a STRING, got {}",
                other.type_name()
            )))
        }
    };
    let p = temporal_parts("truncate", value)?;
    if matches!(value, Value::Duration(_)) {
        return Err(type_error("Cannot truncate a DURATION"));
    }
    let f = match map {
        None | Some(Value::Null) => Fields::default(),
        Some(Value::Map(m)) => read_fields(m, clock)?,
        Some(other) => {
            return Err(type_error(format!(
                "The truncation fields must be a MAP, got {}",
                other.type_name()
            )))
        }
    };
    let date_unit = matches!(
        unit.as_str(),
        "millennium" | "century" | "decade" | "year" | "weekyear" | "quarter" | "month" | "week"
    );
    let time_unit = matches!(
        unit.as_str(),
        "hour" | "minute" | "second" | "millisecond" | "microsecond"
    );
    if !date_unit && !time_unit && unit != "day" {
        return Err(arg_error(format!("Unsupported truncation unit: '{unit}'")));
    }
    if date_unit && !kind.has_date() {
        return Err(arg_error(format!(
            "Cannot truncate a {} to unit '{unit}'",
            kind.name()
        )));
    }
    if time_unit && kind == Kind::Date {
        return Err(arg_error(format!(
            "Cannot truncate a date to unit '{unit}'"
        )));
    }
    let date = match p.date {
        Some(d) => Some(d),
        None if kind.has_date() => {
            return Err(arg_error(format!(
                "Cannot truncate a {} into a {}",
                value.type_name(),
                kind.name()
            )))
        }
        None => None,
    };
    let new_date = match date {
        Some(d) => {
            let (y, m, _) = civil_from_days(d);
            Some(match unit.as_str() {
                "millennium" => days_from_civil(y - y.rem_euclid(1000), 1, 1),
                "century" => days_from_civil(y - y.rem_euclid(100), 1, 1),
                "decade" => days_from_civil(y - y.rem_euclid(10), 1, 1),
                "year" => days_from_civil(y, 1, 1),
                "weekyear" => week1_monday(iso_week(d).0),
                "quarter" => days_from_civil(y, quarter_start_month((m - 1) / 3 + 1), 1),
                "month" => days_from_civil(y, m, 1),
                "week" => d - (day_of_week(d) - 1),
                _ => d,
            })
        }
        None => None,
    };
    let t = p.time.unwrap_or(0);
    let new_time = match unit.as_str() {
        "hour" => t - t % (3600 * NANOS_PER_SECOND),
        "minute" => t - t % (60 * NANOS_PER_SECOND),
        "second" => t - t % NANOS_PER_SECOND,
        "millisecond" => t - t % 1_000_000,
        "microsecond" => t - t % 1000,
        _ => 0,
    };
    if !kind.has_date() && p.time.is_none() {
        return Err(arg_error(format!(
            "Cannot truncate a {} into a {}",
            value.type_name(),
            kind.name()
        )));
    }
    build(
        kind,
        &f,
        new_date,
        Some(new_time),
        p.src_zone(),
        false,
        clock,
    )
}

// ---------------------------------------------------------------------------------------------
// duration(...)
// ---------------------------------------------------------------------------------------------

fn num(key: &str, v: &Value) -> Result<f64> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(type_error(format!(
            "The duration component '{key}' must be a number, got {}",
            other.type_name()
        ))),
    }
}

fn duration_from_map(map: &Map) -> Result<Duration> {
    let names = [
        "years",
        "quarters",
        "months",
        "weeks",
        "days",
        "hours",
        "minutes",
        "seconds",
        "milliseconds",
        "microseconds",
        "nanoseconds",
    ];
    let mut comp = [0.0f64; 11];
    let mut ints = [0i128; 11];
    let mut all_int = true;
    let mut any = false;
    for (key, v) in map {
        if v.is_null() {
            continue;
        }
        let k = key.to_ascii_lowercase();
        let idx = names
            .iter()
            .position(|n| *n == k)
            .ok_or_else(|| arg_error(format!("No such field in a duration: '{key}'")))?;
        comp[idx] = num(key, v)?;
        any = true;
        match v {
            Value::Int(i) => ints[idx] = *i as i128,
            _ => all_int = false,
        }
    }
    if !any {
        return Err(arg_error(
            "A duration needs at least one component (years, months, days, seconds, ...)",
        ));
    }
    if all_int {
        let months = ints[0] * 12 + ints[1] * 3 + ints[2];
        let days = ints[3] * 7 + ints[4];
        let secs = ints[5] * 3600 + ints[6] * 60 + ints[7];
        let nanos = ints[8] * 1_000_000 + ints[9] * 1000 + ints[10];
        return Duration::from_parts(months, days, secs, nanos);
    }
    approximate(
        comp[0] * 12.0 + comp[1] * 3.0 + comp[2],
        comp[3] * 7.0 + comp[4],
        comp[5] * 3600.0 + comp[6] * 60.0 + comp[7],
        comp[8] * 1_000_000.0 + comp[9] * 1000.0 + comp[10],
    )
}

fn duration_fn(args: &[Value]) -> Result<Value> {
    match args {
        [Value::Null] => Ok(Value::Null),
        [Value::String(s)] => Ok(Value::Duration(parse::duration(s.trim())?)),
        [Value::Map(m)] => Ok(Value::Duration(duration_from_map(m)?)),
        [Value::Duration(d)] => Ok(Value::Duration(*d)),
        [v] => Err(type_error(format!(
            "duration() expects a STRING or MAP, got {}",
            v.type_name()
        ))),
        _ => Err(arg_error("duration() takes exactly one argument")),
    }
}

// ---------------------------------------------------------------------------------------------
// duration.between
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    All,
    Months,
    Days,
    Seconds,
}

fn months_until(from: i128, to: i128) -> i64 {
    let npd = NANOS_PER_DAY as i128;
    let (fd, ft) = (from.div_euclid(npd) as i64, from.rem_euclid(npd));
    let (td, tt) = (to.div_euclid(npd) as i64, to.rem_euclid(npd));
    let mut end = td;
    if td > fd && tt < ft {
        end -= 1;
    } else if td < fd && tt > ft {
        end += 1;
    }
    let (fy, fm, fdd) = civil_from_days(fd);
    let (ty, tm, tdd) = civil_from_days(end);
    let p1 = (fy * 12 + fm - 1) * 32 + fdd;
    let p2 = (ty * 12 + tm - 1) * 32 + tdd;
    (p2 - p1) / 32
}

fn days_until(from: i128, to: i128) -> i64 {
    let npd = NANOS_PER_DAY as i128;
    let (fd, ft) = (from.div_euclid(npd) as i64, from.rem_euclid(npd));
    let (td, tt) = (to.div_euclid(npd) as i64, to.rem_euclid(npd));
    let mut end = td;
    if td > fd && tt < ft {
        end -= 1;
    } else if td < fd && tt > ft {
        end += 1;
    }
    end - fd
}

fn between(a: &Value, b: &Value, unit: Unit) -> Result<Value> {
    if a.is_null() || b.is_null() {
        return Ok(Value::Null);
    }
    let parts = |v: &Value| -> Result<Parts> {
        match v {
            Value::Duration(_) => Err(type_error("duration.between expects two temporal instants")),
            _ => temporal_parts("duration.between", v),
        }
    };
    let mut f = parts(a)?;
    let mut t = parts(b)?;
    if unit == Unit::Seconds {
        for p in [&mut f, &mut t] {
            if p.date.is_some() && p.time.is_none() {
                p.time = Some(0);
            }
        }
    } else if f.time.is_some() && t.time.is_none() {
        t.time = Some(0);
    } else if t.time.is_some() && f.time.is_none() {
        f.time = Some(0);
    }
    if f.date.is_some() && t.date.is_none() {
        t.date = f.date;
    } else if t.date.is_some() && f.date.is_none() {
        f.date = t.date;
    }
    if f.zone.is_some() && t.zone.is_none() {
        t.zone = f.zone.clone();
        t.offset = None;
    } else if t.zone.is_some() && f.zone.is_none() {
        f.zone = t.zone.clone();
        f.offset = None;
    }
    let npd = NANOS_PER_DAY as i128;
    let nps = NANOS_PER_SECOND as i128;
    let local = |p: &Parts| p.date.unwrap_or(0) as i128 * npd + p.time.unwrap_or(0) as i128;
    // Resolve offsets of values that just received a zone.
    for p in [&mut f, &mut t] {
        if let (Some(z), None) = (&p.zone, p.offset) {
            let off = match (z, p.date) {
                (Zone::Offset(o), _) => *o,
                (Zone::Named(_), Some(d)) => {
                    let (secs, _) = local_seconds(d, p.time.unwrap_or(0));
                    local_to_utc(z, secs, None).1
                }
                (Zone::Named(_), None) => 0,
            };
            p.offset = Some(off);
        }
    }
    let zoned = f.zone.is_some();
    let instant = |p: &Parts| local(p) - p.offset.unwrap_or(0) as i128 * nps;
    let has_dates = f.date.is_some() && t.date.is_some();
    let from_local = local(&f);
    let to_local = if zoned && has_dates {
        let ti = instant(&t);
        let secs = ti.div_euclid(nps);
        let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
        let zone = f.zone.clone().unwrap_or(Zone::Offset(0));
        ti + offset_at(&zone, secs) as i128 * nps
    } else {
        local(&t)
    };
    let total = if zoned {
        instant(&t) - instant(&f)
    } else {
        local(&t) - local(&f)
    };
    let split = |n: i128| (n / nps, n % nps);
    let d = match unit {
        Unit::Months => {
            let m = if has_dates {
                months_until(from_local, to_local)
            } else {
                0
            };
            Duration::new(m, 0, 0, 0)?
        }
        Unit::Days => {
            let d = if has_dates {
                days_until(from_local, to_local)
            } else {
                0
            };
            Duration::new(0, d, 0, 0)?
        }
        Unit::Seconds => {
            let (s, n) = split(total);
            Duration::from_parts(0, 0, s, n)?
        }
        Unit::All => {
            if has_dates {
                let months = months_until(from_local, to_local);
                let fd = from_local.div_euclid(npd) as i64;
                let ft = from_local.rem_euclid(npd);
                let d1 = cal::plus_months_days(fd, months, 0)?;
                let l1 = d1 as i128 * npd + ft;
                let days = days_until(l1, to_local);
                let l2 = l1 + days as i128 * npd;
                let rest = if zoned {
                    let zone = f.zone.clone().unwrap_or(Zone::Offset(0));
                    let secs = l2.div_euclid(nps) as i64;
                    let sub = l2.rem_euclid(nps);
                    let (utc, _) = local_to_utc(&zone, secs, f.offset);
                    instant(&t) - (utc as i128 * nps + sub)
                } else {
                    to_local - l2
                };
                let (s, n) = split(rest);
                Duration::from_parts(months as i128, days as i128, s, n)?
            } else {
                let (s, n) = split(total);
                Duration::from_parts(0, 0, s, n)?
            }
        }
    };
    Ok(Value::Duration(d))
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// Calls the temporal function `name` (lower case, e.g. `date`, `datetime.truncate`,
/// `duration.between`). `None` if `name` is not a temporal function.
pub fn call(name: &str, args: &[Value], clock: &Clock) -> Option<Result<Value>> {
    if let Err(e) = args.iter().try_for_each(check_sane) {
        return is_function(name).then_some(Err(e));
    }
    call_inner(name, args, clock)
}

/// Whether `name` (lower case) is one of the temporal functions [`call`] implements.
pub fn is_function(name: &str) -> bool {
    let (base, variant) = name.split_once('.').unwrap_or((name, ""));
    match base {
        "duration" => matches!(
            variant,
            "" | "between" | "inmonths" | "indays" | "inseconds"
        ),
        "datetime" => matches!(
            variant,
            "" | "statement"
                | "transaction"
                | "realtime"
                | "truncate"
                | "fromepoch"
                | "fromepochmillis"
        ),
        "date" | "localtime" | "time" | "localdatetime" => {
            matches!(
                variant,
                "" | "statement" | "transaction" | "realtime" | "truncate"
            )
        }
        _ => false,
    }
}

fn call_inner(name: &str, args: &[Value], clock: &Clock) -> Option<Result<Value>> {
    let (base, variant) = match name.split_once('.') {
        Some((b, v)) => (b, v),
        None => (name, ""),
    };
    if base == "duration" {
        return Some(match variant {
            "" => duration_fn(args),
            "between" | "inmonths" | "indays" | "inseconds" => match args {
                [a, b] => between(
                    a,
                    b,
                    match variant {
                        "between" => Unit::All,
                        "inmonths" => Unit::Months,
                        "indays" => Unit::Days,
                        _ => Unit::Seconds,
                    },
                ),
                _ => Err(arg_error(format!(
                    "duration.{variant}() takes exactly two arguments"
                ))),
            },
            _ => return None,
        });
    }
    let kind = Kind::from_name(base)?;
    Some(match variant {
        "" => construct(kind, args, clock),
        "statement" | "transaction" => now_variant(kind, args, &clock.now, clock),
        "realtime" => now_variant(kind, args, &system_now(), clock),
        "truncate" => truncate(kind, args, clock),
        "fromepoch" if kind == Kind::DateTime => match args {
            [Value::Null, _] | [_, Value::Null] => Ok(Value::Null),
            [s, n] => (|| {
                let s = int_field("seconds", s)?;
                let n = int_field("nanoseconds", n)?;
                let secs = s
                    .checked_add(n.div_euclid(NANOS_PER_SECOND))
                    .ok_or_else(|| cal::overflow("datetime"))?;
                epoch_datetime(secs, n.rem_euclid(NANOS_PER_SECOND), Zone::Offset(0))
            })(),
            _ => Err(arg_error(
                "datetime.fromepoch() takes seconds and nanoseconds",
            )),
        },
        "fromepochmillis" if kind == Kind::DateTime => match args {
            [Value::Null] => Ok(Value::Null),
            [ms] => int_field("milliseconds", ms).and_then(|ms| {
                epoch_datetime(
                    ms.div_euclid(1000),
                    ms.rem_euclid(1000) * 1_000_000,
                    Zone::Offset(0),
                )
            }),
            _ => Err(arg_error("datetime.fromepochmillis() takes milliseconds")),
        },
        _ => return None,
    })
}

/// Accessors on temporal values (`d.year`, `t.timezone`, `dur.minutesOfHour` ...). `None` if
/// `v` is not temporal; an error for a key the value does not have.
pub fn property(v: &Value, key: &str) -> Option<Result<Value>> {
    if !is_temporal(v) {
        return None;
    }
    if let Err(e) = check_sane(v) {
        return Some(Err(e));
    }
    if let Value::Duration(d) = v {
        return Some(duration_property(d, key));
    }
    let p = Parts::of(v)?;
    Some(temporal_property(v, &p, key))
}

fn no_field(v: &Value, key: &str) -> Error {
    Error::argument(format!("A {} has no field '{key}'", v.type_name()))
        .with_detail("InvalidArgumentValue")
}

fn temporal_property(v: &Value, p: &Parts, key: &str) -> Result<Value> {
    let k = key.to_ascii_lowercase();
    if let Some(d) = p.date {
        let (y, m, day) = civil_from_days(d);
        let r = match k.as_str() {
            "year" => Some(y),
            "quarter" => Some((m - 1) / 3 + 1),
            "month" => Some(m),
            "week" => Some(iso_week(d).1),
            "weekyear" => Some(iso_week(d).0),
            "day" => Some(day),
            "ordinalday" => Some(ordinal_day(d)),
            "dayofweek" | "weekday" => Some(day_of_week(d)),
            "dayofquarter" => Some(day_of_quarter(d)),
            _ => None,
        };
        if let Some(r) = r {
            return Ok(Value::Int(r));
        }
    }
    if let Some(t) = p.time {
        let secs = t / NANOS_PER_SECOND;
        let n = t % NANOS_PER_SECOND;
        let r = match k.as_str() {
            "hour" => Some(secs / 3600),
            "minute" => Some((secs / 60) % 60),
            "second" => Some(secs % 60),
            "millisecond" => Some(n / 1_000_000),
            "microsecond" => Some(n / 1000),
            "nanosecond" => Some(n),
            _ => None,
        };
        if let Some(r) = r {
            return Ok(Value::Int(r));
        }
    }
    if let (Some(zone), Some(off)) = (&p.zone, p.offset) {
        match k.as_str() {
            "timezone" => {
                return Ok(Value::String(match zone {
                    Zone::Named(n) => n.clone(),
                    Zone::Offset(o) => super::format::offset_string(*o),
                }))
            }
            "offset" => return Ok(Value::String(super::format::offset_string(off))),
            "offsetminutes" => return Ok(Value::Int(off as i64 / 60)),
            "offsetseconds" => return Ok(Value::Int(off as i64)),
            _ => {}
        }
    }
    if let Value::DateTime(dt) = v {
        match k.as_str() {
            "epochseconds" => return Ok(Value::Int(dt.seconds)),
            "epochmillis" => {
                return dt
                    .seconds
                    .checked_mul(1000)
                    .and_then(|ms| ms.checked_add(dt.nanos as i64 / 1_000_000))
                    .map(Value::Int)
                    .ok_or_else(|| cal::overflow("epochMillis"))
            }
            _ => {}
        }
    }
    Err(no_field(v, key))
}

fn duration_property(d: &Duration, key: &str) -> Result<Value> {
    let k = key.to_ascii_lowercase();
    let n = d.nanos as i64;
    let big = |mul: i64, div: i64| -> Result<Value> {
        d.seconds
            .checked_mul(mul)
            .and_then(|s| s.checked_add(n / div))
            .map(Value::Int)
            .ok_or_else(|| cal::overflow("duration component"))
    };
    let r = match k.as_str() {
        "years" => d.months / 12,
        "quarters" => d.months / 3,
        "months" => d.months,
        "weeks" => d.days / 7,
        "days" => d.days,
        "hours" => d.seconds / 3600,
        "minutes" => d.seconds / 60,
        "seconds" => d.seconds,
        "milliseconds" => return big(1000, 1_000_000),
        "microseconds" => return big(1_000_000, 1000),
        "nanoseconds" => return big(NANOS_PER_SECOND, 1),
        "quartersofyear" => (d.months / 3) % 4,
        "monthsofquarter" => d.months % 3,
        "monthsofyear" => d.months % 12,
        "daysofweek" => d.days % 7,
        "minutesofhour" => (d.seconds / 60) % 60,
        "secondsofminute" => d.seconds % 60,
        "millisecondsofsecond" => n / 1_000_000,
        "microsecondsofsecond" => n / 1000,
        "nanosecondsofsecond" => n,
        _ => {
            return Err(Error::argument(format!("A DURATION has no field '{key}'"))
                .with_detail("InvalidArgumentValue"))
        }
    };
    Ok(Value::Int(r))
}

// ---------------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------------

fn neg(v: i64) -> Result<i64> {
    v.checked_neg().ok_or_else(|| cal::overflow("duration"))
}

/// `temporal + sign * duration`, component by component as java.time's `plus`/`minus` do.
fn apply(v: &Value, d: &Duration, sign: i64) -> Result<Value> {
    let (months, days) = if sign < 0 {
        (neg(d.months)?, neg(d.days)?)
    } else {
        (d.months, d.days)
    };
    let nps = NANOS_PER_SECOND as i128;
    let npd = NANOS_PER_DAY as i128;
    let time_delta = sign as i128 * (d.seconds as i128 * nps + d.nanos as i128);
    let out_of_range = || cal::overflow("temporal value");
    Ok(match v {
        Value::Date(x) => {
            let days_from_secs = sign * (d.seconds / SECONDS_PER_DAY);
            let nd = cal::plus_months_days(x.days, months, days)?;
            Value::Date(Date {
                days: cal::check_date(nd.checked_add(days_from_secs).ok_or_else(out_of_range)?)?,
            })
        }
        Value::LocalTime(x) => Value::LocalTime(LocalTime {
            nanos: (x.nanos as i128 + time_delta).rem_euclid(npd) as i64,
        }),
        Value::Time(x) => Value::Time(Time {
            nanos: (x.nanos as i128 + time_delta).rem_euclid(npd) as i64,
            offset_seconds: x.offset_seconds,
        }),
        Value::LocalDateTime(x) => {
            let (dd, t) = split_local(x.seconds, x.nanos);
            let nd = cal::plus_months_days(dd, months, days)?;
            let total = nd as i128 * npd + t as i128 + time_delta;
            let day = i64::try_from(total.div_euclid(npd)).map_err(|_| out_of_range())?;
            let rem = total.rem_euclid(npd) as i64;
            cal::check_date(day)?;
            let (seconds, nanos) = local_seconds(day, rem);
            Value::LocalDateTime(LocalDateTime { seconds, nanos })
        }
        Value::DateTime(x) => {
            let mut utc = x.seconds as i128 * nps + x.nanos as i128;
            if months != 0 || days != 0 {
                let off = x.offset_seconds();
                let (dd, t) = split_local(x.seconds.saturating_add(off as i64), x.nanos);
                let nd = cal::plus_months_days(dd, months, days)?;
                let (local, nanos) = local_seconds(nd, t);
                let (secs, _) = local_to_utc(&x.zone, local, Some(off));
                utc = secs as i128 * nps + nanos as i128;
            }
            utc += time_delta;
            let secs = i64::try_from(utc.div_euclid(nps)).map_err(|_| out_of_range())?;
            let nanos = utc.rem_euclid(nps) as u32;
            cal::check_date(secs.div_euclid(SECONDS_PER_DAY))?;
            Value::DateTime(DateTime {
                seconds: secs,
                nanos,
                zone: x.zone.clone(),
            })
        }
        other => {
            return Err(type_error(format!(
                "Cannot add a DURATION to a {}",
                other.type_name()
            )))
        }
    })
}

fn dur_combine(a: &Duration, b: &Duration, sign: i128) -> Result<Duration> {
    Duration::from_parts(
        a.months as i128 + sign * b.months as i128,
        a.days as i128 + sign * b.days as i128,
        a.seconds as i128 + sign * b.seconds as i128,
        a.nanos as i128 + sign * b.nanos as i128,
    )
}

/// Shared guard of the operators: `Some(answer)` when it is already decided.
fn precheck(a: &Value, b: &Value) -> Option<Option<Result<Value>>> {
    if !is_temporal(a) && !is_temporal(b) {
        return Some(None);
    }
    if let Err(e) = check_sane(a).and_then(|_| check_sane(b)) {
        return Some(Some(Err(e)));
    }
    None
}

fn defer(other: &Value) -> bool {
    matches!(other, Value::String(_) | Value::List(_))
}

/// `a + b` where temporal values are involved: instant + duration, duration + instant,
/// duration + duration. `None` if neither operand is temporal (or the other is a STRING or
/// LIST, whose `+` the executor handles).
pub fn add(a: &Value, b: &Value) -> Option<Result<Value>> {
    if let Some(r) = precheck(a, b) {
        return r;
    }
    if !is_temporal(a) && !is_temporal(b) || defer(a) || defer(b) {
        return None;
    }
    if a.is_null() || b.is_null() {
        return Some(Ok(Value::Null));
    }
    Some(match (a, b) {
        (Value::Duration(x), Value::Duration(y)) => dur_combine(x, y, 1).map(Value::Duration),
        (t, Value::Duration(d)) | (Value::Duration(d), t) => apply(t, d, 1),
        _ => Err(type_error(format!(
            "Cannot add {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    })
}

/// `a - b`: instant - duration, duration - duration.
pub fn sub(a: &Value, b: &Value) -> Option<Result<Value>> {
    if let Some(r) = precheck(a, b) {
        return r;
    }
    if !is_temporal(a) && !is_temporal(b) {
        return None;
    }
    if a.is_null() || b.is_null() {
        return Some(Ok(Value::Null));
    }
    Some(match (a, b) {
        (Value::Duration(x), Value::Duration(y)) => dur_combine(x, y, -1).map(Value::Duration),
        (t, Value::Duration(d)) if !matches!(t, Value::Duration(_)) => apply(t, d, -1),
        _ => Err(type_error(format!(
            "Cannot subtract {} from {}",
            b.type_name(),
            a.type_name()
        ))),
    })
}

fn dur_mul_int(d: &Duration, k: i64) -> Result<Duration> {
    let k = k as i128;
    Duration::from_parts(
        d.months as i128 * k,
        d.days as i128 * k,
        d.seconds as i128 * k,
        d.nanos as i128 * k,
    )
}

/// `duration * number`, `number * duration`.
pub fn mul(a: &Value, b: &Value) -> Option<Result<Value>> {
    if let Some(r) = precheck(a, b) {
        return r;
    }
    if !is_temporal(a) && !is_temporal(b) {
        return None;
    }
    if a.is_null() || b.is_null() {
        return Some(Ok(Value::Null));
    }
    Some(match (a, b) {
        (Value::Duration(d), Value::Int(k)) | (Value::Int(k), Value::Duration(d)) => {
            dur_mul_int(d, *k).map(Value::Duration)
        }
        (Value::Duration(d), Value::Float(f)) | (Value::Float(f), Value::Duration(d)) => {
            approximate(
                d.months as f64 * f,
                d.days as f64 * f,
                d.seconds as f64 * f,
                d.nanos as f64 * f,
            )
            .map(Value::Duration)
        }
        _ => Err(type_error(format!(
            "Cannot multiply {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    })
}

/// `duration / number`.
pub fn div(a: &Value, b: &Value) -> Option<Result<Value>> {
    if let Some(r) = precheck(a, b) {
        return r;
    }
    if !is_temporal(a) && !is_temporal(b) {
        return None;
    }
    if a.is_null() || b.is_null() {
        return Some(Ok(Value::Null));
    }
    let divisor = match (a, b) {
        (Value::Duration(_), Value::Int(k)) => *k as f64,
        (Value::Duration(_), Value::Float(f)) => *f,
        _ => {
            return Some(Err(type_error(format!(
                "Cannot divide {} by {}",
                a.type_name(),
                b.type_name()
            ))))
        }
    };
    if divisor == 0.0 {
        return Some(Err(Error::new(
            ErrorCode::ArithmeticError,
            "Division of a DURATION by zero",
        )));
    }
    let Value::Duration(d) = a else {
        return None;
    };
    Some(
        approximate(
            d.months as f64 / divisor,
            d.days as f64 / divisor,
            d.seconds as f64 / divisor,
            d.nanos as f64 / divisor,
        )
        .map(Value::Duration),
    )
}

// ---------------------------------------------------------------------------------------------
// Comparison, equality, strings
// ---------------------------------------------------------------------------------------------

fn time_instant(t: &Time) -> i128 {
    t.nanos as i128 - t.offset_seconds as i128 * NANOS_PER_SECOND as i128
}

fn zone_key(z: &Zone) -> (u8, i32, &str) {
    match z {
        Zone::Offset(o) => (0, *o, ""),
        Zone::Named(n) => (1, 0, n.as_str()),
    }
}

/// Orders two temporal values of the same kind. `None` for different kinds, durations and
/// non-temporal values.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    Some(match (a, b) {
        (Value::Date(x), Value::Date(y)) => x.days.cmp(&y.days),
        (Value::LocalTime(x), Value::LocalTime(y)) => x.nanos.cmp(&y.nanos),
        (Value::Time(x), Value::Time(y)) => time_instant(x)
            .cmp(&time_instant(y))
            .then(x.nanos.cmp(&y.nanos)),
        (Value::LocalDateTime(x), Value::LocalDateTime(y)) => {
            (x.seconds, x.nanos).cmp(&(y.seconds, y.nanos))
        }
        (Value::DateTime(x), Value::DateTime(y)) => (x.seconds, x.nanos)
            .cmp(&(y.seconds, y.nanos))
            .then_with(|| x.offset_seconds().cmp(&y.offset_seconds()).reverse())
            .then_with(|| zone_key(&x.zone).cmp(&zone_key(&y.zone))),
        _ => return None,
    })
}

/// A total order for ORDER BY within one temporal kind: like [`compare`], and durations too
/// (by average length — 30.436875-day months, 24-hour days — then nanoseconds, months, days,
/// seconds, as Neo4j orders them). `None` for different kinds or non-temporal values.
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Value::Duration(x), Value::Duration(y)) = (a, b) {
        let avg = |d: &Duration| {
            d.seconds as i128
                + d.days as i128 * SECONDS_PER_DAY as i128
                + d.months as i128 * 2_629_746
        };
        return Some(
            avg(x)
                .cmp(&avg(y))
                .then(x.nanos.cmp(&y.nanos))
                .then(x.months.cmp(&y.months))
                .then(x.days.cmp(&y.days))
                .then(x.seconds.cmp(&y.seconds)),
        );
    }
    compare(a, b)
}

/// Cypher equality for temporal values: same kind and same value (durations compare their
/// normalised months, days, seconds and nanoseconds). `None` unless both are temporal.
pub fn equals(a: &Value, b: &Value) -> Option<bool> {
    if !is_temporal(a) || !is_temporal(b) {
        return None;
    }
    Some(match (a, b) {
        (Value::Duration(x), Value::Duration(y)) => x == y,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::DateTime(x), Value::DateTime(y)) => {
            x.seconds == y.seconds && x.nanos == y.nanos && x.zone == y.zone
        }
        _ => compare(a, b) == Some(Ordering::Equal),
    })
}

/// Cypher's string form of a temporal value; `None` for other values.
pub fn to_string(v: &Value) -> Option<String> {
    Some(match v {
        Value::Date(x) => x.to_string(),
        Value::LocalTime(x) => x.to_string(),
        Value::Time(x) => x.to_string(),
        Value::LocalDateTime(x) => x.to_string(),
        Value::DateTime(x) => x.to_string(),
        Value::Duration(x) => x.to_string(),
        _ => return None,
    })
}

/// Parses a temporal value written in Cypher's canonical string form (as the TCK writes
/// expected values). Returns `Some` only when `s` is exactly what [`to_string`] prints for
/// the parsed value, so ordinary strings such as `'2015'` or `'12'` are not mistaken for
/// temporal values.
pub fn parse_literal(s: &str) -> Option<Value> {
    let v = parse_any(s)?;
    (to_string(&v).as_deref() == Some(s)).then_some(v)
}

fn parse_any(s: &str) -> Option<Value> {
    let clock = Clock {
        now: DateTime {
            seconds: 0,
            nanos: 0,
            zone: Zone::Offset(0),
        },
    };
    let first = s.trim_start_matches(['-', '+']);
    if first.starts_with('P') {
        return parse::duration(s).ok().map(Value::Duration);
    }
    if s.contains('T') {
        let p = parse::date_time(s).ok()?;
        let kind = if p.offset.is_some() || p.zone.is_some() {
            Kind::DateTime
        } else {
            Kind::LocalDateTime
        };
        return from_string(kind, s, &clock).ok();
    }
    if s.len() > 2 && s.as_bytes().get(2) == Some(&b':') {
        let (_, off) = parse::time(s).ok()?;
        let kind = if off.is_some() {
            Kind::Time
        } else {
            Kind::LocalTime
        };
        return from_string(kind, s, &clock).ok();
    }
    parse::date(s).ok().map(|days| Value::Date(Date { days }))
}
