Feature: ManualClauses
  # Clause examples in the style of the Neo4j Cypher Manual (its small Person/Movie graphs).

  Background:
    Given an empty graph
    And having executed:
      """
      CREATE (charlie:Person {name: 'Charlie Sheen', bornIn: 'New York', chauffeurName: 'John Brown'}),
             (martin:Person {name: 'Martin Sheen', bornIn: 'Ohio', chauffeurName: 'Bob Brown'}),
             (michael:Person {name: 'Michael Douglas', bornIn: 'New Jersey', chauffeurName: 'John Brown'}),
             (oliver:Person {name: 'Oliver Stone', bornIn: 'New York', chauffeurName: 'Bill White'}),
             (rob:Person {name: 'Rob Reiner', bornIn: 'New York', chauffeurName: 'Ted Green'}),
             (wallStreet:Movie {title: 'Wall Street'}),
             (president:Movie {title: 'The American President'}),
             (charlie)-[:ACTED_IN {role: 'Bud Fox'}]->(wallStreet),
             (martin)-[:ACTED_IN {role: 'Carl Fox'}]->(wallStreet),
             (michael)-[:ACTED_IN {role: 'Gordon Gekko'}]->(wallStreet),
             (martin)-[:ACTED_IN {role: 'A.J. MacInerney'}]->(president),
             (michael)-[:ACTED_IN {role: 'President Andrew Shepherd'}]->(president),
             (oliver)-[:DIRECTED]->(wallStreet),
             (rob)-[:DIRECTED]->(president),
             (charlie)-[:FATHER]->(martin)
      """

  Scenario: Match on a relationship type and return a property
    When executing query:
      """
      MATCH (:Movie {title: 'Wall Street'})<-[:ACTED_IN]-(actor:Person)
      RETURN actor.name AS actor ORDER BY actor
      """
    Then the result should be, in order:
      | actor             |
      | 'Charlie Sheen'   |
      | 'Martin Sheen'    |
      | 'Michael Douglas' |
    And no side effects

  Scenario: Match on several relationship types
    When executing query:
      """
      MATCH (:Movie {title: 'Wall Street'})<-[:ACTED_IN|DIRECTED]-(person:Person)
      RETURN person.name AS person
      """
    Then the result should be, in any order:
      | person            |
      | 'Charlie Sheen'   |
      | 'Martin Sheen'    |
      | 'Michael Douglas' |
      | 'Oliver Stone'    |
    And no side effects

  Scenario: Relationship property and type
    When executing query:
      """
      MATCH (wallstreet {title: 'Wall Street'})<-[r:ACTED_IN]-(actor)
      WHERE actor.name = 'Michael Douglas'
      RETURN r.role AS role, type(r) AS type
      """
    Then the result should be, in any order:
      | role           | type       |
      | 'Gordon Gekko' | 'ACTED_IN' |
    And no side effects

  Scenario: OPTIONAL MATCH yields null for a missing relationship
    When executing query:
      """
      MATCH (a:Person {name: 'Martin Sheen'})
      OPTIONAL MATCH (a)-[r:DIRECTED]->()
      RETURN a.name AS name, r
      """
    Then the result should be, in any order:
      | name           | r    |
      | 'Martin Sheen' | null |
    And no side effects

  Scenario: Aggregation grouped by a key
    When executing query:
      """
      MATCH (p:Person)-[:ACTED_IN]->(m:Movie)
      RETURN m.title AS movie, count(p) AS actors ORDER BY movie
      """
    Then the result should be, in order:
      | movie                    | actors |
      | 'The American President' | 2      |
      | 'Wall Street'            | 3      |
    And no side effects

  Scenario: NOT exists on a pattern filters people who directed nothing
    When executing query:
      """
      MATCH (p:Person)
      WHERE NOT exists((p)-[:DIRECTED]->())
      RETURN p.name AS name ORDER BY name
      """
    Then the result should be, in order:
      | name              |
      | 'Charlie Sheen'   |
      | 'Martin Sheen'    |
      | 'Michael Douglas' |
    And no side effects

  Scenario: Pattern predicate with a label and NOT
    When executing query:
      """
      MATCH (p:Person)
      WHERE (p)-[:ACTED_IN]->(:Movie {title: 'The American President'})
        AND NOT (p)-[:FATHER]->()
      RETURN p.name AS name ORDER BY name
      """
    Then the result should be, in order:
      | name              |
      | 'Martin Sheen'    |
      | 'Michael Douglas' |
    And no side effects

  Scenario: WITH, ORDER BY and LIMIT then collect
    When executing query:
      """
      MATCH (n:Person)
      WITH n ORDER BY n.name DESC LIMIT 3
      RETURN collect(n.name) AS names
      """
    Then the result should be, in any order:
      | names                                              |
      | ['Rob Reiner', 'Oliver Stone', 'Michael Douglas'] |
    And no side effects

  Scenario: UNION removes duplicates, UNION ALL keeps them
    When executing query:
      """
      MATCH (n:Person) WHERE n.bornIn = 'New York' RETURN n.bornIn AS place
      UNION
      MATCH (n:Person) WHERE n.bornIn = 'Ohio' RETURN n.bornIn AS place
      """
    Then the result should be, in any order:
      | place      |
      | 'New York' |
      | 'Ohio'     |
    And no side effects

  Scenario: CALL subquery with aggregation per outer row
    When executing query:
      """
      MATCH (m:Movie)
      CALL (m) {
        MATCH (m)<-[:ACTED_IN]-(a:Person)
        RETURN count(a) AS cast
      }
      RETURN m.title AS title, cast ORDER BY title
      """
    Then the result should be, in order:
      | title                    | cast |
      | 'The American President' | 2    |
      | 'Wall Street'            | 3    |
    And no side effects

  Scenario: MERGE on an existing node with ON MATCH SET
    When executing query:
      """
      MERGE (p:Person {name: 'Oliver Stone'})
      ON CREATE SET p.created = true
      ON MATCH SET p.found = true
      RETURN p.name AS name, p.found AS found, p.created AS created
      """
    Then the result should be, in any order:
      | name           | found | created |
      | 'Oliver Stone' | true  | null    |
    And the side effects should be:
      | +properties | 1 |

  Scenario: Variable-length path with bounds
    When executing query:
      """
      MATCH (c:Person {name: 'Charlie Sheen'})-[:ACTED_IN|FATHER*1..2]-(x)
      RETURN DISTINCT x.name AS name, x.title AS title ORDER BY name, title
      """
    Then the result should be, in order:
      | name              | title                    |
      | 'Martin Sheen'    | null                     |
      | 'Michael Douglas' | null                     |
      | null              | 'The American President' |
      | null              | 'Wall Street'            |
    And no side effects

  Scenario: COUNT subquery as a predicate
    When executing query:
      """
      MATCH (p:Person)
      WHERE COUNT { (p)-[:ACTED_IN]->(:Movie) } = 2
      RETURN p.name AS name ORDER BY name
      """
    Then the result should be, in order:
      | name              |
      | 'Martin Sheen'    |
      | 'Michael Douglas' |
    And no side effects

  Scenario: Quantified path pattern over a relationship type
    When executing query:
      """
      MATCH (c:Person {name: 'Charlie Sheen'})-[:FATHER]->{1,3}(f)
      RETURN f.name AS father
      """
    Then the result should be, in any order:
      | father         |
      | 'Martin Sheen' |
    And no side effects
