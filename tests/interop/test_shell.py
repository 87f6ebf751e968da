"""`graphward shell` (the console client) driven as a user would, against a real `graphward serve`.

Batch mode is driven through stdin/--file; the interactive mode runs under a pseudo-terminal
(pexpect). TLS tests start their own server with certificates made here (trustme) and run only
when the server binary has the Bolt TLS flags.
"""
import json
import os
import stat
import subprocess
import uuid

import pexpect
import pytest

from conftest import binary, free_port

USER, PASSWORD = "neo4j", "password"


def shell_bin() -> str:
    """The client binary (by default the server's; GRAPHWARD_SHELL_BIN to test another)."""
    return os.environ.get("GRAPHWARD_SHELL_BIN", binary())


def shell_args(server, *extra, host="127.0.0.1", port=None):
    return [
        shell_bin(), "shell",
        "--host", host, "--port", str(port or server.bolt_port),
        "--username", USER,
        *extra,
    ]


def env(**kw):
    e = dict(os.environ)
    e["GRAPHWARD_PASSWORD"] = PASSWORD
    e.update(kw)
    return e


def run_shell(server, stdin="", *extra, host="127.0.0.1", port=None, timeout=60):
    return subprocess.run(
        shell_args(server, *extra, host=host, port=port),
        input=stdin, capture_output=True, text=True, timeout=timeout, env=env(),
    )


def serve_help() -> str:
    try:
        return subprocess.run([binary(), "serve", "--help"], capture_output=True, text=True,
                              timeout=30).stdout
    except OSError:
        return ""


KNOWN = "RETURN 1 AS n, 'a,b' AS s, null AS z, [1, 'x'] AS l, {k: 2.5} AS m;"


# ---------------------------------------------------------------------------------------------
# Batch mode: formats
# ---------------------------------------------------------------------------------------------

def test_table_format(server):
    r = run_shell(server, KNOWN)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "+---+-------+------+----------+----------+\n"
        "| n | s     | z    | l        | m        |\n"
        "+---+-------+------+----------+----------+\n"
        '| 1 | "a,b" | null | [1, "x"] | {k: 2.5} |\n'
        "+---+-------+------+----------+----------+\n"
    )


def test_csv_format(server):
    r = run_shell(server, KNOWN, "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'n,s,z,l,m\n1,"a,b",,"[1, ""x""]",{k: 2.5}\n'


def test_json_format(server):
    r = run_shell(server, KNOWN + "\nUNWIND [1, 2] AS x RETURN x;", "--format", "json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == '{"n":1,"s":"a,b","z":null,"l":[1,"x"],"m":{"k":2.5}}'
    assert [json.loads(x) for x in lines[1:]] == [{"x": 1}, {"x": 2}]


def test_graph_values_cypher_style(server):
    tag = "Sh" + uuid.uuid4().hex[:8]
    q = (
        f"CREATE (a:{tag} {{name: 'Ann'}})-[:KNOWS {{since: 2020}}]->(b:{tag} {{name: 'Bob'}});\n"
        f"MATCH p = (a:{tag} {{name: 'Ann'}})-[r]->(b) RETURN a, r, p, date('2024-02-29') AS d;"
    )
    r = run_shell(server, q, "--format", "csv")
    assert r.returncode == 0, r.stderr
    header, row = r.stdout.splitlines()
    assert header == "a,r,p,d"
    assert row == (
        f'"(:{tag} {{name: ""Ann""}})",[:KNOWS {{since: 2020}}],'
        f'"(:{tag} {{name: ""Ann""}})-[:KNOWS {{since: 2020}}]->(:{tag} {{name: ""Bob""}})",'
        "2024-02-29"
    )


def test_statements_span_lines_with_comments_and_strings(server, tmp_path):
    script = tmp_path / "s.cypher"
    script.write_text(
        "// a comment; with a semicolon\n"
        "RETURN 'x;y' AS a,\n"
        "       /* ; */ 2 AS b;\n"
        "RETURN \"it's\" AS c\n"
    )
    r = subprocess.run(
        shell_args(server, "--file", str(script), "--format", "csv"),
        capture_output=True, text=True, timeout=60, env=env(),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "a,b\nx;y,2\nc\nit's\n"


# ---------------------------------------------------------------------------------------------
# Batch mode: errors and exit codes
# ---------------------------------------------------------------------------------------------

def test_first_error_stops_with_code(server):
    r = run_shell(server, "RETURN 1 AS a;\nRETURN nope(;\nRETURN 3 AS c;", "--format", "csv")
    assert r.returncode == 1
    assert r.stdout == "a\n1\n"
    assert "Neo.ClientError.Statement.SyntaxError" in r.stderr


def test_continue_on_error(server):
    r = run_shell(
        server, "RETURN 1 AS a;\nRETURN nope(;\nRETURN 3 AS c;",
        "--format", "csv", "--continue-on-error",
    )
    assert r.returncode == 1
    assert r.stdout == "a\n1\nc\n3\n"
    assert r.stderr.count("Neo.ClientError.Statement.SyntaxError") == 1


def test_transactions_in_batch(server):
    tag = "Tx" + uuid.uuid4().hex[:8]
    r = run_shell(
        server,
        f":begin\nCREATE (:{tag});\n:rollback\n"
        f":begin\nCREATE (:{tag} {{v: 1}});\nCREATE (:{tag} {{v: 2}});\n:commit\n"
        f"MATCH (n:{tag}) RETURN count(n) AS c;",
        "--format", "csv",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "c\n2\n"


def test_unfinished_transaction_is_rolled_back_and_reported(server):
    tag = "Tx" + uuid.uuid4().hex[:8]
    r = run_shell(server, f":begin\nCREATE (:{tag});\n")
    assert r.returncode == 1
    assert "rolled back" in r.stderr
    r = run_shell(server, f"MATCH (n:{tag}) RETURN count(n) AS c;", "--format", "csv")
    assert r.stdout == "c\n0\n"


def test_database_flag_and_use(server):
    db = "shell" + uuid.uuid4().hex[:6]
    r = run_shell(server, f"CREATE DATABASE {db};")
    assert r.returncode == 0, r.stderr
    r = run_shell(server, "CREATE (:OnlyHere);", "--database", db)
    assert r.returncode == 0, r.stderr
    r = run_shell(
        server,
        f"MATCH (n:OnlyHere) RETURN count(n) AS c;\n:use {db}\nMATCH (n:OnlyHere) RETURN count(n) AS c;",
        "--format", "csv",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "c\n0\nc\n1\n"
    r = run_shell(server, ":use no_such_db\n")
    assert r.returncode == 1
    assert "Neo.ClientError.Database.DatabaseNotFound" in r.stderr


def test_unknown_command(server):
    r = run_shell(server, ":frobnicate\n")
    assert r.returncode == 1
    assert "unknown command :frobnicate" in r.stderr


def test_connection_refused():
    port = free_port()
    r = subprocess.run(
        [shell_bin(), "shell", "--port", str(port)],
        input="RETURN 1;", capture_output=True, text=True, timeout=30, env=env(),
    )
    assert r.returncode == 3
    assert "connection refused" in r.stderr


def test_usage_errors(server, tmp_path):
    r = run_shell(server, "", "--insecure", "--ca-file", str(tmp_path / "x.pem"))
    assert r.returncode == 2
    assert "pass only one" in r.stderr
    r = run_shell(server, "", "--use-ssl=false", "--insecure")
    assert r.returncode == 2
    r = subprocess.run(
        [shell_bin(), "shell", "--port", str(server.bolt_port), "--username", "neo4j"],
        input="RETURN 1;", capture_output=True, text=True, timeout=30,
        env={k: v for k, v in os.environ.items() if k != "GRAPHWARD_PASSWORD"},
    )
    assert r.returncode == 2
    assert "no password" in r.stderr


def test_use_ssl_against_plaintext_server(server):
    r = run_shell(server, "RETURN 1;", "--insecure")
    assert r.returncode == 3
    assert "try without --use-ssl" in r.stderr


# ---------------------------------------------------------------------------------------------
# Interactive mode under a pseudo-terminal
# ---------------------------------------------------------------------------------------------




def spawn(server, tmp_path, *extra, password=True, host="127.0.0.1"):
    e = env(HOME=str(tmp_path), TERM="xterm")
    if not password:
        e.pop("GRAPHWARD_PASSWORD", None)
    child = pexpect.spawn(
        shell_bin(),
        shell_args(server, *extra, host=host)[1:],
        env=e, encoding="utf-8", timeout=30, dimensions=(40, 200),
    )
    return child


def test_interactive_multiline_table_history(server, tmp_path):
    child = spawn(server, tmp_path, password=False)
    child.expect("Password for neo4j: ")
    child.sendline(PASSWORD)
    child.expect("Connected to 127.0.0.1")
    child.expect("neo4j> ")
    child.sendline("RETURN 1 AS a,")
    child.expect(r"     > ")  # continuation prompt
    child.sendline("'two' AS b;")
    child.expect(r"\| a \| b     \|")
    child.expect(r'\| 1 \| "two" \|')
    child.expect(r"1 row \(\d+ ms\)")
    child.expect("neo4j> ")
    # Ctrl-C at the prompt clears the pending statement.
    child.send("RETURN 5 AS")
    child.sendintr()
    child.expect("neo4j> ")
    child.sendline("RETURN 6 AS six;")
    child.expect(r"\| six \|")
    child.expect(r"\| 6   \|")
    child.expect("neo4j> ")
    child.sendline(":help")
    child.expect(":rollback")
    child.expect("neo4j> ")
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    hist = tmp_path / ".graphward_history"
    assert stat.S_IMODE(hist.stat().st_mode) == 0o600
    text = hist.read_text()
    assert "'two' AS b;" in text
    assert "RETURN 6 AS six;" in text


def interrupt_long_query(child):
    """Starts a query that runs for minutes, presses Ctrl-C, expects the shell back."""
    # Long, but within the row and memory limits (a huge UNWIND would hit the 10M-row limit
    # before Ctrl-C on a fast machine): 400M additions in nested reduce().
    child.sendline("RETURN reduce(a = 0, x IN range(1, 20000) | "
                   "a + reduce(b = 0, y IN range(1, 20000) | b + y)) AS s;")
    with pytest.raises(pexpect.TIMEOUT):  # let it start
        child.expect(r"\| s", timeout=1.5)
    child.sendintr()
    child.expect("query interrupted", timeout=30)
    child.expect("neo4j> ")


def test_interactive_ctrl_c_interrupts_long_query(server, tmp_path):
    child = spawn(server, tmp_path, "--history", str(tmp_path / "h"))
    child.expect("neo4j> ")
    interrupt_long_query(child)
    child.sendline("RETURN 42 AS answer;")
    child.expect(r"\| 42     \|")
    child.expect("neo4j> ")
    # Transactions: the prompt shows one is open; Ctrl-C during a query rolls it back.
    child.sendline(":begin")
    child.expect("transaction open")
    child.expect("neo4j# ")
    interrupt_long_query(child)
    child.sendline(":exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert stat.S_IMODE((tmp_path / "h").stat().st_mode) == 0o600


def test_interactive_error_keeps_shell(server, tmp_path):
    child = spawn(server, tmp_path, "--history", str(tmp_path / "h"))
    child.expect("neo4j> ")
    child.sendline("RETURN nope(;")
    child.expect("Neo.ClientError.Statement.SyntaxError")
    child.expect("neo4j> ")
    child.sendline("CREATE USER x SET PASSWORD 'secret';")
    child.expect("neo4j> ")
    child.sendline("RETURN 1 AS one;")
    child.expect(r"1 row")
    child.sendline(":quit")
    child.expect(pexpect.EOF)
    text = (tmp_path / "h").read_text()
    assert "nope" in text
    assert "secret" not in text


# ---------------------------------------------------------------------------------------------
# TLS (needs the server's --bolt-cert-file/--bolt-key-file)
# ---------------------------------------------------------------------------------------------

tls = pytest.mark.skipif("--bolt-cert-file" not in serve_help(),
                         reason="server has no --bolt-cert-file yet")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    trustme = pytest.importorskip("trustme")
    from conftest import Server
    d = tmp_path_factory.mktemp("shell-tls")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    cert_path, key_path, ca_path = d / "server.pem", d / "server.key", d / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    os.chmod(key_path, 0o600)
    ca.cert_pem.write_to_path(str(ca_path))
    data = d / "data"
    data.mkdir()
    srv = Server(str(data), ["--bolt-cert-file", str(cert_path),
                             "--bolt-key-file", str(key_path)]).start()
    srv.ca_path = str(ca_path)
    try:
        yield srv
    finally:
        srv.stop()


@tls
def test_tls_with_ca_file(tls_server):
    r = run_shell(tls_server, "RETURN 1 AS n;", "--use-ssl", "--ca-file", tls_server.ca_path,
                  "--format", "csv", host="localhost")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "n\n1\n"


@tls
def test_tls_insecure(tls_server):
    r = run_shell(tls_server, "RETURN 2 AS n;", "--insecure", "--format", "json")
    assert r.returncode == 0, r.stderr
    assert r.stdout == '{"n":2}\n'


@tls
def test_tls_untrusted_certificate(tls_server):
    r = run_shell(tls_server, "RETURN 1;", "--use-ssl", host="localhost")
    assert r.returncode == 3
    assert "certificate is not trusted: pass --ca-file or --insecure" in r.stderr


@tls
def test_tls_wrong_host_name(tls_server):
    r = run_shell(tls_server, "RETURN 1;", "--use-ssl", "--ca-file", tls_server.ca_path)
    assert r.returncode == 3
    assert "certificate is for localhost, not 127.0.0.1" in r.stderr


@tls
def test_plaintext_client_on_tls_port(tls_server):
    r = run_shell(tls_server, "RETURN 1;")
    assert r.returncode == 3
    assert "server requires TLS: add --use-ssl" in r.stderr


@tls
def test_tls_interactive(tls_server, tmp_path):
    child = spawn(tls_server, tmp_path, "--use-ssl", "--ca-file", tls_server.ca_path,
                  "--history", str(tmp_path / "h"), host="localhost")
    child.expect("certificate verified")
    child.expect("neo4j> ")
    child.sendline("RETURN 'tls' AS t;")
    child.expect(r'\| "tls" \|')
    child.sendline(":exit")
    child.expect(pexpect.EOF)


# ---------------------------------------------------------------------------------------------
# Authentication: wrong password, bearer tokens (needs the server's JWT flags)
# ---------------------------------------------------------------------------------------------

def test_wrong_password(server):
    r = subprocess.run(
        shell_args(server), input="RETURN 1;", capture_output=True, text=True, timeout=30,
        env=env(GRAPHWARD_PASSWORD="not-the-password"),
    )
    if r.returncode == 0:
        pytest.skip("the server does not check passwords (authentication off)")
    assert r.returncode == 3
    assert "authentication failed" in r.stderr
    assert "Neo.ClientError.Security.Unauthorized" in r.stderr
    assert "not-the-password" not in r.stderr


JWT_SECRET = "k" * 64


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory):
    if "--jwt-hmac-secret" not in serve_help():
        pytest.skip("server has no --jwt-hmac-secret yet")
    from conftest import Server
    data = tmp_path_factory.mktemp("shell-jwt")
    srv = Server(str(data), ["--jwt-hmac-secret", JWT_SECRET]).start()
    try:
        yield srv
    finally:
        srv.stop()


def make_token(**claims):
    jwt = pytest.importorskip("jwt")
    import time
    now = int(time.time())
    body = {"sub": "neo4j", "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode(body, JWT_SECRET, algorithm="HS256")


def test_bearer_token_file(jwt_server, tmp_path):
    token_file = tmp_path / "token.jwt"
    token_file.write_text(make_token() + "\n")
    r = subprocess.run(
        [shell_bin(), "shell", "--port", str(jwt_server.bolt_port), "--token-file", str(token_file),
         "--format", "csv"],
        input="RETURN 7 AS n;", capture_output=True, text=True, timeout=30, env=env(),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == "n\n7\n"


def test_expired_token(jwt_server):
    import time
    token = make_token(iat=int(time.time()) - 700, exp=int(time.time()) - 600)
    r = subprocess.run(
        [shell_bin(), "shell", "--port", str(jwt_server.bolt_port), "--token", token],
        input="RETURN 1;", capture_output=True, text=True, timeout=30, env=env(),
    )
    assert r.returncode == 3
    assert "token expired" in r.stderr
    assert "Neo.ClientError.Security.TokenExpired" in r.stderr
    assert token not in r.stderr
