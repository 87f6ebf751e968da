Feature: WrongResults
  # Issue 16: queries that returned wrong rows before.

  Scenario: exists() on a pattern is the pattern's truth
    Given an empty graph
    And having executed:
      """
      CREATE (:P {name: 'a'})-[:R]->(:P {name: 'b'}), (:P {name: 'c'})
      """
    When executing query:
      """
      MATCH (p:P) WHERE exists((p)-[:R]->()) RETURN p.name AS name
      """
    Then the result should be, in any order:
      | name |
      | 'a'  |
    And no side effects

  Scenario: NOT exists() on a pattern
    Given an empty graph
    And having executed:
      """
      CREATE (:P {name: 'a'})-[:R]->(:P {name: 'b'}), (:P {name: 'c'})
      """
    When executing query:
      """
      MATCH (p:P) WHERE NOT exists((p)-[:R]->()) RETURN p.name AS name
      """
    Then the result should be, in any order:
      | name |
      | 'b'  |
      | 'c'  |
    And no side effects

  Scenario: exists() on a pattern in RETURN
    Given an empty graph
    And having executed:
      """
      CREATE (:P {name: 'a'})-[:R]->(:P {name: 'b'})
      """
    When executing query:
      """
      MATCH (p:P) RETURN p.name AS name, exists((p)-[:R]->()) AS out
      """
    Then the result should be, in any order:
      | name | out   |
      | 'a'  | true  |
      | 'b'  | false |
    And no side effects

  Scenario: every UNION branch of a CALL subquery runs
    Given an empty graph
    When executing query:
      """
      CALL { RETURN 1 AS x UNION RETURN 2 AS x } RETURN x
      """
    Then the result should be, in any order:
      | x |
      | 1 |
      | 2 |
    And no side effects

  Scenario: UNION ALL in a CALL subquery keeps duplicates, UNION removes them
    Given an empty graph
    When executing query:
      """
      CALL { RETURN 1 AS x UNION ALL RETURN 1 AS x }
      CALL { RETURN 2 AS y UNION RETURN 2 AS y }
      RETURN x, y
      """
    Then the result should be, in any order:
      | x | y |
      | 1 | 2 |
      | 1 | 2 |
    And no side effects

  Scenario: UNION branches of a correlated CALL subquery see the imported variable
    Given an empty graph
    And having executed:
      """
      CREATE (:Person {name: 'Ann', age: 30})-[:KNOWS]->(:Person {name: 'Bob', age: 40})
      """
    When executing query:
      """
      MATCH (p:Person {name: 'Ann'})
      CALL {
        WITH p
        MATCH (p)-[:KNOWS]->(f) RETURN f.name AS other
        UNION
        WITH p
        RETURN p.name + '!' AS other
      }
      RETURN other
      """
    Then the result should be, in any order:
      | other  |
      | 'Bob'  |
      | 'Ann!' |
    And no side effects

  Scenario: round() with a precision and a rounding mode
    Given an empty graph
    When executing query:
      """
      RETURN round(3.141592, 3) AS a, round(-1.5, 0, 'HALF_EVEN') AS b,
             round(2.5, 0, 'HALF_EVEN') AS c, round(1.249, 1, 'UP') AS d,
             round(-1.249, 1, 'CEILING') AS e, round(1.25, 1, 'HALF_DOWN') AS f,
             round(1.251, 1, 'HALF_DOWN') AS g, round(-1.21, 1, 'FLOOR') AS h,
             round(1.29, 1, 'DOWN') AS i, round(2.675, 2) AS j
      """
    Then the result should be, in any order:
      | a     | b    | c   | d   | e    | f   | g   | h    | i   | j    |
      | 3.142 | -2.0 | 2.0 | 1.3 | -1.2 | 1.2 | 1.3 | -1.3 | 1.2 | 2.68 |
    And no side effects

  Scenario: round() with an unknown rounding mode is an argument error
    Given an empty graph
    When executing query:
      """
      RETURN round(1.5, 0, 'SIDEWAYS') AS x
      """
    Then an ArgumentError should be raised at runtime: InvalidArgumentValue

  Scenario: ltrim, rtrim and btrim with trim characters
    Given an empty graph
    When executing query:
      """
      RETURN ltrim('xxhixx', 'x') AS l, rtrim('xxhixx', 'x') AS r, btrim('xyhiyx', 'xy') AS b,
             ltrim('  hi  ') AS l0, btrim('  hi  ') AS b0, ltrim(null, 'x') AS n
      """
    Then the result should be, in any order:
      | l      | r      | b    | l0     | b0   | n    |
      | 'hixx' | 'xxhi' | 'hi' | 'hi  ' | 'hi' | null |
    And no side effects

  Scenario: shortestPath honours the relationship property map on every hop
    Given an empty graph
    And having executed:
      """
      CREATE (a:S)-[:R {w: 1}]->(b:E), (a)-[:R {w: 2}]->(:M)-[:R {w: 2}]->(b)
      """
    When executing query:
      """
      MATCH p = shortestPath((:S)-[:R* {w: 2}]->(:E)) RETURN length(p) AS l
      """
    Then the result should be, in any order:
      | l |
      | 2 |
    And no side effects

  Scenario: SHORTEST 1 honours the relationship property map
    Given an empty graph
    And having executed:
      """
      CREATE (a:S)-[:R {w: 1}]->(b:E), (a)-[:R {w: 2}]->(:M)-[:R {w: 2}]->(b)
      """
    When executing query:
      """
      MATCH p = SHORTEST 1 (:S)-[:R {w: 2}]->+(:E) RETURN length(p) AS l
      """
    Then the result should be, in any order:
      | l |
      | 2 |
    And no side effects
