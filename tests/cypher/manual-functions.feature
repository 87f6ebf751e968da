Feature: ManualFunctions
  # Function examples in the style of the Neo4j Cypher Manual.

  Scenario: String functions
    Given an empty graph
    When executing query:
      """
      RETURN left('hello', 3) AS l, right('hello', 3) AS r, substring('hello', 1, 3) AS s,
             replace('hello', 'l', 'w') AS rep, reverse('anagram') AS rev,
             split('one,two', ',') AS sp, toUpper('hello') AS up, toLower('HELLO') AS low,
             lTrim('   hello') AS lt, rTrim('hello   ') AS rt
      """
    Then the result should be, in any order:
      | l     | r     | s     | rep     | rev       | sp             | up      | low     | lt      | rt      |
      | 'hel' | 'llo' | 'ell' | 'hewwo' | 'margana' | ['one', 'two'] | 'HELLO' | 'hello' | 'hello' | 'hello' |
    And no side effects

  Scenario: Numeric functions
    Given an empty graph
    When executing query:
      """
      RETURN abs(-3) AS a, ceil(0.1) AS c, floor(0.9) AS f, sign(-17) AS s, round(3.141592) AS r,
             toInteger('42') AS i, toFloat('11.5') AS fl, toInteger(null) AS n
      """
    Then the result should be, in any order:
      | a | c   | f   | s  | r   | i  | fl   | n    |
      | 3 | 1.0 | 0.0 | -1 | 3.0 | 42 | 11.5 | null |
    And no side effects

  Scenario: round() with precision and rounding modes from the manual
    Given an empty graph
    When executing query:
      """
      RETURN round(3.141592, 3) AS a, round(-1.5) AS b, round(-1.5, 0, 'HALF_UP') AS c,
             round(1.249, 1, 'UP') AS d, round(1.249, 1, 'CEILING') AS e, round(-1.251, 1, 'FLOOR') AS f,
             round(1.55, 1, 'HALF_EVEN') AS g, round(1.25, 1, 'HALF_EVEN') AS h
      """
    Then the result should be, in any order:
      | a     | b    | c    | d   | e   | f    | g   | h   |
      | 3.142 | -1.0 | -2.0 | 1.3 | 1.3 | -1.3 | 1.6 | 1.2 |
    And no side effects

  Scenario: List functions
    Given an empty graph
    When executing query:
      """
      RETURN range(0, 10, 3) AS r, reverse([1, 2, 3]) AS rev, tail([1, 2, 3]) AS t,
             head([1, 2]) AS h, last([1, 2]) AS la, size([1, 2, 3]) AS s,
             coalesce(null, 'x', 'y') AS c
      """
    Then the result should be, in any order:
      | r             | rev       | t      | h | la | s | c   |
      | [0, 3, 6, 9] | [3, 2, 1] | [2, 3] | 1 | 2  | 3 | 'x' |
    And no side effects

  Scenario: Aggregating functions
    Given an empty graph
    When executing query:
      """
      UNWIND [1, 2, 2, 3, null] AS x
      RETURN count(x) AS c, count(DISTINCT x) AS cd, sum(x) AS s, avg(x) AS a,
             min(x) AS mi, max(x) AS ma, collect(DISTINCT x) AS col
      """
    Then the result should be (ignoring element order for lists):
      | c | cd | s | a   | mi | ma | col       |
      | 4 | 3  | 8 | 2.0 | 1  | 3  | [1, 2, 3] |
    And no side effects

  Scenario: Predicate functions
    Given an empty graph
    When executing query:
      """
      WITH [1, 2, 3] AS l
      RETURN all(x IN l WHERE x > 0) AS a, any(x IN l WHERE x > 2) AS b,
             none(x IN l WHERE x > 3) AS c, single(x IN l WHERE x = 2) AS d,
             isEmpty([]) AS e, isEmpty('') AS f
      """
    Then the result should be, in any order:
      | a    | b    | c    | d    | e    | f    |
      | true | true | true | true | true | true |
    And no side effects

  Scenario: Temporal values
    Given an empty graph
    When executing query:
      """
      WITH date('2019-06-01') AS d
      RETURN d.year AS y, d.month AS m, d.day AS dd,
             toString(d + duration({days: 30})) AS later,
             duration.between(date('2019-01-01'), d).months AS months
      """
    Then the result should be, in any order:
      | y    | m | dd | later        | months |
      | 2019 | 6 | 1  | '2019-07-01' | 5      |
    And no side effects

  Scenario: Generic CASE
    Given an empty graph
    When executing query:
      """
      UNWIND [5, 15, 25] AS age
      RETURN CASE WHEN age < 10 THEN 'child' WHEN age < 20 THEN 'teen' ELSE 'adult' END AS g
      """
    Then the result should be, in order:
      | g       |
      | 'child' |
      | 'teen'  |
      | 'adult' |
    And no side effects

  Scenario: An unknown function is a compile-time syntax error
    Given an empty graph
    When executing query:
      """
      RETURN noSuchFunction(1) AS x
      """
    Then a SyntaxError should be raised at compile time: UnknownFunction

  Scenario: An undefined variable is a compile-time syntax error with Neo4j's code
    Given an empty graph
    When executing query:
      """
      MATCH (a) RETURN b
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError
