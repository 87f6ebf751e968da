"""The seed's line, as written, over HTTPS with a JWT:

    curl -H "Authorization: Bearer <JWT>" https://127.0.0.1:PORT/restpp/query/{graph}/{query}

The token is made by PyJWT (HS256 with the server's configured secret, and RS256 with a key
file), the query is installed by an admin, the caller is a user with READ on the graph only,
and a graph-scoped token for another graph is refused with its code."""
import json
import secrets
import subprocess
import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import AUTH
from tls_helpers import gen_certs, tls_args

HMAC_SECRET = secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    from conftest import Server
    d = tmp_path_factory.mktemp("seed")
    certs = gen_certs(d / "certs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = d / "rsa.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    (d / "data").mkdir()
    srv = Server(str(d / "data"), tls_args(certs) + ["--jwt-rsa-public-key", f"@{pub}"],
                 env={"GRAPHWARD_JWT_HMAC_SECRET": HMAC_SECRET}).start()
    ca = str(certs / "ca.pem")
    base = f"https://localhost:{srv.http_port}"

    def admin(statement, graph="neo4j"):
        r = requests.post(f"{base}/db/{graph}/query/v2", auth=AUTH, verify=ca, json={"statement": statement})
        assert r.status_code == 202, r.text

    admin("CREATE DATABASE other IF NOT EXISTS")
    admin("UNWIND range(1, 3) AS i CREATE (:Person {name: 'p' + toString(i), age: 20 + i})")
    admin("CREATE USER analyst IDENTIFIED BY 'analyst-password'")
    admin("GRANT READ ON GRAPH neo4j TO analyst")
    r = requests.put(f"{base}/queries/neo4j/people_older_than", auth=AUTH, verify=ca,
                     json={"statement": "MATCH (p:Person) WHERE p.age > $age RETURN p.name AS name ORDER BY name"})
    assert r.status_code in (200, 201), r.text
    try:
        yield srv, ca, key
    finally:
        srv.stop()


def token(sign_key, alg, **claims):
    now = int(time.time())
    body = {"sub": "analyst", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, sign_key, algorithm=alg)


def curl(srv, ca, bearer, path):
    """The seed's line plus --cacert (the server's certificate comes from our own CA)."""
    r = subprocess.run(["curl", "-sS", "--cacert", ca, "-w", "\n%{http_code}",
                        "-H", f"Authorization: Bearer {bearer}",
                        f"https://localhost:{srv.http_port}{path}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    body, _, status = r.stdout.rpartition("\n")
    return int(status), json.loads(body)


@pytest.mark.parametrize("alg", ["HS256", "RS256"])
def test_seed_curl_line_with_a_jwt_over_https(seed, alg):
    srv, ca, key = seed
    t = token(HMAC_SECRET if alg == "HS256" else key, alg)
    status, body = curl(srv, ca, t, "/restpp/query/neo4j/people_older_than?age=21")
    assert status == 200, body
    assert body["error"] is False
    assert body["results"] == [{"name": "p2"}, {"name": "p3"}]


def test_seed_line_with_a_graph_scoped_token(seed):
    srv, ca, _ = seed
    t = token(HMAC_SECRET, "HS256", graph="neo4j")
    status, body = curl(srv, ca, t, "/restpp/query/neo4j/people_older_than?age=0")
    assert status == 200 and len(body["results"]) == 3, body
    # a token narrowed to another graph: the Graph scope refusal, token masked
    t = token(HMAC_SECRET, "HS256", graph="other")
    status, body = curl(srv, ca, t, "/restpp/query/neo4j/people_older_than?age=0")
    assert status in (401, 403), body
    message = json.dumps(body)
    assert "JWT-GRAPH-SCOPE" in message, body
    assert t not in message


def test_seed_line_refusals_over_https(seed):
    srv, ca, _ = seed
    expired = token(HMAC_SECRET, "HS256", iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    status, body = curl(srv, ca, expired, "/restpp/query/neo4j/people_older_than?age=0")
    assert status == 401 and "JWT-EXPIRATION" in json.dumps(body), body
    assert expired not in json.dumps(body)
    forged = token(b"x" * 64, "HS256")
    status, body = curl(srv, ca, forged, "/restpp/query/neo4j/people_older_than?age=0")
    assert status == 401 and "JWT-VERIFICATION" in json.dumps(body), body
    log = srv.read_log()
    assert expired not in log and forged not in log
