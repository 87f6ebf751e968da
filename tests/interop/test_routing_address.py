"""The address graphward announces (SHOW DATABASES, routing tables) is the one it listens on,
or the configured advertised address (issue 16)."""
from neo4j import GraphDatabase

from conftest import AUTH


def test_show_databases_announces_the_listening_address(server):
    """SHOW DATABASES names the address and port the server listens on (issue 16: it said
    localhost:7687 whatever the port)."""
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        records = d.execute_query("SHOW DATABASES", database_="system").records
    assert {r["address"] for r in records} == {f"127.0.0.1:{server.bolt_port}"}, records


def test_advertised_address_is_announced(make_server):
    srv = make_server(["--bolt-advertised-address", "db.example.com:7777"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        records = d.execute_query("SHOW DATABASES", database_="system").records
    assert {r["address"] for r in records} == {"db.example.com:7777"}, records
