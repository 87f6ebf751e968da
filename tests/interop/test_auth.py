"""Authentication and per-graph privileges, through the real drivers (neo4j, pymgclient)."""
import os
import stat
import uuid
from pathlib import Path

import neo4j
import pytest
from neo4j import GraphDatabase

from conftest import AUTH, PASSWORD

UNAUTHORIZED = "Neo.ClientError.Security.Unauthorized"
FORBIDDEN = "Neo.ClientError.Security.Forbidden"


def run(uri, auth, query, database=None, **params):
    with GraphDatabase.driver(uri, auth=auth) as d:
        with d.session(database=database) as s:
            return [r.data() for r in s.run(query, params)]


def admin(server, query, **params):
    return run(server.bolt_uri, AUTH, query, **params)


def refused(uri, auth, query="RETURN 1", database=None):
    with pytest.raises(neo4j.exceptions.Neo4jError) as e:
        run(uri, auth, query, database)
    return e.value


def name(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- passwords ------------------------------------------------------------------------------


def test_basic_auth_right_and_wrong_password(server):
    assert run(server.bolt_uri, AUTH, "RETURN 1 AS x") == [{"x": 1}]
    e = refused(server.bolt_uri, ("neo4j", "wrong-password"))
    assert e.code == UNAUTHORIZED
    assert "wrong-password" not in str(e)
    e = refused(server.bolt_uri, ("nobody", PASSWORD))
    assert e.code == UNAUTHORIZED
    # No credentials at all.
    e = refused(server.bolt_uri, None)
    assert e.code == UNAUTHORIZED
    assert "wrong-password" not in server.read_log()


def test_pymgclient_right_and_wrong_password(server):
    mgclient = pytest.importorskip("mgclient")
    conn = mgclient.connect(host="127.0.0.1", port=server.bolt_port, username="neo4j", password=PASSWORD)
    cur = conn.cursor()
    cur.execute("RETURN 41 + 1 AS x")
    assert cur.fetchall() == [(42,)]
    conn.close()
    with pytest.raises(mgclient.DatabaseError, match="unauthorized|authentication"):
        mgclient.connect(host="127.0.0.1", port=server.bolt_port, username="neo4j", password="nope-nope")


def test_repeated_failures_are_rate_limited(server):
    user = name("rl")
    admin(server, f"CREATE USER {user} IDENTIFIED BY 'right-password'")
    for _ in range(5):
        refused(server.bolt_uri, (user, "wrong-password"))
    # Locked out for a while, even with the right password.
    e = refused(server.bolt_uri, (user, "right-password"))
    assert e.code == "Neo.ClientError.Security.AuthenticationRateLimit" and "Too many failed attempts" in e.message


def test_generated_initial_password(make_server):
    srv = make_server(env={"GRAPHWARD_INITIAL_PASSWORD": ""})
    path = Path(srv.data_dir) / "initial-password"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    pw = path.read_text().strip()
    assert len(pw) >= 16
    log = srv.read_log()
    assert str(path) in log and pw not in log
    assert run(srv.bolt_uri, ("neo4j", pw), "RETURN 1 AS x") == [{"x": 1}]
    assert refused(srv.bolt_uri, AUTH).code == UNAUTHORIZED


def test_initial_password_file(make_server, tmp_path):
    f = tmp_path / "pw"
    f.write_text("from-a-file-pw\n")
    srv = make_server(["--initial-password-file", str(f)], env={"GRAPHWARD_INITIAL_PASSWORD": ""})
    assert run(srv.bolt_uri, ("neo4j", "from-a-file-pw"), "RETURN 1 AS x") == [{"x": 1}]
    assert "from-a-file-pw" not in srv.read_log()


def test_auth_disabled_warns_and_accepts_anyone(make_server):
    srv = make_server(["--auth-disabled"])
    assert "authentication is DISABLED" in srv.read_log()
    assert run(srv.bolt_uri, ("whoever", "whatever"), "RETURN 1 AS x") == [{"x": 1}]
    assert run(srv.bolt_uri, None, "RETURN 2 AS x") == [{"x": 2}]


def test_users_survive_a_restart(make_server):
    srv = make_server()
    admin(srv, "CREATE USER carol IDENTIFIED BY 'carol-password'")
    admin(srv, "GRANT READ ON GRAPH neo4j TO carol")
    srv.stop()
    srv2 = make_server(data_dir=srv.data_dir, env={"GRAPHWARD_INITIAL_PASSWORD": "ignored-now"})
    assert run(srv2.bolt_uri, ("carol", "carol-password"), "RETURN 1 AS x") == [{"x": 1}]
    assert run(srv2.bolt_uri, AUTH, "RETURN 1 AS x") == [{"x": 1}]


# --- users, roles, privileges ---------------------------------------------------------------


def test_privileges_are_enforced_per_graph(server):
    alice = name("alice")
    other = name("db").replace("_", "")
    admin(server, f"CREATE USER {alice} IDENTIFIED BY 'alice-password'")
    admin(server, f"CREATE DATABASE {other}")
    me = (alice, "alice-password")
    # Authenticated, but no privilege anywhere.
    e = refused(server.bolt_uri, me, "MATCH (n) RETURN count(n)")
    assert e.code == FORBIDDEN and "READ" in e.message
    admin(server, f"GRANT READ ON GRAPH neo4j TO {alice}")
    assert run(server.bolt_uri, me, "RETURN 1 AS x") == [{"x": 1}]
    e = refused(server.bolt_uri, me, "CREATE (:AuthTest)")
    assert e.code == FORBIDDEN and "WRITE" in e.message
    # An explicit transaction is read-only too.
    with GraphDatabase.driver(server.bolt_uri, auth=me) as d, d.session() as s:
        with pytest.raises(neo4j.exceptions.Neo4jError) as ei:
            with s.begin_transaction() as tx:
                tx.run("CREATE (:AuthTest)").consume()
        assert ei.value.code == FORBIDDEN
    admin(server, f"GRANT WRITE ON GRAPH neo4j TO {alice}")
    run(server.bolt_uri, me, "CREATE (:AuthTest {who: $w})", w=alice)
    # Nothing on the other graph.
    assert refused(server.bolt_uri, me, "RETURN 1", database=other).code == FORBIDDEN
    # Not an administrator.
    e = refused(server.bolt_uri, me, "CREATE USER mallory IDENTIFIED BY 'mallory-pw'")
    assert e.code == FORBIDDEN
    assert refused(server.bolt_uri, me, f"CREATE DATABASE {other}x").code == FORBIDDEN
    rows = admin(server, f"SHOW PRIVILEGES FOR {alice}")
    assert {(r["privilege"], r["graph"]) for r in rows} == {("WRITE", "neo4j")}
    admin(server, f"REVOKE WRITE ON GRAPH neo4j FROM {alice}")
    assert refused(server.bolt_uri, me, "CREATE (:AuthTest)").code == FORBIDDEN
    assert run(server.bolt_uri, me, "RETURN 1 AS x") == [{"x": 1}]


def test_roles_grant_privileges(server):
    bob, role = name("bob"), name("analysts")
    other = name("db").replace("_", "")
    admin(server, f"CREATE DATABASE {other}")
    admin(server, f"CREATE USER {bob} SET PASSWORD 'bob-password' CHANGE NOT REQUIRED")
    admin(server, f"CREATE ROLE {role}")
    admin(server, f"GRANT READ ON GRAPH * TO {role}")
    admin(server, f"GRANT ROLE {role} TO {bob}")
    me = (bob, "bob-password")
    assert run(server.bolt_uri, me, "RETURN 1 AS x", database=other) == [{"x": 1}]
    users = {r["user"]: r["roles"] for r in admin(server, "SHOW USERS")}
    assert users[bob] == [role] and "admin" in users["neo4j"]
    assert role in {r["role"] for r in admin(server, "SHOW ROLES")}
    admin(server, f"REVOKE ROLE {role} FROM {bob}")
    assert refused(server.bolt_uri, me, database=other).code == FORBIDDEN


def test_passwords_change(server):
    dave = name("dave")
    admin(server, f"CREATE USER {dave} IDENTIFIED BY $pw", pw="first-password")
    admin(server, f"GRANT READ ON GRAPH * TO {dave}")
    admin(server, f"SET PASSWORD FOR {dave} TO 'second-password'")
    assert refused(server.bolt_uri, (dave, "first-password")).code == UNAUTHORIZED
    run(server.bolt_uri, (dave, "second-password"),
        "ALTER CURRENT USER SET PASSWORD FROM 'second-password' TO 'third-password'")
    assert run(server.bolt_uri, (dave, "third-password"), "SHOW CURRENT USER")[0]["user"] == dave
    assert "second-password" not in server.read_log()


def test_remembered_passwords_follow_changes_and_drops(server):
    """Basic auth per HTTP request is cheap after the first (the server remembers a verified
    password, as Neo4j's auth cache does), but a changed password or a dropped user is refused
    at once, and a wrong password is never remembered."""
    import requests
    user = name("cached")
    admin(server, f"CREATE USER {user} IDENTIFIED BY 'first-password'")
    admin(server, f"GRANT READ ON GRAPH neo4j TO {user}")
    url = f"http://127.0.0.1:{server.http_port}/db/neo4j/query/v2"

    def status(pw):
        return requests.post(url, auth=(user, pw), json={"statement": "RETURN 1"}, timeout=30).status_code

    assert status("first-password") == 202
    assert status("first-password") == 202          # remembered
    assert status("wrong-password") == 401
    admin(server, f"ALTER USER {user} SET PASSWORD 'second-password'")
    assert status("first-password") == 401          # the remembered one is gone with the hash
    assert status("second-password") == 202
    assert status("second-password") == 202
    admin(server, f"DROP USER {user}")
    assert status("second-password") == 401


def test_dropped_user_is_refused_on_an_open_connection(server):
    erin = name("erin")
    admin(server, f"CREATE USER {erin} IDENTIFIED BY 'erin-password'")
    admin(server, f"GRANT READ ON GRAPH * TO {erin}")
    with GraphDatabase.driver(server.bolt_uri, auth=(erin, "erin-password"), max_connection_pool_size=1) as d:
        with d.session() as s:
            assert s.run("RETURN 1 AS x").single()["x"] == 1
            admin(server, f"DROP USER {erin}")
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("RETURN 1 AS x").consume()
            assert e.value.code == UNAUTHORIZED


def test_admin_commands_malformed(server):
    with pytest.raises(neo4j.exceptions.CypherSyntaxError):
        admin(server, "GRANT FLY ON GRAPH neo4j TO nobody")
    with pytest.raises(neo4j.exceptions.Neo4jError):
        admin(server, "DROP USER neo4j")  # the last administrator
    assert run(server.bolt_uri, AUTH, "RETURN 1 AS x") == [{"x": 1}]
