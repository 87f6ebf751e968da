"""JWT bearer tokens over Bolt (`neo4j.bearer_auth`), made with PyJWT: every algorithm and key
source (inline, @file, an https URL with its own CA via SSL_CA_CERT, a JWKS with rotation), the
RFC 8725 attacks, the claim checks and the graph scope."""
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import ssl
import threading
import time
import uuid

import jwt
import neo4j
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from neo4j import GraphDatabase

from conftest import AUTH

ISSUER = "graphward-tests"
AUDIENCE = "graphward"
HMAC_SECRET = "s" * 64


def pem_public(key):
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- a local HTTPS server with its own CA ----------------------------------------------------


class Pki:
    def __init__(self, d):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graphward test CA")])
        self.ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
                   .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(self.ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        import ipaddress
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                    critical=False)
                .sign(self.ca_key, hashes.SHA256()))
        self.ca_file = d / "ca.pem"
        self.ca_file.write_bytes(self.ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file = d / "server.pem"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file = d / "server.key"
        self.key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))


class KeyServer:
    """Serves `files` (path -> bytes) over HTTPS on 127.0.0.1."""

    def __init__(self, pki):
        self.files = {}
        files = self.files
        self.hits = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.cert_file, pki.key_file)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"https://localhost:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()


def jwk_of(private_key, kid, alg):
    pub = private_key.public_key()
    if isinstance(private_key, rsa.RSAPrivateKey):
        d = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pub))
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        d = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(pub))
    else:
        d = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(pub))
    d["kid"] = kid
    d["alg"] = alg
    d["use"] = "sig"
    return d


class Env:
    pass


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from conftest import Server
    d = tmp_path_factory.mktemp("jwt")
    e = Env()
    e.pki = Pki(d)
    e.keys = KeyServer(e.pki)
    e.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e.rsa_jwks = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e.ec256 = ec.generate_private_key(ec.SECP256R1())
    e.ec384 = ec.generate_private_key(ec.SECP384R1())
    e.ed = ed25519.Ed25519PrivateKey.generate()
    e.attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    e.jwks = {"keys": [jwk_of(e.rsa_jwks, "rsa-a", "RS256"), jwk_of(e.ec256, "ec256", "ES256"),
                       jwk_of(e.ec384, "ec384", "ES384"), jwk_of(e.ed, "ed", "EdDSA")]}
    e.keys.files["/jwks.json"] = json.dumps(e.jwks).encode()
    e.keys.files["/rsa.pem"] = pem_public(e.rsa)
    rsa_file = d / "rsa.pem"
    rsa_file.write_bytes(pem_public(e.rsa))
    e.rsa_file = rsa_file
    data = d / "data"
    data.mkdir()
    e.server = Server(str(data), [
        "--jwt-hmac-secret", HMAC_SECRET,
        "--jwt-rsa-public-key", f"@{rsa_file}",
        "--jwt-jwks-url", e.keys.url("/jwks.json"),
        "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
        "--jwt-leeway", "1",
    ], env={"SSL_CA_CERT": str(e.pki.ca_file)}).start()
    run(e.server, AUTH, "CREATE DATABASE other IF NOT EXISTS")
    run(e.server, AUTH, "CREATE USER alice IDENTIFIED BY 'alice-password'")
    run(e.server, AUTH, "GRANT WRITE ON GRAPH neo4j TO alice")
    run(e.server, AUTH, "GRANT READ ON GRAPH other TO alice")
    run(e.server, AUTH, "CREATE USER bob IDENTIFIED BY 'bob-password'")
    run(e.server, AUTH, "GRANT READ ON GRAPH neo4j TO bob")
    try:
        yield e
    finally:
        e.server.stop()
        e.keys.close()


def run(server, auth, query, database=None):
    with GraphDatabase.driver(server.bolt_uri, auth=auth) as d:
        with d.session(database=database) as s:
            return [r.data() for r in s.run(query)]


def claims(**over):
    now = int(time.time())
    c = {"sub": "alice", "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def refusal(server, token, database=None):
    with pytest.raises(neo4j.exceptions.Neo4jError) as e:
        run(server, neo4j.bearer_auth(token), "RETURN 1 AS x", database)
    err = e.value
    assert token not in str(err) and token not in (err.message or "")
    if len(token) > 12:
        assert f"{token[:4]}****{token[-4:]}" in err.message
    return err


def accepted(server, token, database=None):
    return run(server, neo4j.bearer_auth(token), "RETURN 1 AS x", database) == [{"x": 1}]


# --- algorithms and key sources --------------------------------------------------------------


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_algorithms(env, alg):
    assert accepted(env.server, jwt.encode(claims(), HMAC_SECRET, algorithm=alg))


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_rsa_algorithms_with_a_key_file(env, alg):
    assert accepted(env.server, jwt.encode(claims(), env.rsa, algorithm=alg))


@pytest.mark.parametrize("kid,alg,key", [
    ("rsa-a", "RS256", "rsa_jwks"), ("ec256", "ES256", "ec256"),
    ("ec384", "ES384", "ec384"), ("ed", "EdDSA", "ed"),
])
def test_jwks_algorithms(env, kid, alg, key):
    token = jwt.encode(claims(), getattr(env, key), algorithm=alg, headers={"kid": kid})
    assert accepted(env.server, token)


def test_key_from_an_https_url_with_its_own_ca(env, make_server):
    srv = make_server(["--jwt-rsa-public-key", env.keys.url("/rsa.pem")],
                      env={"SSL_CA_CERT": str(env.pki.ca_file)})
    assert accepted(srv, jwt.encode(claims(sub="neo4j"), env.rsa, algorithm="RS256"))
    # Without the CA the server refuses to start: the URL cannot be trusted.
    with pytest.raises(RuntimeError, match="rsa.pem"):
        make_server(["--jwt-rsa-public-key", env.keys.url("/rsa.pem")])


def test_jwks_rotation(env, make_server):
    env.keys.files["/rotating.json"] = json.dumps({"keys": [jwk_of(env.ec256, "one", "ES256")]}).encode()
    srv = make_server(["--jwt-jwks-url", env.keys.url("/rotating.json")],
                      env={"SSL_CA_CERT": str(env.pki.ca_file)})
    assert accepted(srv, jwt.encode(claims(sub="neo4j"), env.ec256, algorithm="ES256", headers={"kid": "one"}))
    new_key = ec.generate_private_key(ec.SECP256R1())
    env.keys.files["/rotating.json"] = json.dumps(
        {"keys": [jwk_of(env.ec256, "one", "ES256"), jwk_of(new_key, "two", "ES256")]}).encode()
    # An unknown kid makes the server fetch the set again.
    assert accepted(srv, jwt.encode(claims(sub="neo4j"), new_key, algorithm="ES256", headers={"kid": "two"}))


def test_short_hmac_secret_is_refused_at_start(make_server):
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        make_server(["--jwt-hmac-secret", "too-short"])


# --- RFC 8725 attacks ------------------------------------------------------------------------


def test_alg_none_is_refused(env):
    token = jwt.encode(claims(), None, algorithm="none")
    err = refusal(env.server, token)
    assert err.code == "Neo.ClientError.Security.Unauthorized" and "Verification" in err.message


def test_hs_rs_key_confusion_is_refused(env):
    # An HS256 token whose secret is the server's RSA public key.
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    sig = hmac.new(pem_public(env.rsa), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    err = refusal(env.server, f"{header}.{payload}.{b64url(sig)}")
    assert "Verification" in err.message


@pytest.mark.parametrize("extra", ["jku", "x5u", "jwk"])
def test_key_headers_are_never_followed(env, extra):
    env.keys.files["/evil.json"] = json.dumps({"keys": [jwk_of(env.attacker, "evil", "RS256")]}).encode()
    value = {"jku": env.keys.url("/evil.json"), "x5u": env.keys.url("/evil.pem"),
             "jwk": jwk_of(env.attacker, "evil", "RS256")}[extra]
    before = len(env.keys.hits)
    token = jwt.encode(claims(), env.attacker, algorithm="RS256", headers={extra: value})
    err = refusal(env.server, token)
    assert "Verification" in err.message
    assert "/evil" not in "".join(env.keys.hits[before:])


def test_wrong_kid_is_refused(env):
    token = jwt.encode(claims(), env.ec256, algorithm="ES256", headers={"kid": "nope"})
    assert "Verification" in refusal(env.server, token).message


def test_expired_token(env):
    token = jwt.encode(claims(iat=int(time.time()) - 100, exp=int(time.time()) - 30), HMAC_SECRET, algorithm="HS256")
    err = refusal(env.server, token)
    assert err.code == "Neo.ClientError.Security.TokenExpired" and "Expiration" in err.message


def test_not_yet_valid_token(env):
    token = jwt.encode(claims(nbf=int(time.time()) + 300), HMAC_SECRET, algorithm="HS256")
    assert "Not yet valid" in refusal(env.server, token).message


def test_edited_payload_is_refused(env):
    token = jwt.encode(claims(sub="bob"), HMAC_SECRET, algorithm="HS256")
    h, p, s = token.split(".")
    forged = b64url(json.dumps(claims(sub="alice")).encode())
    assert "Verification" in refusal(env.server, f"{h}.{forged}.{s}").message


def test_crit_header_is_refused(env):
    token = jwt.encode(claims(), HMAC_SECRET, algorithm="HS256", headers={"crit": ["exp"]})
    assert "Format" in refusal(env.server, token).message


@pytest.mark.parametrize("token", ["not-a-token-at-all", "a.b", "!!!!.####.$$$$", "e30.e30.e30.e30",
                                   "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln"])
def test_malformed_tokens(env, token):
    assert "Format" in refusal(env.server, token).message


def test_oversized_token_is_refused_before_decoding(env):
    token = jwt.encode(claims(pad="x" * 20000), HMAC_SECRET, algorithm="HS256")
    err = refusal(env.server, token)
    assert "Format" in err.message and "limit" in err.message


# --- claims ----------------------------------------------------------------------------------


def test_issuer_and_audience(env):
    assert "Issuer" in refusal(env.server, jwt.encode(claims(iss="someone-else"), HMAC_SECRET, algorithm="HS256")).message
    assert "Audience" in refusal(env.server, jwt.encode(claims(aud="Graphward"), HMAC_SECRET, algorithm="HS256")).message
    assert accepted(env.server, jwt.encode(claims(aud=["x", AUDIENCE]), HMAC_SECRET, algorithm="HS256"))
    assert "Format" in refusal(env.server, jwt.encode(claims(exp=None), HMAC_SECRET, algorithm="HS256")).message


def test_unknown_user_and_graph(env):
    err = refusal(env.server, jwt.encode(claims(sub="ghost"), HMAC_SECRET, algorithm="HS256"))
    assert "User does not exist" in err.message
    err = refusal(env.server, jwt.encode(claims(graph="nowhere"), HMAC_SECRET, algorithm="HS256"))
    assert "Graph does not exist" in err.message
    err = refusal(env.server, jwt.encode(claims(sub="bob", graph="other"), HMAC_SECRET, algorithm="HS256"))
    assert "Graph scope" in err.message


def test_graph_scoped_token(env):
    scoped = jwt.encode(claims(graph="neo4j"), HMAC_SECRET, algorithm="HS256")
    assert accepted(env.server, scoped, database="neo4j")
    with pytest.raises(neo4j.exceptions.Neo4jError) as e:
        run(env.server, neo4j.bearer_auth(scoped), "RETURN 1", database="other")
    assert e.value.code == "Neo.ClientError.Security.Forbidden" and "Graph scope" in e.value.message
    # Unscoped, the same user reaches both graphs.
    unscoped = jwt.encode(claims(), HMAC_SECRET, algorithm="HS256")
    assert accepted(env.server, unscoped, database="other")


def test_token_expiring_on_an_open_connection(env):
    token = jwt.encode(claims(exp=int(time.time()) + 2), HMAC_SECRET, algorithm="HS256")
    with GraphDatabase.driver(env.server.bolt_uri, auth=neo4j.bearer_auth(token)) as d:
        with d.session() as s:
            assert s.run("RETURN 1 AS x").single()["x"] == 1
            time.sleep(3.5)  # exp + the 1 s leeway
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("RETURN 1 AS x").consume()
            assert e.value.code == "Neo.ClientError.Security.TokenExpired"


def test_whole_tokens_never_reach_the_log(env):
    tokens = [jwt.encode(claims(sub="ghost"), HMAC_SECRET, algorithm="HS256"),
              jwt.encode(claims(exp=int(time.time()) - 100), HMAC_SECRET, algorithm="HS256")]
    for t in tokens:
        refusal(env.server, t)
    log = env.server.read_log()
    for t in tokens:
        assert t not in log
        assert f"{t[:4]}****{t[-4:]}" in log
    assert HMAC_SECRET not in log
