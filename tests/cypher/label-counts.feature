Feature: LabelCounts
  # Issue 12: `MATCH (n:L) RETURN count(n)` is answered from the label count the storage keeps;
  # the answer must equal the scan's in every state the count passes through.

  Scenario: count of a label after creates, label changes and deletes
    Given an empty graph
    And having executed:
      """
      UNWIND range(1, 10) AS i CREATE (:L {i: i})
      """
    And having executed:
      """
      MATCH (n:L) WHERE n.i <= 3 REMOVE n:L
      """
    And having executed:
      """
      MATCH (n:L) WHERE n.i = 10 DELETE n
      """
    And having executed:
      """
      CREATE (:L:M), (:M)
      """
    When executing query:
      """
      MATCH (n:L) RETURN count(n) AS c, count(*) AS s, COUNT(n)
      """
    Then the result should be, in any order:
      | c | s | COUNT(n) |
      | 7 | 7 | 7        |
    And no side effects

  Scenario: count of a label nobody carries, and of an unknown label
    Given an empty graph
    And having executed:
      """
      CREATE (:A)
      """
    When executing query:
      """
      MATCH (n:Nothing) RETURN count(n) AS c
      """
    Then the result should be, in any order:
      | c |
      | 0 |
    And no side effects

  Scenario: the count includes the writes of the same query before it
    Given an empty graph
    When executing query:
      """
      CREATE (:L), (:L)
      WITH 1 AS one LIMIT 1
      MATCH (n:L) RETURN count(n) AS c
      """
    Then the result should be, in any order:
      | c |
      | 2 |
    And the side effects should be:
      | +nodes  | 2 |
      | +labels | 1 |

  Scenario: shapes that are not a whole-label count still scan
    Given an empty graph
    And having executed:
      """
      CREATE (:L {x: 1}), (:L {x: 2}), (:L)
      """
    When executing query:
      """
      MATCH (n:L {x: 1}) RETURN count(n) AS a
      UNION ALL
      MATCH (n:L) WHERE n.x > 1 RETURN count(n) AS a
      UNION ALL
      MATCH (n:L) RETURN count(DISTINCT n) AS a
      UNION ALL
      MATCH (n:L) RETURN count(n.x) AS a
      UNION ALL
      OPTIONAL MATCH (n:Missing) RETURN count(n) AS a
      """
    Then the result should be, in any order:
      | a |
      | 1 |
      | 1 |
      | 3 |
      | 2 |
      | 0 |
    And no side effects
