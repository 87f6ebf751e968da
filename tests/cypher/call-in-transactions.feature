Feature: CallInTransactions
  # CALL { ... } IN TRANSACTIONS, from the Neo4j Cypher Manual's "CALL subqueries in
  # transactions" page: batches of the incoming rows (OF n ROWS, 1000 by default), each batch's
  # subquery committed in an inner transaction of its own; ON ERROR CONTINUE / BREAK / FAIL;
  # REPORT STATUS; and the compile-time errors for its misuse (Neo4j's messages). The manual's
  # LOAD CSV examples read their rows from UNWIND here (the runner has no import directory).
  # IN [n] CONCURRENT TRANSACTIONS runs its batches one after the other; ON ERROR RETRY is
  # refused by name.

  Background:
    Given an empty graph

  Scenario: Creating nodes in batches of the incoming rows
    When executing query:
      """
      UNWIND [[1, 'Bill', 26], [2, 'Max', 27], [3, 'Anna', 22], [4, 'Gladys', 29], [5, 'Summer', 24]] AS line
      CALL (line) {
        CREATE (:Person {name: line[1], age: toInteger(line[2])})
      } IN TRANSACTIONS OF 2 ROWS
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 5  |
      | +properties | 10 |
      | +labels     | 1  |

  Scenario: The default batch and the importing WITH form
    When executing query:
      """
      UNWIND [[1, 'Bill', 26], [2, 'Max', 27], [3, 'Anna', 22]] AS line
      CALL {
        WITH line
        CREATE (:Person {name: line[1], age: toInteger(line[2])})
      } IN TRANSACTIONS
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 3 |
      | +properties | 6 |
      | +labels     | 1 |

  Scenario: DETACH DELETE on all nodes
    Given having executed:
      """
      CREATE (a:Person)-[:KNOWS]->(b:Person), (c:Person)-[:KNOWS]->(d:Person), (:Person)
      """
    When executing query:
      """
      MATCH (n)
      CALL (n) {
        DETACH DELETE n
      } IN TRANSACTIONS
      """
    Then the result should be empty
    And the side effects should be:
      | -nodes         | 5 |
      | -relationships | 2 |
      | -labels        | 1 |

  Scenario: DETACH DELETE in batches of two rows
    Given having executed:
      """
      UNWIND range(1, 9) AS i CREATE (:N {i: i})
      """
    When executing query:
      """
      MATCH (n)
      CALL (n) {
        DETACH DELETE n
      } IN TRANSACTIONS OF 2 ROWS
      """
    Then the result should be empty
    And the side effects should be:
      | -nodes      | 9 |
      | -properties | 9 |
      | -labels     | 1 |

  Scenario: Filtering before the subquery deletes only some nodes
    Given having executed:
      """
      CREATE (:Label {prop: 50}), (:Label {prop: 150}), (:Label {prop: 250})
      """
    When executing query:
      """
      MATCH (n:Label) WHERE n.prop > 100
      CALL (n) {
        DETACH DELETE n
      } IN TRANSACTIONS
      """
    Then the result should be empty
    And the side effects should be:
      | -nodes      | 2 |
      | -properties | 2 |

  Scenario: A batch size from a parameter
    Given parameters are:
      | size | 3 |
    When executing query:
      """
      UNWIND range(1, 7) AS i
      CALL (i) {
        CREATE (:N {i: i})
      } IN TRANSACTIONS OF $size ROWS
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 7 |
      | +properties | 7 |
      | +labels     | 1 |

  Scenario: Rows returned by the subquery reach the outer query
    When executing query:
      """
      UNWIND [1, 2, 3] AS i
      CALL (i) {
        CREATE (n:N {v: i * 10})
        RETURN n.v AS v
      } IN TRANSACTIONS OF 2 ROWS
      RETURN i, v
      """
    Then the result should be, in any order:
      | i | v  |
      | 1 | 10 |
      | 2 | 20 |
      | 3 | 30 |
    And the side effects should be:
      | +nodes      | 3 |
      | +properties | 3 |
      | +labels     | 1 |

  Scenario: Each batch sees what the batches before it committed
    When executing query:
      """
      UNWIND [1, 2, 3] AS i
      CALL (i) {
        MATCH (n:Counter)
        WITH count(n) AS before
        CREATE (:Counter)
        RETURN before
      } IN TRANSACTIONS OF 1 ROW
      RETURN i, before
      """
    Then the result should be, in order:
      | i | before |
      | 1 | 0      |
      | 2 | 1      |
      | 3 | 2      |
    And the side effects should be:
      | +nodes  | 3 |
      | +labels | 1 |

  Scenario: ON ERROR FAIL fails the query and keeps the batches committed before
    When executing query:
      """
      UNWIND [4, 2, 1, 0] AS i
      CALL (i) {
        CREATE (:Person {num: 100 / i})
      } IN TRANSACTIONS OF 2 ROWS
      RETURN i
      """
    Then a ArithmeticError should be raised at runtime: DivisionByZero
    And the side effects should be:
      | +nodes      | 2 |
      | +properties | 2 |
      | +labels     | 1 |

  Scenario: ON ERROR FAIL written out, batches of one row
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR FAIL
      RETURN n.num
      """
    Then the error code should be Neo.ClientError.Statement.ArithmeticError
    And the side effects should be:
      | +nodes      | 1 |
      | +properties | 1 |
      | +labels     | 1 |

  Scenario: ON ERROR CONTINUE in batches of one row
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR CONTINUE
      RETURN n.num
      """
    Then the result should be, in order:
      | n.num |
      | 100   |
      | null  |
      | 50    |
      | 25    |
    And the side effects should be:
      | +nodes      | 3 |
      | +properties | 3 |
      | +labels     | 1 |

  Scenario: ON ERROR CONTINUE in batches of two rows rolls back the whole failed batch
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 2 ROWS
        ON ERROR CONTINUE
      RETURN n.num
      """
    Then the result should be, in order:
      | n.num |
      | null  |
      | null  |
      | 50    |
      | 25    |
    And the side effects should be:
      | +nodes      | 2 |
      | +properties | 2 |
      | +labels     | 1 |

  Scenario: ON ERROR BREAK in batches of one row
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR BREAK
      RETURN n.num
      """
    Then the result should be, in order:
      | n.num |
      | 100   |
      | null  |
      | null  |
      | null  |
    And the side effects should be:
      | +nodes      | 1 |
      | +properties | 1 |
      | +labels     | 1 |

  Scenario: ON ERROR BREAK in batches of two rows
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 2 ROWS
        ON ERROR BREAK
      RETURN n.num
      """
    Then the result should be, in order:
      | n.num |
      | null  |
      | null  |
      | null  |
      | null  |
    And no side effects

  Scenario: REPORT STATUS with ON ERROR CONTINUE
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR CONTINUE
        REPORT STATUS AS s
      RETURN n.num, s.started, s.committed, s.errorMessage, s.transactionId IS NOT NULL AS hasId
      """
    Then the result should be, in order:
      | n.num | s.started | s.committed | s.errorMessage | hasId |
      | 100   | true      | true        | null           | true  |
      | null  | true      | false       | '/ by zero'    | true  |
      | 50    | true      | true        | null           | true  |
      | 25    | true      | true        | null           | true  |
    And the side effects should be:
      | +nodes      | 3 |
      | +properties | 3 |
      | +labels     | 1 |

  Scenario: REPORT STATUS with ON ERROR BREAK
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR BREAK
        REPORT STATUS AS s
      RETURN n.num, s.started, s.committed, s.errorMessage
      """
    Then the result should be, in order:
      | n.num | s.started | s.committed | s.errorMessage |
      | 100   | true      | true        | null           |
      | null  | true      | false       | '/ by zero'    |
      | null  | false     | false       | null           |
      | null  | false     | false       | null           |
    And the side effects should be:
      | +nodes      | 1 |
      | +properties | 1 |
      | +labels     | 1 |

  Scenario: REPORT STATUS of a unit subquery, before ON ERROR
    When executing query:
      """
      UNWIND [1, 2, 3] AS i
      CALL (i) {
        CREATE (:N {i: i})
      } IN TRANSACTIONS OF 2 ROWS REPORT STATUS AS s ON ERROR CONTINUE
      RETURN i, s.committed AS committed
      """
    Then the result should be, in order:
      | i | committed |
      | 1 | true      |
      | 2 | true      |
      | 3 | true      |
    And the side effects should be:
      | +nodes      | 3 |
      | +properties | 3 |
      | +labels     | 1 |

  Scenario: Concurrent transactions run their batches one after the other
    When executing query:
      """
      UNWIND range(1, 10) AS i
      CALL (i) {
        CREATE (p:Person {id: i})
      } IN 3 CONCURRENT TRANSACTIONS OF 2 ROWS
      RETURN count(*) AS personNodes
      """
    Then the result should be, in any order:
      | personNodes |
      | 10          |
    And the side effects should be:
      | +nodes      | 10 |
      | +properties | 10 |
      | +labels     | 1  |

  Scenario: Several in a row, and a write after one
    When executing query:
      """
      CALL { CREATE (:A) } IN TRANSACTIONS
      WITH 1 AS foo
      CALL { CREATE (:B) } IN TRANSACTIONS
      CREATE (:C)
      RETURN foo
      """
    Then the result should be, in any order:
      | foo |
      | 1   |
    And the side effects should be:
      | +nodes  | 3 |
      | +labels | 3 |

  Scenario: A regular CALL inside CALL { } IN TRANSACTIONS
    When executing query:
      """
      CALL { CALL { CREATE (x) } } IN TRANSACTIONS RETURN 1 AS result
      """
    Then the result should be, in any order:
      | result |
      | 1      |
    And the side effects should be:
      | +nodes | 1 |

  Scenario: Nested CALL { } IN TRANSACTIONS is refused
    When executing query:
      """
      CALL { CALL { CREATE (x) } IN TRANSACTIONS } IN TRANSACTIONS RETURN 1 AS result
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: CALL { } IN TRANSACTIONS nested in a regular CALL is refused
    When executing query:
      """
      CALL { CALL { CREATE (x) } IN TRANSACTIONS } RETURN 1 AS result
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: CALL { } IN TRANSACTIONS in a UNION is refused
    When executing query:
      """
      CALL { CREATE (x) } IN TRANSACTIONS
      RETURN 1 AS result
      UNION
      RETURN 2 AS result
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: CALL { } IN TRANSACTIONS after a write clause is refused
    When executing query:
      """
      CREATE (foo)
      WITH foo AS foo
      CALL { CREATE (x) } IN TRANSACTIONS
      RETURN foo AS foo
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: CALL { } IN TRANSACTIONS after a write in a subquery is refused
    When executing query:
      """
      CALL { CREATE (x) }
      WITH 1 AS foo
      CALL { CREATE (x) } IN TRANSACTIONS
      RETURN foo AS foo
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: A batch size of zero is refused
    When executing query:
      """
      CALL {
        CREATE ()
      } IN TRANSACTIONS OF 0 ROWS
      """
    Then a SyntaxError should be raised at compile time: NegativeIntegerArgument

  Scenario: A negative batch size is refused
    When executing query:
      """
      CALL {
        CREATE ()
      } IN TRANSACTIONS OF -1 ROWS
      """
    Then a SyntaxError should be raised at compile time: NegativeIntegerArgument

  Scenario: A fractional batch size is refused
    When executing query:
      """
      CALL {
        CREATE ()
      } IN TRANSACTIONS OF 1.5 ROWS
      """
    Then a SyntaxError should be raised at compile time: NegativeIntegerArgument

  Scenario: A batch size may not refer to variables
    When executing query:
      """
      WITH 1 AS b
      CALL {
        CREATE ()
      } IN TRANSACTIONS OF b ROWS
      """
    Then a SyntaxError should be raised at compile time: InvalidArgumentType

  Scenario: A non-positive batch size from a parameter is refused when the query runs
    Given parameters are:
      | size | 0 |
    When executing query:
      """
      UNWIND [1, 2] AS i
      CALL (i) { CREATE (:N) } IN TRANSACTIONS OF $size ROWS
      """
    Then the error code should be Neo.ClientError.Statement.ArgumentError
    And no side effects

  Scenario: REPORT STATUS without ON ERROR is refused
    When executing query:
      """
      CALL {
        RETURN 1 AS v
      } IN TRANSACTIONS
        REPORT STATUS AS status
      RETURN v, status
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: REPORT STATUS with ON ERROR FAIL is refused
    When executing query:
      """
      UNWIND [1, 0, 2, 4] AS i
      CALL (i) {
        CREATE (n:Person {num: 100 / i})
        RETURN n
      } IN TRANSACTIONS
        OF 1 ROW
        ON ERROR FAIL
        REPORT STATUS AS s
      RETURN n.num, s.errorMessage
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: A status variable already declared is refused
    When executing query:
      """
      WITH {} AS v
      CALL {
        CREATE ()
      } IN TRANSACTIONS ON ERROR CONTINUE REPORT STATUS AS v RETURN v
      """
    Then a SyntaxError should be raised at compile time: VariableAlreadyBound

  Scenario: ON ERROR RETRY is refused by name
    When executing query:
      """
      UNWIND range(1, 3) AS i
      CALL (i) {
        MERGE (u:User {id: i})
      } IN TRANSACTIONS ON ERROR RETRY
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported
    And no side effects
