"""Memgraph's gqlalchemy used as its documentation shows, against graphward (issue 16).

scripts/test installs gqlalchemy from tests/requirements-gqlalchemy.lock without its declared
dependencies (neo4j<6 and tensorflow, which the OGM does not use) and the ones it imports from
tests/requirements.lock, so it runs with the same neo4j 6 driver as every other test.
"""
import uuid
from typing import Optional

import pytest

import gqlalchemy  # noqa: E402,F401
from gqlalchemy import Field, Memgraph, Node  # noqa: E402
from gqlalchemy.models import (  # noqa: E402
    MemgraphConstraintExists,
    MemgraphConstraintUnique,
    MemgraphIndex,
)

from conftest import PASSWORD, USER  # noqa: E402


@pytest.fixture
def db(server):
    return Memgraph(host="127.0.0.1", port=server.bolt_port, username=USER, password=PASSWORD)


def test_models_with_index_unique_and_exists(db):
    label = "GqlUser" + uuid.uuid4().hex[:8]
    # The docs' model: an index and a uniqueness constraint on the same property, and an
    # existence constraint, all created when the class is defined.
    User = type(label, (Node,), {
        "__annotations__": {"id": str, "name": Optional[str]},
        "id": Field(index=True, unique=True, exists=True, db=db),
        "name": Field(default=None),
    })
    assert MemgraphIndex(label, "id") in db.get_indexes()
    constraints = db.get_constraints()
    assert MemgraphConstraintUnique(label, ("id",)) in constraints
    assert MemgraphConstraintExists(label, "id") in constraints
    User(id="1", name="Ann").save(db)
    loaded = User(id="1").load(db=db)
    assert loaded.name == "Ann"
    # The constraints hold.
    with pytest.raises(Exception):
        db.execute(f"CREATE (:{label} {{id: '1'}})")
    with pytest.raises(Exception):
        db.execute(f"CREATE (:{label} {{name: 'no id'}})")
    db.drop_constraint(MemgraphConstraintExists(label, "id"))
    db.drop_constraint(MemgraphConstraintUnique(label, ("id",)))
    assert all(c.label != label for c in db.get_constraints())


def test_ensure_and_drop_indexes(db):
    a, b = ("GqlIdx" + uuid.uuid4().hex[:8] for _ in range(2))
    db.ensure_indexes([MemgraphIndex(a, "p"), MemgraphIndex(b, "q")])
    got = db.get_indexes()
    assert MemgraphIndex(a, "p") in got and MemgraphIndex(b, "q") in got
    db.ensure_indexes([MemgraphIndex(a, "p")])
    got = db.get_indexes()
    assert MemgraphIndex(a, "p") in got and MemgraphIndex(b, "q") not in got
    db.drop_indexes()
    assert db.get_indexes() == []


def test_ensure_constraints(db):
    label = "GqlCon" + uuid.uuid4().hex[:8]
    wanted = [MemgraphConstraintExists(label, "e"), MemgraphConstraintUnique(label, ("u",))]
    db.ensure_constraints(wanted)
    got = db.get_constraints()
    assert all(c in got for c in wanted)
    db.ensure_constraints([])
    assert all(c.label != label for c in db.get_constraints())


def test_get_transactions_and_storage_info(db):
    txs = db.get_transactions()
    # Its own SHOW TRANSACTIONS is running.
    assert any("SHOW TRANSACTIONS" in " ".join(t.query) for t in txs), txs
    assert all(isinstance(t.metadata, dict) for t in txs)
    info = {row["storage info"]: row["value"] for row in db.get_storage_info()}
    assert "vertex_count" in info


def test_routing_writes(server):
    db = Memgraph(host="127.0.0.1", port=server.bolt_port, username=USER, password=PASSWORD,
                  routing=True)
    label = "GqlRoute" + uuid.uuid4().hex[:8]
    db.execute_write(lambda tx: tx.execute(f"MERGE (:{label} {{n: 1}})"))
    rows = db.execute_read(
        lambda tx: list(tx.execute_and_fetch(f"MATCH (n:{label}) RETURN n.n AS n")))
    assert [r["n"] for r in rows] == [1]
    assert db.get_routing_table()["write"]
