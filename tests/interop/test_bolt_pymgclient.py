"""Memgraph's pymgclient (Bolt 4.x, 3-field nodes, legacy DateTime) against graphward."""
import datetime
import uuid

import pytest

mgclient = pytest.importorskip("mgclient")


def connect(server, **kw):
    kw.setdefault("username", "neo4j")
    kw.setdefault("password", "password")
    return mgclient.connect(host="127.0.0.1", port=server.bolt_port, **kw)


def test_connect_and_parameterised_query(server):
    conn = connect(server)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("RETURN $x AS x, $s AS s, $l AS l", {"x": 5, "s": "hé", "l": [1, None]})
    assert cur.fetchall() == [(5, "hé", [1, None])]
    assert [c.name for c in cur.description] == ["x", "s", "l"]
    conn.close()


def test_typed_nodes_and_relationships(server):
    conn = connect(server)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(
        "CREATE (a:MgPerson {name: $n})-[r:MG_KNOWS {w: 1}]->(b:MgPerson {name: 'b'}) RETURN a, r, b",
        {"n": "alice"},
    )
    a, r, b = cur.fetchone()
    assert isinstance(a, mgclient.Node)
    assert a.labels == {"MgPerson"}
    assert a.properties == {"name": "alice"}
    assert isinstance(r, mgclient.Relationship)
    assert r.type == "MG_KNOWS"
    assert r.start_id == a.id and r.end_id == b.id
    cur.execute("MATCH p = (:MgPerson {name: 'alice'})-[:MG_KNOWS]->() RETURN p")
    (p,) = cur.fetchone()
    assert isinstance(p, mgclient.Path)
    assert len(p.relationships) == 1
    conn.close()


def test_commit_and_rollback(server):
    conn = connect(server)  # autocommit off: the driver sends BEGIN/COMMIT as queries
    cur = conn.cursor()
    tag = uuid.uuid4().hex
    cur.execute("CREATE (:MgTx {v: 1, tag: $tag})", {"tag": tag})
    conn.commit()
    cur.execute("CREATE (:MgTx {v: 2, tag: $tag})", {"tag": tag})
    conn.rollback()
    cur.execute("MATCH (n:MgTx {tag: $tag}) RETURN n.v ORDER BY n.v", {"tag": tag})
    assert cur.fetchall() == [(1,)]
    conn.commit()
    conn.close()


def test_datetime_legacy_form(server):
    conn = connect(server)
    conn.autocommit = True
    cur = conn.cursor()
    dt = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    cur.execute("RETURN $d AS d, $day AS day", {"d": dt, "day": datetime.date(2020, 2, 29)})
    assert cur.fetchall() == [(dt, datetime.date(2020, 2, 29))]
    conn.close()


def test_error_then_recover(server):
    conn = connect(server)
    conn.autocommit = True
    cur = conn.cursor()
    with pytest.raises(mgclient.DatabaseError):
        cur.execute("RETURN RETURN")
    cur.execute("RETURN 1")
    assert cur.fetchall() == [(1,)]
    conn.close()
