//! Calendar and zone arithmetic on plain integers (proleptic Gregorian, ISO weeks).
//!
//! chrono's own date types only reach ±262,143 years while Cypher allows ±999,999,999, so the
//! civil calendar is computed here directly; chrono-tz is used only for zone offsets.

use std::str::FromStr;

use chrono::{Offset, TimeZone};

use super::Zone;
use crate::error::{Error, Result};

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
pub const SECONDS_PER_DAY: i64 = 86_400;
pub const NANOS_PER_DAY: i64 = SECONDS_PER_DAY * NANOS_PER_SECOND;
pub const MIN_YEAR: i64 = -999_999_999;
pub const MAX_YEAR: i64 = 999_999_999;
/// A bound on |epoch day| comfortably above ±999,999,999 years.
pub const MAX_ABS_DAYS: i64 = 366_000_000_000;
/// The largest offset Cypher (and java.time) accepts: ±18:00.
pub const MAX_OFFSET_SECONDS: i32 = 18 * 3600;

/// Days since 1970-01-01 of a civil date (month 1..=12, day 1..=31). Saturates for years
/// far outside Cypher's range (callers range-check first).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (y, m, d) = (y as i128, m as i128, d as i128);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9).rem_euclid(12);
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    clamp_i64(era * 146_097 + doe - 719_468)
}

fn clamp_i64(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z as i128 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        clamp_i64(if m <= 2 { y + 1 } else { y }),
        m as i64,
        d as i64,
    )
}

pub fn is_leap(y: i64) -> bool {
    y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0)
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

pub fn days_in_year(y: i64) -> i64 {
    if is_leap(y) {
        366
    } else {
        365
    }
}

/// ISO day of week, Monday = 1 .. Sunday = 7.
pub fn day_of_week(days: i64) -> i64 {
    (days + 3).rem_euclid(7) + 1
}

/// The Monday starting ISO week 1 of `week_year`.
pub fn week1_monday(week_year: i64) -> i64 {
    let jan4 = days_from_civil(week_year, 1, 4);
    jan4 - (day_of_week(jan4) - 1)
}

pub fn weeks_in_week_year(week_year: i64) -> i64 {
    (week1_monday(week_year + 1) - week1_monday(week_year)) / 7
}

/// (week-based year, ISO week number) of a day.
pub fn iso_week(days: i64) -> (i64, i64) {
    let (y, _, _) = civil_from_days(days);
    let wy = if days < week1_monday(y) {
        y - 1
    } else if days >= week1_monday(y + 1) {
        y + 1
    } else {
        y
    };
    (wy, (days - week1_monday(wy)) / 7 + 1)
}

pub fn ordinal_day(days: i64) -> i64 {
    let (y, _, _) = civil_from_days(days);
    days - days_from_civil(y, 1, 1) + 1
}

pub fn quarter_start_month(q: i64) -> i64 {
    (q - 1) * 3 + 1
}

pub fn day_of_quarter(days: i64) -> i64 {
    let (y, m, _) = civil_from_days(days);
    let q = (m - 1) / 3 + 1;
    days - days_from_civil(y, quarter_start_month(q), 1) + 1
}

pub fn days_in_quarter(y: i64, q: i64) -> i64 {
    let m = quarter_start_month(q);
    days_in_month(y, m) + days_in_month(y, m + 1) + days_in_month(y, m + 2)
}

/// Checks that a day count lies within Cypher's year range.
pub fn check_date(days: i64) -> Result<i64> {
    if days.unsigned_abs() > MAX_ABS_DAYS as u64 {
        return Err(Error::argument("Date is out of the supported range")
            .with_detail("InvalidArgumentValue"));
    }
    let (y, _, _) = civil_from_days(days);
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(Error::argument(format!(
            "Date is out of range: year {y} is outside {MIN_YEAR}..{MAX_YEAR}"
        ))
        .with_detail("InvalidArgumentValue"));
    }
    Ok(days)
}

/// Adds months (clamping the day of month, as java.time does) and then days.
pub fn plus_months_days(days: i64, months: i64, plus_days: i64) -> Result<i64> {
    let (y, m, d) = civil_from_days(days);
    let total = (y as i128) * 12 + (m as i128 - 1) + months as i128;
    let ny = total.div_euclid(12);
    if ny < MIN_YEAR as i128 || ny > MAX_YEAR as i128 {
        return Err(overflow("date"));
    }
    let ny = ny as i64;
    let nm = total.rem_euclid(12) as i64 + 1;
    let nd = d.min(days_in_month(ny, nm));
    let base = days_from_civil(ny, nm, nd);
    let out = base
        .checked_add(plus_days)
        .ok_or_else(|| overflow("date"))?;
    check_date(out)
}

pub fn overflow(what: &str) -> Error {
    Error::new(
        crate::error::ErrorCode::ArithmeticError,
        format!("The {what} is out of the supported range"),
    )
}

// ---------------------------------------------------------------------------------------------
// Zones
// ---------------------------------------------------------------------------------------------

/// Parses a zone given as `Z`, an offset (`+01:00`, `+0100`, `+01`, `-02:05:07`) or an IANA
/// region name (`Europe/Stockholm`).
pub fn parse_zone(s: &str) -> Result<Zone> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") {
        return Ok(Zone::Offset(0));
    }
    if s.starts_with('+') || s.starts_with('-') {
        return parse_offset(s).map(Zone::Offset);
    }
    named_zone(s)
}

pub fn named_zone(s: &str) -> Result<Zone> {
    match chrono_tz::Tz::from_str(s) {
        Ok(tz) => Ok(Zone::Named(tz.name().to_string())),
        Err(_) => Err(
            Error::argument(format!("Invalid value for time zone: '{s}'"))
                .with_detail("InvalidArgumentValue"),
        ),
    }
}

/// Parses `±HH`, `±HHMM`, `±HH:MM`, `±HHMMSS`, `±HH:MM:SS` into seconds east of UTC.
pub fn parse_offset(s: &str) -> Result<i32> {
    let bad = || {
        Error::argument(format!("Invalid time zone offset: '{s}'"))
            .with_detail("InvalidArgumentValue")
    };
    let bytes = s.as_bytes();
    let sign = match bytes.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(bad()),
    };
    let rest = &s[1..];
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    // Colons, if used, must sit between two-digit groups.
    if rest.contains(':') {
        let groups: Vec<&str> = rest.split(':').collect();
        if groups.len() > 3 || groups.iter().any(|g| g.len() != 2) {
            return Err(bad());
        }
    }
    let (h, m, sec) = match digits.len() {
        2 => (num(&digits[0..2]), 0, 0),
        4 => (num(&digits[0..2]), num(&digits[2..4]), 0),
        6 => (num(&digits[0..2]), num(&digits[2..4]), num(&digits[4..6])),
        _ => return Err(bad()),
    };
    if m > 59 || sec > 59 {
        return Err(bad());
    }
    let total = h * 3600 + m * 60 + sec;
    if total > MAX_OFFSET_SECONDS {
        return Err(bad());
    }
    Ok(sign * total)
}

fn num(s: &str) -> i32 {
    s.bytes().fold(0i32, |acc, b| acc * 10 + (b - b'0') as i32)
}

/// The offset of `zone` at the UTC instant `utc_seconds`.
pub fn offset_at(zone: &Zone, utc_seconds: i64) -> i32 {
    match zone {
        Zone::Offset(o) => *o,
        Zone::Named(name) => match chrono_tz::Tz::from_str(name) {
            Ok(tz) => {
                // chrono's range is narrower than Cypher's; far dates use the nearest rule.
                let clamped = utc_seconds.clamp(-8_000_000_000_000, 8_000_000_000_000);
                match chrono::DateTime::from_timestamp(clamped, 0) {
                    Some(dt) => tz
                        .offset_from_utc_datetime(&dt.naive_utc())
                        .fix()
                        .local_minus_utc(),
                    None => 0,
                }
            }
            Err(_) => 0,
        },
    }
}

/// Resolves a local date-time (seconds since the epoch, local) in `zone` to UTC seconds.
/// Overlaps pick `prefer` when valid, otherwise the earlier offset; gaps shift the local time
/// forward by the gap's length (java.time semantics).
pub fn local_to_utc(zone: &Zone, local: i64, prefer: Option<i32>) -> (i64, i32) {
    match zone {
        Zone::Offset(o) => (local.saturating_sub(*o as i64), *o),
        Zone::Named(_) => {
            let mut candidates = vec![
                offset_at(zone, local.saturating_sub(SECONDS_PER_DAY)),
                offset_at(zone, local),
                offset_at(zone, local.saturating_add(SECONDS_PER_DAY)),
            ];
            candidates.sort_unstable();
            candidates.dedup();
            let valid: Vec<i32> = candidates
                .iter()
                .copied()
                .filter(|o| offset_at(zone, local.saturating_sub(*o as i64)) == *o)
                .collect();
            if let Some(p) = prefer {
                if valid.contains(&p) {
                    return (local.saturating_sub(p as i64), p);
                }
            }
            if let Some(o) = valid.iter().copied().max() {
                return (local.saturating_sub(o as i64), o);
            }
            // In a gap: use the offset in force before the transition.
            let before = offset_at(zone, local.saturating_sub(SECONDS_PER_DAY));
            let utc = local.saturating_sub(before as i64);
            (utc, offset_at(zone, utc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for d in [
            -1_000_000i64,
            -719_468,
            -1,
            0,
            1,
            59,
            60,
            365,
            10_000,
            2_000_000,
        ] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        let big = days_from_civil(999_999_999, 12, 31);
        assert_eq!(civil_from_days(big), (999_999_999, 12, 31));
        let small = days_from_civil(-999_999_999, 1, 1);
        assert_eq!(civil_from_days(small), (-999_999_999, 1, 1));
    }

    #[test]
    fn weeks() {
        assert_eq!(day_of_week(0), 4);
        assert_eq!(iso_week(days_from_civil(1984, 1, 1)), (1983, 52));
        assert_eq!(iso_week(days_from_civil(1984, 10, 11)), (1984, 41));
        assert_eq!(week1_monday(1817), days_from_civil(1816, 12, 30));
        assert_eq!(weeks_in_week_year(1818), 53);
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+01:00").ok(), Some(3600));
        assert_eq!(parse_offset("+0845").ok(), Some(8 * 3600 + 45 * 60));
        assert_eq!(parse_offset("-04").ok(), Some(-4 * 3600));
        assert_eq!(
            parse_offset("-02:05:07").ok(),
            Some(-(2 * 3600 + 5 * 60 + 7))
        );
        assert!(parse_offset("+19:00").is_err());
        assert!(parse_offset("+1:00").is_err());
    }

    #[test]
    fn named_zone_offsets() {
        let z = Zone::Named("Europe/Stockholm".into());
        // 1818: local mean time of the linked zone (Europe/Berlin): +00:53:28
        let local = days_from_civil(1818, 7, 21) * SECONDS_PER_DAY + 21 * 3600;
        assert_eq!(local_to_utc(&z, local, None).1, 53 * 60 + 28);
        // DST gap 2017-03-26 02:30 -> 03:30+02:00
        let gap = days_from_civil(2017, 3, 26) * SECONDS_PER_DAY + 2 * 3600 + 1800;
        let (utc, off) = local_to_utc(&z, gap, None);
        assert_eq!(off, 7200);
        assert_eq!(utc + off as i64, gap + 3600);
        // overlap 2017-10-29 02:30 -> earlier offset +02:00 unless +01:00 preferred
        let ov = days_from_civil(2017, 10, 29) * SECONDS_PER_DAY + 2 * 3600 + 1800;
        assert_eq!(local_to_utc(&z, ov, None).1, 7200);
        assert_eq!(local_to_utc(&z, ov, Some(3600)).1, 3600);
    }
}
