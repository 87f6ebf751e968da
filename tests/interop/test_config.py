"""`graphward config get|set|apply|entry` and `RELOAD CONFIG`: values checked by the server's own
parsers, the file unchanged on a bad value, and JWT settings applied to a running server without
a restart (a bad value is refused and the old settings keep working)."""
import io
import os
import subprocess
import time

import jwt
import neo4j
import pexpect
import pytest
import requests
from neo4j import GraphDatabase

from conftest import AUTH, PASSWORD, binary

SECRET = "k" * 48


def gw(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHWARD_")}
    e.update(env or {})
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=60, env=e)


def token(issuer, sub="neo4j", secret=SECRET):
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 600, "iss": issuer}, secret, algorithm="HS256")


def query(server, t):
    return requests.post(f"http://127.0.0.1:{server.http_port}/db/neo4j/query/v2",
                         headers={"Authorization": f"Bearer {t}"}, json={"statement": "RETURN 1 AS x"})


def apply(server, password=PASSWORD, user=None):
    env = {"GRAPHWARD_PASSWORD": password}
    if user:
        env["GRAPHWARD_USER"] = user
    return gw("config", "apply", "--port", str(server.http_port), env=env)


# --- get / set without a server ---------------------------------------------------------------


def test_set_then_get(tmp_path):
    f = tmp_path / "graphward.toml"
    f.write_text("# operator notes\n[bolt]\nport = 7688 # the Bolt port\n")
    r = gw("config", "set", "Security.JWT.Issuer", "https://idp.example", "--config", str(f))
    assert r.returncode == 0, r.stderr
    assert "config apply" in r.stdout
    r = gw("config", "set", "bolt.port", "7700", "--config", str(f))
    assert r.returncode == 0, r.stderr
    assert "restart" in r.stdout
    text = f.read_text()
    assert "# operator notes" in text and "port = 7700" in text and "[Security.JWT]" in text
    r = gw("config", "get", "Security.JWT.Issuer", "--config", str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('Security.JWT.Issuer = "https://idp.example"'), r.stdout
    assert str(f) in r.stdout
    r = gw("config", "get", "bolt.port", env={"GRAPHWARD_CONFIG": str(f)})
    assert "bolt.port = 7700" in r.stdout, r.stdout
    # the environment wins over the file, and says so
    r = gw("config", "get", "bolt.port", "--config", str(f), env={"GRAPHWARD_BOLT_PORT": "9000"})
    assert '"9000"' in r.stdout and "GRAPHWARD_BOLT_PORT" in r.stdout, r.stdout
    # defaults come from the documentation of the flag
    r = gw("config", "get", "http.port", "--config", str(f))
    assert "http.port = 7474  # built-in default" in r.stdout, r.stdout


def test_secrets_are_masked(tmp_path):
    f = tmp_path / "graphward.toml"
    r = gw("config", "set", "Security.JWT.HMAC.Secret", SECRET, "--config", str(f))
    assert r.returncode == 0, r.stderr
    assert oct(f.stat().st_mode & 0o777) == "0o600"
    r = gw("config", "get", "Security.JWT.HMAC.Secret", "--config", str(f))
    assert r.returncode == 0, r.stderr
    assert "****" in r.stdout and SECRET not in r.stdout + r.stderr
    assert "Security.JWT.HMAC.Secret" in r.stdout and str(f) in r.stdout


@pytest.mark.parametrize("key,value,why", [
    ("bolt.port", "70000", "port number"),
    ("Security.JWT.Leeway", "301", "at most 300s"),
    ("Security.JWT.HMAC.Secret", "too-short", "at least 32 bytes"),
    ("Security.JWT.JWKS.URL", "http://idp/jwks", "https"),
    ("Security.JWT.Issuer", "", "must not be empty"),
    ("Security.JWT.Nope", "x", "unknown setting"),
])
def test_bad_values_are_refused_and_the_file_is_unchanged(tmp_path, key, value, why):
    f = tmp_path / "graphward.toml"
    f.write_text("# keep me\n[Security.JWT]\nIssuer = \"me\"\n")
    before = f.read_bytes()
    r = gw("config", "set", key, value, "--config", str(f))
    assert r.returncode != 0
    assert why in r.stderr, r.stderr
    assert "too-short" not in r.stderr
    assert f.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["graphward.toml"]


def test_set_needs_a_file():
    r = gw("config", "set", "bolt.port", "7700")
    assert r.returncode != 0 and "--config" in r.stderr


# --- apply on a running server ----------------------------------------------------------------


@pytest.fixture
def configured(tmp_path, make_server):
    f = tmp_path / "graphward.toml"
    secret_file = tmp_path / "hmac.secret"
    secret_file.write_text(SECRET)
    f.write_text(f'[Security.JWT]\nIssuer = "old-iss"\n[Security.JWT.HMAC]\nSecret = "@{secret_file}"\n')
    server = make_server(["--config", str(f)])
    return server, f


def test_apply_switches_the_issuer_without_restart(configured):
    server, f = configured
    old = token("old-iss")
    assert query(server, old).status_code == 202
    r = gw("config", "set", "Security.JWT.Issuer", "new-iss", "--config", str(f))
    assert r.returncode == 0, r.stderr
    r = apply(server)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "applied" in r.stdout and "Security.JWT.Issuer" in r.stdout
    pid = server.proc.pid
    refused = query(server, old)
    assert refused.status_code == 401
    assert "JWT-ISSUER" in refused.json()["errors"][0]["message"]
    assert query(server, token("new-iss")).status_code == 202
    assert server.proc.poll() is None and server.proc.pid == pid


def test_a_bad_value_is_refused_and_the_old_settings_stay(configured):
    server, f = configured
    good = token("old-iss")
    text = f.read_text()
    f.write_text(text.replace('Issuer = "old-iss"', 'Issuer = "new-iss"\nLeeway = 301'))
    r = apply(server)
    assert r.returncode != 0
    assert "Security.JWT.Leeway" in r.stderr and "at most 300s" in r.stderr, r.stderr
    assert query(server, good).status_code == 202
    assert query(server, token("new-iss")).status_code == 401
    # a secret that is too short: refused at apply time, named, never shown
    f.write_text('[Security.JWT]\nIssuer = "new-iss"\n[Security.JWT.HMAC]\nSecret = "tiny-secret"\n')
    r = apply(server)
    assert r.returncode != 0
    assert "Security.JWT.HMAC.Secret" in r.stderr and "tiny-secret" not in r.stdout + r.stderr
    assert query(server, good).status_code == 202
    assert "tiny-secret" not in server.read_log()


def test_reload_config_command_and_needs_restart(configured):
    server, f = configured
    text = f.read_text().replace("old-iss", "bolt-iss")
    f.write_text(text + "[http]\nmax_connections = 77\n")
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        rows = {r["key"]: r for r in d.execute_query("RELOAD CONFIG").records}
    assert rows["Security.JWT.Issuer"]["status"] == "applied"
    assert rows["http.max_connections"]["status"] == "needs-restart"
    assert rows["bolt.port"]["status"] == "unchanged"
    assert "set by command-line flag --bolt-port" in rows["bolt.port"]["message"]
    assert query(server, token("bolt-iss")).status_code == 202
    # the HTTP endpoint reports the same, as JSON
    r = requests.post(f"http://127.0.0.1:{server.http_port}/admin/config/apply", auth=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "applied"
    assert "http.max_connections" in body["needs_restart"]
    assert "Security.JWT.Issuer" in body["unchanged"]


def test_only_admins_may_apply(configured):
    server, f = configured
    base = f"http://127.0.0.1:{server.http_port}"
    r = requests.post(f"{base}/db/system/query/v2", auth=AUTH,
                      json={"statement": "CREATE USER carol IDENTIFIED BY 'carol-password'"})
    assert r.status_code == 202, r.text
    assert requests.post(f"{base}/admin/config/apply").status_code == 401
    r = requests.post(f"{base}/admin/config/apply", auth=("carol", "carol-password"))
    assert r.status_code == 403, r.text
    r = apply(server, password="carol-password", user="carol")
    assert r.returncode != 0 and "403" in r.stderr
    with GraphDatabase.driver(server.bolt_uri, auth=("carol", "carol-password")) as d:
        with pytest.raises(neo4j.exceptions.ClientError) as e:
            d.execute_query("RELOAD CONFIG", database_="system")
    assert "ADMIN" in e.value.message
    r = apply(server, password="wrong-password")
    assert r.returncode != 0 and "401" in r.stderr


def test_without_a_config_file_apply_says_so(server):
    r = apply(server)
    assert r.returncode != 0 and "without a config file" in r.stderr


# --- interactive entry ------------------------------------------------------------------------


def test_entry_security(tmp_path):
    f = tmp_path / "graphward.toml"
    f.write_text('# notes\n[Security.JWT]\nIssuer = "before"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHWARD_")}
    child = pexpect.spawn(binary(), ["config", "entry", "security", "--config", str(f)],
                          env=env, encoding="utf-8", timeout=20)
    child.logfile_read = io.StringIO()
    answers = {
        "Security.JWT.HMAC.Secret": [SECRET],
        "Security.JWT.Issuer": ["after"],
        "Security.JWT.Leeway": ["999", "30"],
    }
    seen = {}
    while True:
        i = child.expect([r"([A-Za-z.]+) \[([^\]\r\n]*)\]: ", "Wrote", "Nothing changed", pexpect.EOF])
        if i != 0:
            break
        key, current = child.match.group(1), child.match.group(2)
        seen[key] = current
        queue = answers.get(key, [])
        child.sendline(queue.pop(0) if queue else "")
    output = child.before or ""
    assert i == 1, output
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert seen["Security.JWT.Issuer"] == '"before"'
    assert seen["Security.JWT.Leeway"].startswith("default")
    assert "Security.JWT.Audience" in seen
    text = f.read_text()
    assert "# notes" in text and 'Issuer = "after"' in text and "Leeway = 30" in text
    assert SECRET in text  # the file holds it; the terminal never showed it
    assert SECRET not in child.logfile_read.getvalue()
    r = gw("config", "get", "Security.JWT.HMAC.Secret", "--config", str(f))
    assert "****" in r.stdout and SECRET not in r.stdout


def test_apply_over_https(tmp_path, make_server):
    from tls_helpers import gen_certs, tls_args
    certs = gen_certs(tmp_path / "certs")
    f = tmp_path / "graphward.toml"
    f.write_text(f'[Security.JWT]\nIssuer = "tls-old"\n[Security.JWT.HMAC]\nSecret = "{SECRET}"\n')
    server = make_server(["--config", str(f), *tls_args(certs, bolt=False)])
    assert gw("config", "set", "Security.JWT.Issuer", "tls-new", "--config", str(f)).returncode == 0
    env = {"GRAPHWARD_PASSWORD": PASSWORD}
    # plaintext against the HTTPS port: refused, and the message says what to do
    r = gw("config", "apply", "--port", str(server.http_port), env=env)
    assert r.returncode != 0 and "--use-ssl" in r.stderr, r.stderr
    r = gw("config", "apply", "--address", "localhost", "--port", str(server.http_port),
           "--ca-file", str(certs / "ca.pem"), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Security.JWT.Issuer" in r.stdout
    ok = requests.post(f"https://localhost:{server.http_port}/db/neo4j/query/v2", verify=str(certs / "ca.pem"),
                       headers={"Authorization": f"Bearer {token('tls-new')}"}, json={"statement": "RETURN 1"})
    assert ok.status_code == 202, ok.text


def test_apply_token_settings(configured):
    server, f = configured
    base = f"http://127.0.0.1:{server.http_port}"

    def issued_lifetime():
        r = requests.post(f"{base}/gsql/v1/tokens", auth=AUTH, json={}, timeout=10)
        assert r.status_code == 200, r.text
        claims = jwt.decode(r.json()["token"], options={"verify_signature": False})
        return claims["exp"] - claims["iat"]

    assert issued_lifetime() == 7 * 86400
    assert gw("config", "set", "GSQL.Token.Lifetime", "2h", "--config", str(f)).returncode == 0
    r = apply(server)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "GSQL.Token.Lifetime" in r.stdout
    assert issued_lifetime() == 7200
    # out of range in the file (config set would refuse it): the apply is refused, 2h stays
    f.write_text(f.read_text() + "DropLimit = 99\n")
    r = apply(server)
    assert r.returncode != 0 and "GSQL.Token.DropLimit" in r.stderr, r.stderr
    assert issued_lifetime() == 7200


def test_apply_prompts_for_the_password(configured):
    server, f = configured
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHWARD_")}
    child = pexpect.spawn(binary(), ["config", "apply", "--port", str(server.http_port)],
                          env=env, encoding="utf-8", timeout=20)
    child.logfile_read = io.StringIO()
    child.expect("Password for neo4j: ")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    # the answer was not echoed
    assert f"{PASSWORD}\r\n" not in child.logfile_read.getvalue()
