//! Unit tests that call the temporal functions directly: hostile and extreme values never
//! panic, errors, ordering, strict literals. The Cypher-level examples from the TCK run
//! through the real engine in `crates/graphward-cypher/tests/temporal.rs`, and the TCK
//! temporal features themselves in the TCK runner (`scripts/tck`).

use super::*;
use graphward_core::temporal::{Date, LocalDateTime, LocalTime, Time};
use graphward_core::value::{Map, Value};

fn test_clock() -> Clock {
    Clock {
        now: DateTime {
            seconds: 1_500_000_000,
            nanos: 123_456_789,
            zone: Zone::Offset(0),
        },
    }
}

/// A temporal value from its ISO 8601 text.
fn lit(s: &str) -> Value {
    match parse_literal(s) {
        Some(v) => v,
        None => panic!("not a temporal literal: {s}"),
    }
}

/// The value of `f('s')` at the test clock.
fn eval_call(f: &str, s: &str) -> Value {
    match call(f, &[Value::String(s.into())], &test_clock()) {
        Some(Ok(v)) => v,
        other => panic!("{f}('{s}'): {other:?}"),
    }
}

#[test]
fn nulls_and_errors_never_panic() {
    let clock = test_clock();
    for f in [
        "date",
        "date.transaction",
        "localtime.statement",
        "time.realtime",
        "localdatetime",
        "datetime",
        "duration",
    ] {
        assert_eq!(
            call(f, &[Value::Null], &clock).and_then(|r| r.ok()),
            Some(Value::Null)
        );
    }
    for v in [
        Value::Int(1),
        Value::String(String::new()),
        Value::String("P".into()),
        Value::String("PT".into()),
        Value::String("+".into()),
        Value::String("9999999999999999999999".into()),
        Value::String("T".into()),
        Value::String("2015-W60".into()),
        Value::String("-".into()),
        Value::String("12:".into()),
        Value::String("[".into()),
        Value::String("2015-01-01T12:00[Nowhere/Land]".into()),
    ] {
        for f in [
            "date",
            "localtime",
            "time",
            "localdatetime",
            "datetime",
            "duration",
        ] {
            let _ = call(f, std::slice::from_ref(&v), &clock);
        }
    }
    let mut m = Map::new();
    m.insert("year".into(), Value::Int(i64::MAX));
    assert!(matches!(
        call("date", &[Value::Map(m.clone())], &clock),
        Some(Err(_))
    ));
    m.insert("years".into(), Value::Int(i64::MAX));
    m.remove("year");
    assert!(matches!(
        call("duration", &[Value::Map(m)], &clock),
        Some(Err(_))
    ));
    let big = Value::Duration(Duration {
        months: i64::MAX,
        days: 0,
        seconds: 0,
        nanos: 0,
    });
    assert!(matches!(mul(&big, &Value::Int(2)), Some(Err(_))));
    assert!(matches!(div(&big, &Value::Int(0)), Some(Err(_))));
    let _ = add(&eval_call("date", "2015-01-01"), &big);
    let _ = sub(&eval_call("datetime", "2015-01-01"), &big);
}

#[test]
fn hostile_values_do_not_panic() {
    let clock = test_clock();
    let hostile = [
        Value::Date(Date { days: i64::MAX }),
        Value::Date(Date { days: i64::MIN }),
        Value::LocalTime(LocalTime { nanos: -5 }),
        Value::Time(Time {
            nanos: i64::MAX,
            offset_seconds: i32::MIN,
        }),
        Value::LocalDateTime(LocalDateTime {
            seconds: i64::MIN,
            nanos: u32::MAX,
        }),
        Value::DateTime(DateTime {
            seconds: i64::MAX,
            nanos: u32::MAX,
            zone: Zone::Named("Europe/Stockholm".into()),
        }),
        Value::DateTime(DateTime {
            seconds: i64::MIN,
            nanos: 0,
            zone: Zone::Offset(i32::MAX),
        }),
        Value::DateTime(DateTime {
            seconds: 0,
            nanos: 0,
            zone: Zone::Named("No/Such_Zone".into()),
        }),
        Value::Duration(Duration {
            months: i64::MIN,
            days: i64::MIN,
            seconds: i64::MIN,
            nanos: i32::MIN,
        }),
        Value::Duration(Duration {
            months: i64::MAX,
            days: i64::MAX,
            seconds: i64::MAX,
            nanos: 999_999_999,
        }),
    ];
    let funcs = [
        "date",
        "localtime",
        "time",
        "localdatetime",
        "datetime",
        "duration",
        "date.truncate",
        "datetime.truncate",
        "duration.between",
        "duration.inseconds",
        "duration.inmonths",
        "duration.indays",
    ];
    let keys = [
        "year",
        "epochMillis",
        "hour",
        "offset",
        "timezone",
        "nanoseconds",
        "weekYear",
    ];
    for a in &hostile {
        let _ = to_string(a);
        for k in keys {
            let _ = property(a, k);
        }
        for f in funcs {
            let _ = call(f, std::slice::from_ref(a), &clock);
            let _ = call(f, &[Value::String("year".into()), a.clone()], &clock);
            let mut m = Map::new();
            m.insert("date".into(), a.clone());
            m.insert("time".into(), a.clone());
            let _ = call(f, &[Value::Map(m)], &clock);
        }
        for b in &hostile {
            let _ = add(a, b);
            let _ = sub(a, b);
            let _ = compare(a, b);
            let _ = equals(a, b);
            let _ = call("duration.between", &[a.clone(), b.clone()], &clock);
        }
        let _ = mul(a, &Value::Float(f64::INFINITY));
        let _ = mul(a, &Value::Int(i64::MIN));
        let _ = div(a, &Value::Float(f64::NAN));
        let _ = div(a, &Value::Float(1e-300));
    }
    // Extreme but valid values.
    let max = eval_call("date", "+999999999-12-31");
    let min = eval_call("localdatetime", "-999999999-01-01");
    let dur = eval_call("duration", "P999999999Y");
    for v in [&max, &min] {
        let _ = add(v, &dur);
        let _ = sub(v, &dur);
        for k in keys {
            let _ = property(v, k);
        }
    }
    let mut m = Map::new();
    m.insert("epochSeconds".into(), Value::Int(i64::MAX));
    m.insert("nanosecond".into(), Value::Int(i64::MAX));
    let _ = call("datetime", &[Value::Map(m)], &clock);
    let mut m = Map::new();
    m.insert("year".into(), Value::Int(i64::MAX));
    m.insert("week".into(), Value::Int(1));
    assert!(matches!(
        call("date", &[Value::Map(m)], &clock),
        Some(Err(_))
    ));
    for s in [
        "PT9223372036854775807H",
        "P9223372036854775807Y",
        "P99999999999999999.5Y",
        "PT-9223372036854775807H0.5M",
    ] {
        let _ = call("duration", &[Value::String(s.into())], &clock);
    }
}

#[test]
fn ordering_durations() {
    use std::cmp::Ordering;
    let a = eval_call("duration", "P1M");
    let b = eval_call("duration", "P31D");
    let c = eval_call("duration", "P30D");
    assert_eq!(order(&a, &b), Some(Ordering::Less));
    assert_eq!(order(&a, &c), Some(Ordering::Greater));
    assert_eq!(order(&a, &a), Some(Ordering::Equal));
    assert_eq!(compare(&a, &b), None);
}

#[test]
fn parse_literal_is_strict() {
    assert!(parse_literal("2015").is_none());
    assert!(parse_literal("12").is_none());
    assert!(parse_literal("hello").is_none());
    assert!(parse_literal("P1Y2M3DT4H").is_some());
    assert!(parse_literal("2015-07-21T21:40:32.142+0100").is_none());
    assert!(parse_literal("PT-1.999S").is_some());
}

#[test]
fn direct_calls() {
    let clock = test_clock();
    assert!(matches!(
        call("date", &[Value::String("2015-02-30".into())], &clock),
        Some(Err(_))
    ));
    assert!(matches!(
        call("duration", &[Value::String("P1Q".into())], &clock),
        Some(Err(_))
    ));
    assert!(matches!(
        call("duration", &[Value::Map(Map::new())], &clock),
        Some(Err(_))
    ));
    assert!(matches!(property(&lit("2015-01-01"), "hour"), Some(Err(_))));
    assert_eq!(compare(&lit("P1D"), &lit("P2D")), None);
    for s in [
        "2015-07-21T21:40:32.142+01:00",
        "P1Y2M3DT4H",
        "12:31:14.645876123Z",
        "2015-07-21T21:40:32.142+01:00[Europe/London]",
        "2015-07-21",
        "21:40",
        "2015-07-21T21:40",
    ] {
        let v = parse_literal(s);
        assert_eq!(v.as_ref().and_then(to_string).as_deref(), Some(s));
    }
    // The statement clock is 02:40 UTC: 07:40 at +05:00 is later in the day.
    let mut m = Map::new();
    m.insert("timezone".into(), Value::String("+05:00".into()));
    let east = call("localtime.statement", &[Value::Map(m)], &clock);
    let utc = call("localtime.statement", &[], &clock);
    let (Some(Ok(east)), Some(Ok(utc))) = (east, utc) else {
        panic!("localtime.statement failed");
    };
    assert_eq!(compare(&east, &utc), Some(std::cmp::Ordering::Greater));
}
