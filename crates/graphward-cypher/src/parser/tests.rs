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
    let root = std::path::Path::new("/work/shared/tck/features");
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
                if l.starts_with("When executing query:") || l.starts_with("And executing query:") {
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
                        if t.starts_with("Then") {
                            if let Some(idx) =
                                t.find("SyntaxError should be raised at compile time: ")
                            {
                                expect = Some(t[idx + 46..].to_string());
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
    println!("{:#?}", parse(&q, 200));
}
