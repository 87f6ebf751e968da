//! Tests: a tiny evaluator for the Cypher subset the temporal TCK scenarios use, unit tests
//! with examples taken from the TCK, and an ignored test that runs the TCK temporal feature
//! files themselves (`TCK_TEMPORAL_DIR=/path/to/features/expressions/temporal cargo test -p
//! graphward-core -- --ignored tck_temporal`).

use std::collections::BTreeMap;

use super::*;
use crate::value::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Mini evaluator
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    Punct(&'static str),
}

fn lex(src: &str) -> Result<Vec<(Tok, usize, usize)>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start, i));
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len() && (b[i] as char).is_ascii_digit() {
                i += 1;
            }
            let mut float = false;
            if i + 1 < b.len() && b[i] == b'.' && (b[i + 1] as char).is_ascii_digit() {
                float = true;
                i += 1;
                while i < b.len() && (b[i] as char).is_ascii_digit() {
                    i += 1;
                }
            }
            let t = &src[start..i];
            out.push((
                if float {
                    Tok::Float(t.parse().map_err(|_| t.to_string())?)
                } else {
                    Tok::Int(t.parse().map_err(|_| t.to_string())?)
                },
                start,
                i,
            ));
            continue;
        }
        if c == '\'' || c == '"' {
            i += 1;
            let mut s = String::new();
            while i < b.len() && b[i] as char != c {
                s.push(b[i] as char);
                i += 1;
            }
            i += 1;
            out.push((Tok::Str(s), start, i));
            continue;
        }
        let two = if i + 1 < b.len() { &src[i..i + 2] } else { "" };
        let p: &'static str = match two {
            "<=" => "<=",
            ">=" => ">=",
            "<>" => "<>",
            _ => match c {
                '(' => "(",
                ')' => ")",
                '{' => "{",
                '}' => "}",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                ':' => ":",
                '.' => ".",
                '+' => "+",
                '-' => "-",
                '*' => "*",
                '/' => "/",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => return Err(format!("unexpected char {c}")),
            },
        };
        i += p.len();
        out.push((Tok::Punct(p), start, i));
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Expr {
    Lit(Value),
    Var(String),
    Map(Vec<(String, Expr)>),
    List(Vec<Expr>),
    Call(String, Vec<Expr>),
    Prop(Box<Expr>, String),
    Neg(Box<Expr>),
    Bin(&'static str, Box<Expr>, Box<Expr>),
}

struct P<'a> {
    toks: &'a [(Tok, usize, usize)],
    pos: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }
    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(i)) if i.eq_ignore_ascii_case(k))
    }
    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.is(p) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {p} at {:?}", self.peek()))
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Ident(i)) => Ok(i),
            t => Err(format!("expected identifier, got {t:?}")),
        }
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let l = self.additive()?;
        for op in ["=", "<>", "<=", ">=", "<", ">"] {
            if self.is(op) {
                self.pos += 1;
                let r = self.additive()?;
                return Ok(Expr::Bin(op, Box::new(l), Box::new(r)));
            }
        }
        Ok(l)
    }
    fn additive(&mut self) -> Result<Expr, String> {
        let mut l = self.mult()?;
        loop {
            let op = if self.is("+") {
                "+"
            } else if self.is("-") {
                "-"
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.mult()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }
    fn mult(&mut self) -> Result<Expr, String> {
        let mut l = self.unary()?;
        loop {
            let op = if self.is("*") {
                "*"
            } else if self.is("/") {
                "/"
            } else {
                return Ok(l);
            };
            self.pos += 1;
            let r = self.unary()?;
            l = Expr::Bin(op, Box::new(l), Box::new(r));
        }
    }
    fn unary(&mut self) -> Result<Expr, String> {
        if self.is("-") {
            self.pos += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        while self.is(".") {
            self.pos += 1;
            let name = self.ident()?;
            e = Expr::Prop(Box::new(e), name);
        }
        Ok(e)
    }
    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Int(i)) => Ok(Expr::Lit(Value::Int(i))),
            Some(Tok::Float(f)) => Ok(Expr::Lit(Value::Float(f))),
            Some(Tok::Str(s)) => Ok(Expr::Lit(Value::String(s))),
            Some(Tok::Punct("(")) => {
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Some(Tok::Punct("{")) => {
                let mut items = Vec::new();
                while !self.is("}") {
                    let k = self.ident()?;
                    self.expect(":")?;
                    items.push((k, self.expr()?));
                    if self.is(",") {
                        self.pos += 1;
                    }
                }
                self.expect("}")?;
                Ok(Expr::Map(items))
            }
            Some(Tok::Punct("[")) => {
                let mut items = Vec::new();
                while !self.is("]") {
                    items.push(self.expr()?);
                    if self.is(",") {
                        self.pos += 1;
                    }
                }
                self.expect("]")?;
                Ok(Expr::List(items))
            }
            Some(Tok::Ident(i)) => {
                if i.eq_ignore_ascii_case("null") {
                    return Ok(Expr::Lit(Value::Null));
                }
                if i.eq_ignore_ascii_case("true") {
                    return Ok(Expr::Lit(Value::Bool(true)));
                }
                if i.eq_ignore_ascii_case("false") {
                    return Ok(Expr::Lit(Value::Bool(false)));
                }
                // dotted function name?
                let save = self.pos;
                let mut name = i.clone();
                while self.is(".") {
                    self.pos += 1;
                    match self.next() {
                        Some(Tok::Ident(n)) => {
                            name.push('.');
                            name.push_str(&n);
                        }
                        _ => break,
                    }
                }
                if self.is("(") {
                    self.pos += 1;
                    let mut args = Vec::new();
                    while !self.is(")") {
                        args.push(self.expr()?);
                        if self.is(",") {
                            self.pos += 1;
                        }
                    }
                    self.expect(")")?;
                    return Ok(Expr::Call(name, args));
                }
                self.pos = save;
                Ok(Expr::Var(i))
            }
            t => Err(format!("unexpected token {t:?}")),
        }
    }
}

type Env = BTreeMap<String, Value>;

fn test_clock() -> Clock {
    Clock {
        now: DateTime {
            seconds: 1_500_000_000,
            nanos: 123_456_789,
            zone: Zone::Offset(0),
        },
    }
}

fn eval(e: &Expr, env: &Env, clock: &Clock) -> Result<Value, String> {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Var(n) => env.get(n).cloned().ok_or_else(|| format!("unbound {n}"))?,
        Expr::Map(items) => {
            let mut m = Map::new();
            for (k, v) in items {
                m.insert(k.clone(), eval(v, env, clock)?);
            }
            Value::Map(m)
        }
        Expr::List(items) => Value::List(
            items
                .iter()
                .map(|i| eval(i, env, clock))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Call(name, args) => {
            let args: Vec<Value> = args
                .iter()
                .map(|a| eval(a, env, clock))
                .collect::<Result<_, _>>()?;
            if name.eq_ignore_ascii_case("tostring") {
                return match args.first() {
                    Some(v) => Ok(to_string(v).map(Value::String).unwrap_or_else(|| v.clone())),
                    None => Err("toString()".into()),
                };
            }
            match call(&name.to_ascii_lowercase(), &args, clock) {
                Some(r) => r.map_err(|e| e.to_string())?,
                None => return Err(format!("unknown function {name}")),
            }
        }
        Expr::Prop(o, k) => {
            let v = eval(o, env, clock)?;
            match &v {
                Value::Map(m) => m.get(k).cloned().unwrap_or(Value::Null),
                Value::Null => Value::Null,
                _ => match property(&v, k) {
                    Some(r) => r.map_err(|e| e.to_string())?,
                    None => return Err(format!("no property {k}")),
                },
            }
        }
        Expr::Neg(x) => match eval(x, env, clock)? {
            Value::Int(i) => Value::Int(-i),
            Value::Float(f) => Value::Float(-f),
            v => return Err(format!("cannot negate {v:?}")),
        },
        Expr::Bin(op, l, r) => {
            let l = eval(l, env, clock)?;
            let r = eval(r, env, clock)?;
            let res = match *op {
                "+" => add(&l, &r),
                "-" => sub(&l, &r),
                "*" => mul(&l, &r),
                "/" => div(&l, &r),
                "=" => return Ok(Value::Bool(equals(&l, &r).unwrap_or(l == r))),
                "<>" => return Ok(Value::Bool(!equals(&l, &r).unwrap_or(l == r))),
                _ => {
                    let c = compare(&l, &r);
                    return Ok(match c {
                        None => Value::Null,
                        Some(o) => Value::Bool(match *op {
                            "<" => o.is_lt(),
                            ">" => o.is_gt(),
                            "<=" => o.is_le(),
                            _ => o.is_ge(),
                        }),
                    });
                }
            };
            match res {
                Some(r) => r.map_err(|e| e.to_string())?,
                None => return Err(format!("operator {op} unsupported")),
            }
        }
    })
}

/// Column names and values of a RETURN.
type Row = (Vec<String>, Vec<Value>);

/// A node in the toy graph: labels and properties.
type Graph = Vec<(Option<String>, Map)>;

/// Runs a query of the subset CREATE / MATCH / WITH / RETURN; returns (columns, row).
fn run_query(src: &str, graph: &mut Graph, clock: &Clock) -> Result<Option<Row>, String> {
    let toks = lex(src)?;
    let mut p = P {
        toks: &toks,
        pos: 0,
    };
    let mut env = Env::new();
    let mut result = None;
    while p.peek().is_some() {
        if p.is_kw("CREATE") {
            p.pos += 1;
            loop {
                p.expect("(")?;
                let mut label = None;
                if let Some(Tok::Ident(_)) = p.peek() {
                    p.ident()?;
                }
                if p.is(":") {
                    p.pos += 1;
                    label = Some(p.ident()?);
                }
                let mut props = Map::new();
                if p.is("{") {
                    if let Value::Map(m) = eval(&p.primary()?, &env, clock)? {
                        props = m;
                    }
                }
                p.expect(")")?;
                graph.push((label, props));
                if p.is(",") {
                    p.pos += 1;
                } else {
                    break;
                }
            }
        } else if p.is_kw("MATCH") {
            p.pos += 1;
            loop {
                p.expect("(")?;
                let var = p.ident()?;
                let mut label = None;
                if p.is(":") {
                    p.pos += 1;
                    label = Some(p.ident()?);
                }
                p.expect(")")?;
                let node = graph
                    .iter()
                    .find(|(l, _)| label.is_none() || *l == label)
                    .ok_or("no node")?;
                env.insert(var, Value::Map(node.1.clone()));
                if p.is(",") {
                    p.pos += 1;
                } else {
                    break;
                }
            }
        } else if p.is_kw("WITH") || p.is_kw("RETURN") {
            let is_return = p.is_kw("RETURN");
            p.pos += 1;
            let mut cols = Vec::new();
            let mut vals = Vec::new();
            let mut new_env = Env::new();
            loop {
                let start = toks.get(p.pos).map(|t| t.1).unwrap_or(0);
                let e = p.expr()?;
                let end = toks.get(p.pos - 1).map(|t| t.2).unwrap_or(0);
                let mut name = src[start..end].to_string();
                if p.is_kw("AS") {
                    p.pos += 1;
                    name = p.ident()?;
                }
                let v = eval(&e, &env, clock)?;
                cols.push(name.clone());
                vals.push(v.clone());
                new_env.insert(name, v);
                if p.is(",") {
                    p.pos += 1;
                } else {
                    break;
                }
            }
            env = new_env;
            if is_return {
                result = Some((cols, vals));
            }
        } else {
            return Err(format!("unsupported clause at {:?}", p.peek()));
        }
    }
    Ok(result)
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
        other => match to_string(other) {
            Some(s) => format!("'{s}'"),
            None => format!("{other:?}"),
        },
    }
}

fn eval_str(src: &str) -> Value {
    let toks = lex(src).unwrap_or_default();
    let mut p = P {
        toks: &toks,
        pos: 0,
    };
    let clock = test_clock();
    match p.expr().and_then(|e| eval(&e, &Env::new(), &clock)) {
        Ok(v) => v,
        Err(e) => Value::String(format!("ERROR: {e}")),
    }
}

fn check(src: &str, expected: &str) {
    let v = eval_str(src);
    let got = tck_text(&v);
    assert_eq!(got, expected, "for {src}");
}

// ---------------------------------------------------------------------------------------------
// Unit tests (examples taken from the TCK temporal scenarios)
// ---------------------------------------------------------------------------------------------

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
    assert!(matches!(
        call("date", &[Value::String("2015-02-30".into())], &test_clock()),
        Some(Err(_))
    ));
    assert!(matches!(
        call("duration", &[Value::String("P1Q".into())], &test_clock()),
        Some(Err(_))
    ));
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
    assert!(matches!(
        property(&eval_str("date('2015-01-01')"), "hour"),
        Some(Err(_))
    ));
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
    let _ = add(&eval_str("date('2015-01-01')"), &big);
    let _ = sub(&eval_str("datetime('2015-01-01')"), &big);
}

#[test]
fn comparisons() {
    check(
        "time({hour: 10, minute: 0, timezone: '+01:00'}) < time({hour: 9, minute: 35, second: 14, nanosecond: 645876123, timezone: '+00:00'})",
        "true",
    );
    check("duration({days: 1}) = date('2015-01-01')", "false");
    assert_eq!(
        compare(&eval_str("duration('P1D')"), &eval_str("duration('P2D')")),
        None
    );
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
}

// ---------------------------------------------------------------------------------------------
// TCK feature runner (ignored: needs the feature files)
// ---------------------------------------------------------------------------------------------

struct Scenario {
    name: String,
    /// (query, expected table) in order; table None when no result check follows.
    steps: Vec<(String, Option<Vec<Vec<String>>>)>,
    examples: Vec<Vec<String>>,
}

fn split_row(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_string()).collect()
}

fn parse_feature(text: &str) -> Vec<Scenario> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Scenario> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim();
        if l.starts_with("Scenario") {
            out.push(Scenario {
                name: l.to_string(),
                steps: Vec::new(),
                examples: Vec::new(),
            });
        } else if l.ends_with("executing query:")
            || l.ends_with("having executed:")
            || l.ends_with("executing control query:")
        {
            // collect the """ block
            let mut q = String::new();
            i += 1;
            if lines.get(i).map(|s| s.trim()) == Some("\"\"\"") {
                i += 1;
                while i < lines.len() && lines[i].trim() != "\"\"\"" {
                    q.push_str(lines[i]);
                    q.push('\n');
                    i += 1;
                }
            }
            if let Some(s) = out.last_mut() {
                s.steps.push((q, None));
            }
        } else if l.starts_with("Then the result should be") && !l.contains("empty") {
            let mut table = Vec::new();
            while i + 1 < lines.len() && lines[i + 1].trim().starts_with('|') {
                i += 1;
                table.push(split_row(lines[i]));
            }
            if let Some(s) = out.last_mut() {
                if let Some(step) = s.steps.last_mut() {
                    step.1 = Some(table);
                }
            }
        } else if l.starts_with("Examples:") {
            while i + 1 < lines.len() && lines[i + 1].trim().starts_with('|') {
                i += 1;
                if let Some(s) = out.last_mut() {
                    s.examples.push(split_row(lines[i]));
                }
            }
        }
        i += 1;
    }
    out
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs one scenario instance; returns an error description on failure.
fn run_instance(s: &Scenario, subst: &[(String, String)]) -> Result<(), String> {
    let apply = |t: &str| {
        let mut t = t.to_string();
        for (k, v) in subst {
            t = t.replace(&format!("<{k}>"), v);
        }
        t
    };
    let clock = test_clock();
    let mut graph = Graph::new();
    for (q, table) in &s.steps {
        let q = apply(q);
        let res = run_query(&q, &mut graph, &clock).map_err(|e| format!("{e} in {q}"))?;
        if let Some(table) = table {
            let (cols, vals) = res.ok_or("no RETURN")?;
            let header = table.first().ok_or("empty table")?;
            let row = table.get(1).ok_or("no row")?;
            for (h, expected) in header.iter().zip(row) {
                let expected = apply(expected);
                let idx = cols
                    .iter()
                    .position(|c| norm(c) == norm(h))
                    .ok_or(format!("no column {h} in {cols:?}"))?;
                let got = tck_text(&vals[idx]);
                if norm(&got) != norm(&expected) {
                    return Err(format!(
                        "{h}: expected {expected}, got {got}\n   query: {}",
                        norm(&q)
                    ));
                }
            }
        }
    }
    Ok(())
}

#[test]
#[ignore]
fn tck_temporal() {
    let dir = std::env::var("TCK_TEMPORAL_DIR")
        .unwrap_or_else(|_| "/work/shared/tck/features/expressions/temporal".into());
    let mut entries: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => return,
    };
    entries.sort();
    let (mut pass, mut fail) = (0, 0);
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for s in parse_feature(&text) {
            let instances: Vec<Vec<(String, String)>> = if s.examples.is_empty() {
                vec![Vec::new()]
            } else {
                let header = s.examples[0].clone();
                s.examples[1..]
                    .iter()
                    .map(|row| header.iter().cloned().zip(row.iter().cloned()).collect())
                    .collect()
            };
            for inst in instances {
                match run_instance(&s, &inst) {
                    Ok(()) => pass += 1,
                    Err(e) => {
                        fail += 1;
                        println!(
                            "FAIL {} {}: {e}",
                            path.file_name().and_then(|f| f.to_str()).unwrap_or(""),
                            s.name
                        );
                    }
                }
            }
        }
    }
    println!("TCK temporal: {pass} passed, {fail} failed");
    assert_eq!(fail, 0);
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
    let max = eval_str("date('+999999999-12-31')");
    let min = eval_str("localdatetime('-999999999-01-01')");
    let dur = eval_str("duration('P999999999Y')");
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
    assert!(matches!(
        call("duration", &[Value::Map(Map::new())], &test_clock()),
        Some(Err(_))
    ));
    check("toString(duration('PT0S'))", "'PT0S'");
    check("date() = date.statement()", "true");
    check("datetime() = datetime.transaction()", "true");
    check(
        "datetime.statement('Europe/Stockholm').timezone",
        "'Europe/Stockholm'",
    );
    check(
        "localtime.statement({timezone: '+05:00'}) > localtime.statement()",
        "true",
    );
}

#[test]
fn ordering_durations() {
    use std::cmp::Ordering;
    let a = eval_str("duration('P1M')");
    let b = eval_str("duration('P31D')");
    let c = eval_str("duration('P30D')");
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
fn feature_runner_detects_mismatch() {
    let text = "Feature: X\n  Scenario Outline: [1] s\n    When executing query:\n      \"\"\"\n      RETURN date(<s>) AS d\n      \"\"\"\n    Then the result should be, in any order:\n      | d |\n      | <r> |\n\n    Examples:\n      | s | r |\n      | '2015-07-21' | '2015-07-21' |\n      | '2015-07-21' | '2015-07-22' |\n";
    let s = parse_feature(text);
    assert_eq!(s.len(), 1);
    let header = s[0].examples[0].clone();
    let inst = |i: usize| -> Vec<(String, String)> {
        header
            .iter()
            .cloned()
            .zip(s[0].examples[i].iter().cloned())
            .collect()
    };
    assert!(run_instance(&s[0], &inst(1)).is_ok());
    assert!(run_instance(&s[0], &inst(2)).is_err());
}
