#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `ORDER BY n.p` read from an index on `p` in order: the match reads its label from the
//! index a page at a time and the sort passes rows on, so `ORDER BY n.p DESC LIMIT k` reads
//! about k entries. Only when the index lists every node of the label in ORDER BY's order
//! (no node lacks the property, values all integers, all strings or all booleans), and only
//! where no operator in between reorders rows; otherwise the label is scanned and sorted.
//! Every query gives the same rows as on an engine without the index, before and after
//! writes that take the index in and out of that state (also inside a transaction).

use graphward_core::engine::EngineConfig;
use graphward_core::engine::{AccessMode, Params, PlanDescription, QueryEngine, TxOptions};
use graphward_core::Value;
use graphward_cypher::Engine;

mod common;
use common::{implicit_tx, run};

const QUERIES: &[&str] = &[
    "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 10",
    "MATCH (n:N) RETURN n.id ORDER BY n.id LIMIT 10",
    "MATCH (n:N) RETURN n.id AS x ORDER BY x DESC SKIP 5 LIMIT 10",
    "MATCH (n:N) WHERE n.id % 3 = 0 RETURN n.id ORDER BY n.id DESC LIMIT 7",
    "MATCH (n:N) WITH n AS m RETURN m.id ORDER BY m.id DESC LIMIT 4",
    "MATCH (n:N)-[:R]->(m:M) RETURN n.id, m.v ORDER BY n.id DESC LIMIT 5",
    "MATCH (n:N) RETURN DISTINCT n.name ORDER BY n.name DESC LIMIT 6",
    "MATCH (n:N) RETURN n.name ORDER BY n.name LIMIT 12",
    "MATCH (n:N) RETURN n.id ORDER BY n.id",
    "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 0",
    "MATCH (n:N) RETURN n.flag ORDER BY n.flag DESC LIMIT 3",
    "MATCH (n:N) RETURN n.flag ORDER BY n.flag LIMIT 3",
    "UNWIND [1, 2] AS k MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 3",
    "MATCH (n:N) RETURN n.id, count(*) AS c ORDER BY n.id DESC LIMIT 3",
    "OPTIONAL MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 2",
    "MATCH (n:N) WITH n ORDER BY n.id DESC LIMIT 3 RETURN n.id",
    "MATCH (n:N) WITH n.name AS n RETURN n ORDER BY n DESC LIMIT 3",
    // A range seek on the ordered property reads its range in order.
    "MATCH (n:N) WHERE n.id > 1500 RETURN n.id ORDER BY n.id DESC LIMIT 10",
    "MATCH (n:N) WHERE n.id >= 10 AND n.id < 20.5 RETURN n.id ORDER BY n.id",
    "MATCH (n:N) WHERE n.id < 100 RETURN n.id ORDER BY n.id DESC LIMIT 5",
    "MATCH (n:N) WHERE 1990.5 < n.id RETURN n.id ORDER BY n.id",
    "MATCH (n:N) WHERE n.name >= 'n40' RETURN n.name ORDER BY n.name LIMIT 7",
    "MATCH (n:N) WHERE n.name > 'n1' AND n.name < 'n2' RETURN n.name ORDER BY n.name DESC",
    "MATCH (n:N) WHERE n.id > 'x' RETURN n.id ORDER BY n.id LIMIT 3",
    "MATCH (n:N) WHERE n.id > 0.0 / 0.0 RETURN n.id ORDER BY n.id LIMIT 3",
    "MATCH (n:N) WHERE n.id > 1000 AND n.id <> 1999 RETURN n.id ORDER BY n.id DESC LIMIT 4",
];

/// The same graph twice: `(indexed, plain)`; indexes on `:N(id)`, `:N(name)`, `:N(flag)`.
fn engines() -> (Engine, Engine) {
    let make = || {
        let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
        run(
            &e,
            "UNWIND range(0, 1999) AS i
             CREATE (:N {id: (i * 7919) % 2000, name: 'n' + ((i * 31) % 500), flag: i % 2 = 0})
                    -[:R]->(:M {v: i})",
        )
        .unwrap();
        e
    };
    let (indexed, plain) = (make(), make());
    for p in ["id", "name", "flag"] {
        run(&indexed, &format!("CREATE INDEX FOR (n:N) ON (n.{p})")).unwrap();
    }
    (indexed, plain)
}

fn both(e: &(Engine, Engine), q: &str) {
    run(&e.0, q).unwrap();
    run(&e.1, q).unwrap();
}

fn assert_same_rows(e: &(Engine, Engine), when: &str) {
    // The same rows, or the same error (`n.id % 3` of a string id).
    for q in QUERIES {
        let (a, b) = (run(&e.0, q), run(&e.1, q));
        assert_eq!(a.map_err(|x| x.code), b.map_err(|x| x.code), "{when}: {q}");
    }
}

fn plan_of(e: &Engine, query: &str) -> PlanDescription {
    let mut tx = implicit_tx(e, AccessMode::Read).unwrap();
    let mut s = tx.run(query, Params::new()).unwrap();
    while let Some(r) = s.next_row() {
        r.unwrap();
    }
    let summary = s.summary();
    let plan = *summary.plan.or(summary.profile).unwrap();
    drop(s);
    tx.commit().unwrap();
    plan
}

fn operators(p: &PlanDescription, out: &mut Vec<String>) {
    out.push(p.operator_type.clone());
    for c in &p.children {
        operators(c, out);
    }
}

fn ops(e: &Engine, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    operators(&plan_of(e, query), &mut out);
    out
}

fn hits(p: &PlanDescription) -> u64 {
    p.db_hits + p.children.iter().map(hits).sum::<u64>()
}

fn details(p: &PlanDescription, op: &str) -> Option<String> {
    if p.operator_type == op {
        return match p.arguments.get("Details") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
    }
    p.children.iter().find_map(|c| details(c, op))
}

const TOP: &str = "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 10";

#[test]
fn order_by_an_indexed_property_reads_the_index_in_order() {
    let e = engines();
    assert_same_rows(&e, "fresh");
    let top = run(&e.0, TOP).unwrap();
    let want: Vec<Vec<Value>> = (1990..2000).rev().map(|i| vec![Value::Int(i)]).collect();
    assert_eq!(top, want);

    // EXPLAIN: the index scan in order, no sort; PROFILE: a handful of storage reads.
    let explain = ops(&e.0, &format!("EXPLAIN {TOP}"));
    assert!(
        explain.contains(&"NodeIndexScan".to_string()),
        "{explain:?}"
    );
    assert!(!explain.contains(&"Top".to_string()), "{explain:?}");
    let plan = plan_of(&e.0, &format!("EXPLAIN {TOP}"));
    assert_eq!(
        details(&plan, "NodeIndexScan").unwrap(),
        "RANGE INDEX n:N(id) ORDER BY id DESC"
    );
    let indexed = plan_of(&e.0, &format!("PROFILE {TOP}"));
    let plain = plan_of(&e.1, &format!("PROFILE {TOP}"));
    assert!(hits(&indexed) < 100, "{}", hits(&indexed));
    assert!(hits(&plain) > 2000, "{}", hits(&plain));
    let mut plain_ops = Vec::new();
    operators(&plain, &mut plain_ops);
    assert!(plain_ops.contains(&"Top".to_string()), "{plain_ops:?}");

    // A range seek on the property reads its range in order (no Top, few reads).
    let range = "MATCH (n:N) WHERE n.id > 10 RETURN n.id ORDER BY n.id DESC LIMIT 10";
    let plan = plan_of(&e.0, &format!("EXPLAIN {range}"));
    assert_eq!(
        details(&plan, "NodeIndexSeekByRange").unwrap(),
        "RANGE INDEX n:N(id) WHERE id > 10 ORDER BY id DESC"
    );
    let o = ops(&e.0, &format!("EXPLAIN {range}"));
    assert!(!o.contains(&"Top".to_string()), "{o:?}");
    let profiled = plan_of(&e.0, &format!("PROFILE {range}"));
    assert!(hits(&profiled) < 100, "{}", hits(&profiled));

    // Through renames and projections to the node's property.
    for q in [
        "EXPLAIN MATCH (n:N) WITH n.name AS n RETURN n ORDER BY n DESC LIMIT 3",
        "EXPLAIN MATCH (n:N) WITH n AS m WHERE m.id > 3 RETURN DISTINCT m.id AS x ORDER BY x",
    ] {
        let o = ops(&e.0, q);
        assert!(o.contains(&"NodeIndexScan".to_string()), "{q}: {o:?}");
    }
    // Where rows are reordered or repeated in between, the sort stays.
    for q in [
        "EXPLAIN UNWIND [1, 2] AS k MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 3",
        "EXPLAIN MATCH (n:N) RETURN n.id, count(*) AS c ORDER BY n.id DESC LIMIT 3",
        "EXPLAIN MATCH (n:N) RETURN n.id ORDER BY n.id DESC, n.name LIMIT 3",
        "EXPLAIN MATCH (n:N) WITH n.id + 1 AS x RETURN x ORDER BY x LIMIT 3",
        "EXPLAIN MATCH (n:N) RETURN n ORDER BY n LIMIT 3",
    ] {
        let o = ops(&e.0, q);
        assert!(!o.contains(&"NodeIndexScan".to_string()), "{q}: {o:?}");
    }
}

#[test]
fn a_missing_or_mixed_value_falls_back_to_the_sort() {
    let e = engines();
    let explain = format!("EXPLAIN {TOP}");
    // A node of the label without the property: DESC puts its null first.
    both(&e, "CREATE (:N {name: 'zz', flag: true})");
    assert_same_rows(&e, "a node without id");
    assert_eq!(run(&e.0, TOP).unwrap()[0], vec![Value::Null]);
    assert!(ops(&e.0, &explain).contains(&"Top".to_string()));
    // The name index still lists every node.
    let by_name = "EXPLAIN MATCH (n:N) RETURN n.name ORDER BY n.name LIMIT 3";
    assert!(ops(&e.0, by_name).contains(&"NodeIndexScan".to_string()));

    // A float among the integers, then a string: the key order is not ORDER BY's.
    both(&e, "MATCH (n:N) WHERE n.id IS NULL SET n.id = 2.5");
    assert_same_rows(&e, "a float id");
    assert!(ops(&e.0, &explain).contains(&"Top".to_string()));
    both(&e, "MATCH (n:N {id: 2.5}) SET n.id = 'x'");
    assert_same_rows(&e, "a string id");
    assert!(ops(&e.0, &explain).contains(&"Top".to_string()));
    // An integral float indexes as the integer: in order again.
    both(&e, "MATCH (n:N {id: 'x'}) SET n.id = 5000.0");
    assert_same_rows(&e, "an integral float id");
    assert!(ops(&e.0, &explain).contains(&"NodeIndexScan".to_string()));
    assert_eq!(run(&e.0, TOP).unwrap()[0], vec![Value::Float(5000.0)]);

    // Deletes, removed labels and properties keep the counts true.
    both(&e, "MATCH (n:N) WHERE n.id > 1995 DETACH DELETE n");
    both(&e, "MATCH (n:N) WHERE n.id < 5 REMOVE n:N");
    assert_same_rows(&e, "after deletes");
    assert!(ops(&e.0, &explain).contains(&"NodeIndexScan".to_string()));
    both(&e, "MATCH (n:N {id: 100}) REMOVE n.id");
    assert_same_rows(&e, "a removed id");
    assert!(ops(&e.0, &explain).contains(&"Top".to_string()));
    both(&e, "MATCH (n:N) WHERE n.id IS NULL SET n.id = -1");
    assert_same_rows(&e, "the id set again");
    assert!(ops(&e.0, &explain).contains(&"NodeIndexScan".to_string()));
}

#[test]
fn a_transaction_reads_its_own_writes_in_order() {
    let e = engines();
    let explicit = |eng: &Engine| {
        eng.begin(TxOptions {
            mode: AccessMode::Write,
            implicit: false,
            ..TxOptions::default()
        })
        .unwrap()
    };
    let rows = |tx: &mut dyn graphward_core::engine::Transaction, q: &str| {
        let mut s = tx.run(q, Params::new()).unwrap();
        let mut out = Vec::new();
        while let Some(r) = s.next_row() {
            out.push(r.unwrap());
        }
        out
    };
    let (mut a, mut b) = (explicit(&e.0), explicit(&e.1));
    for tx in [&mut a, &mut b] {
        rows(
            tx.as_mut(),
            "CREATE (:N {id: 99999, name: 'a', flag: false})",
        );
    }
    for q in QUERIES {
        assert_eq!(rows(a.as_mut(), q), rows(b.as_mut(), q), "in tx: {q}");
    }
    assert_eq!(rows(a.as_mut(), TOP)[0], vec![Value::Int(99999)]);
    for tx in [&mut a, &mut b] {
        rows(tx.as_mut(), "CREATE (:N {name: 'b', flag: true})");
    }
    for q in QUERIES {
        assert_eq!(rows(a.as_mut(), q), rows(b.as_mut(), q), "in tx: {q}");
    }
    assert_eq!(rows(a.as_mut(), TOP)[0], vec![Value::Null]);
    a.rollback().unwrap();
    b.rollback().unwrap();
    assert_same_rows(&e, "rolled back");
    assert_eq!(run(&e.0, TOP).unwrap()[0], vec![Value::Int(1999)]);
    assert!(ops(&e.0, &format!("EXPLAIN {TOP}")).contains(&"NodeIndexScan".to_string()));
}
