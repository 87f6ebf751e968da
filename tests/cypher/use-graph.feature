Feature: UseGraph
  # Neo4j 5's USE clause (Cypher Manual, "USE"): the graph a query runs on. The suite runs on
  # the default database `neo4j`; the front door reopens an auto-commit transaction on the graph
  # a USE names (checked over Bolt and HTTP by tests/interop/test_use_graph.py).

  Background:
    Given an empty graph

  Scenario: USE the transaction's graph
    Given having executed:
      """
      CREATE (:P {n: 1}), (:P {n: 2})
      """
    When executing query:
      """
      USE neo4j MATCH (p:P) RETURN count(p) AS c
      """
    Then the result should be, in any order:
      | c |
      | 2 |
    And no side effects

  Scenario: USE is case-insensitive on the graph name and takes a quoted name
    When executing query:
      """
      USE `NEO4J` RETURN 1 AS x
      """
    Then the result should be, in any order:
      | x |
      | 1 |
    And no side effects

  Scenario: USE graph.byName
    When executing query:
      """
      USE graph.byName('neo4j') RETURN 1 AS x
      """
    Then the result should be, in any order:
      | x |
      | 1 |
    And no side effects

  Scenario: USE with an update
    When executing query:
      """
      USE neo4j CREATE (:Q)
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes  | 1 |
      | +labels | 1 |

  Scenario: USE in every part of a UNION
    When executing query:
      """
      USE neo4j RETURN 1 AS x
      UNION
      USE neo4j RETURN 2 AS x
      """
    Then the result should be, in any order:
      | x |
      | 1 |
      | 2 |
    And no side effects

  Scenario: USE at the start of a CALL subquery
    When executing query:
      """
      UNWIND [1, 2] AS i
      CALL { USE neo4j RETURN 10 AS t }
      RETURN i + t AS s
      """
    Then the result should be, in any order:
      | s  |
      | 11 |
      | 12 |
    And no side effects

  Scenario: EXPLAIN of a query with USE
    When executing query:
      """
      EXPLAIN USE neo4j MATCH (n) RETURN n
      """
    Then the result should be empty
    And no side effects

  Scenario: A variable named use is not a USE clause
    When executing query:
      """
      WITH 1 AS use RETURN use
      """
    Then the result should be, in any order:
      | use |
      | 1   |
    And no side effects

  Scenario: USE of an unknown graph
    When executing query:
      """
      USE nosuchgraph MATCH (n) RETURN n
      """
    Then the error code should be Neo.ClientError.Database.DatabaseNotFound

  Scenario: USE of two graphs in one query is refused by name
    When executing query:
      """
      USE neo4j RETURN 1 AS x
      UNION
      USE other RETURN 2 AS x
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: USE of another graph in a CALL subquery is refused by name
    When executing query:
      """
      USE neo4j CALL { USE other RETURN 1 AS x } RETURN x
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: USE after the first clause is refused by name
    When executing query:
      """
      MATCH (n) USE neo4j RETURN n
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: USE inside an EXISTS subquery is refused by name
    When executing query:
      """
      MATCH (n) WHERE EXISTS { USE neo4j MATCH (m) RETURN m } RETURN n
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: USE of the system database with a query is refused by name
    When executing query:
      """
      USE system MATCH (n) RETURN n
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported
