//! ISO 8601 parsing of temporal strings, in the forms Cypher accepts.

use super::cal::{
    self, days_from_civil, days_in_month, days_in_year, week1_monday, weeks_in_week_year,
    NANOS_PER_SECOND,
};
use super::{approximate, Duration, Zone};
use graphward_core::{Error, Result};

fn bad(kind: &str, s: &str) -> Error {
    Error::argument(format!("Text cannot be parsed to a {kind}: '{s}'"))
        .with_detail("InvalidArgumentValue")
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn int(s: &str) -> Option<i64> {
    if !all_digits(s) || s.len() > 18 {
        return None;
    }
    s.parse().ok()
}

/// Parses a date: `2015-07-21`, `20150721`, `2015-07`, `201507`, `2015-W30-2`, `2015W302`,
/// `2015-W30`, `2015W30`, `2015-202`, `2015202`, `2015`, and signed long years
/// (`+999999999-12-31`, `-0044-03-15`). Returns days since the epoch.
pub(crate) fn date(s: &str) -> Result<i64> {
    let err = || bad("date", s);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let signed = body.len() != s.len();
    let year_len = if signed {
        body.bytes().take_while(|b| b.is_ascii_digit()).count()
    } else {
        4
    };
    if year_len < 4 || body.len() < year_len || !all_digits(&body[..year_len]) {
        return Err(err());
    }
    let mut year = int(&body[..year_len]).ok_or_else(err)?;
    if neg {
        year = -year;
    }
    if !(cal::MIN_YEAR..=cal::MAX_YEAR).contains(&year) {
        return Err(err());
    }
    let rest = &body[year_len..];
    if rest.is_empty() {
        return Ok(days_from_civil(year, 1, 1));
    }
    let (extended, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if signed && !extended {
        return Err(err());
    }
    if let Some(w) = rest.strip_prefix(['W', 'w']) {
        // week date
        let (week, dow) = if extended {
            match w.split_once('-') {
                Some((wk, d)) if d.len() == 1 => (wk, Some(d)),
                Some(_) => return Err(err()),
                None => (w, None),
            }
        } else if w.len() == 3 {
            (&w[..2], Some(&w[2..]))
        } else {
            (w, None)
        };
        if week.len() != 2 {
            return Err(err());
        }
        let week = int(week).ok_or_else(err)?;
        let dow = match dow {
            Some(d) => int(d).ok_or_else(err)?,
            None => 1,
        };
        if week < 1 || week > weeks_in_week_year(year) || !(1..=7).contains(&dow) {
            return Err(err());
        }
        return Ok(week1_monday(year) + (week - 1) * 7 + dow - 1);
    }
    let (month, day, ordinal) = if extended {
        match rest.len() {
            2 => (Some(rest), None, None),
            3 => (None, None, Some(rest)),
            5 if rest.as_bytes().get(2) == Some(&b'-') => {
                (Some(&rest[..2]), Some(&rest[3..]), None)
            }
            _ => return Err(err()),
        }
    } else {
        match rest.len() {
            2 => (Some(rest), None, None),
            3 => (None, None, Some(rest)),
            4 => (Some(&rest[..2]), Some(&rest[2..]), None),
            _ => return Err(err()),
        }
    };
    if let Some(o) = ordinal {
        let o = int(o).ok_or_else(err)?;
        if o < 1 || o > days_in_year(year) {
            return Err(err());
        }
        return Ok(days_from_civil(year, 1, 1) + o - 1);
    }
    let month = int(month.unwrap_or("01")).ok_or_else(err)?;
    let day = int(day.unwrap_or("01")).ok_or_else(err)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(err());
    }
    Ok(days_from_civil(year, month, day))
}

/// Parses a time of day without zone: `21:40:32.142`, `214032.142`, `21:40`, `2140`, `21`.
/// Returns nanoseconds since midnight.
pub(crate) fn local_time(s: &str) -> Result<i64> {
    let err = || bad("time", s);
    let (main, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = if main.contains(':') {
        main.split(':').collect()
    } else {
        if main.len() % 2 != 0 {
            return Err(err());
        }
        (0..main.len() / 2)
            .map(|i| &main[i * 2..i * 2 + 2])
            .collect()
    };
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.len() != 2) {
        return Err(err());
    }
    let h = int(parts[0]).ok_or_else(err)?;
    let m = match parts.get(1) {
        Some(p) => int(p).ok_or_else(err)?,
        None => 0,
    };
    let sec = match parts.get(2) {
        Some(p) => int(p).ok_or_else(err)?,
        None => 0,
    };
    if h > 23 || m > 59 || sec > 59 {
        return Err(err());
    }
    let mut nanos = 0;
    if let Some(f) = frac {
        if parts.len() != 3 || f.is_empty() || f.len() > 9 || !all_digits(f) {
            return Err(err());
        }
        nanos = int(f).ok_or_else(err)? * 10i64.pow(9 - f.len() as u32);
    }
    Ok(((h * 60 + m) * 60 + sec) * NANOS_PER_SECOND + nanos)
}

/// Splits a trailing zone off a time string: `Z`, `±hh[:mm[:ss]]` and/or `[Region/City]`.
fn split_zone(s: &str) -> Result<(&str, Option<i32>, Option<Zone>)> {
    let (s, named) = match s.find('[') {
        Some(i) => {
            let name = s[i + 1..]
                .strip_suffix(']')
                .ok_or_else(|| bad("date time", s))?;
            (&s[..i], Some(cal::named_zone(name)?))
        }
        None => (s, None),
    };
    match s.find(['Z', 'z', '+', '-']) {
        Some(i) => {
            let off = &s[i..];
            let off = if off.eq_ignore_ascii_case("z") {
                0
            } else {
                cal::parse_offset(off)?
            };
            Ok((&s[..i], Some(off), named))
        }
        None => Ok((s, None, named)),
    }
}

/// A parsed time with its optional offset.
pub(crate) fn time(s: &str) -> Result<(i64, Option<i32>)> {
    let (t, off, named) = split_zone(s)?;
    if named.is_some() {
        return Err(bad("time", s));
    }
    Ok((local_time(t)?, off))
}

/// A parsed date-time: local days, local nanos of day, offset, named zone.
pub(crate) struct ParsedDateTime {
    pub days: i64,
    pub nanos: i64,
    pub offset: Option<i32>,
    pub zone: Option<Zone>,
}

pub(crate) fn date_time(s: &str) -> Result<ParsedDateTime> {
    let (d, t) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let days = date(d)?;
    let (nanos, offset, zone) = match t {
        Some(t) => {
            let (t, off, named) = split_zone(t)?;
            (local_time(t)?, off, named)
        }
        None => (0, None, None),
    };
    Ok(ParsedDateTime {
        days,
        nanos,
        offset,
        zone,
    })
}

/// One `<number><unit>` component of a duration.
struct Num<'a> {
    neg: bool,
    int: &'a str,
    frac: Option<&'a str>,
}

impl Num<'_> {
    fn whole(&self) -> Option<i64> {
        let v = if self.int.is_empty() {
            Some(0)
        } else {
            int(self.int)
        }?;
        Some(if self.neg { -v } else { v })
    }
    fn float(&self) -> f64 {
        let txt = format!(
            "{}{}.{}",
            if self.neg { "-" } else { "" },
            if self.int.is_empty() { "0" } else { self.int },
            self.frac.unwrap_or("0")
        );
        txt.parse().unwrap_or(0.0)
    }
}

/// Parses an ISO 8601 duration: `P1Y2M3W4DT5H6M7.8S` (any component may be negative or, if it
/// is the last one, fractional) or the date-like form `P2012-02-02T14:37:21.545`.
pub(crate) fn duration(s: &str) -> Result<Duration> {
    let err = || bad("duration", s);
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1i64, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let body = body.strip_prefix(['P', 'p']).ok_or_else(err)?;
    if body.is_empty() {
        return Err(err());
    }
    // Date-like alternative form.
    if !body
        .chars()
        .any(|c| c.is_ascii_alphabetic() && c != 'T' && c != 't')
    {
        return date_like_duration(sign, body).ok_or_else(err)?;
    }
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut in_time = false;
    let mut comps: Vec<(char, Num)> = Vec::new();
    let order_date = ['Y', 'M', 'W', 'D'];
    let order_time = ['H', 'm', 'S'];
    let mut last_rank: i32 = -1;
    while i < bytes.len() {
        if !in_time && (bytes[i] == b'T' || bytes[i] == b't') {
            in_time = true;
            last_rank = 10;
            i += 1;
            if i >= bytes.len() {
                return Err(err());
            }
            continue;
        }
        let start = i;
        let neg = match bytes[i] {
            b'-' => {
                i += 1;
                true
            }
            b'+' => {
                i += 1;
                false
            }
            _ => false,
        };
        let int_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let int_part = &body[int_start..i];
        let mut frac = None;
        if i < bytes.len() && (bytes[i] == b'.' || bytes[i] == b',') {
            i += 1;
            let fs = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if fs == i {
                return Err(err());
            }
            frac = Some(&body[fs..i]);
        }
        if int_part.is_empty() || i >= bytes.len() || i == start {
            return Err(err());
        }
        let u = (bytes[i] as char).to_ascii_uppercase();
        i += 1;
        let (unit, rank) = if in_time {
            let u = if u == 'M' { 'm' } else { u };
            match order_time.iter().position(|c| *c == u) {
                Some(p) => (u, 11 + p as i32),
                None => return Err(err()),
            }
        } else {
            match order_date.iter().position(|c| *c == u) {
                Some(p) => (u, p as i32),
                None => return Err(err()),
            }
        };
        if rank <= last_rank {
            return Err(err());
        }
        last_rank = rank;
        comps.push((
            unit,
            Num {
                neg,
                int: int_part,
                frac,
            },
        ));
    }
    if comps.is_empty() {
        return Err(err());
    }
    // A fraction is only allowed on the last component.
    for (idx, (_, n)) in comps.iter().enumerate() {
        if n.frac.is_some() && idx + 1 != comps.len() {
            return Err(err());
        }
    }
    let frac_unit = comps
        .last()
        .and_then(|(u, n)| n.frac.map(|_| *u))
        .filter(|u| *u != 'S');
    let get = |c: char| comps.iter().find(|(u, _)| *u == c).map(|(_, n)| n);
    let whole = |c: char| -> Result<i64> {
        match get(c) {
            Some(n) if n.frac.is_none() || c == 'S' => n.whole().ok_or_else(err),
            _ => Ok(0),
        }
    };
    let sf = sign as f64;
    if let Some(u) = frac_unit {
        let months = whole('Y')? as f64 * 12.0 + whole('M')? as f64;
        let days = whole('W')? as f64 * 7.0 + whole('D')? as f64;
        let secs = whole('H')? as f64 * 3600.0 + whole('m')? as f64 * 60.0;
        let f = get(u).map(|n| n.float()).unwrap_or(0.0);
        let d = match u {
            'Y' => approximate(sf * (months + f * 12.0), 0.0, 0.0, 0.0),
            'M' => approximate(sf * (months + f), 0.0, 0.0, 0.0),
            'W' => approximate(sf * months, sf * f * 7.0, 0.0, 0.0),
            'D' => approximate(sf * months, sf * (days + f), 0.0, 0.0),
            'H' => approximate(sf * months, sf * days, sf * f * 3600.0, 0.0),
            _ => approximate(sf * months, sf * days, sf * (secs + f * 60.0), 0.0),
        };
        return d;
    }
    let months = whole('Y')?
        .checked_mul(12)
        .and_then(|y| y.checked_add(whole('M').ok()?))
        .ok_or_else(err)?;
    let days = whole('W')?
        .checked_mul(7)
        .and_then(|w| w.checked_add(whole('D').ok()?))
        .ok_or_else(err)?;
    let secs_whole = whole('S')?;
    let secs = (whole('H')? as i128) * 3600 + (whole('m')? as i128) * 60 + secs_whole as i128;
    let mut nanos: i128 = 0;
    if let Some(n) = get('S') {
        if let Some(f) = n.frac {
            if f.len() > 9 {
                return Err(err());
            }
            let v = int(f).ok_or_else(err)? * 10i64.pow(9 - f.len() as u32);
            nanos = if n.neg { -(v as i128) } else { v as i128 };
        }
    }
    let s128 = sign as i128;
    Duration::from_parts(
        s128 * months as i128,
        s128 * days as i128,
        s128 * secs,
        s128 * nanos,
    )
}

fn date_like_duration(sign: i64, body: &str) -> Option<Result<Duration>> {
    let (d, t) = match body.find(['T', 't']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (mut months, mut days) = (0i64, 0i64);
    if !d.is_empty() {
        let (y, m, dd) = if d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-' {
            (&d[0..4], &d[5..7], &d[8..10])
        } else if d.len() == 8 {
            (&d[0..4], &d[4..6], &d[6..8])
        } else {
            return None;
        };
        let (y, m, dd) = (int(y)?, int(m)?, int(dd)?);
        if m > 12 || dd > 31 {
            return None;
        }
        months = y * 12 + m;
        days = dd;
    }
    let mut nanos: i128 = 0;
    if let Some(t) = t {
        let n = local_time(t).ok()?;
        nanos = n as i128;
    }
    let s = sign as i128;
    Some(Duration::from_parts(
        s * months as i128,
        s * days as i128,
        0,
        s * nanos,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> String {
        graphward_core::temporal::Date {
            days: date(s).unwrap(),
        }
        .to_string()
    }

    #[test]
    fn dates() {
        assert_eq!(d("2015-07-21"), "2015-07-21");
        assert_eq!(d("20150721"), "2015-07-21");
        assert_eq!(d("2015-07"), "2015-07-01");
        assert_eq!(d("201507"), "2015-07-01");
        assert_eq!(d("2015-W30-2"), "2015-07-21");
        assert_eq!(d("2015W302"), "2015-07-21");
        assert_eq!(d("2015-W30"), "2015-07-20");
        assert_eq!(d("2015W30"), "2015-07-20");
        assert_eq!(d("2015-202"), "2015-07-21");
        assert_eq!(d("2015202"), "2015-07-21");
        assert_eq!(d("2015"), "2015-01-01");
        assert_eq!(d("+999999999-12-31"), "+999999999-12-31");
        assert_eq!(d("-999999999-01-01"), "-999999999-01-01");
        assert!(date("2015-13-01").is_err());
        assert!(date("2015-02-30").is_err());
        assert!(date("").is_err());
        assert!(date("x").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(local_time("21").unwrap(), 21 * 3600 * NANOS_PER_SECOND);
        assert!(local_time("24:00").is_err());
        assert!(local_time("2140.5").is_err());
        assert_eq!(time("2140-02").unwrap().1, Some(-7200));
    }
}
