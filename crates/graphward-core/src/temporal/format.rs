//! Cypher's string forms of temporal values (java.time's `toString` conventions, as Neo4j
//! prints them and the TCK expects them).

use std::fmt::Write;

use super::cal::{civil_from_days, NANOS_PER_SECOND};
use super::{Date, DateTime, Duration, LocalDateTime, LocalTime, Time, Zone};

pub fn date(days: i64, out: &mut String) {
    let (y, m, d) = civil_from_days(days);
    if y.abs() < 1000 {
        if y < 0 {
            out.push('-');
        }
        let _ = write!(out, "{:04}", y.abs());
    } else {
        if y > 9999 {
            out.push('+');
        }
        let _ = write!(out, "{y}");
    }
    let _ = write!(out, "-{m:02}-{d:02}");
}

/// `HH:MM[:SS[.fff|.ffffff|.fffffffff]]`: seconds only when non-zero (or a fraction follows),
/// the fraction in groups of three digits.
pub fn time(nanos_of_day: i64, out: &mut String) {
    let n = nanos_of_day.rem_euclid(super::cal::NANOS_PER_DAY);
    let secs = n / NANOS_PER_SECOND;
    let frac = n % NANOS_PER_SECOND;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let _ = write!(out, "{h:02}:{m:02}");
    if s > 0 || frac > 0 {
        let _ = write!(out, ":{s:02}");
        if frac > 0 {
            if frac % 1_000_000 == 0 {
                let _ = write!(out, ".{:03}", frac / 1_000_000);
            } else if frac % 1000 == 0 {
                let _ = write!(out, ".{:06}", frac / 1000);
            } else {
                let _ = write!(out, ".{frac:09}");
            }
        }
    }
}

/// `Z`, `+HH:MM` or `+HH:MM:SS`.
pub fn offset(seconds: i32, out: &mut String) {
    if seconds == 0 {
        out.push('Z');
        return;
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let a = seconds.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}", a / 3600, (a / 60) % 60);
    if !a.is_multiple_of(60) {
        let _ = write!(out, ":{:02}", a % 60);
    }
}

pub fn offset_string(seconds: i32) -> String {
    let mut s = String::new();
    offset(seconds, &mut s);
    s
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        date(self.days, &mut s);
        f.write_str(&s)
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        time(self.nanos, &mut s);
        f.write_str(&s)
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        time(self.nanos, &mut s);
        offset(self.offset_seconds, &mut s);
        f.write_str(&s)
    }
}

impl std::fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let days = self.seconds.div_euclid(super::cal::SECONDS_PER_DAY);
        let secs = self.seconds.rem_euclid(super::cal::SECONDS_PER_DAY);
        date(days, &mut s);
        s.push('T');
        time(
            secs * NANOS_PER_SECOND + (self.nanos as i64 % NANOS_PER_SECOND),
            &mut s,
        );
        f.write_str(&s)
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let off = self.offset_seconds();
        let local = LocalDateTime {
            seconds: self.seconds.saturating_add(off as i64),
            nanos: self.nanos,
        };
        let mut s = local.to_string();
        offset(off, &mut s);
        if let Zone::Named(name) = &self.zone {
            let _ = write!(s, "[{name}]");
        }
        f.write_str(&s)
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::from("P");
        let unit = |s: &mut String, q: i64, c: char| {
            if q != 0 {
                let _ = write!(s, "{q}{c}");
            }
        };
        unit(&mut s, self.months / 12, 'Y');
        unit(&mut s, self.months % 12, 'M');
        unit(&mut s, self.days, 'D');
        if self.seconds != 0 || self.nanos != 0 {
            let mut secs = self.seconds as i128;
            let mut n = self.nanos as i64;
            if secs < 0 && n != 0 {
                secs += 1;
                n -= NANOS_PER_SECOND;
            }
            s.push('T');
            let h = secs / 3600;
            if h != 0 {
                let _ = write!(s, "{h}H");
            }
            let secs = secs % 3600;
            let m = secs / 60;
            if m != 0 {
                let _ = write!(s, "{m}M");
            }
            let secs = secs % 60;
            if secs != 0 {
                let _ = write!(s, "{secs}");
                if n != 0 {
                    fraction(n, &mut s);
                }
                s.push('S');
            } else if n != 0 {
                if n < 0 {
                    s.push('-');
                }
                s.push('0');
                fraction(n, &mut s);
                s.push('S');
            }
        }
        if s.len() == 1 {
            s.push_str("T0S");
        }
        f.write_str(&s)
    }
}

/// `.ddd` with trailing zeros removed (the sign is the caller's business).
fn fraction(n: i64, out: &mut String) {
    let n = n.unsigned_abs();
    let digits = format!("{n:09}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}
