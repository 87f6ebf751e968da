"""LOAD CSV through the Python driver and the HTTP API (issue 16).

Files come only from `--import-dir` (off by default: the error names the flag); URLs and
paths leaving the directory are refused; a query with LOAD CSV needs ADMIN on every graph
(Neo4j's LOAD privilege), so a user with WRITE only is refused.
"""
import os

import neo4j
import pytest
import requests

from conftest import AUTH

PW = "load-csv-pw"


@pytest.fixture(scope="module")
def import_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("import")
    (d / "people.csv").write_text("name,age\nAnn,31\nBob,\n\"Smith, Jo\",40\n")
    (d / "semi.csv").write_text("1;a\n2;b\n")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.csv").write_text("secret\n")
    os.symlink(outside / "secret.csv", d / "link.csv")
    return d


def test_load_csv_is_off_by_default(server):
    with neo4j.GraphDatabase.driver(server.bolt_uri, auth=AUTH) as drv:
        with drv.session() as s:
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("LOAD CSV FROM 'file:///people.csv' AS row RETURN row").consume()
    assert e.value.code == "Neo.ClientError.Statement.FeatureNotSupported"
    assert "--import-dir" in e.value.message


def test_load_csv_over_bolt_and_http(make_server, import_dir):
    srv = make_server(["--import-dir", str(import_dir)])
    with neo4j.GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as drv:
        with drv.session() as s:
            rows = s.run("LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row "
                         "RETURN row.name AS name, toInteger(row.age) AS age").data()
            assert rows == [{"name": "Ann", "age": 31}, {"name": "Bob", "age": None},
                            {"name": "Smith, Jo", "age": 40}]
            rows = s.run("LOAD CSV FROM $url AS l FIELDTERMINATOR ';' RETURN l",
                         url="file:///semi.csv").value()
            assert rows == [["1", "a"], ["2", "b"]]
            summary = s.run("LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row "
                            "CREATE (:Person {name: row.name})").consume()
            assert summary.counters.nodes_created == 3
            for url, code in [
                ("https://example.com/x.csv", "Neo.ClientError.Statement.FeatureNotSupported"),
                ("file:///../x.csv", "Neo.ClientError.Security.Forbidden"),
                ("file:///link.csv", "Neo.ClientError.Security.Forbidden"),
            ]:
                with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                    s.run("LOAD CSV FROM $url AS l RETURN l", url=url).consume()
                assert e.value.code == code, url
        with drv.session(database="system") as s:
            s.run(f"CREATE USER csv_writer IF NOT EXISTS SET PASSWORD '{PW}'").consume()
            s.run("CREATE ROLE csv_role IF NOT EXISTS").consume()
            s.run("GRANT WRITE ON GRAPH neo4j TO csv_role").consume()
            s.run("GRANT ROLE csv_role TO csv_writer").consume()
    with neo4j.GraphDatabase.driver(srv.bolt_uri, auth=("csv_writer", PW)) as drv:
        with drv.session() as s:
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("LOAD CSV FROM 'file:///semi.csv' AS l RETURN l").consume()
            assert e.value.code == "Neo.ClientError.Security.Forbidden"
    base = f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2"
    r = requests.post(base, auth=AUTH, timeout=30, json={
        "statement": "LOAD CSV FROM 'file:///semi.csv' AS l FIELDTERMINATOR ';' RETURN l[1] AS v"})
    assert r.status_code < 400, r.text
    assert r.json()["data"]["values"] == [["a"], ["b"]]
    r = requests.post(base, auth=("csv_writer", PW), timeout=30, json={
        "statement": "LOAD CSV FROM 'file:///semi.csv' AS l RETURN l"})
    assert r.json()["errors"][0]["code"] == "Neo.ClientError.Security.Forbidden"


def test_import_dir_must_exist(make_server, tmp_path):
    with pytest.raises(RuntimeError):
        make_server(["--import-dir", str(tmp_path / "missing")])
