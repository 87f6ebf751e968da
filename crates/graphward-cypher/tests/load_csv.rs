#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `LOAD CSV` from the import directory: rows, headers, terminators, nulls, the bounds and
//! the refusals (no import directory, URLs, paths leaving the directory), and `tx.getMetaData`.

use std::collections::BTreeMap;

use graphward_core::engine::{EngineConfig, QueryEngine, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

mod common;
use common::run;

fn engine(dir: Option<&std::path::Path>) -> Engine {
    Engine::open_in_memory(EngineConfig {
        import_dir: dir.map(|d| d.to_path_buf()),
        ..EngineConfig::default()
    })
    .unwrap()
}

fn s(x: &str) -> Value {
    Value::from(x)
}

#[test]
fn rows_headers_terminator_and_nulls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("artists.csv"),
        "1,ABBA,1992\n2,Roxette,1986\n3,\"Europe, the band\",\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("h.csv"),
        "Id;Name;Year\n1;ABBA;1992\n2;\"\";\n",
    )
    .unwrap();
    let e = engine(Some(dir.path()));
    let rows = run(
        &e,
        "LOAD CSV FROM 'file:///artists.csv' AS line RETURN line",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::List(vec![s("1"), s("ABBA"), s("1992")])],
            vec![Value::List(vec![s("2"), s("Roxette"), s("1986")])],
            vec![Value::List(vec![
                s("3"),
                s("Europe, the band"),
                Value::Null
            ])],
        ]
    );
    // The Cypher Manual's import example.
    run(
        &e,
        "LOAD CSV WITH HEADERS FROM 'file:///h.csv' AS row FIELDTERMINATOR ';' \
         CREATE (:Artist {id: toInteger(row.Id), name: row.Name, year: toInteger(row.Year)})",
    )
    .unwrap();
    let rows = run(
        &e,
        "MATCH (a:Artist) RETURN a.id, a.name, a.year ORDER BY a.id",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Int(1), s("ABBA"), Value::Int(1992)],
            vec![Value::Int(2), s(""), Value::Null],
        ]
    );
    // The URL may be an expression, evaluated per row.
    let rows = run(
        &e,
        "UNWIND ['artists', 'h'] AS f LOAD CSV FROM 'file:///' + f + '.csv' AS l \
         RETURN f, count(l) AS n ORDER BY f",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![s("artists"), Value::Int(3)],
            vec![s("h"), Value::Int(3)]
        ]
    );
}

#[test]
fn refusals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.csv"), "1\n").unwrap();
    let off = engine(None);
    let err = run(&off, "LOAD CSV FROM 'file:///a.csv' AS l RETURN l").unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    assert!(err.message.contains("--import-dir"), "{}", err.message);
    let e = engine(Some(dir.path()));
    for (q, code) in [
        (
            "LOAD CSV FROM 'https://example.com/a.csv' AS l RETURN l",
            ErrorCode::NotSupported,
        ),
        (
            "LOAD CSV FROM 'http://127.0.0.1:1/a.csv' AS l RETURN l",
            ErrorCode::NotSupported,
        ),
        (
            "LOAD CSV FROM 'file:///../a.csv' AS l RETURN l",
            ErrorCode::Forbidden,
        ),
        (
            "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l",
            ErrorCode::ArgumentError,
        ),
        ("LOAD CSV FROM 42 AS l RETURN l", ErrorCode::TypeError),
    ] {
        assert_eq!(run(&e, q).unwrap_err().code, code, "{q}");
    }
    // A symbolic link out of the directory.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.csv"), "secret\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    let err = run(&e, "LOAD CSV FROM 'file:///out/secret.csv' AS l RETURN l").unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    // A field terminator of two characters is a syntax error.
    let err = run(
        &e,
        "LOAD CSV FROM 'file:///a.csv' AS l FIELDTERMINATOR ';;' RETURN l",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::SyntaxError);
}

#[test]
fn rows_are_charged_to_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let line = format!("{}\n", "x".repeat(1000));
    std::fs::write(dir.path().join("big.csv"), line.repeat(5000)).unwrap();
    let e = Engine::open_in_memory(EngineConfig {
        import_dir: Some(dir.path().to_path_buf()),
        limits: graphward_core::engine::Limits {
            max_memory_bytes: 1 << 20,
            ..Default::default()
        },
        ..EngineConfig::default()
    })
    .unwrap();
    let err = run(
        &e,
        "LOAD CSV FROM 'file:///big.csv' AS l RETURN collect(l) AS all",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{}", err.message);
}

#[test]
fn transaction_metadata() {
    let e = engine(None);
    let mut meta = BTreeMap::new();
    meta.insert("app".to_string(), s("test"));
    let mut tx = e
        .begin(TxOptions {
            metadata: meta.clone(),
            principal: graphward_core::engine::Principal {
                user: Some("u".to_string()),
                ..Default::default()
            },
            ..TxOptions::default()
        })
        .unwrap();
    let mut rows = tx
        .run(
            "CALL tx.getMetaData() YIELD metadata RETURN metadata",
            BTreeMap::new(),
        )
        .unwrap();
    assert_eq!(
        rows.next_row().unwrap().unwrap(),
        vec![Value::Map(meta.clone())]
    );
    drop(rows);
    let mut rows = tx.run("SHOW TRANSACTIONS", BTreeMap::new()).unwrap();
    let at = rows.columns().iter().position(|c| c == "metaData").unwrap();
    let row = rows.next_row().unwrap().unwrap();
    assert_eq!(row[at], Value::Map(meta));
    drop(rows);
    tx.rollback().unwrap();
}

/// LOAD CSV streams: a file of 30,000 records is read one record at a time, so counting it,
/// and creating a node per record, pass under a 256 KiB budget that the rows of the file held
/// at once exceed; EXPLAIN names the operator.
#[test]
fn a_file_is_read_one_record_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("id,name\n");
    for i in 0..30_000 {
        text.push_str(&format!("{i},name-{i}\n"));
    }
    std::fs::write(dir.path().join("people.csv"), text).unwrap();
    let e = Engine::open_in_memory(EngineConfig {
        import_dir: Some(dir.path().to_path_buf()),
        limits: graphward_core::engine::Limits {
            max_memory_bytes: 256 << 10,
            ..Default::default()
        },
        ..EngineConfig::default()
    })
    .unwrap();
    let rows = run(
        &e,
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS r RETURN count(r) AS n, \
         max(toInteger(r.id)) AS m",
    )
    .unwrap();
    assert_eq!(rows, vec![vec![Value::Int(30_000), Value::Int(29_999)]]);
    run(
        &e,
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS r \
         CREATE (:Person {id: toInteger(r.id), name: r.name})",
    )
    .unwrap();
    let rows = run(
        &e,
        "MATCH (p:Person) WHERE p.id IN [0, 29999] RETURN p.id, p.name ORDER BY p.id",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Int(0), s("name-0")],
            vec![Value::Int(29_999), s("name-29999")],
        ]
    );
    assert_eq!(
        run(&e, "MATCH (p:Person) RETURN count(p)").unwrap(),
        vec![vec![Value::Int(30_000)]]
    );
    // Held at once (collected), the rows exceed the budget.
    let err = run(
        &e,
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS r RETURN collect(r.name) AS all",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{}", err.message);
    let mut tx = e.begin(TxOptions::default()).unwrap();
    let s = tx
        .run(
            "EXPLAIN LOAD CSV FROM 'file:///people.csv' AS r RETURN r",
            BTreeMap::new(),
        )
        .unwrap();
    let plan = s.summary().plan.clone().unwrap();
    let mut ops = Vec::new();
    let mut p = &*plan;
    loop {
        ops.push(p.operator_type.clone());
        match p.children.first() {
            Some(c) => p = c,
            None => break,
        }
    }
    assert!(ops.contains(&"LoadCSV".to_string()), "{ops:?}");
}
