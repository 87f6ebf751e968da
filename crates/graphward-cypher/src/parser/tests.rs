use super::parse;
use crate::ast::*;

fn ok(q: &str) -> Statement {
    match parse(q, 200) {
        Ok(s) => s,
        Err(e) => panic!("failed to parse {q:?}: {e}"),
    }
}

#[test]
fn basic() {
    ok("MATCH (n) RETURN n");
}

/// One query from a TCK feature file and whether a compile-time SyntaxError is expected.
struct TckQuery {
    file: String,
    query: String,
    expect: Option<String>,
}

fn tck_queries() -> Vec<TckQuery> {
    // The TCK lives in `../shared/tck` beside the repository (read there, never copied in).
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tck/features");
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "feature") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no TCK feature files under {}: ../shared/tck must sit beside the repository",
        root.display()
    );
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        // Split into scenarios.
        let mut starts: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("Scenario"))
            .map(|(i, _)| i)
            .collect();
        starts.push(lines.len());
        for w in starts.windows(2) {
            let sc = &lines[w[0]..w[1]];
            // Queries and the next Then.
            let mut queries = Vec::new();
            let mut i = 0;
            while i < sc.len() {
                let l = sc[i].trim();
                if l.starts_with("When executing query:")
                    || l.starts_with("And executing query:")
                    || l.ends_with("having executed:")
                    || l.ends_with("executing control query:")
                {
                    let mut q = Vec::new();
                    let mut j = i + 2;
                    while j < sc.len() && sc[j].trim() != "\"\"\"" {
                        q.push(sc[j].trim_start().to_string());
                        j += 1;
                    }
                    let mut expect = None;
                    let mut k = j;
                    while k < sc.len() {
                        let t = sc[k].trim();
                        if t.contains("executing query:") && k > j {
                            break;
                        }
                        if t.starts_with("Then") {
                            if let Some(idx) = t.find("should be raised at compile time: ") {
                                expect = Some(t[idx + 34..].to_string());
                            }
                            break;
                        }
                        k += 1;
                    }
                    queries.push((q.join("\n"), expect));
                    i = j;
                }
                i += 1;
            }
            // Examples.
            let mut rows: Vec<Vec<(String, String)>> = Vec::new();
            if let Some(ex) = sc
                .iter()
                .position(|l| l.trim_start().starts_with("Examples"))
            {
                let table: Vec<Vec<String>> = sc[ex + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .take_while(|l| l.starts_with('|'))
                    .map(|l| {
                        l.trim_matches('|')
                            .split('|')
                            .map(|c| c.trim().to_string())
                            .collect()
                    })
                    .collect();
                if let Some((hdr, body)) = table.split_first() {
                    for r in body {
                        rows.push(hdr.iter().cloned().zip(r.iter().cloned()).collect());
                    }
                }
            }
            for (q, expect) in queries {
                if rows.is_empty() {
                    out.push(TckQuery {
                        file: f.display().to_string(),
                        query: q.clone(),
                        expect: expect.clone(),
                    });
                }
                for r in &rows {
                    let mut q2 = q.clone();
                    for (k, v) in r {
                        q2 = q2.replace(&format!("<{k}>"), v);
                    }
                    out.push(TckQuery {
                        file: f.display().to_string(),
                        query: q2,
                        expect: expect.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Parse every TCK query; print the failures. Run with
/// `cargo test -p graphward-cypher tck_parse -- --ignored --nocapture`.
#[test]
#[ignore]
fn tck_parse() {
    let qs = tck_queries();
    let mut ok_fail = 0;
    let mut total_ok = 0;
    let mut err_total = 0;
    let mut err_caught = 0;
    let mut err_wrong_detail = 0;
    let verbose = std::env::var("TCK_VERBOSE").is_ok();
    for q in &qs {
        let r = parse(&q.query, 200).and_then(|s| crate::semantic::check(&s).map(|_| s));
        match (&q.expect, r) {
            (None, Ok(_)) => total_ok += 1,
            (None, Err(e)) => {
                total_ok += 1;
                ok_fail += 1;
                println!("FAIL {}\n{}\n  -> {}\n", q.file, q.query, e);
            }
            (Some(d), Err(e)) => {
                err_total += 1;
                err_caught += 1;
                if e.detail.as_deref() != Some(d.as_str()) {
                    err_wrong_detail += 1;
                    if verbose {
                        println!("DETAIL {} expected {d}\n{}\n  -> {e}\n", q.file, q.query);
                    }
                }
            }
            (Some(d), Ok(_)) => {
                err_total += 1;
                if verbose {
                    println!("MISSED {} expected {d}\n{}\n", q.file, q.query);
                }
            }
        }
    }
    println!(
        "valid queries: {total_ok}, rejected: {ok_fail}; error queries: {err_total}, caught: {err_caught}, wrong detail: {err_wrong_detail}"
    );
}

#[test]
#[ignore]
fn dump() {
    let q = std::env::var("Q").unwrap_or_default();
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if n > 0 {
        let parts: Vec<&str> = q.split('@').collect();
        let q = format!(
            "{}{}{}{}",
            parts[0],
            parts[1].repeat(n),
            parts[2],
            parts[3].repeat(n)
        );
        println!("{:?}", parse(&q, 200).map(|_| ()));
        return;
    }
    println!("{:#?}", parse(&q, 200));
}

fn err(q: &str) -> graphward_core::Error {
    match parse(q, 200) {
        Ok(s) => panic!("expected an error for {q:?}, got {s:?}"),
        Err(e) => e,
    }
}

fn detail(q: &str) -> String {
    err(q).into_data().detail.unwrap_or_default()
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 100_000;
    for (open, close) in [
        ("(", ")"),
        ("[", "]"),
        ("{a:", "}"),
        ("NOT ", ""),
        ("- ", ""),
        ("CASE WHEN ", " THEN 1 END"),
        ("[x IN ", " | x]"),
        ("f(", ")"),
    ] {
        let q = format!("RETURN {}1{}", open.repeat(n), close.repeat(n));
        let e = err(&q);
        assert_eq!(e.detail.as_deref(), Some("UnexpectedSyntax"), "{open}");
    }
    let q = format!("MATCH (n) RETURN n{}", ".a".repeat(n));
    err(&q);
    let q = format!("RETURN 1{}", " + 1".repeat(n));
    err(&q);
    let q = format!("RETURN 1{}", "[0]".repeat(n));
    err(&q);
    let q = format!("{}RETURN 1{}", "CALL { ".repeat(n), " }".repeat(n));
    err(&q);
    let q = format!(
        "MATCH (n) WHERE {}true{} RETURN n",
        "EXISTS { MATCH (m) WHERE ".repeat(n),
        " }".repeat(n)
    );
    err(&q);
    // Without closers.
    err(&"(".repeat(n));
    err(&format!("RETURN {}", "(".repeat(n)));
    err(&format!("MATCH {}", "(".repeat(n)));
}

#[test]
fn long_and_or_chains_are_balanced() {
    let q = format!("RETURN true{}", " OR false".repeat(100_000));
    ok(&q);
    let q = format!("RETURN true{}", " AND false".repeat(10_000));
    ok(&q);
}

#[test]
fn one_megabyte_queries() {
    let items: Vec<String> = (100_000..250_000).map(|i| i.to_string()).collect();
    let q = format!("RETURN [{}] AS l", items.join(","));
    assert!(q.len() > 1_000_000);
    ok(&q);
    let q = format!("RETURN '{}' AS s", "x".repeat(1 << 20));
    ok(&q);
    let q = format!("CREATE {}", vec!["(:A {x: 1})"; 100_000].join(", "));
    crate::semantic::check(&ok(&q)).expect("semantic check of a big CREATE");
    let parts: Vec<String> = (0..60_000)
        .map(|i| format!("(n{i}:A {{x: {i}}})"))
        .collect();
    let q = format!("CREATE {} RETURN n0", parts.join(", "));
    assert!(q.len() > 1_000_000);
    let start = std::time::Instant::now();
    crate::semantic::check(&ok(&q)).expect("semantic check of a big CREATE");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let q = format!("RETURN {} AS x", vec!["n.a"; 200_000].join(" + "));
    err(&q);
}

#[test]
fn malformed_inputs_give_errors() {
    for q in [
        "",
        "   ",
        ";",
        "// only a comment",
        "/* unterminated",
        "RETURN 'abc",
        "RETURN \"abc",
        "RETURN 'a\\qb'",
        "RETURN '\\u12'",
        "RETURN '\\uH'",
        "RETURN `abc",
        "MATCH (n RETURN n",
        "MATCH (n)-[r->(m) RETURN n",
        "RETURN",
        "RETURN 1 +",
        "RETURN [1, 2",
        "RETURN {a: 1",
        "RETURN {a 1}",
        "RETURN CASE END",
        "MATCH (n) RETURN n ORDER n",
        "\u{0}\u{1}\u{2}",
        "\u{feff}\u{fffd}",
        "RETURN 0x",
        "RETURN 1e",
        "RETURN $",
        "MATCH (n) SET n",
        "CREATE INDEX FOR (n:L) ON (m.p)",
        "DROP",
        "SHOW",
        "RETURN 1 UNION",
        "RETURN 1 RETURN 2 garbage",
    ] {
        err(q);
    }
    assert_eq!(detail("RETURN 9223372036854775808"), "IntegerOverflow");
    assert_eq!(detail("RETURN -9223372036854775809"), "IntegerOverflow");
    assert_eq!(detail("RETURN 0o1000000000000000000000"), "IntegerOverflow");
    assert_eq!(detail("RETURN 1.34E999"), "FloatingPointOverflow");
    assert_eq!(detail("RETURN 9223372h54775808"), "InvalidNumberLiteral");
    assert_eq!(detail("RETURN 0x AS literal"), "InvalidNumberLiteral");
    assert_eq!(detail("RETURN 0x1A2b3j4D5E6f7"), "InvalidNumberLiteral");
    assert_eq!(detail("RETURN '\\uH'"), "InvalidUnicodeLiteral");
    assert_eq!(detail("RETURN 42 \u{2014} 41"), "InvalidUnicodeCharacter");
    assert_eq!(detail("RETURN {1B2c3e67:1}"), "UnexpectedSyntax");
    assert_eq!(detail("RETURN [, ]"), "UnexpectedSyntax");
    let e = err("MATCH (n)\nRETURN n +");
    let p = e.position.unwrap_or(graphward_core::error::Position {
        offset: 0,
        line: 0,
        column: 0,
    });
    assert_eq!(p.line, 2);
    assert!(e.message.contains("line 2"), "{}", e.message);
}

/// Deterministic random inputs built from Cypher-ish fragments: must never panic.
#[test]
fn random_inputs_do_not_panic() {
    let frags = [
        "MATCH",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "-",
        "->",
        "<-",
        "n",
        ":",
        "L",
        "r",
        "*",
        "..",
        "1",
        "0x1F",
        "1.5e3",
        "'s'",
        "\"t\\n\"",
        "$p",
        ",",
        ".",
        "RETURN",
        "WITH",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "=",
        "<",
        ">",
        "+",
        "/",
        "^",
        "IN",
        "|",
        "CASE",
        "WHEN",
        "THEN",
        "END",
        "count",
        "DISTINCT",
        "AS",
        "UNWIND",
        "CREATE",
        "MERGE",
        "ON",
        "SET",
        "DELETE",
        "CALL",
        "YIELD",
        "EXISTS",
        "UNION",
        "ALL",
        "IS",
        "NULL",
        "`x`",
        "/*c*/",
        "//\n",
        ";",
        "é",
        "\u{0}",
        "\\",
        "'",
        "\"",
        "`",
        "0o",
        "9999999999999999999999",
        "STARTS",
        "ENDS",
        "reduce",
        "any",
        "x",
        "=~",
        "+=",
        "ORDER",
        "BY",
        "SKIP",
        "LIMIT",
        "OPTIONAL",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let mut q = String::new();
        for _ in 0..len {
            let f = frags[(next() % frags.len() as u64) as usize];
            q.push_str(f);
            if next() % 3 != 0 {
                q.push(' ');
            }
        }
        if let Ok(s) = parse(&q, 50) {
            let _ = crate::semantic::check(&s);
        }
    }
    // Random bytes interpreted as UTF-8 (lossy).
    for _ in 0..5_000 {
        let len = (next() % 64) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (next() % 256) as u8).collect();
        let q = String::from_utf8_lossy(&bytes);
        if let Ok(s) = parse(&q, 50) {
            let _ = crate::semantic::check(&s);
        }
    }
}

#[test]
fn statements_round_trip() {
    let s = ok("MATCH (a)-[:KNOWS*2]-(b) RETURN a.name + ' ' + b.name, count(DISTINCT b) AS c;");
    let Statement::Query(q) = s else {
        panic!("not a query")
    };
    let Some(Clause::Return(r)) = q.first.clauses.get(1) else {
        panic!("no return")
    };
    assert_eq!(r.projection.items[0].text, "a.name + ' ' + b.name");
    assert_eq!(r.projection.items[1].name(), "c");
    let Some(Clause::Match(m)) = q.first.clauses.first() else {
        panic!("no match")
    };
    assert_eq!(
        m.pattern[0].element.chain[0].0.length,
        Some((Some(2), Some(2)))
    );
    assert_eq!(m.pattern[0].element.chain[0].0.direction, Direction::Both);

    for q in [
        "MATCH (n:Person {name: $name}) RETURN n",
        "MATCH (a)-[r:A|B]->(b)<-[:C]-(c) RETURN *",
        "MATCH p = (a)-[*]->(b) RETURN p",
        "MATCH (a)-[*..3]->(b), (c)-[*1..]-(d) RETURN a",
        "OPTIONAL MATCH (n) RETURN n",
        "MATCH (n) WHERE (n)-->() AND NOT (n)<--(:X) RETURN n",
        "MATCH (n) RETURN DISTINCT n.name AS name ORDER BY name ASC, n.age DESC SKIP 1 LIMIT 10",
        "UNWIND [1, 2, 3] AS x WITH x WHERE x > 1 RETURN x",
        "CREATE (a:A {x: 1})-[:R {w: 2.5}]->(b:B)",
        "MERGE (n:N {id: 1}) ON CREATE SET n.created = true ON MATCH SET n.seen = n.seen + 1",
        "MATCH (n) SET n.a = 1, n += {b: 2}, n = {c: 3}, n:L:M",
        "MATCH (n) REMOVE n.a, n:L",
        "MATCH (n) DETACH DELETE n",
        "MATCH (n) DELETE n",
        "RETURN 1 AS x UNION RETURN 2 AS x",
        "RETURN 1 AS x UNION ALL RETURN 2 AS x",
        "CALL db.labels() YIELD label RETURN label",
        "CALL db.labels",
        "CALL test.my.proc('a', 1) YIELD out AS o WHERE o > 1 RETURN o",
        "RETURN $0, $p",
        "RETURN 0x1F, 0o17, 1.5e-3, .5, 1E3, 'a\\'b', \"c\\\"d\", '\\u00e9\\n\\t'",
        "RETURN TRUE, false, NuLL",
        "RETURN date.truncate('month', date()), duration.between(a, b)",
        "RETURN count(*), count(DISTINCT x), collect(x)",
        "RETURN CASE x WHEN 1 THEN 'a' ELSE 'b' END, CASE WHEN x THEN 1 END",
        "RETURN [(a)-->(b) WHERE b.x > 1 | b.name], [p = (a)-->() | p]",
        "RETURN any(x IN l WHERE x > 1), all(x IN l WHERE x), none(x IN l WHERE x), single(x IN l WHERE x)",
        "RETURN reduce(acc = 0, x IN [1, 2] | acc + x)",
        "MATCH (n) WHERE EXISTS { MATCH (n)-->(m) WHERE m.x = 1 } RETURN n",
        "MATCH (n) WHERE EXISTS { (n)-->() } RETURN n",
        "MATCH (n) RETURN n {.a, .*, k: 1, v}",
        "EXPLAIN MATCH (n) RETURN n",
        "PROFILE MATCH (n) RETURN n",
        "match (n) // comment\n /* block */ return `weird name`.`prop`",
        "RETURN l[0], l[1..2], l[..2], l[1..], n:A:B",
        "RETURN a =~ 'x.*', a STARTS WITH 'x', a ENDS WITH 'y', a CONTAINS 'z', a IN [1], a IS NULL, a IS NOT NULL",
        "RETURN 1 <> 2, 1 != 2, 1 <= 2, 1 >= 2, 2 ^ 3, 5 % 2, -x, +x, a XOR b",
        "FOREACH (x IN [1, 2] | CREATE (:N {x: x}))",
        "CALL { MATCH (n) RETURN n } RETURN n",
        "MATCH p = shortestPath((a)-[*]-(b)) RETURN p",
        "CREATE DATABASE foo IF NOT EXISTS",
        "CREATE DATABASE `my-db`",
        "DROP DATABASE foo IF EXISTS",
        "SHOW DATABASES",
        "CREATE INDEX idx IF NOT EXISTS FOR (n:Person) ON (n.name, n.age)",
        "CREATE INDEX FOR (n:Person) ON (n.name)",
        "CREATE INDEX ON :Person(name)",
        "DROP INDEX idx",
        "SHOW INDEXES",
        "CREATE CONSTRAINT c IF NOT EXISTS FOR (n:Person) REQUIRE n.email IS UNIQUE",
        "CREATE CONSTRAINT ON (n:Person) ASSERT n.email IS UNIQUE",
        "DROP CONSTRAINT c",
        "SHOW CONSTRAINTS",
        "RETURN -9223372036854775808 AS min",
    ] {
        ok(q);
    }
}

#[test]
fn precedence() {
    let Statement::Query(q) = ok("RETURN 1 + 2 * 3 = 7 AND NOT false OR x XOR y") else {
        panic!()
    };
    let Some(Clause::Return(r)) = q.first.clauses.first() else {
        panic!()
    };
    let e = &r.projection.items[0].expr;
    let Expr::Binary(BinaryOp::Or, l, _) = e else {
        panic!("{e:?}")
    };
    let Expr::Binary(BinaryOp::And, cmp, not) = l.as_ref() else {
        panic!("{l:?}")
    };
    assert!(matches!(not.as_ref(), Expr::Unary(UnaryOp::Not, _)));
    let Expr::Binary(BinaryOp::Eq, sum, _) = cmp.as_ref() else {
        panic!("{cmp:?}")
    };
    assert!(matches!(sum.as_ref(), Expr::Binary(BinaryOp::Add, _, _)));
    // Chained comparison.
    let Statement::Query(q) = ok("RETURN 1 < 2 <= 3") else {
        panic!()
    };
    let Some(Clause::Return(r)) = q.first.clauses.first() else {
        panic!()
    };
    assert!(matches!(
        &r.projection.items[0].expr,
        Expr::Binary(BinaryOp::And, _, _)
    ));
}

#[test]
fn backtracking_is_not_exponential() {
    let start = std::time::Instant::now();
    // Each level is tried as a pattern first and then re-parsed as an expression.
    let n = 60;
    let q = format!("RETURN {}1{}", "({a: ".repeat(n), "})--1".repeat(n));
    let _ = parse(&q, 1000);
    let q = format!("RETURN {}1{}", "[({a: ".repeat(n), "})--1]".repeat(n));
    let _ = parse(&q, 1000);
    let q = format!("RETURN {}1{}", "[x = ({a: ".repeat(n), "})--1]".repeat(n));
    let _ = parse(&q, 1000);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

/// Mutation fuzzing over the TCK queries: parse + check must never panic.
/// `cargo test -p graphward-cypher tck_mutations -- --ignored`
#[test]
#[ignore]
fn tck_mutations() {
    let qs = tck_queries();
    let frags = [
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "-",
        "->",
        "<-",
        ":",
        "*",
        "..",
        "'",
        "\"",
        "`",
        "\\",
        ",",
        ".",
        "|",
        "$",
        "=",
        "WHERE ",
        " RETURN ",
        " WITH ",
        "NOT ",
        "CASE ",
        " END",
        "0x",
        "1e999",
        "9999999999999999999999",
        "\u{0}",
        "é",
        "/*",
        "//",
        "\n",
        "count(*)",
        "EXISTS {",
    ];
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut n = 0;
    for q in &qs {
        let chars: Vec<char> = q.query.chars().collect();
        for _ in 0..30 {
            let mut c = chars.clone();
            for _ in 0..(1 + next() % 3) {
                let len = c.len().max(1) as u64;
                let i = (next() % len) as usize;
                match next() % 4 {
                    0 => {
                        let j = (i + (next() % 8) as usize).min(c.len());
                        if i < j {
                            c.drain(i..j);
                        }
                    }
                    1 => {
                        let f = frags[(next() % frags.len() as u64) as usize];
                        let at = i.min(c.len());
                        for (k, ch) in f.chars().enumerate() {
                            c.insert(at + k, ch);
                        }
                    }
                    2 => {
                        let j = (i + (next() % 16) as usize).min(c.len());
                        let piece: Vec<char> = c.get(i..j).map(|s| s.to_vec()).unwrap_or_default();
                        let at = (next() % len) as usize;
                        let at = at.min(c.len());
                        for (k, ch) in piece.into_iter().enumerate() {
                            c.insert(at + k, ch);
                        }
                    }
                    _ => c.truncate(i),
                }
            }
            let m: String = c.into_iter().collect();
            n += 1;
            let r = std::panic::catch_unwind(|| {
                if let Ok(s) = parse(&m, 200) {
                    let _ = crate::semantic::check(&s);
                }
            });
            assert!(r.is_ok(), "panic on mutated query:\n{m}");
        }
    }
    println!("{n} mutated queries, no panics");
}

#[test]
fn neo4j5_syntax_is_bounded_by_the_nesting_limit() {
    let n = 100_000;
    // Label expressions, types, subqueries and groups nest: each is an error, not a crash.
    err(&format!("MATCH (n:{}A) RETURN n", "!".repeat(n)));
    err(&format!(
        "MATCH (n:{}A{}) RETURN n",
        "(".repeat(n),
        ")".repeat(n)
    ));
    err(&format!(
        "RETURN 1 IS :: {}INTEGER{}",
        "LIST<".repeat(n),
        ">".repeat(n)
    ));
    err(&format!(
        "RETURN {}1{}",
        "COUNT { RETURN ".repeat(n),
        " }".repeat(n)
    ));
    err(&format!(
        "RETURN {}1{}",
        "COLLECT { RETURN ".repeat(n),
        " }".repeat(n)
    ));
    err(&format!(
        "{}RETURN 1{}",
        "CALL () { ".repeat(n),
        " }".repeat(n)
    ));
    // Long flat chains are fine.
    ok(&format!("MATCH (n:A{}) RETURN n", "|B".repeat(10_000)));
    ok(&format!("RETURN 'a'{}", " || 'b'".repeat(100)));
    err(&format!("RETURN 'a'{}", " || 'b'".repeat(100_000)));
}

#[test]
fn neo4j5_syntax_parses() {
    for q in [
        "MATCH (n:A|B) RETURN n",
        "MATCH (n:!A&(B|%)) RETURN n",
        "MATCH (n) WHERE n:A|B RETURN n",
        "MATCH (n) RETURN [x IN [n] WHERE x:A | x.name] AS l",
        "RETURN 1 IS :: INTEGER NOT NULL, 1 IS NOT :: LIST<STRING> | NULL, 1 :: FLOAT",
        "RETURN CASE 1 WHEN 1, 2 THEN 'a' END",
        "RETURN trim(BOTH 'x' FROM 'xax'), trim(LEADING FROM ' a'), trim('x' FROM 'xax')",
        "RETURN 'a' || 'b'",
        "MATCH (p) RETURN COUNT { (p)-->() }, COLLECT { MATCH (p)-->(q) RETURN q }",
        "MATCH (p) CALL (p) { RETURN 1 AS x } RETURN x",
        "MATCH (p) OPTIONAL CALL () { RETURN 1 AS x } RETURN x",
        "MATCH (a)-[:R]->+(b) RETURN b",
        "MATCH (a)-[:R]->{1,3}(b) RETURN b",
        "MATCH (a) (()-[:R]->()){2,} (b) RETURN b",
        "MATCH p = ALL SHORTEST (a)-[:R]-+(b) RETURN p",
        "MATCH p = SHORTEST 3 PATHS (a)-[:R]-+(b) RETURN p",
        "MATCH p = SHORTEST 2 GROUPS (a)-[:R]-{1,5}(b) RETURN p",
        "MATCH p = ANY 2 (a)-->+(b) RETURN p",
        "MATCH ALL (a)-->+(b) RETURN b",
        "MATCH SHORTEST 1 (p = (a)-->+(b) WHERE length(p) > 1) RETURN p",
        "MATCH (a) ((x:X)-[r:R WHERE r.w > 1]->(y {k: 1}) WHERE x.n < y.n){1,3} (b) RETURN x, r, y",
        "MATCH (a) ((x:X)-->(y)<-[s:S]-(z) WHERE s.w > 1)+ (b) RETURN x, y, z, s",
        "MATCH ((a)-->(b)){2} ((c)<--(d))+ RETURN a, d",
        "MATCH p = SHORTEST $k (a)-[:R]-+(m)-[:S]->(b) RETURN p",
        "MATCH p = ANY $k PATHS (a) ((x)-->(y)-->(z)){1,3} (b) RETURN p",
        "MATCH p = SHORTEST $k GROUPS (a)-->+(b) RETURN p",
        "DROP INDEX ON :L(p)",
        "CREATE CONSTRAINT ON (n:L) ASSERT n.a, n.b IS UNIQUE",
        "SHOW STORAGE INFO",
    ] {
        ok(q);
    }
    for (q, code) in [
        (
            "CALL { RETURN 1 AS x } IN TRANSACTIONS ON ERROR RETRY RETURN x",
            graphward_core::ErrorCode::NotSupported,
        ),
        (
            "MATCH (a) ((x:X)-->(y)-->+(z))+ (b) RETURN b",
            graphward_core::ErrorCode::SyntaxError,
        ),
        (
            "MATCH (a)-[:R]->{3,1}(b) RETURN b",
            graphward_core::ErrorCode::SyntaxError,
        ),
        (
            "RETURN 1 IS :: WIDGET",
            graphward_core::ErrorCode::SyntaxError,
        ),
    ] {
        assert_eq!(err(q).code, code, "{q}");
    }
}

#[test]
fn call_in_transactions_is_typed() {
    let Statement::Query(q) = ok(
        "UNWIND $rows AS r CALL (r) { CREATE (:N {v: r}) RETURN 1 AS one } \
         IN 2 CONCURRENT TRANSACTIONS REPORT STATUS AS s OF $n ROWS ON ERROR BREAK RETURN s",
    ) else {
        panic!("not a query")
    };
    let Clause::InTransactions { call, options } = &q.first.clauses[1] else {
        panic!("{:?}", q.first.clauses[1])
    };
    assert!(matches!(
        **call,
        Clause::ScopedCallSubquery {
            optional: false,
            ..
        }
    ));
    assert_eq!(
        options.concurrency,
        Some(Some(Expr::Literal(graphward_core::Value::Int(2))))
    );
    assert_eq!(options.batch_size, Some(Expr::Parameter("n".into())));
    assert_eq!(options.on_error, OnError::Break);
    assert!(options.on_error_given);
    assert_eq!(options.report_status.as_deref(), Some("s"));
    // Defaults, OPTIONAL CALL, and the importing-WITH form.
    let Statement::Query(q) = ok("OPTIONAL CALL { CREATE () } IN TRANSACTIONS") else {
        panic!("not a query")
    };
    let Clause::InTransactions { call, options } = &q.first.clauses[0] else {
        panic!("{:?}", q.first.clauses[0])
    };
    assert!(matches!(**call, Clause::OptionalCallSubquery(_)));
    assert_eq!(options.concurrency, None);
    assert_eq!(options.batch_size, None);
    assert_eq!(options.on_error, OnError::Fail);
    assert!(!options.on_error_given);
    ok("MATCH (n) CALL { WITH n DETACH DELETE n } IN CONCURRENT TRANSACTIONS OF 1 ROW");
    for q in [
        "CALL { CREATE () } IN TRANSACTIONS OF 2 ROWS OF 3 ROWS",
        "CALL { CREATE () } IN TRANSACTIONS ON ERROR FAIL ON ERROR FAIL",
        "CALL { CREATE () } IN TRANSACTIONS OF 2",
        "CALL { CREATE () } IN 2 TRANSACTIONS",
        "CALL { CREATE () } IN TRANSACTIONS ON ERROR IGNORE",
    ] {
        assert_eq!(err(q).code, graphward_core::ErrorCode::SyntaxError, "{q}");
    }
}

#[test]
fn compact_database_is_a_typed_command() {
    assert_eq!(
        ok("COMPACT DATABASE Neo4j"),
        Statement::Admin(AdminCommand::CompactDatabase {
            name: "neo4j".into()
        })
    );
    assert_eq!(
        ok("compact /* c */ database `my-db`;"),
        Statement::Admin(AdminCommand::CompactDatabase {
            name: "my-db".into()
        })
    );
    for bad in [
        "COMPACT DATABASE",
        "COMPACT DATABASE a b",
        "EXPLAIN COMPACT DATABASE a",
    ] {
        let e = parse(bad, 200).unwrap_err();
        assert_eq!(e.code, graphward_core::ErrorCode::SyntaxError, "{bad}: {e}");
    }
}

#[test]
fn cypher_prefix_options_are_checked() {
    for q in [
        "CYPHER 5 MATCH (n) RETURN n",
        "CYPHER 25 MATCH (n) RETURN n",
        "CYPHER runtime=slotted MATCH (n) RETURN n",
        "cypher 5 RUNTIME = Pipelined planner=cost MATCH (n) RETURN n",
        "CYPHER runtime=slotted runtime=slotted MATCH (n) RETURN n",
    ] {
        assert!(matches!(ok(q), Statement::Query(_)), "{q}");
    }
    assert!(matches!(
        ok("CYPHER 5 EXPLAIN MATCH (n) RETURN n"),
        Statement::Explain(_)
    ));
    for bad in [
        "CYPHER runtme=slotted RETURN 1",
        "CYPHER runtime=turbo RETURN 1",
        "CYPHER runtime=slotted runtime=parallel RETURN 1",
        "CYPHER RETURN 1",
        "CYPHER runtime= RETURN 1",
    ] {
        let e = parse(bad, 200).unwrap_err();
        assert_eq!(e.code, graphward_core::ErrorCode::SyntaxError, "{bad}: {e}");
    }
    let e = parse("CYPHER 4 RETURN 1", 200).unwrap_err();
    assert_eq!(e.code, graphward_core::ErrorCode::NotSupported, "{e}");
}
