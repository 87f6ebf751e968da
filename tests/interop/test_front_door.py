"""The front door: every statement is parsed once and authorized as a typed statement, from one
table (graphward_auth::policy). The table is the single source of truth: `graphward policy` prints
every statement kind with an example and the privilege it needs, and these tests check that the
server enforces exactly that, for every kind of principal, over Bolt (the neo4j driver), HTTP
auto-commit and HTTP explicit transactions (requests), whatever the statement's spelling.

Also: REVOKE, DROP USER and a blocked token apply to the next statement of an open transaction.
"""
import json
import subprocess
import uuid

import neo4j
import pytest
import requests
from neo4j import GraphDatabase

from conftest import AUTH, binary

FORBIDDEN = "Neo.ClientError.Security.Forbidden"
SYNTAX = "Neo.ClientError.Statement.SyntaxError"
PW = "front-door-pw"
GRAPH = "fdg"

# principal -> (its level on GRAPH or None, ADMIN on *, DBMS privileges, a token limited to GRAPH)
PRINCIPALS = {
    "none": (None, False, (), False),
    "read": ("READ", False, (), False),
    "write": ("WRITE", False, (), False),
    "admin_g": ("ADMIN", False, (), False),
    "admin_all": ("ADMIN", True, ("TLS MANAGEMENT", "METRICS"), False),
    "tls": (None, False, ("TLS MANAGEMENT",), False),
    "metrics": (None, False, ("METRICS",), False),
    "scoped_token": ("ADMIN", False, (), True),
}
LEVELS = {"READ": 1, "WRITE": 2, "ADMIN": 3}


def allowed(principal, needs):
    level, admin_all, dbms, scoped = PRINCIPALS[principal]
    if needs == "anyone":
        return True
    if needs in ("own-account", "own-account-password"):
        return not scoped
    if needs.startswith("graph:"):
        return level is not None and LEVELS[level] >= LEVELS[needs.split(":")[1]]
    if needs == "admin-all":
        return admin_all
    if needs.startswith("dbms:"):
        return needs.split(":", 1)[1] in dbms
    raise AssertionError(f"unknown requirement {needs}")


def policy_rows(user):
    out = subprocess.run([binary(), "policy", "--graph", GRAPH, "--user", user, "--admin", "neo4j"],
                         capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def policy_table(user):
    """The statement rows of the table (each with an `example`)."""
    return [row for row in policy_rows(user) if "example" in row]


def endpoint_table(user):
    """The HTTP admin endpoint rows of the table (each with an `endpoint`: method and path)."""
    return [row for row in policy_rows(user) if "endpoint" in row]


class Env:
    def __init__(self, server):
        self.server = server
        self.base = f"http://127.0.0.1:{server.http_port}"
        self.users = {p: f"fd_{p}_{uuid.uuid4().hex[:6]}" for p in PRINCIPALS}
        self.drivers = {}

    def admin(self, query, database="system", **params):
        with GraphDatabase.driver(self.server.bolt_uri, auth=AUTH) as d:
            with d.session(database=database) as s:
                return [r.data() for r in s.run(query, params)]

    def setup(self):
        self.admin(f"CREATE DATABASE {GRAPH} IF NOT EXISTS")
        for p, (level, admin_all, dbms, scoped) in PRINCIPALS.items():
            u = self.users[p]
            self.admin(f"CREATE USER {u} SET PASSWORD '{PW}'")
            if level:
                self.admin(f"GRANT {level} ON GRAPH {GRAPH} TO {u}")
            if admin_all:
                self.admin(f"GRANT ADMIN ON GRAPH * TO {u}")
            for privilege in dbms:
                self.admin(f"GRANT {privilege} ON DBMS TO {u}")

    def token(self, principal):
        """A fresh server-issued token limited to GRAPH (fresh: the table rotates the signing key)."""
        r = requests.post(f"{self.base}/gsql/v1/tokens", auth=(self.users[principal], PW),
                          json={"graph": GRAPH}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def bolt_auth(self, principal):
        if PRINCIPALS[principal][3]:
            return neo4j.bearer_auth(self.token(principal))
        return (self.users[principal], PW)

    def http_headers(self, principal):
        if PRINCIPALS[principal][3]:
            return {"Authorization": f"Bearer {self.token(principal)}"}
        import base64
        creds = base64.b64encode(f"{self.users[principal]}:{PW}".encode()).decode()
        return {"Authorization": f"Basic {creds}"}

    def close(self):
        for d in self.drivers.values():
            d.close()


def outcome_bolt(env, principal, statement, params=None, database=GRAPH):
    with GraphDatabase.driver(env.server.bolt_uri, auth=env.bolt_auth(principal)) as d:
        with d.session(database=database) as s:
            try:
                s.run(statement, params or {}).consume()
                return "ok"
            except neo4j.exceptions.Neo4jError as e:
                return e.code


def outcome_http(env, principal, statement, params=None, explicit=False, database=GRAPH):
    headers = env.http_headers(principal)
    body = {"statement": statement, "parameters": params or {}}
    db = f"{env.base}/db/{database}/query/v2"
    if not explicit:
        r = requests.post(db, headers=headers, json=body, timeout=30)
    else:
        r = requests.post(f"{db}/tx", headers=headers, json={}, timeout=30)
        if r.status_code >= 400:
            return r.json()["errors"][0]["code"]
        tx = r.json()["transaction"]["id"]
        r = requests.post(f"{db}/tx/{tx}", headers=headers, json=body, timeout=30)
        requests.delete(f"{db}/tx/{tx}", headers=headers, timeout=30)
    if r.status_code < 400 and not r.json().get("errors"):
        return "ok"
    return r.json()["errors"][0]["code"]


TRANSPORTS = {
    "bolt": lambda env, p, q, db, params=None: outcome_bolt(env, p, q, params, database=db),
    "http": lambda env, p, q, db, params=None: outcome_http(env, p, q, params, database=db),
    "http_tx": lambda env, p, q, db, params=None: outcome_http(env, p, q, params, explicit=True,
                                                              database=db),
}


def database_for(needs):
    """Graph statements go to the graph; administration to `system`, as drivers send it."""
    return GRAPH if needs.startswith("graph:") else "system"


@pytest.fixture(scope="module")
def env(server):
    e = Env(server)
    e.setup()
    yield e
    e.close()


def check(env, principal, transport, kind, statement, needs, params=None):
    got = TRANSPORTS[transport](env, principal, statement, database_for(needs), params)
    if allowed(principal, needs):
        assert got != FORBIDDEN, (principal, transport, kind, statement, got)
    else:
        assert got == FORBIDDEN, (principal, transport, kind, statement, got)
    return got


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_every_statement_kind_for_every_principal(env, transport):
    """The table-driven test: statement kind x principal x transport -> allowed or Forbidden."""
    table = policy_table(env.users["read"])
    kinds = {row["kind"] for row in table}
    assert {"create_database", "drop_database", "create_index", "create_user", "grant_privilege",
            "reload_tls", "install_query", "show_current_user", "write_query"} <= kinds
    for principal in PRINCIPALS:
        # own-account examples name the principal itself
        for row in policy_table(env.users[principal]):
            check(env, principal, transport, row["kind"], row["example"], row["needs"])


def basic(user, password=PW):
    import base64
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def call_endpoint(env, headers, endpoint):
    method, path = endpoint.split(" ", 1)
    return requests.request(method, f"{env.base}{path}", headers=headers, timeout=60)


def test_every_admin_endpoint_for_every_principal(env):
    """The HTTP admin endpoints (config apply, TLS reload, backup, compaction, metrics) are decided by
    the same table, from the typed command each stands for: allowed exactly when the table
    allows it, else 403 Forbidden (a graph-scoped token included)."""
    endpoints = endpoint_table(env.users["read"])
    assert {r["kind"] for r in endpoints} >= {"http_config_apply", "http_tls_reload",
                                              "http_backup", "http_backup_file",
                                              "http_backup_remove", "http_compact",
                                              "http_metrics"}
    for principal in PRINCIPALS:
        for row in endpoint_table(env.users[principal]):
            r = call_endpoint(env, env.http_headers(principal), row["endpoint"])
            if allowed(principal, row["needs"]):
                assert r.status_code not in (401, 403), (principal, row, r.status_code, r.text)
                if row["kind"] == "http_backup" and r.status_code == 200:
                    backup = r.json()["id"]
                    d = requests.delete(f"{env.base}/admin/backup/{backup}",
                                        headers=env.http_headers(principal), timeout=30)
                    assert d.status_code == 200, d.text
            else:
                assert r.status_code == 403, (principal, row, r.status_code, r.text)
                assert r.json()["errors"][0]["code"] == FORBIDDEN, (principal, row, r.text)
    # without credentials: 401 everywhere
    for row in endpoints:
        assert call_endpoint(env, {}, row["endpoint"]).status_code == 401, row


def test_admin_endpoints_refuse_a_revoked_or_dropped_admin_at_once(env):
    """Rights are read as stored now: a token issued while the user was an administrator is
    refused on the next request after REVOKE ADMIN, and after DROP USER."""
    a = fresh_user(env, "ADMIN ON GRAPH *")
    r = requests.post(f"{env.base}/gsql/v1/tokens", auth=(a, PW), json={}, timeout=10)
    assert r.status_code == 200, r.text
    bearer = {"Authorization": f"Bearer {r.json()['token']}"}
    compact = f"POST /admin/compact/{GRAPH}"
    for headers in (bearer, basic(a)):
        r = call_endpoint(env, headers, compact)
        assert r.status_code not in (401, 403), r.text
    env.admin(f"REVOKE ADMIN ON GRAPH * FROM {a}")
    for headers in (bearer, basic(a)):
        for endpoint in (compact, "POST /admin/backup", "POST /admin/config/apply"):
            r = call_endpoint(env, headers, endpoint)
            assert r.status_code in (401, 403), (endpoint, r.status_code, r.text)
    env.admin(f"GRANT ADMIN ON GRAPH * TO {a}")
    assert call_endpoint(env, bearer, compact).status_code not in (401, 403)
    env.admin(f"DROP USER {a}")
    for headers in (bearer, basic(a)):
        r = call_endpoint(env, headers, compact)
        assert r.status_code in (401, 403), r.text


def obfuscations(statement):
    """Spellings of the same statement: the decision must not change."""
    def outside_quotes(text, f):
        out, quote = [], None
        for ch in text:
            if quote:
                out.append(ch)
                if ch == quote:
                    quote = None
            elif ch in "'\"`":
                quote = ch
                out.append(ch)
            else:
                out.append(f(ch))
        return "".join(out)
    first, _, rest = statement.partition(" ")

    def mixed_keywords(text):
        """Keywords (written in capitals in the examples) in alternating case."""
        import re

        def alternate(m):
            return "".join(c.lower() if i % 2 else c for i, c in enumerate(m.group(0)))
        parts = re.split(r"('[^']*')", text)
        return "".join(p if p.startswith("'") else re.sub(r"\b[A-Z]{2,}\b", alternate, p)
                       for p in parts)
    return {
        "block comment before": f"/* x */ {statement}",
        "line comment before": f"// comment\n{statement}",
        "comment after": f"{statement} // trailing",
        "inner comment": f"{first}/**/{rest}" if rest else statement,
        "mixed case": mixed_keywords(statement),
        "tabs": outside_quotes(statement, lambda c: "\t" if c == " " else c),
        "crlf": outside_quotes(statement, lambda c: "\r\n" if c == " " else c),
        "unicode spaces": outside_quotes(statement, lambda c: "\u2003" if c == " " else c),
        "no-break spaces": outside_quotes(statement, lambda c: "\u00a0" if c == " " else c),
        "semicolon": f"  {statement} ;  ",
    }


@pytest.mark.parametrize("principal", ["read", "admin_g", "tls", "scoped_token"])
def test_spelling_never_changes_the_decision(env, principal):
    """Comments, case, whitespace, `;`, backticks and parameters change nothing; EXPLAIN and
    PROFILE of a command are refused before anything runs; a second statement is a syntax
    error."""
    for row in policy_table(env.users[principal]):
        kind, statement, needs = row["kind"], row["example"], row["needs"]
        variants = dict(obfuscations(statement))
        for name in ("policy_probe", "policyprobe", "policy_role", "policy_unique"):
            if name in statement:
                variants["backticks"] = statement.replace(name, f"`{name}`")
        if "'policy-probe-pw" in statement:
            variants["parameter"] = (statement.replace("'policy-probe-pw'", "$pw")
                                     .replace("'policy-probe-pw2'", "$pw"))
        for variant, text in variants.items():
            params = {"pw": "policy-probe-pw"} if variant == "parameter" else None
            got = outcome_http(env, principal, text, params, database=database_for(needs))
            if allowed(principal, needs):
                assert got != FORBIDDEN, (principal, kind, variant, text, got)
            else:
                assert got == FORBIDDEN, (principal, kind, variant, text, got)
        for prefix in ("EXPLAIN", "PROFILE", "explain /* x */"):
            got = outcome_http(env, principal, f"{prefix} {statement}",
                               database=database_for(needs))
            is_query = kind in ("read_query", "write_query", "load_csv")
            if is_query:
                assert (got == FORBIDDEN) == (not allowed(principal, needs)), (prefix, kind, got)
            elif needs.startswith("graph:") and not allowed(principal, "graph:READ"):
                # no transaction on the graph at all
                assert got in (SYNTAX, FORBIDDEN), (principal, prefix, kind, got)
            else:
                assert got == SYNTAX, (principal, prefix, kind, got)
        got = outcome_http(env, principal, f"{statement}; DROP DATABASE {GRAPH}",
                           database=database_for(needs))
        # a syntax error (or, without READ on the graph, no transaction at all): nothing runs
        assert got in (SYNTAX, FORBIDDEN), (kind, got)
    assert any(r["name"] == GRAPH for r in env.admin("SHOW DATABASES")), "nothing ran"


def test_explain_of_an_admin_command_runs_nothing(env):
    """The issue's reproduction: EXPLAIN/PROFILE/comments in front of DROP DATABASE."""
    env.admin("CREATE DATABASE victim IF NOT EXISTS")
    for statement in ["EXPLAIN DROP DATABASE victim", "/* x */ DROP DATABASE victim",
                      "PROFILE DROP DATABASE victim", "//comment\nDROP DATABASE victim",
                      "DROP/**/DATABASE victim", "EXPLAIN CREATE INDEX i FOR (n:L) ON (n.p)",
                      "/**/CREATE CONSTRAINT c FOR (n:L) REQUIRE n.p IS UNIQUE"]:
        for principal in ("none", "read"):
            r = requests.post(f"{env.base}/db/system/query/v2", headers=env.http_headers(principal),
                              json={"statement": statement}, timeout=10)
            assert r.status_code in (400, 403), (statement, r.status_code, r.text)
    assert any(r["name"] == "victim" for r in env.admin("SHOW DATABASES"))
    assert env.admin("SHOW INDEXES", database=GRAPH) == [] or all(
        r.get("name") != "i" for r in env.admin("SHOW INDEXES", database=GRAPH))


def test_system_database_gives_nothing_without_grants(env):
    u = env.users["none"]
    assert outcome_bolt(env, "none", "SHOW CURRENT USER", database="system") == "ok"
    assert outcome_bolt(env, "none", "MATCH (n) RETURN count(n)", database="system") == FORBIDDEN
    assert outcome_bolt(env, "none", "SHOW USERS", database="system") == FORBIDDEN
    assert outcome_bolt(env, "none", "CREATE DATABASE nope", database="system") == FORBIDDEN
    # SHOW DATABASES lists only what the user may use
    with GraphDatabase.driver(env.server.bolt_uri, auth=(u, PW)) as d:
        names = [r["name"] for r in d.execute_query("SHOW DATABASES", database_="system").records]
    assert names == ["system"], names
    with GraphDatabase.driver(env.server.bolt_uri, auth=(env.users["read"], PW)) as d:
        names = [r["name"] for r in d.execute_query("SHOW DATABASES", database_="system").records]
    assert sorted(names) == sorted([GRAPH, "system"]), names
    # a graph-scoped token may only run SHOW CURRENT USER on system
    assert outcome_bolt(env, "scoped_token", "SHOW CURRENT USER", database="system") == "ok"
    assert outcome_bolt(env, "scoped_token", "SHOW DATABASES", database="system") == FORBIDDEN


def fresh_user(env, *grants):
    u = f"fd_tx_{uuid.uuid4().hex[:6]}"
    env.admin(f"CREATE USER {u} SET PASSWORD '{PW}'")
    for g in grants:
        env.admin(f"GRANT {g} TO {u}")
    return u


def test_revoke_and_drop_apply_inside_an_open_bolt_transaction(env):
    u = fresh_user(env, f"WRITE ON GRAPH {GRAPH}")
    with GraphDatabase.driver(env.server.bolt_uri, auth=(u, PW)) as d:
        with d.session(database=GRAPH) as s:
            tx = s.begin_transaction()
            tx.run("CREATE (:TxProbe {who: $u})", u=u).consume()
            env.admin(f"REVOKE WRITE ON GRAPH {GRAPH} FROM {u}")
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                tx.run("CREATE (:TxProbe {who: $u, n: 2})", u=u).consume()
            assert e.value.code == FORBIDDEN, e.value
            tx.close()
    # a demoted administrator cannot create a database in the transaction it opened as admin
    a = fresh_user(env, "ADMIN ON GRAPH *")
    with GraphDatabase.driver(env.server.bolt_uri, auth=(a, PW)) as d:
        with d.session(database="system") as s:
            tx = s.begin_transaction()
            tx.run("SHOW USERS").consume()
            env.admin(f"REVOKE ADMIN ON GRAPH * FROM {a}")
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                tx.run("CREATE DATABASE demoted").consume()
            assert e.value.code.startswith("Neo.ClientError.Security."), e.value
            tx.close()
    assert not any(r["name"] == "demoted" for r in env.admin("SHOW DATABASES"))
    # a dropped user's open transaction refuses its next statement
    v = fresh_user(env, f"READ ON GRAPH {GRAPH}")
    with GraphDatabase.driver(env.server.bolt_uri, auth=(v, PW)) as d:
        with d.session(database=GRAPH) as s:
            tx = s.begin_transaction()
            tx.run("RETURN 1").consume()
            env.admin(f"DROP USER {v}")
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                tx.run("RETURN 2").consume()
            assert e.value.code.startswith("Neo.ClientError.Security."), e.value
            tx.close()


def test_blocked_token_applies_inside_an_open_bolt_transaction(env):
    u = fresh_user(env, f"READ ON GRAPH {GRAPH}")
    r = requests.post(f"{env.base}/gsql/v1/tokens", auth=(u, PW), json={}, timeout=10)
    token = r.json()["token"]
    with GraphDatabase.driver(env.server.bolt_uri, auth=neo4j.bearer_auth(token)) as d:
        with d.session(database=GRAPH) as s:
            tx = s.begin_transaction()
            tx.run("RETURN 1").consume()
            r = requests.delete(f"{env.base}/gsql/v1/tokens", auth=(u, PW), json={"tokens": token},
                                timeout=10)
            assert r.status_code == 200, r.text
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                tx.run("RETURN 2").consume()
            assert e.value.code.startswith("Neo.ClientError.Security."), e.value
            try:
                tx.close()
            except neo4j.exceptions.Neo4jError:
                pass


def test_revoke_applies_inside_an_open_http_transaction(env):
    u = fresh_user(env, f"WRITE ON GRAPH {GRAPH}")
    auth = (u, PW)
    r = requests.post(f"{env.base}/db/{GRAPH}/query/v2/tx", auth=auth, json={}, timeout=10)
    assert r.status_code < 300, r.text
    tx = r.json()["transaction"]["id"]
    r = requests.post(f"{env.base}/db/{GRAPH}/query/v2/tx/{tx}", auth=auth,
                      json={"statement": "CREATE (:HttpTxProbe)"}, timeout=10)
    assert r.status_code < 300 and not r.json().get("errors"), r.text
    env.admin(f"REVOKE WRITE ON GRAPH {GRAPH} FROM {u}")
    r = requests.post(f"{env.base}/db/{GRAPH}/query/v2/tx/{tx}", auth=auth,
                      json={"statement": "CREATE (:HttpTxProbe)"}, timeout=10)
    assert r.status_code == 403 or r.json()["errors"][0]["code"] == FORBIDDEN, r.text
    requests.delete(f"{env.base}/db/{GRAPH}/query/v2/tx/{tx}", auth=auth, timeout=10)
    # an administrator demoted in the middle of an HTTP transaction
    a = fresh_user(env, "ADMIN ON GRAPH *")
    r = requests.post(f"{env.base}/db/system/query/v2/tx", auth=(a, PW), json={}, timeout=10)
    tx = r.json()["transaction"]["id"]
    env.admin(f"REVOKE ADMIN ON GRAPH * FROM {a}")
    r = requests.post(f"{env.base}/db/system/query/v2/tx/{tx}", auth=(a, PW),
                      json={"statement": "CREATE DATABASE demoted_http"}, timeout=10)
    assert r.status_code >= 400 or r.json().get("errors"), r.text
    assert not any(r["name"] == "demoted_http" for r in env.admin("SHOW DATABASES"))


def test_pymgclient_transaction_control_statements_still_work(env):
    mgclient = pytest.importorskip("mgclient")
    conn = mgclient.connect(host="127.0.0.1", port=env.server.bolt_port, username="neo4j",
                            password="password")
    conn.autocommit = False
    cur = conn.cursor()
    cur.execute("RETURN 1 AS x")
    assert cur.fetchall() == [(1,)]
    conn.commit()
    conn.close()
