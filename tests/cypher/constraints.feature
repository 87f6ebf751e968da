Feature: ExistenceConstraints
  # Neo4j 5 property existence constraints (Cypher Manual, "Constraints"): checked at commit,
  # refused over violating data, listed by SHOW CONSTRAINTS, dropped by name.

  Background:
    Given an empty graph

  Scenario: A node without the property is refused
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      CREATE (:Author {surname: 'Austen'})
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: A node with the property is created
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      CREATE (a:Author {name: 'Jane'}) RETURN a.name AS name
      """
    Then the result should be, in any order:
      | name   |
      | 'Jane' |
    And the side effects should be:
      | +nodes      | 1 |
      | +labels     | 1 |
      | +properties | 1 |

  Scenario: The check is at the end of the transaction: MERGE then SET
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      MERGE (a:Author {id: 1}) ON CREATE SET a.name = 'Jane' RETURN a.name AS name
      """
    Then the result should be, in any order:
      | name   |
      | 'Jane' |
    And the side effects should be:
      | +nodes      | 1 |
      | +labels     | 1 |
      | +properties | 2 |

  Scenario: Setting the property to null is refused
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author {name: 'Jane'})
      """
    When executing query:
      """
      MATCH (a:Author) SET a.name = null
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Replacing the properties without it is refused
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author {name: 'Jane'})
      """
    When executing query:
      """
      MATCH (a:Author) SET a = {surname: 'Austen'}
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Adding the label to a node without the property is refused
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Person {surname: 'Austen'})
      """
    When executing query:
      """
      MATCH (p:Person) SET p:Author
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: Removing the label lifts the requirement
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author:Person {name: 'Jane'})
      """
    When executing query:
      """
      MATCH (a:Author) REMOVE a:Author REMOVE a.name
      """
    Then the result should be empty
    And the side effects should be:
      | -labels     | 1 |
      | -properties | 1 |

  Scenario: Deleting a node is not affected
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author {name: 'Jane'})
      """
    When executing query:
      """
      MATCH (a:Author) DELETE a
      """
    Then the result should be empty
    And the side effects should be:
      | -nodes      | 1 |
      | -labels     | 1 |
      | -properties | 1 |

  Scenario: The constraint is refused over data that violates it
    Given having executed:
      """
      CREATE (:Author {surname: 'Austen'})
      """
    When executing query:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: SHOW CONSTRAINTS lists it
    Given having executed:
      """
      CREATE CONSTRAINT author_name IF NOT EXISTS FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    When executing query:
      """
      SHOW CONSTRAINTS
      """
    Then the result should be, in any order:
      | id | name          | type                      | entityType | labelsOrTypes | properties | ownedIndex | propertyType |
      | 1  | 'author_name' | 'NODE_PROPERTY_EXISTENCE' | 'NODE'     | ['Author']    | ['name']   | null       | null         |
    And no side effects

  Scenario: DROP CONSTRAINT removes it
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      DROP CONSTRAINT author_name
      """
    When executing query:
      """
      CREATE (:Author {surname: 'Austen'})
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 1 |
      | +labels     | 1 |
      | +properties | 1 |

  Scenario: The older ASSERT syntax
    Given having executed:
      """
      CREATE CONSTRAINT ON (a:Author) ASSERT a.name IS NOT NULL
      """
    When executing query:
      """
      CREATE (:Author)
      """
    Then the error code should be Neo.ClientError.Schema.ConstraintValidationFailed

  Scenario: IS NOT NULL on two properties is a syntax error
    When executing query:
      """
      CREATE CONSTRAINT FOR (a:Author) REQUIRE (a.name, a.surname) IS NOT NULL
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: A NODE KEY constraint without a name gets one
    Given having executed:
      """
      CREATE CONSTRAINT FOR (a:Author) REQUIRE (a.name, a.surname) IS NODE KEY
      """
    When executing query:
      """
      SHOW CONSTRAINTS YIELD name, type
      """
    Then the result should be, in any order:
      | name                                 | type       |
      | 'constraint_key_author_name_surname' | 'NODE_KEY' |
    And no side effects

  Scenario: Property type constraints are refused by name
    When executing query:
      """
      CREATE CONSTRAINT FOR (a:Author) REQUIRE a.name IS :: STRING
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: tx.getMetaData without metadata is an empty map
    When executing query:
      """
      CALL tx.getMetaData() YIELD metadata RETURN metadata
      """
    Then the result should be, in any order:
      | metadata |
      | {}       |
    And no side effects

  Scenario: Text indexes are refused by name
    When executing query:
      """
      CREATE TEXT INDEX FOR (a:Author) ON (a.name)
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: An existence constraint does not hide nodes from a property lookup
    Given having executed:
      """
      CREATE CONSTRAINT author_name FOR (a:Author) REQUIRE a.name IS NOT NULL
      """
    And having executed:
      """
      CREATE (:Author {name: 'Jane'})
      """
    When executing query:
      """
      MATCH (a:Author {name: 'Jane'}) RETURN a.name AS name
      """
    Then the result should be, in any order:
      | name   |
      | 'Jane' |
    And no side effects
