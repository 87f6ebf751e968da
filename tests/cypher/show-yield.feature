Feature: ShowYield
  # Neo4j 5 SHOW commands with YIELD, WHERE and RETURN (Cypher Manual, "SHOW INDEXES",
  # "SHOW CONSTRAINTS", "SHOW FUNCTIONS", "SHOW PROCEDURES", "SHOW DATABASES"): the command's
  # rows with every column, filtered and projected by the tail; the filtered SHOW kinds.

  Background:
    Given an empty graph

  Scenario: SHOW INDEXES YIELD, WHERE and RETURN
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    And having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    When executing query:
      """
      SHOW INDEXES YIELD name, type WHERE type = 'RANGE' RETURN name ORDER BY name
      """
    Then the result should be, in order:
      | name          |
      | 'book_isbn'   |
      | 'person_name' |
    And no side effects

  Scenario: SHOW INDEXES lists Neo4j's default columns
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    When executing query:
      """
      SHOW INDEXES
      """
    Then the result should be, in any order:
      | id | name          | state    | populationPercent | type    | entityType | labelsOrTypes | properties | indexProvider | owningConstraint | lastRead | readCount |
      | 1  | 'person_name' | 'ONLINE' | 100.0             | 'RANGE' | 'NODE'     | ['Person']    | ['name']   | 'range-1.0'   | null             | null     | null      |
    And no side effects

  Scenario: SHOW INDEXES YIELD * lists every column
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    When executing query:
      """
      SHOW INDEXES YIELD *
      """
    Then the result should be, in any order:
      | id | name          | state    | populationPercent | type    | entityType | labelsOrTypes | properties | indexProvider | owningConstraint | lastRead | readCount | trackedSince | options                                        | failureMessage | createStatement                                                     |
      | 1  | 'person_name' | 'ONLINE' | 100.0             | 'RANGE' | 'NODE'     | ['Person']    | ['name']   | 'range-1.0'   | null             | null     | null      | null         | {indexProvider: 'range-1.0', indexConfig: {}} | ''             | 'CREATE RANGE INDEX `person_name` FOR (n:`Person`) ON (n.`name`)' |
    And no side effects

  Scenario: The manual's example: renamed columns and a map column read in RETURN
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    When executing query:
      """
      SHOW INDEXES YIELD name, type, indexProvider AS provider, options, createStatement
      RETURN name, type, provider, options.indexConfig AS config, createStatement
      """
    Then the result should be, in any order:
      | name          | type    | provider    | config | createStatement                                                     |
      | 'person_name' | 'RANGE' | 'range-1.0' | {}     | 'CREATE RANGE INDEX `person_name` FOR (n:`Person`) ON (n.`name`)' |
    And no side effects

  Scenario: SHOW RANGE INDEXES WHERE owningConstraint IS NULL leaves out the constraints' indexes
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    And having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    When executing query:
      """
      SHOW RANGE INDEXES WHERE owningConstraint IS NULL
      """
    Then the result should be, in any order:
      | id | name          | state    | populationPercent | type    | entityType | labelsOrTypes | properties | indexProvider | owningConstraint | lastRead | readCount |
      | 1  | 'person_name' | 'ONLINE' | 100.0             | 'RANGE' | 'NODE'     | ['Person']    | ['name']   | 'range-1.0'   | null             | null     | null      |
    And no side effects

  Scenario: An index kind graphward does not have lists nothing
    Given having executed:
      """
      CREATE INDEX person_name FOR (p:Person) ON (p.name)
      """
    When executing query:
      """
      SHOW TEXT INDEXES YIELD name
      """
    Then the result should be empty
    And no side effects

  Scenario: YIELD x AS y: WHERE and ORDER BY may name the column or its alias
    Given having executed:
      """
      CREATE INDEX b_idx FOR (p:Person) ON (p.b)
      """
    And having executed:
      """
      CREATE INDEX a_idx FOR (p:Person) ON (p.a)
      """
    When executing query:
      """
      SHOW INDEXES YIELD name AS index, type AS kind ORDER BY name DESC WHERE kind = 'RANGE' AND index <> 'x'
      """
    Then the result should be, in order:
      | index   | kind    |
      | 'b_idx' | 'RANGE' |
      | 'a_idx' | 'RANGE' |
    And no side effects

  Scenario: YIELD with ORDER BY, SKIP and LIMIT
    When executing query:
      """
      SHOW PROCEDURES YIELD name ORDER BY name DESC SKIP 1 LIMIT 2
      """
    Then the result should be, in order:
      | name              |
      | 'dbms.info'       |
      | 'dbms.components' |
    And no side effects

  Scenario: WHERE without YIELD filters the default columns
    When executing query:
      """
      SHOW PROCEDURES WHERE name STARTS WITH 'db.' AND name CONTAINS 'Keys'
      """
    Then the result should be, in any order:
      | name              | description                               | mode   | worksOnSystem |
      | 'db.propertyKeys' | 'List all property keys in the database.' | 'READ' | false         |
    And no side effects

  Scenario: WHERE without YIELD sees only the default columns
    When executing query:
      """
      SHOW PROCEDURES WHERE signature IS NOT NULL
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: WHERE after YIELD sees only the yielded columns
    When executing query:
      """
      SHOW FUNCTIONS YIELD name WHERE category = 'String'
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: An unknown YIELD column is a syntax error
    When executing query:
      """
      SHOW INDEXES YIELD name, flavour
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: SHOW FUNCTIONS YIELD * with aggregation in RETURN
    When executing query:
      """
      SHOW FUNCTIONS YIELD * WHERE name IN ['count', 'toUpper']
      RETURN name, isBuiltIn, aggregating ORDER BY name
      """
    Then the result should be, in order:
      | name      | isBuiltIn | aggregating |
      | 'count'   | true      | true        |
      | 'toUpper' | true      | false       |
    And no side effects

  Scenario: RETURN may aggregate over the yielded rows
    When executing query:
      """
      SHOW BUILT IN FUNCTIONS YIELD name, aggregating WHERE aggregating RETURN count(*) > 5 AS many
      """
    Then the result should be, in any order:
      | many |
      | true |
    And no side effects

  Scenario: SHOW USER DEFINED FUNCTIONS lists nothing: every function is built in
    When executing query:
      """
      SHOW USER DEFINED FUNCTIONS
      """
    Then the result should be empty
    And no side effects

  Scenario: SHOW DATABASES YIELD and WHERE
    When executing query:
      """
      SHOW DATABASES YIELD name, type, currentStatus WHERE name = 'system'
      """
    Then the result should be, in any order:
      | name     | type     | currentStatus |
      | 'system' | 'system' | 'online'      |
    And no side effects

  Scenario: SHOW DATABASE name lists that database only
    When executing query:
      """
      SHOW DATABASE system YIELD name
      """
    Then the result should be, in any order:
      | name     |
      | 'system' |
    And no side effects

  Scenario: SHOW CONSTRAINTS YIELD name, type, createStatement
    Given having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    And having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      SHOW CONSTRAINTS YIELD name, type, createStatement ORDER BY name
      """
    Then the result should be, in order:
      | name          | type                      | createStatement                                                                 |
      | 'author_name' | 'NODE_PROPERTY_EXISTENCE' | 'CREATE CONSTRAINT `author_name` FOR (n:`Author`) REQUIRE (n.`name`) IS NOT NULL' |
      | 'book_isbn'   | 'UNIQUENESS'              | 'CREATE CONSTRAINT `book_isbn` FOR (n:`Book`) REQUIRE (n.`isbn`) IS UNIQUE'       |
    And no side effects

  Scenario: SHOW UNIQUE CONSTRAINTS
    Given having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    And having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      SHOW UNIQUE CONSTRAINTS YIELD name
      """
    Then the result should be, in any order:
      | name        |
      | 'book_isbn' |
    And no side effects

  Scenario: SHOW NODE EXISTENCE CONSTRAINTS and SHOW RELATIONSHIP EXISTENCE CONSTRAINTS
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      SHOW RELATIONSHIP EXISTENCE CONSTRAINTS YIELD name, type
      """
    Then the result should be, in any order:
      | name         | type                              |
      | 'wrote_year' | 'RELATIONSHIP_PROPERTY_EXISTENCE' |
    And no side effects

  Scenario: SHOW NODE PROPERTY EXISTENCE CONSTRAINTS
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      SHOW NODE PROPERTY EXISTENCE CONSTRAINTS YIELD name
      """
    Then the result should be, in any order:
      | name          |
      | 'author_name' |
    And no side effects

  Scenario: SHOW KEY CONSTRAINTS
    Given having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    And having executed:
      """
      CREATE CONSTRAINT actor_key FOR (a:Actor) REQUIRE (a.first, a.last) IS NODE KEY
      """
    And having executed:
      """
      CREATE CONSTRAINT owns_id FOR ()-[o:OWNS]-() REQUIRE o.id IS REL KEY
      """
    When executing query:
      """
      SHOW KEY CONSTRAINTS YIELD name, type, entityType, properties ORDER BY name
      """
    Then the result should be, in order:
      | name        | type               | entityType     | properties        |
      | 'actor_key' | 'NODE_KEY'         | 'NODE'         | ['first', 'last'] |
      | 'owns_id'   | 'RELATIONSHIP_KEY' | 'RELATIONSHIP' | ['id']            |
    And no side effects

  Scenario: SHOW NODE KEY CONSTRAINTS
    Given having executed:
      """
      CREATE CONSTRAINT actor_key FOR (a:Actor) REQUIRE (a.first, a.last) IS NODE KEY
      """
    And having executed:
      """
      CREATE CONSTRAINT owns_id FOR ()-[o:OWNS]-() REQUIRE o.id IS REL KEY
      """
    When executing query:
      """
      SHOW NODE KEY CONSTRAINTS YIELD name
      """
    Then the result should be, in any order:
      | name        |
      | 'actor_key' |
    And no side effects

  Scenario: SHOW CONSTRAINTS lists Neo4j's default columns
    Given having executed:
      """
      CREATE CONSTRAINT book_isbn FOR (b:Book) REQUIRE b.isbn IS UNIQUE
      """
    When executing query:
      """
      SHOW CONSTRAINTS
      """
    Then the result should be, in any order:
      | id | name        | type         | entityType | labelsOrTypes | properties | ownedIndex  | propertyType |
      | 1  | 'book_isbn' | 'UNIQUENESS' | 'NODE'     | ['Book']      | ['isbn']   | 'book_isbn' | null         |
    And no side effects

  Scenario: TERMINATE TRANSACTIONS takes YIELD and WHERE too
    When executing query:
      """
      TERMINATE TRANSACTIONS 'neo4j-transaction-999999' YIELD transactionId AS id, message WHERE message <> ''
      """
    Then the result should be, in any order:
      | id                         | message                  |
      | 'neo4j-transaction-999999' | 'Transaction not found.' |
    And no side effects
