Feature: RelationshipIndexesAndKeyConstraints
  # Neo4j 5 relationship range indexes (Cypher Manual, "Create, show, and delete indexes":
  # `CREATE INDEX ... FOR ()-[r:TYPE]-() ON (r.p)`) and key constraints ("Constraints":
  # `IS [NODE] KEY`, `IS REL[ATIONSHIP] KEY`: unique, and every key property exists).

  Background:
    Given an empty graph

  Scenario: A relationship index is listed with entityType RELATIONSHIP
    Given having executed:
      """
      CREATE INDEX rel_range_index_name FOR ()-[r:KNOWS]-() ON (r.since)
      """
    When executing query:
      """
      SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint, createStatement
      """
    Then the result should be, in any order:
      | name                   | type    | entityType     | labelsOrTypes | properties | owningConstraint | createStatement                                                                  |
      | 'rel_range_index_name' | 'RANGE' | 'RELATIONSHIP' | ['KNOWS']     | ['since']  | null             | 'CREATE RANGE INDEX `rel_range_index_name` FOR ()-[r:`KNOWS`]-() ON (r.`since`)' |
    And no side effects

  Scenario: CREATE RANGE INDEX on relationships, composite, IF NOT EXISTS
    Given having executed:
      """
      CREATE RANGE INDEX composite_range_rel_index_name FOR ()-[r:PURCHASED]-() ON (r.date, r.amount)
      """
    And having executed:
      """
      CREATE RANGE INDEX composite_range_rel_index_name IF NOT EXISTS FOR ()-[r:PURCHASED]-() ON (r.date, r.amount)
      """
    When executing query:
      """
      SHOW INDEXES YIELD name, properties
      """
    Then the result should be, in any order:
      | name                             | properties         |
      | 'composite_range_rel_index_name' | ['date', 'amount'] |
    And no side effects

  Scenario: A relationship index finds relationships by property, kept up to date
    Given having executed:
      """
      CREATE (a:P {n: 1})-[:KNOWS {since: 2020}]->(b:P {n: 2}), (b)-[:KNOWS {since: 2021}]->(a), (a)-[:LIKES {since: 2020}]->(b)
      """
    And having executed:
      """
      CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)
      """
    And having executed:
      """
      MATCH ()-[r:KNOWS {since: 2021}]->() SET r.since = 2022
      """
    And having executed:
      """
      MATCH (a:P {n: 1}), (b:P {n: 2}) CREATE (a)-[:KNOWS {since: 2022}]->(b)
      """
    When executing query:
      """
      MATCH (x)-[r:KNOWS {since: 2022}]->(y) RETURN x.n AS x, y.n AS y ORDER BY x
      """
    Then the result should be, in order:
      | x | y |
      | 1 | 2 |
      | 2 | 1 |
    And no side effects

  Scenario: A removed property and a deleted relationship leave the index
    Given having executed:
      """
      CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)
      """
    And having executed:
      """
      CREATE (a:P {n: 1})-[:KNOWS {since: 2020}]->(b:P {n: 2}), (b)-[:KNOWS {since: 2020}]->(a)
      """
    And having executed:
      """
      MATCH (:P {n: 1})-[r:KNOWS]->() REMOVE r.since
      """
    And having executed:
      """
      MATCH (:P {n: 2})-[r:KNOWS]->() DELETE r
      """
    When executing query:
      """
      MATCH ()-[r:KNOWS]->() WHERE r.since = 2020 RETURN count(r) AS n
      """
    Then the result should be, in any order:
      | n |
      | 0 |
    And no side effects

  Scenario: DROP INDEX removes a relationship index
    Given having executed:
      """
      CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)
      """
    And having executed:
      """
      DROP INDEX knows_since
      """
    When executing query:
      """
      SHOW INDEXES
      """
    Then the result should be empty
    And no side effects

  Scenario: A node key constraint refuses a node without a key property
    Given having executed:
      """
      CREATE CONSTRAINT actor_fullname FOR (actor:Actor) REQUIRE (actor.firstname, actor.surname) IS NODE KEY
      """
    When executing query:
      """
      CREATE (:Actor {firstname: 'Keanu'})
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A node key constraint refuses a second node with the same key
    Given having executed:
      """
      CREATE CONSTRAINT actor_fullname FOR (actor:Actor) REQUIRE (actor.firstname, actor.surname) IS NODE KEY
      """
    And having executed:
      """
      CREATE (:Actor {firstname: 'Keanu', surname: 'Reeves'})
      """
    When executing query:
      """
      CREATE (:Actor {firstname: 'Keanu', surname: 'Reeves'})
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A node key constraint allows distinct keys
    Given having executed:
      """
      CREATE CONSTRAINT actor_fullname FOR (actor:Actor) REQUIRE (actor.firstname, actor.surname) IS NODE KEY
      """
    And having executed:
      """
      CREATE (:Actor {firstname: 'Keanu', surname: 'Reeves'})
      """
    When executing query:
      """
      CREATE (a:Actor {firstname: 'Keanu', surname: 'Kinski'}) RETURN a.surname AS s
      """
    Then the result should be, in any order:
      | s        |
      | 'Kinski' |
    And the side effects should be:
      | +nodes      | 1 |
      | +properties | 2 |

  Scenario: Removing a key property is refused
    Given having executed:
      """
      CREATE CONSTRAINT director_imdbId FOR (director:Director) REQUIRE (director.imdbId) IS KEY
      """
    And having executed:
      """
      CREATE (:Director {imdbId: 'nm0000759'})
      """
    When executing query:
      """
      MATCH (d:Director) REMOVE d.imdbId
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A key constraint is refused over nodes missing the property
    Given having executed:
      """
      CREATE (:Director {name: 'Wachowski'})
      """
    When executing query:
      """
      CREATE CONSTRAINT director_imdbId FOR (director:Director) REQUIRE (director.imdbId) IS KEY
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A key constraint is refused over duplicate keys
    Given having executed:
      """
      CREATE (:Director {imdbId: 'x'}), (:Director {imdbId: 'x'})
      """
    When executing query:
      """
      CREATE CONSTRAINT director_imdbId FOR (director:Director) REQUIRE director.imdbId IS NODE KEY
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: The Neo4j 4 form ASSERT ... IS NODE KEY
    Given having executed:
      """
      CREATE CONSTRAINT old_key ON (p:Person) ASSERT (p.id) IS NODE KEY
      """
    When executing query:
      """
      SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties, ownedIndex
      """
    Then the result should be, in any order:
      | name      | type       | labelsOrTypes | properties | ownedIndex |
      | 'old_key' | 'NODE_KEY' | ['Person']    | ['id']     | 'old_key'  |
    And no side effects

  Scenario: A relationship key constraint refuses a relationship without the key
    Given having executed:
      """
      CREATE CONSTRAINT ownershipId FOR ()-[owns:OWNS]-() REQUIRE owns.ownershipId IS REL KEY
      """
    When executing query:
      """
      CREATE (:Person)-[:OWNS]->(:Car)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A relationship key constraint refuses a duplicate key
    Given having executed:
      """
      CREATE CONSTRAINT knows_since_how FOR ()-[r:KNOWS]-() REQUIRE (r.since, r.how) IS RELATIONSHIP KEY
      """
    And having executed:
      """
      CREATE (:P)-[:KNOWS {since: 2020, how: 'work'}]->(:P)
      """
    When executing query:
      """
      CREATE (:P)-[:KNOWS {since: 2020, how: 'work'}]->(:P)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A relationship key constraint is listed with type RELATIONSHIP_KEY
    Given having executed:
      """
      CREATE CONSTRAINT knows_since_how FOR ()-[r:KNOWS]-() REQUIRE (r.since, r.how) IS RELATIONSHIP KEY
      """
    When executing query:
      """
      SHOW CONSTRAINTS YIELD name, type, entityType, createStatement
      """
    Then the result should be, in any order:
      | name              | type               | entityType     | createStatement                                                                                       |
      | 'knows_since_how' | 'RELATIONSHIP_KEY' | 'RELATIONSHIP' | 'CREATE CONSTRAINT `knows_since_how` FOR ()-[r:`KNOWS`]-() REQUIRE (r.`since`, r.`how`) IS RELATIONSHIP KEY' |
    And no side effects

  Scenario: IS NODE KEY on a relationship pattern is a syntax error
    When executing query:
      """
      CREATE CONSTRAINT bad FOR ()-[r:KNOWS]-() REQUIRE r.since IS NODE KEY
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: WHERE r.p = value finds the same relationships with and without the index
    Given having executed:
      """
      CREATE (a:P {n: 1})-[:KNOWS {since: 2020}]->(b:P {n: 2}), (b)-[:KNOWS {since: 2021}]->(a), (a)-[:KNOWS]->(b)
      """
    And having executed:
      """
      CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)
      """
    When executing query:
      """
      MATCH (x)-[r:KNOWS]-(y) WHERE r.since = 2020 AND x.n = 1 RETURN x.n AS x, y.n AS y
      UNION ALL
      MATCH (x)-[r:KNOWS]->(y) WHERE 2021 = r.since RETURN x.n AS x, y.n AS y
      UNION ALL
      MATCH (x)-[r:KNOWS]->(y) WHERE r.since = null RETURN x.n AS x, y.n AS y
      UNION ALL
      MATCH (x)-[r:KNOWS]->(y) WHERE r.since = y.n RETURN x.n AS x, y.n AS y
      """
    Then the result should be, in any order:
      | x | y |
      | 1 | 2 |
      | 2 | 1 |
    And no side effects
