Feature: Neo4j5Syntax
  # Neo4j 5 syntax from the Cypher Manual (subqueries, label expressions, type predicates,
  # string functions, quantified path patterns).

  Background:
    Given an empty graph

  Scenario: COUNT subquery with a pattern
    Given having executed:
      """
      CREATE (a:Person {name: 'Andy'})-[:HAS_DOG]->(:Dog {name: 'Andy'}),
             (t:Person {name: 'Timothy'})-[:HAS_DOG]->(:Dog {name: 'Bosse'}),
             (t)-[:HAS_DOG]->(:Dog {name: 'Fido'}),
             (:Person {name: 'Peter'})
      """
    When executing query:
      """
      MATCH (person:Person)
      WHERE COUNT { (person)-[:HAS_DOG]->(:Dog) } > 1
      RETURN person.name AS name
      """
    Then the result should be, in any order:
      | name      |
      | 'Timothy' |
    And no side effects

  Scenario: COUNT subquery in RETURN, with WHERE, and with a full query
    Given having executed:
      """
      CREATE (a:Person {name: 'Andy'})-[:HAS_DOG]->(:Dog {name: 'Andy'}),
             (t:Person {name: 'Timothy'})-[:HAS_DOG]->(:Dog {name: 'Bosse'}),
             (t)-[:HAS_DOG]->(:Dog {name: 'Fido'})
      """
    When executing query:
      """
      MATCH (p:Person)
      RETURN p.name AS name,
             COUNT { (p)-[:HAS_DOG]->(d:Dog) WHERE d.name = p.name } AS same,
             COUNT { MATCH (p)-[:HAS_DOG]->(d:Dog) RETURN d.name } AS dogs
      """
    Then the result should be, in any order:
      | name      | same | dogs |
      | 'Andy'    | 1    | 1    |
      | 'Timothy' | 0    | 2    |
    And no side effects

  Scenario: COUNT subquery with UNION counts the rows of every branch
    Given having executed:
      """
      CREATE (p:Person {name: 'Ann'})-[:HAS_DOG]->(:Dog), (p)-[:HAS_CAT]->(:Cat)
      """
    When executing query:
      """
      MATCH (p:Person)
      RETURN COUNT {
        MATCH (p)-[:HAS_DOG]->(d:Dog) RETURN labels(d)[0] AS pet
        UNION ALL
        MATCH (p)-[:HAS_CAT]->(c:Cat) RETURN labels(c)[0] AS pet
      } AS pets
      """
    Then the result should be, in any order:
      | pets |
      | 2    |
    And no side effects

  Scenario: COLLECT subquery
    Given having executed:
      """
      CREATE (t:Person {name: 'Timothy'})-[:HAS_DOG]->(:Dog {name: 'Bosse'}),
             (t)-[:HAS_DOG]->(:Dog {name: 'Fido'}), (:Person {name: 'Peter'})
      """
    When executing query:
      """
      MATCH (p:Person)
      RETURN p.name AS name,
             COLLECT { MATCH (p)-[:HAS_DOG]->(d:Dog) RETURN d.name ORDER BY d.name } AS dogs
      """
    Then the result should be, in any order:
      | name      | dogs              |
      | 'Timothy' | ['Bosse', 'Fido'] |
      | 'Peter'   | []                |
    And no side effects

  Scenario: COLLECT subquery must return one column
    When executing query:
      """
      RETURN COLLECT { MATCH (n) RETURN n, n AS m } AS x
      """
    Then a SyntaxError should be raised at compile time: InvalidClauseComposition

  Scenario: EXISTS subquery with a full query
    Given having executed:
      """
      CREATE (:Person {name: 'A'})-[:HAS_DOG]->(:Dog), (:Person {name: 'B'})
      """
    When executing query:
      """
      MATCH (p:Person)
      WHERE EXISTS { MATCH (p)-[:HAS_DOG]->(d) RETURN d }
      RETURN p.name AS name
      """
    Then the result should be, in any order:
      | name |
      | 'A'  |
    And no side effects

  Scenario: Scoped CALL subquery imports the listed variables
    Given having executed:
      """
      CREATE (:Person {name: 'A', age: 1}), (:Person {name: 'B', age: 2})
      """
    When executing query:
      """
      MATCH (p:Person)
      CALL (p) {
        RETURN p.age * 10 AS x
      }
      RETURN p.name AS name, x
      """
    Then the result should be, in any order:
      | name | x  |
      | 'A'  | 10 |
      | 'B'  | 20 |
    And no side effects

  Scenario: CALL () imports nothing
    Given having executed:
      """
      CREATE (:Person), (:Person)
      """
    When executing query:
      """
      UNWIND [1, 2] AS i
      CALL () {
        MATCH (p:Person) RETURN count(p) AS c
      }
      RETURN i, c
      """
    Then the result should be, in any order:
      | i | c |
      | 1 | 2 |
      | 2 | 2 |
    And no side effects

  Scenario: CALL () cannot see outer variables
    When executing query:
      """
      WITH 1 AS x
      CALL () { RETURN x AS y }
      RETURN y
      """
    Then a SyntaxError should be raised at compile time: UndefinedVariable

  Scenario: Scoped CALL subquery with UNION imports in every branch
    When executing query:
      """
      WITH 5 AS x
      CALL (x) { RETURN x AS y UNION RETURN x + 1 AS y }
      RETURN y
      """
    Then the result should be, in any order:
      | y |
      | 5 |
      | 6 |
    And no side effects

  Scenario: OPTIONAL CALL keeps rows the subquery yields nothing for
    Given having executed:
      """
      CREATE (:Person {name: 'A'})-[:OWNS]->(:Car {model: 'X'}), (:Person {name: 'B'})
      """
    When executing query:
      """
      MATCH (p:Person)
      OPTIONAL CALL (p) {
        MATCH (p)-[:OWNS]->(c:Car) RETURN c.model AS model
      }
      RETURN p.name AS name, model
      """
    Then the result should be, in any order:
      | name | model |
      | 'A'  | 'X'   |
      | 'B'  | null  |
    And no side effects

  Scenario: CALL IN TRANSACTIONS runs (see call-in-transactions.feature)
    When executing query:
      """
      UNWIND [1, 2] AS i
      CALL (i) { CREATE (:N {i: i}) } IN TRANSACTIONS OF 1 ROW
      """
    Then the result should be empty
    And the side effects should be:
      | +nodes      | 2 |
      | +properties | 2 |
      | +labels     | 1 |

  Scenario: Label expressions in node patterns
    Given having executed:
      """
      CREATE (:A {n: 1}), (:B {n: 2}), (:A:B {n: 3}), (:C {n: 4}), ({n: 5})
      """
    When executing query:
      """
      MATCH (x:A|B) WITH collect(x.n) AS or_
      MATCH (y:!A) WITH or_, collect(y.n) AS not_
      MATCH (z:A&B) WITH or_, not_, collect(z.n) AS and_
      MATCH (w:%) WITH or_, not_, and_, collect(w.n) AS any_
      MATCH (v:(A|C)&!B)
      RETURN [i IN or_ | i] AS or_, not_, and_, any_, collect(v.n) AS mix
      """
    Then the result should be (ignoring element order for lists):
      | or_       | not_      | and_ | any_         | mix    |
      | [1, 2, 3] | [2, 4, 5] | [3]  | [1, 2, 3, 4] | [1, 4] |
    And no side effects

  Scenario: Label expressions as predicates
    Given having executed:
      """
      CREATE (:A {n: 1}), (:B {n: 2}), (:C {n: 3})
      """
    When executing query:
      """
      MATCH (n) WHERE n:A|B RETURN n.n AS n
      """
    Then the result should be, in any order:
      | n |
      | 1 |
      | 2 |
    And no side effects

  Scenario: A list comprehension projection after a label predicate
    Given having executed:
      """
      CREATE (:A {n: 1}), (:B {n: 2})
      """
    When executing query:
      """
      MATCH (n) WITH collect(n) AS ns
      RETURN [x IN ns WHERE x:A | x.n] AS a
      """
    Then the result should be, in any order:
      | a   |
      | [1] |
    And no side effects

  Scenario: Label disjunction in CREATE is refused
    When executing query:
      """
      CREATE (n:A|B)
      """
    Then a SyntaxError should be raised at compile time: InvalidLabelExpression

  Scenario: Type predicates
    When executing query:
      """
      UNWIND [42, 'x', 1.5, null, [1, 2], true] AS v
      RETURN v IS :: INTEGER AS int, v IS :: INTEGER NOT NULL AS int_nn,
             v IS NOT :: STRING AS not_str, v :: LIST<INTEGER> AS ints,
             v IS :: INTEGER | FLOAT AS num
      """
    Then the result should be, in order:
      | int   | int_nn | not_str | ints  | num   |
      | true  | true   | true    | false | true  |
      | false | false  | false   | false | false |
      | false | false  | true    | false | true  |
      | true  | false  | false   | true  | true  |
      | false | false  | true    | true  | false |
      | false | false  | true    | false | false |
    And no side effects

  Scenario: String and list concatenation with ||
    When executing query:
      """
      RETURN 'Neo' || '4j' AS s, [1] || [2, 3] AS l, 'a' || null AS n
      """
    Then the result should be, in any order:
      | s       | l         | n    |
      | 'Neo4j' | [1, 2, 3] | null |
    And no side effects

  Scenario: Simple CASE with several values in one WHEN
    When executing query:
      """
      UNWIND [1, 2, 3] AS x
      RETURN CASE x WHEN 1, 2 THEN 'low' ELSE 'high' END AS r
      """
    Then the result should be, in order:
      | r      |
      | 'low'  |
      | 'low'  |
      | 'high' |
    And no side effects

  Scenario: isNaN, nullIf and valueType
    When executing query:
      """
      RETURN isNaN(0.0 / 0.0) AS a, isNaN(1) AS b, nullIf(4, 4) AS c, nullIf('a', 'b') AS d,
             valueType(1) AS e, valueType('x') AS f, valueType(null) AS g,
             valueType([1, 2]) AS h, valueType([]) AS j
      """
    Then the result should be, in any order:
      | a    | b     | c    | d   | e                  | f                 | g      | h                                 | j                        |
      | true | false | null | 'a' | 'INTEGER NOT NULL' | 'STRING NOT NULL' | 'NULL' | 'LIST<INTEGER NOT NULL> NOT NULL' | 'LIST<NOTHING> NOT NULL' |
    And no side effects

  Scenario: trim with BOTH, LEADING and TRAILING
    When executing query:
      """
      RETURN trim(BOTH 'x' FROM 'xxhixx') AS b, trim(LEADING 'x' FROM 'xxhixx') AS l,
             trim(TRAILING 'x' FROM 'xxhixx') AS t, trim('x' FROM 'xhix') AS c,
             trim(LEADING FROM '  hi  ') AS w, trim('  hi  ') AS p
      """
    Then the result should be, in any order:
      | b    | l      | t      | c    | w      | p    |
      | 'hi' | 'hixx' | 'xxhi' | 'hi' | 'hi  ' | 'hi' |
    And no side effects

  Scenario: Quantified relationship with + and {m,n}
    Given having executed:
      """
      CREATE (a:S {n: 0})-[:R]->(:X {n: 1})-[:R]->(:X {n: 2})-[:R]->(:X {n: 3})
      """
    When executing query:
      """
      MATCH (a:S)-[:R]->+(b) WITH collect(b.n) AS plus
      MATCH (a:S)-[:R]->{2,3}(c)
      RETURN plus, collect(c.n) AS range
      """
    Then the result should be (ignoring element order for lists):
      | plus      | range  |
      | [1, 2, 3] | [2, 3] |
    And no side effects

  Scenario: Quantified path pattern group
    Given having executed:
      """
      CREATE (a:S {n: 0})-[:R]->(:X {n: 1})-[:R]->(:X {n: 2})
      """
    When executing query:
      """
      MATCH (a:S) (()-[:R]->()){1,2} (b)
      RETURN b.n AS n
      """
    Then the result should be, in any order:
      | n |
      | 1 |
      | 2 |
    And no side effects

  Scenario: Quantified path pattern of several relationships
    Given having executed:
      """
      CREATE (:X {n: 1})-[:R]->()-[:S]->(:X {n: 2})-[:R]->()-[:S]->({n: 3})
      """
    When executing query:
      """
      MATCH (a) ((x:X)-[:R]->(y)-[:S]->(z)){1,3} (b) RETURN a.n AS a, b.n AS b
      """
    Then the result should be, in any order:
      | a | b |
      | 1 | 2 |
      | 1 | 3 |
      | 2 | 3 |
    And no side effects

  Scenario: SHORTEST 1 and ALL SHORTEST path selectors
    Given having executed:
      """
      CREATE (a:S)-[:R]->(:X)-[:R]->(b:E), (a)-[:R]->(:Y)-[:R]->(b), (a)-[:R]->(:Z)-[:R]->(:W)-[:R]->(b)
      """
    When executing query:
      """
      MATCH p = SHORTEST 1 (:S)-[:R]->+(:E) WITH count(p) AS one, min(length(p)) AS len
      MATCH q = ALL SHORTEST (:S)-[:R]->+(:E)
      RETURN one, len, count(q) AS all
      """
    Then the result should be, in any order:
      | one | len | all |
      | 1   | 2   | 2   |
    And no side effects

  Scenario: A path selector over several relationship patterns
    Given having executed:
      """
      CREATE (a:S)-[:R]->(:X)-[:R]->(b:E), (a)-[:R]->(:Y)-[:R]->(b), (a)-[:R]->(:Z)-[:R]->(:W)-[:R]->(b)
      """
    When executing query:
      """
      MATCH p = SHORTEST 2 (a:S)-[:R]->+(m)-[:R]->(b:E) RETURN length(p) AS len, count(*) AS n
      """
    Then the result should be, in any order:
      | len | n |
      | 2   | 2 |
    And no side effects

  Scenario: LOAD CSV without an import directory is refused by name
    When executing query:
      """
      LOAD CSV FROM 'file:///x.csv' AS line RETURN line
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: LOAD CSV from an http URL is refused by name
    When executing query:
      """
      LOAD CSV WITH HEADERS FROM 'https://data.neo4j.com/bands/artists.csv' AS row RETURN row
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported

  Scenario: A LOAD CSV field terminator is one character
    When executing query:
      """
      LOAD CSV FROM 'file:///x.csv' AS line FIELDTERMINATOR ';;' RETURN line
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: A WHERE inside a node pattern
    Given having executed:
      """
      CREATE (:Person {name: 'A', age: 20})-[:KNOWS]->(:Person {name: 'B', age: 40}),
             (:Person {name: 'C', age: 50})
      """
    When executing query:
      """
      MATCH (a:Person)-[:KNOWS]->(b:Person WHERE b.age > 30)
      RETURN a.name AS a, b.name AS b
      """
    Then the result should be, in any order:
      | a   | b   |
      | 'A' | 'B' |
    And no side effects

  Scenario: A WHERE inside a node pattern sees variables bound before the pattern
    Given having executed:
      """
      CREATE (:Person {name: 'A', age: 20}), (:Person {name: 'B', age: 40})
      """
    When executing query:
      """
      WITH 30 AS lim
      MATCH (p:Person WHERE p.age > lim)
      RETURN p.name AS name
      """
    Then the result should be, in any order:
      | name |
      | 'B'  |
    And no side effects

  Scenario: A WHERE inside a node pattern cannot see later pattern variables
    When executing query:
      """
      MATCH (a WHERE a.x = b.x)-->(b) RETURN a
      """
    Then a SyntaxError should be raised at compile time: UndefinedVariable

  Scenario: A WHERE inside a CREATE node pattern is an error
    When executing query:
      """
      CREATE (n:Person WHERE n.age > 1)
      """
    Then a SyntaxError should be raised at compile time: InvalidNodePattern

  Scenario: CREATE DATABASE ... WAIT and DROP DATABASE ... WAIT
    When executing query:
      """
      CREATE DATABASE sales IF NOT EXISTS WAIT
      """
    Then the result should be empty
    When executing query:
      """
      DROP DATABASE sales IF EXISTS DESTROY DATA WAIT 5 SECONDS
      """
    Then the result should be empty

  Scenario: A WHERE inside a relationship pattern
    Given having executed:
      """
      CREATE (a:P {n: 'a'})-[:R {w: 1}]->(:P {n: 'b'}), (a)-[:R {w: 5}]->(:P {n: 'c'})
      """
    When executing query:
      """
      MATCH (:P {n: 'a'})-[r:R WHERE r.w > 2]->(x)
      RETURN x.n AS n
      """
    Then the result should be, in any order:
      | n   |
      | 'c' |
    And no side effects

  Scenario: Relationship type expressions
    Given having executed:
      """
      CREATE (a:P {n: 'a'})-[:R]->(:P {n: 'r'}), (a)-[:S]->(:P {n: 's'}), (a)-[:T]->(:P {n: 't'})
      """
    When executing query:
      """
      MATCH (:P {n: 'a'})-[:!R]->(x) WITH collect(x.n) AS notr
      MATCH (:P {n: 'a'})-[:R|S]->(y) WITH notr, collect(y.n) AS rs
      MATCH (:P {n: 'a'})-[:%]->(z)
      RETURN notr, rs, count(z) AS any
      """
    Then the result should be (ignoring element order for lists):
      | notr       | rs         | any |
      | ['s', 't'] | ['r', 's'] | 3   |
    And no side effects

  Scenario: SHOW PROCEDURES lists the built-in procedures
    When executing query:
      """
      SHOW PROCEDURES
      """
    Then the result should be, in order:
      | name                   | description                                    | mode   | worksOnSystem |
      | 'db.info'              | 'Provides information regarding the database.' | 'READ' | false         |
      | 'db.labels'            | 'List all labels in the database.'             | 'READ' | false         |
      | 'db.ping'              | 'Checks that the database is available.'       | 'READ' | false         |
      | 'db.propertyKeys'      | 'List all property keys in the database.'      | 'READ' | false         |
      | 'db.relationshipTypes' | 'List all relationship types in the database.' | 'READ' | false         |
      | 'dbms.components'      | 'List DBMS components and their versions.'     | 'READ' | false         |
      | 'dbms.info'            | 'Provides information regarding the DBMS.'     | 'READ' | false         |
      | 'tx.getMetaData'       | 'Provides attached transaction metadata.'      | 'READ' | false         |

  Scenario: A list comprehension projection with an operator after a label predicate
    Given having executed:
      """
      CREATE (:A {n: 1}), (:B {n: 2})
      """
    When executing query:
      """
      MATCH (n) WITH collect(n) AS ns
      RETURN [x IN ns WHERE x:A | x.n + 1] AS a, [x IN ns WHERE x:A|B | x.n * 10] AS b
      """
    Then the result should be (ignoring element order for lists):
      | a   | b        |
      | [2] | [10, 20] |
    And no side effects

  Scenario: CALL (*) imports every outer variable
    When executing query:
      """
      WITH 1 AS a, 2 AS b CALL (*) { RETURN a + b AS c } RETURN c
      """
    Then the result should be, in any order:
      | c |
      | 3 |
    And no side effects

  Scenario: A scoped unit subquery runs once per row and keeps the rows
    When executing query:
      """
      UNWIND [1, 2] AS i CALL (i) { CREATE (:N {i: i}) } RETURN i
      """
    Then the result should be, in any order:
      | i |
      | 1 |
      | 2 |
    And the side effects should be:
      | +nodes      | 2 |
      | +labels     | 1 |
      | +properties | 2 |

  Scenario: The CYPHER prefix with a version and options
    Given having executed:
      """
      CREATE (:P {n: 1}), (:P {n: 2})
      """
    When executing query:
      """
      CYPHER 5 runtime=slotted planner=cost MATCH (p:P) RETURN p.n AS n ORDER BY n
      """
    Then the result should be, in order:
      | n |
      | 1 |
      | 2 |
    And no side effects

  Scenario: The CYPHER prefix with options only
    When executing query:
      """
      CYPHER runtime=pipelined expressionEngine=compiled RETURN 1 AS one
      """
    Then the result should be, in any order:
      | one |
      | 1   |
    And no side effects

  Scenario: An unknown CYPHER option is a syntax error
    When executing query:
      """
      CYPHER runtme=slotted RETURN 1
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: An unknown CYPHER option value is a syntax error
    When executing query:
      """
      CYPHER runtime=turbo RETURN 1
      """
    Then the error code should be Neo.ClientError.Statement.SyntaxError

  Scenario: A Cypher language version other than 5 or 25 is not supported
    When executing query:
      """
      CYPHER 4 RETURN 1
      """
    Then the error code should be Neo.ClientError.Statement.FeatureNotSupported
