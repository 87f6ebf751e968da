#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cypher's temporal functions, accessors and operators through the real engine: examples
//! taken from the TCK temporal scenarios (the whole temporal feature files run in the TCK
//! runner, `scripts/tck`). Results are written the way TCK result tables write them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::Value;
use graphward_cypher::Engine;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::open_in_memory(EngineConfig::default()).unwrap())
}

/// The value of `RETURN <expr>`, or the error's message.
fn eval(expr: &str) -> Result<Value, String> {
    let mut tx = engine()
        .begin(TxOptions {
            mode: AccessMode::Read,
            implicit: true,
            ..TxOptions::default()
        })
        .map_err(|e| e.message.clone())?;
    let mut s = tx
        .run(&format!("RETURN {expr} AS v"), BTreeMap::new())
        .map_err(|e| e.message.clone())?;
    let row = s
        .next_row()
        .ok_or("no row")?
        .map_err(|e| e.message.clone())?;
    row.into_iter()
        .next()
        .ok_or_else(|| "no column".to_string())
}

/// Renders a value the way TCK result tables write it.
fn tck_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => format!("'{s}'"),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(tck_text).collect::<Vec<_>>().join(", ")
        ),
        other => match graphward_temporal::to_string(other) {
            Some(s) => format!("'{s}'"),
            None => format!("{other:?}"),
        },
    }
}

fn check(expr: &str, expected: &str) {
    match eval(expr) {
        Ok(v) => assert_eq!(tck_text(&v), expected, "for {expr}"),
        Err(e) => panic!("{expr}: {e}"),
    }
}

#[test]
fn construct_from_maps() {
    check("date({year: 1816, week: 1})", "'1816-01-01'");

    check("date({year: 1818, week: 53})", "'1818-12-28'");

    check(
        "date({date: date('1816-12-30'), week: 2, dayOfWeek: 3})",
        "'1817-01-08'",
    );

    check(
        "date({date: date('1816-12-31'), year: 1817, week: 2})",
        "'1817-01-07'",
    );

    check(
        "date({year: 1984, quarter: 3, dayOfQuarter: 45})",
        "'1984-08-14'",
    );

    check("date({year: 1984, ordinalDay: 202})", "'1984-07-20'");

    check(
        "localtime({hour: 12, minute: 31, second: 14, nanosecond: 789, millisecond: 123, microsecond: 456})",
        "'12:31:14.123456789'",
    );

    check("localtime({hour: 12})", "'12:00'");

    check(
        "time({hour: 12, minute: 31, second: 14, nanosecond: 3})",
        "'12:31:14.000000003Z'",
    );

    check(
        "time({hour: 12, minute: 34, second: 56, timezone: '+02:05:59'})",
        "'12:34:56+02:05:59'",
    );

    check(
        "time({hour: 12, minute: 34, second: 56, timezone: '+02:05:00'})",
        "'12:34:56+02:05'",
    );

    check(
        "datetime({year: 1984, ordinalDay: 202, hour: 12, timezone: 'Europe/Stockholm'})",
        "'1984-07-20T12:00+02:00[Europe/Stockholm]'",
    );

    check(
        "datetime({year: 1984, timezone: 'Europe/Stockholm'})",
        "'1984-01-01T00:00+01:00[Europe/Stockholm]'",
    );

    check(
        "datetime.fromepoch(416779, 999999999)",
        "'1970-01-05T19:46:19.999999999Z'",
    );

    check(
        "datetime.fromepochmillis(237821673987)",
        "'1977-07-15T13:34:33.987Z'",
    );
}

#[test]
fn durations() {
    check("duration({months: 0.75})", "'P22DT19H51M49.5S'");

    check("duration({weeks: 2.5})", "'P17DT12H'");

    check("duration({months: 5, days: 1.5})", "'P5M1DT12H'");

    check("duration({minutes: 1.5, seconds: 1})", "'PT1M31S'");

    check(
        "duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70})",
        "'P12Y5M14DT16H13M10S'",
    );

    check("duration('P0.75M')", "'P22DT19H51M49.5S'");

    check("duration('PT0.75M')", "'PT45S'");

    check("duration('P2.5W')", "'P17DT12H'");

    check("duration('P5M1.5D')", "'P5M1DT12H'");

    check(
        "duration('P2012-02-02T14:37:21.545')",
        "'P2012Y2M2DT14H37M21.545S'",
    );

    check("duration({seconds: -2, milliseconds: 1})", "'PT-1.999S'");

    check(
        "duration({seconds: -60, milliseconds: -1})",
        "'PT-1M-0.001S'",
    );

    check("duration({days: 1, milliseconds: -1})", "'P1DT-0.001S'");

    check(
        "duration({years: 12, months: 5, days: -14, hours: 16})",
        "'P12Y5M-14DT16H'",
    );

    check(
        "duration('PT-1.999S') = duration({seconds: -2, milliseconds: 1})",
        "true",
    );

    check(
        "duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70, nanoseconds: 1}) / 2",
        "'P6Y2M22DT13H21M8S'",
    );

    check(
        "duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70, nanoseconds: 1}) * 0.5",
        "'P6Y2M22DT13H21M8S'",
    );

    check(
        "duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70, nanoseconds: 1}) - duration({years: 12.5, months: 5.5, days: 14.5, hours: 16.5, minutes: 12.5, seconds: 70.5, nanoseconds: 3})",
        "'P-6M-15DT-17H-45M-3.500000002S'",
    );
}

#[test]
fn parsing_strings() {
    check("time('2140-00:00')", "'21:40Z'");

    check("time('22+18:00')", "'22:00+18:00'");

    check(
        "localdatetime('2015-W30-2T214032.142')",
        "'2015-07-21T21:40:32.142'",
    );

    check("datetime('2015-W30T2140-02')", "'2015-07-20T21:40-02:00'");

    check(
        "datetime('2015-07-21T21:40:32.142+0845[Australia/Eucla]')",
        "'2015-07-21T21:40:32.142+08:45[Australia/Eucla]'",
    );

    check(
        "datetime('1818-07-21T21:40:32.142[Europe/Stockholm]')",
        "'1818-07-21T21:40:32.142+00:53:28[Europe/Stockholm]'",
    );

    check(
        "datetime('2015-07-21T21:40:32.142[Europe/London]')",
        "'2015-07-21T21:40:32.142+01:00[Europe/London]'",
    );
}

#[test]
fn arithmetic() {
    check(
        "localtime({hour: 12, minute: 31, second: 14, nanosecond: 1}) + duration({years: 12.5, months: 5.5, days: 14.5, hours: 16.5, minutes: 12.5, seconds: 70.5, nanoseconds: 3})",
        "'22:29:27.500000004'",
    );

    check(
        "date({year: 1984, month: 10, day: 11}) + duration({years: 12.5, months: 5.5, days: 14.5, hours: 16.5, minutes: 12.5, seconds: 70.5, nanoseconds: 3})",
        "'1997-10-11'",
    );

    check(
        "date({year: 1984, month: 10, day: 11}) - duration({years: 12.5, months: 5.5, days: 14.5, hours: 16.5, minutes: 12.5, seconds: 70.5, nanoseconds: 3})",
        "'1971-10-12'",
    );

    check(
        "localdatetime({year: 1984, month: 10, day: 11, hour: 12, minute: 31, second: 14, nanosecond: 1}) - duration({years: 12, months: 5, days: 14, hours: 16, minutes: 12, seconds: 70, nanoseconds: 2})",
        "'1972-04-26T20:18:03.999999999'",
    );
}

#[test]
fn between() {
    check(
        "duration.between(localdatetime('2018-01-02T10:00:00.1'), localdatetime('2018-01-01T10:00:00.2'))",
        "'PT-23H-59M-59.9S'",
    );

    check(
        "duration.between(datetime('2017-10-28T23:00+02:00[Europe/Stockholm]'), datetime('2017-10-29T04:00+01:00[Europe/Stockholm]'))",
        "'PT6H'",
    );

    check(
        "duration.between(datetime('2014-07-21T21:40:36.143+0200'), date('2015-06-24'))",
        "'P11M2DT2H19M23.857S'",
    );

    check(
        "duration.inMonths(date('2018-07-21'), datetime('2016-07-21T21:40:32.142+0100'))",
        "'P-1Y-11M'",
    );

    check(
        "duration.inSeconds(datetime({year: 2017, month: 10, day: 29, hour: 0, timezone: 'Europe/Stockholm'}), localtime({hour: 4}))",
        "'PT5H'",
    );

    check(
        "duration.between(date('-999999999-01-01'), date('+999999999-12-31'))",
        "'P1999999998Y11M30D'",
    );

    check(
        "duration.inSeconds(localdatetime('-999999999-01-01'), localdatetime('+999999999-12-31T23:59:59'))",
        "'PT17531639991215H59M59S'",
    );

    check(
        "duration.inSeconds(localtime('12:44:54.7'), localtime('12:34:55.3'))",
        "'PT-9M-59.4S'",
    );
}

#[test]
fn accessors() {
    check("date({year: 1984, month: 1, day: 1}).weekYear", "1983");

    check(
        "datetime({year: 1984, month: 11, day: 11, hour: 12, minute: 31, second: 14, nanosecond: 645876123, timezone: 'Europe/Stockholm'}).epochMillis",
        "469020674645",
    );

    check(
        "duration({years: 1, months: 4, days: 10, hours: 1, minutes: 1, seconds: 1, nanoseconds: 111111111}).microseconds",
        "3661111111",
    );

    check("time({hour: 12, timezone: '+01:00'}).timezone", "'+01:00'");
}

#[test]
fn truncation() {
    check(
        "datetime.truncate('hour', datetime({year: 1984, month: 10, day: 11, hour: 12, minute: 31, second: 14, nanosecond: 645876123, timezone: '-01:00'}), {timezone: 'Europe/Stockholm'})",
        "'1984-10-11T12:00+01:00[Europe/Stockholm]'",
    );

    check(
        "date.truncate('weekYear', datetime({year: 1984, month: 1, day: 1, hour: 12, timezone: '+01:00'}), {day: 5})",
        "'1983-01-05'",
    );

    check(
        "localtime.truncate('millisecond', localtime({hour: 12, minute: 31, second: 14, nanosecond: 645876123}), {nanosecond: 2})",
        "'12:31:14.645000002'",
    );
}

#[test]
fn comparisons() {
    check(
        "time({hour: 10, minute: 0, timezone: '+01:00'}) < time({hour: 9, minute: 35, second: 14, nanosecond: 645876123, timezone: '+00:00'})",
        "true",
    );

    check("duration({days: 1}) = date('2015-01-01')", "false");
}

#[test]
fn zones_and_edges() {
    check(
        "datetime('2017-03-26T02:30[Europe/Stockholm]')",
        "'2017-03-26T03:30+02:00[Europe/Stockholm]'",
    );

    check(
        "datetime('2017-10-29T02:30+01:00[Europe/Stockholm]')",
        "'2017-10-29T02:30+01:00[Europe/Stockholm]'",
    );

    check(
        "datetime('2017-10-29T02:30[Europe/Stockholm]')",
        "'2017-10-29T02:30+02:00[Europe/Stockholm]'",
    );

    check(
        "datetime('2017-03-25T02:30[Europe/Stockholm]') + duration('P1D')",
        "'2017-03-26T03:30+02:00[Europe/Stockholm]'",
    );

    check(
        "datetime('2017-03-26T01:30[Europe/Stockholm]') + duration('PT1H')",
        "'2017-03-26T03:30+02:00[Europe/Stockholm]'",
    );

    check("date('-0044-03-15')", "'-0044-03-15'");

    check("date({year: 0})", "'0000-01-01'");

    check("date('+10000-01-01')", "'+10000-01-01'");

    check("date('2016-02-29') + duration('P1Y')", "'2017-02-28'");

    check("date('2015-01-31') + duration('P1M')", "'2015-02-28'");

    check("datetime('2015-01-01T00:00Z').timezone", "'Z'");

    check(
        "datetime({epochSeconds: 0, timezone: 'Asia/Tokyo'})",
        "'1970-01-01T09:00+09:00[Asia/Tokyo]'",
    );

    check("datetime({epochMillis: 1500}).epochMillis", "1500");

    check(
        "duration.between(time('12:00+01:00'), time('12:00Z'))",
        "'PT1H'",
    );

    check("duration('P1Y') * 2", "'P2Y'");

    check("2 * duration('PT1S')", "'PT2S'");

    check("duration('PT1S') / 3", "'PT0.333333333S'");

    check("duration({quarters: 1, days: 1})", "'P3M1D'");

    check("toString(duration('PT0S'))", "'PT0S'");

    check("date() = date.statement()", "true");

    check("datetime() = datetime.transaction()", "true");

    check(
        "datetime.statement('Europe/Stockholm').timezone",
        "'Europe/Stockholm'",
    );
}
