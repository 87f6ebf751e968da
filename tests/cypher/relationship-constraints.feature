Feature: RelationshipConstraints
  # Neo4j 5 relationship property existence constraints and relationship property uniqueness
  # constraints (Cypher Manual, "Constraints"; uniqueness since 5.7): existence checked at
  # commit, uniqueness at the write; both refused over violating data, listed by
  # SHOW CONSTRAINTS with entityType RELATIONSHIP, dropped by name.

  Background:
    Given an empty graph

  Scenario: A relationship without the property is refused
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      CREATE (:Author)-[:WROTE]->(:Book)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A relationship with the property is created
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      CREATE (:Author)-[w:WROTE {year: 1813}]->(:Book) RETURN w.year AS year
      """
    Then the result should be, in any order:
      | year |
      | 1813 |
    And the side effects should be:
      | +nodes         | 2 |
      | +relationships | 1 |
      | +labels        | 2 |
      | +properties    | 1 |

  Scenario: Other relationship types are not concerned
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      CREATE (:Author)-[:READ]->(:Book)
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes         | 2 |
      | +relationships | 1 |
      | +labels        | 2 |

  Scenario: The check is at the end of the transaction: MERGE then SET
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author {name: 'Jane'}), (:Book {title: 'Emma'})
      """
    When executing query:
      """
      MATCH (a:Author), (b:Book)
      MERGE (a)-[w:WROTE]->(b) ON CREATE SET w.year = 1815
      RETURN w.year AS year
      """
    Then the result should be, in any order:
      | year |
      | 1815 |
    And the side effects should be:
      | +relationships | 1 |
      | +properties    | 1 |

  Scenario: Removing the property is refused
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author)-[:WROTE {year: 1813}]->(:Book)
      """
    When executing query:
      """
      MATCH ()-[w:WROTE]->() REMOVE w.year
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Replacing the properties without it is refused
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author)-[:WROTE {year: 1813}]->(:Book)
      """
    When executing query:
      """
      MATCH ()-[w:WROTE]->() SET w = {month: 1}
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Deleting the relationship is not affected
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author)-[:WROTE {year: 1813}]->(:Book)
      """
    When executing query:
      """
      MATCH ()-[w:WROTE]->() DELETE w
      """
    Then the result should be empty
    And the side effects should be:
      | -relationships | 1 |
      | -properties    | 1 |

  Scenario: The existence constraint is refused over data that violates it
    Given having executed:
      """
      CREATE (:Author)-[:WROTE]->(:Book)
      """
    When executing query:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Either direction of the pattern, and the older ASSERT exists syntax
    Given having executed:
      """
      CREATE CONSTRAINT a FOR ()-[r:A]->() REQUIRE r.p IS NOT NULL
      """
    And having executed:
      """
      CREATE CONSTRAINT b IF NOT EXISTS FOR ()<-[r:B]-() REQUIRE (r.p) IS NOT NULL
      """
    And having executed:
      """
      CREATE CONSTRAINT ON ()-[r:C]-() ASSERT exists(r.p)
      """
    When executing query:
      """
      SHOW CONSTRAINTS
      """
    Then the result should be, in any order:
      | id | name                        | type                              | entityType     | labelsOrTypes | properties | ownedIndex | propertyType |
      | 1  | 'a'                         | 'RELATIONSHIP_PROPERTY_EXISTENCE' | 'RELATIONSHIP' | ['A']         | ['p']      | null       | null         |
      | 2  | 'b'                         | 'RELATIONSHIP_PROPERTY_EXISTENCE' | 'RELATIONSHIP' | ['B']         | ['p']      | null       | null         |
      | 3  | 'constraint_rel_exists_c_p' | 'RELATIONSHIP_PROPERTY_EXISTENCE' | 'RELATIONSHIP' | ['C']         | ['p']      | null       | null         |
    And no side effects

  Scenario: IF NOT EXISTS over an equivalent relationship constraint does nothing
    Given having executed:
      """
      CREATE CONSTRAINT wrote_year FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      CREATE CONSTRAINT other IF NOT EXISTS FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    Then the result should be empty
    And no side effects

  Scenario: A duplicate relationship property value is refused
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS UNIQUE
      """
    And having executed:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1}]->(:Book)
      """
    When executing query:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1}]->(:Book)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Relationships without the property, or of another type, are not concerned
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS RELATIONSHIP UNIQUE
      """
    When executing query:
      """
      CREATE (a:Book)-[:SEQUEL_OF {order: 1}]->(b:Book),
             (b)-[:SEQUEL_OF]->(a), (b)-[:SEQUEL_OF]->(a),
             (a)-[:PREQUEL_OF {order: 1}]->(b)
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes         | 2 |
      | +relationships | 4 |
      | +labels        | 1 |
      | +properties    | 2 |

  Scenario: Setting a taken value is refused
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS REL UNIQUE
      """
    And having executed:
      """
      CREATE (a:Book)-[:SEQUEL_OF {order: 1}]->(b:Book), (b)-[:SEQUEL_OF {order: 2}]->(a)
      """
    When executing query:
      """
      MATCH ()-[s:SEQUEL_OF {order: 2}]->() SET s.order = 1
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A composite relationship uniqueness constraint
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE (s.order, s.seriesTitle) IS UNIQUE
      """
    And having executed:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1, seriesTitle: 'A'}]->(:Book)
      """
    When executing query:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1, seriesTitle: 'B'}]->(:Book)
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes         | 2 |
      | +relationships | 1 |
      | +properties    | 2 |

  Scenario: The uniqueness constraint is refused over duplicates
    Given having executed:
      """
      CREATE (a:Book)-[:SEQUEL_OF {order: 1}]->(b:Book), (b)-[:SEQUEL_OF {order: 1}]->(a)
      """
    When executing query:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS UNIQUE
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: SHOW CONSTRAINTS lists the uniqueness constraint
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS UNIQUE
      """
    When executing query:
      """
      SHOW CONSTRAINTS
      """
    Then the result should be, in any order:
      | id | name      | type                      | entityType     | labelsOrTypes | properties | ownedIndex | propertyType |
      | 1  | 'sequels' | 'RELATIONSHIP_UNIQUENESS' | 'RELATIONSHIP' | ['SEQUEL_OF'] | ['order']  | 'sequels'  | null         |
    And no side effects

  Scenario: SHOW INDEXES lists the index backing the uniqueness constraint
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS UNIQUE
      """
    When executing query:
      """
      SHOW INDEXES
      """
    Then the result should be, in any order:
      | id | name      | state    | populationPercent | type    | entityType     | labelsOrTypes | properties | indexProvider | owningConstraint | lastRead | readCount |
      | 1  | 'sequels' | 'ONLINE' | 100.0             | 'RANGE' | 'RELATIONSHIP' | ['SEQUEL_OF'] | ['order']  | 'range-1.0'   | 'sequels'        | null     | null      |
    And no side effects

  Scenario: DROP CONSTRAINT removes a relationship constraint
    Given having executed:
      """
      CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS UNIQUE
      """
    And having executed:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1}]->(:Book)
      """
    And having executed:
      """
      DROP CONSTRAINT sequels
      """
    When executing query:
      """
      CREATE (:Book)-[:SEQUEL_OF {order: 1}]->(:Book)
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes         | 2 |
      | +relationships | 1 |
      | +properties    | 1 |

  Scenario: IS NODE UNIQUE on a relationship pattern is a syntax error
    When executing query:
      """
      CREATE CONSTRAINT FOR ()-[s:SEQUEL_OF]-() REQUIRE s.order IS NODE UNIQUE
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: Point indexes on relationships are refused by name
    When executing query:
      """
      CREATE POINT INDEX FOR ()-[s:SEQUEL_OF]-() ON (s.at)
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: SHOW CONSTRAINT INFO lists relationship constraints with their type
    Given having executed:
      """
      CREATE CONSTRAINT FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL
      """
    When executing query:
      """
      SHOW CONSTRAINT INFO
      """
    Then the result should be, in any order:
      | constraint type | label   | properties |
      | 'exists'        | 'WROTE' | 'year'     |
    And no side effects
