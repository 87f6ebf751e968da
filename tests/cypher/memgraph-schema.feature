Feature: MemgraphSchema
  # Memgraph's schema syntax (Memgraph docs: indexes, constraints, SHOW ... INFO).

  Scenario: Create, show and drop a label-property index
    Given an empty graph
    And having executed:
      """
      CREATE INDEX ON :Person(name)
      """
    When executing query:
      """
      SHOW INDEX INFO
      """
    Then the result should be, in any order:
      | index type       | label    | property | count |
      | 'label+property' | 'Person' | 'name'   | null  |

  Scenario: Drop an index by what it covers
    Given an empty graph
    And having executed:
      """
      CREATE INDEX ON :Person(name)
      """
    And having executed:
      """
      DROP INDEX ON :Person(name)
      """
    When executing query:
      """
      SHOW INDEX INFO
      """
    Then the result should be empty

  Scenario: Dropping an index that does not exist is an error
    Given an empty graph
    When executing query:
      """
      DROP INDEX ON :Person(name)
      """
    Then the error code should be Neo.ClientError.Statement.SemanticError

  Scenario: A label index is accepted (label scans are always indexed)
    Given an empty graph
    And having executed:
      """
      CREATE INDEX ON :Person
      """
    When executing query:
      """
      DROP INDEX ON :Person
      """
    Then the result should be empty

  Scenario: A uniqueness constraint and an index on the same property
    Given an empty graph
    And having executed:
      """
      CREATE INDEX ON :User(email)
      """
    And having executed:
      """
      CREATE CONSTRAINT ON (u:User) ASSERT u.email IS UNIQUE
      """
    When executing query:
      """
      SHOW CONSTRAINT INFO
      """
    Then the result should be, in any order:
      | constraint type | label  | properties |
      | 'unique'        | 'User' | ['email']  |

  Scenario: The index is listed next to the uniqueness constraint
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (u:User) ASSERT u.email IS UNIQUE
      """
    And having executed:
      """
      CREATE INDEX ON :User(email)
      """
    When executing query:
      """
      SHOW INDEX INFO
      """
    Then the result should be, in any order:
      | index type       | label  | property | count |
      | 'label+property' | 'User' | 'email'  | null  |

  Scenario: The uniqueness constraint still holds when an index covers the property
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (u:User) ASSERT u.email IS UNIQUE
      """
    And having executed:
      """
      CREATE INDEX ON :User(email)
      """
    And having executed:
      """
      CREATE (:User {email: 'a@x'})
      """
    When executing query:
      """
      CREATE (:User {email: 'a@x'})
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Drop a uniqueness constraint by what it covers
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (n:Book) ASSERT n.isbn, n.title IS UNIQUE
      """
    And having executed:
      """
      DROP CONSTRAINT ON (n:Book) ASSERT n.isbn, n.title IS UNIQUE
      """
    When executing query:
      """
      SHOW CONSTRAINT INFO
      """
    Then the result should be empty

  Scenario: An existence constraint is listed by SHOW CONSTRAINT INFO
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    When executing query:
      """
      SHOW CONSTRAINT INFO
      """
    Then the result should be, in any order:
      | constraint type | label    | properties |
      | 'exists'        | 'Person' | 'name'     |

  Scenario: An existence constraint refuses a node without the property
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    When executing query:
      """
      CREATE (:Person {age: 3})
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: An existence constraint refuses removing the property
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    And having executed:
      """
      CREATE (:Person {name: 'A'})
      """
    When executing query:
      """
      MATCH (n:Person) REMOVE n.name
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: An existence constraint is refused over data that violates it
    Given an empty graph
    And having executed:
      """
      CREATE (:Person {age: 3})
      """
    When executing query:
      """
      CREATE CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Drop an existence constraint by what it covers
    Given an empty graph
    And having executed:
      """
      CREATE CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    And having executed:
      """
      DROP CONSTRAINT ON (n:Person) ASSERT EXISTS (n.name)
      """
    And having executed:
      """
      CREATE (:Person {age: 3})
      """
    When executing query:
      """
      SHOW CONSTRAINT INFO
      """
    Then the result should be empty

  Scenario: SHOW STORAGE INFO counts vertices and edges
    Given an empty graph
    And having executed:
      """
      CREATE (:A)-[:R]->(:B), (:C)
      """
    When executing query:
      """
      SHOW STORAGE INFO
      """
    Then the result should be, in any order:
      | storage info     | value                   |
      | 'name'           | 'neo4j'                 |
      | 'vertex_count'   | 3                       |
      | 'edge_count'     | 1                       |
      | 'average_degree' | 0.6666666666666666      |
      | 'storage_mode'   | 'ON_DISK_TRANSACTIONAL' |

  Scenario: EXPLAIN of a schema command is refused and runs nothing
    Given an empty graph
    When executing query:
      """
      EXPLAIN CREATE INDEX ON :Person(name)
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError
