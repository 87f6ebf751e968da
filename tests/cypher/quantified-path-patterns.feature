Feature: QuantifiedPathPatterns
  # Quantified path patterns of several relationships, juxtaposed with fixed parts and with each
  # other, relationship uniqueness over the whole match, and path selectors over whole path
  # patterns (several relationship patterns and quantified path patterns, SHORTEST $k), from
  # the Neo4j Cypher Manual's "Variable-length patterns", "Shortest paths" and "Syntax and
  # semantics" pages (its train-stations graphs and documented rows).

  Background:
    Given an empty graph

  Scenario: Quantified path pattern between fixed parts: services from Denmark Hill to Clapham Junction
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH (:Station {name: 'Denmark Hill'})<-[:CALLS_AT]-(d:Stop)
            ((:Stop)-[:NEXT]->(:Stop)){1,3}
            (a:Stop)-[:CALLS_AT]->(:Station {name: 'Clapham Junction'})
      RETURN toString(d.departs) AS departureTime, toString(a.arrives) AS arrivalTime
      """
    Then the result should be, in any order:
      | departureTime | arrivalTime |
      | '17:10Z' | '17:17Z' |
      | '17:07Z' | '17:19Z' |
    And no side effects

  Scenario: Group variables are lists of what each iteration matched
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH (:Station {name: 'Denmark Hill'})<-[:CALLS_AT]-(origin)
            ((l)-[r:NEXT]->(m)){1,3}
            ()-[:CALLS_AT]->(:Station {name: 'Clapham Junction'})
      RETURN [t IN [origin.departs] + [stop IN m | stop.departs] | toString(t)] AS departureTimes,
             reduce(acc = 0.0, next IN r | round(acc + next.distance, 2)) AS totalDistance
      """
    Then the result should be, in any order:
      | departureTimes | totalDistance |
      | ['17:10Z', '17:20Z'] | 1.4 |
      | ['17:07Z', '17:11Z', '17:13Z', '17:20Z'] | 1.4 |
    And no side effects

  Scenario: Quantified path pattern of two relationships with inner nodes
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH ((a:Stop)-[:NEXT]->(b)-[:NEXT]->(c)){1,2}
      RETURN [x IN a | toString(x.arrives)] AS as, [x IN b | toString(x.arrives)] AS bs,
             [x IN c | toString(x.arrives)] AS cs
      """
    Then the result should be, in any order:
      | as | bs | cs |
      | ['16:58Z'] | ['17:06Z'] | ['17:10Z'] |
      | ['17:06Z'] | ['17:10Z'] | ['17:12Z'] |
      | ['17:10Z'] | ['17:12Z'] | ['17:19Z'] |
      | ['16:58Z', '17:10Z'] | ['17:06Z', '17:12Z'] | ['17:10Z', '17:19Z'] |
    And no side effects

  Scenario: Quantified path pattern of two relationships anchored on its right
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH ((a:Stop)-[:NEXT]->(b)-[:NEXT]->(c)){1,2} (:Stop)-[:CALLS_AT]->(:Station {name: 'Clapham Junction'})
      RETURN [x IN a | toString(x.arrives)] AS as, [x IN c | toString(x.arrives)] AS cs
      """
    Then the result should be, in any order:
      | as | cs |
      | ['17:10Z'] | ['17:19Z'] |
      | ['16:58Z', '17:10Z'] | ['17:10Z', '17:19Z'] |
    And no side effects

  Scenario: Relationships of opposite directions and a predicate across an iteration
    Given having executed:
      """
      CREATE (n1 {name: 'n1'})-[:A {w: 1}]->(m1 {name: 'm1'})<-[:B {w: 2}]-(n2 {name: 'n2'}),
        (n2)-[:A {w: 3}]->(m2 {name: 'm2'})<-[:B {w: 4}]-(n3 {name: 'n3'}),
        (n3)-[:A {w: 5}]->(m3 {name: 'm3'})<-[:B {w: 1}]-(n4 {name: 'n4'})
      """
    When executing query:
      """
      MATCH ((x)-[r1:A]->(y)<-[r2:B]-(z) WHERE r1.w < r2.w)+
      RETURN [n IN x | n.name] AS xs, [n IN y | n.name] AS ys, [n IN z | n.name] AS zs,
             [r IN r2 | r.w] AS ws
      """
    Then the result should be, in any order:
      | xs | ys | zs | ws |
      | ['n1'] | ['m1'] | ['n2'] | [2] |
      | ['n1', 'n2'] | ['m1', 'm2'] | ['n2', 'n3'] | [2, 4] |
      | ['n2'] | ['m2'] | ['n3'] | [4] |
    And no side effects

  Scenario: Juxtaposed fixed node patterns around a quantified path pattern
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH (s:Stop)((a)-[:NEXT]->(b)){1,5}(t:Stop)
      RETURN count(*) AS paths, max(size(a)) AS longest
      """
    Then the result should be, in any order:
      | paths | longest |
      | 11 | 4 |
    And no side effects

  Scenario: Two quantified path patterns next to each other
    Given having executed:
      """
      CREATE (pmr:Station {name: 'Peckham Rye'}),
        (dmk:Station {name: 'Denmark Hill'}),
        (clp:Station {name: 'Clapham High Street'}),
        (wwr:Station {name: 'Wandsworth Road'}),
        (clj:Station {name: 'Clapham Junction'}),
        (s1:Stop {arrives: time('17:19'), departs: time('17:20')}),
        (s2:Stop {arrives: time('17:12'), departs: time('17:13')}),
        (s3:Stop {arrives: time('17:10'), departs: time('17:11')}),
        (s4:Stop {arrives: time('17:06'), departs: time('17:07')}),
        (s5:Stop {arrives: time('16:58'), departs: time('17:01')}),
        (s6:Stop {arrives: time('17:17'), departs: time('17:20')}),
        (s7:Stop {arrives: time('17:08'), departs: time('17:10')}),
        (clj)<-[:CALLS_AT]-(s1), (wwr)<-[:CALLS_AT]-(s2),
        (clp)<-[:CALLS_AT]-(s3), (dmk)<-[:CALLS_AT]-(s4),
        (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s6),
        (dmk)<-[:CALLS_AT]-(s7),
        (s5)-[:NEXT {distance: 1.2}]->(s4),(s4)-[:NEXT {distance: 0.34}]->(s3),
        (s3)-[:NEXT {distance: 0.76}]->(s2), (s2)-[:NEXT {distance: 0.3}]->(s1),
        (s7)-[:NEXT {distance: 1.4}]->(s6)
      """
    When executing query:
      """
      MATCH (:Station {name: 'Peckham Rye'})<-[:CALLS_AT]-(s)
            ((a)-[:NEXT]->(b)){1,2} ((c)-[:NEXT]->(d)){1,2}
            (t)-[:CALLS_AT]->(st:Station)
      RETURN st.name AS station, size(a) AS first, size(c) AS second
      """
    Then the result should be, in any order:
      | station | first | second |
      | 'Clapham High Street' | 1 | 1 |
      | 'Wandsworth Road' | 1 | 2 |
      | 'Wandsworth Road' | 2 | 1 |
      | 'Clapham Junction' | 2 | 2 |
    And no side effects

  Scenario: A relationship is used once in a match: iterations of a group
    Given having executed:
      """
      CREATE (a:Start {name: 'a'})-[:R]->(b {name: 'b'}), (b)-[:R]->(a)
      """
    When executing query:
      """
      MATCH (x:Start) ((p)-[:R]-(q)-[:R]-(r)){1,3} (y)
      RETURN y.name AS y, count(*) AS n
      """
    Then the result should be, in any order:
      | y | n |
      | 'a' | 2 |
    And no side effects

  Scenario: A relationship is used once in a match: a fixed part and a group
    Given having executed:
      """
      CREATE (a:Start {name: 'a'})-[:R]->(b {name: 'b'}), (b)-[:R]->(a)
      """
    When executing query:
      """
      MATCH (x:Start)-[:R]-(m) ((p)-[:R]-(q)){1,3} (y)
      RETURN y.name AS y, count(*) AS n
      """
    Then the result should be, in any order:
      | y | n |
      | 'a' | 2 |
    And no side effects

  Scenario: A relationship is used once in a match: two groups
    Given having executed:
      """
      CREATE (a:Start {name: 'a'})-[:R]->(b {name: 'b'}), (b)-[:R]->(a)
      """
    When executing query:
      """
      MATCH (x:Start) ((p)-[:R]-(q)){1,2} ((u)-[:R]-(v)){1,2} (y)
      RETURN y.name AS y, count(*) AS n
      """
    Then the result should be, in any order:
      | y | n |
      | 'a' | 2 |
    And no side effects

  Scenario: Zero iterations join the node patterns on either side
    Given having executed:
      """
      CREATE (n1 {name: 'n1'})-[:A {w: 1}]->(m1 {name: 'm1'})<-[:B {w: 2}]-(n2 {name: 'n2'}),
        (n2)-[:A {w: 3}]->(m2 {name: 'm2'})<-[:B {w: 4}]-(n3 {name: 'n3'}),
        (n3)-[:A {w: 5}]->(m3 {name: 'm3'})<-[:B {w: 1}]-(n4 {name: 'n4'})
      """
    When executing query:
      """
      MATCH (s {name: 'n1'}) ((a)-[:A]->(b)<-[:B]-(c)){0,1} (t)
      RETURN t.name AS t, size(a) AS iterations
      """
    Then the result should be, in any order:
      | t | iterations |
      | 'n1' | 0 |
      | 'n2' | 1 |
    And no side effects

  Scenario: A quantified path pattern of several relationships in an EXISTS subquery
    Given having executed:
      """
      CREATE (n1 {name: 'n1'})-[:A {w: 1}]->(m1 {name: 'm1'})<-[:B {w: 2}]-(n2 {name: 'n2'}),
        (n2)-[:A {w: 3}]->(m2 {name: 'm2'})<-[:B {w: 4}]-(n3 {name: 'n3'}),
        (n3)-[:A {w: 5}]->(m3 {name: 'm3'})<-[:B {w: 1}]-(n4 {name: 'n4'})
      """
    When executing query:
      """
      MATCH (s {name: 'n1'})
      RETURN EXISTS { (s) ((a)-[:A]->(b)<-[:B]-(c)){2} (t {name: 'n3'}) } AS two,
             EXISTS { (s) ((a)-[:A]->(b)<-[:B]-(c)){3} (t {name: 'n4'}) } AS three
      """
    Then the result should be, in any order:
      | two | three |
      | true | true |
    And no side effects

  Scenario: Nested quantifiers are refused
    When executing query:
      """
      MATCH (:A) (()-[:R]->+()){2,3} (:B) RETURN 1
      """
    Then a SyntaxError should be raised at compile time: InvalidQuantifiedPathPattern

  Scenario: A variable of a group of several relationships is declared once
    When executing query:
      """
      MATCH ((a)-[:R]->(b)-[:R]->(a)){1,3} RETURN a
      """
    Then a SyntaxError should be raised at compile time: VariableAlreadyBound

  Scenario: SHORTEST 1 with a quantified path pattern between fixed nodes
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH SHORTEST 1
        (:Station {name: 'Hartlebury'})
        (()--(n))+
        (:Station {name: 'Cheltenham Spa'})
      RETURN [stop IN n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Bromsgrove'] |
    And no side effects

  Scenario: A MATCH WHERE after SHORTEST is a post-filter
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH SHORTEST 1
        (:Station {name: 'Hartlebury'})
        (()--(n:Station))+
        (:Station {name: 'Cheltenham Spa'})
      WHERE none(stop IN n[..-1] WHERE stop.name = 'Bromsgrove')
      RETURN [stop IN n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
    And no side effects

  Scenario: A node predicate inside the group is a pre-filter of SHORTEST
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH SHORTEST 1
        (:Station {name: 'Hartlebury'})
        (()--(n:Station WHERE n.name <> 'Bromsgrove'))+
        (:Station {name: 'Cheltenham Spa'})
      RETURN [stop IN n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Worcester Shrub Hill', 'Ashchurch'] |
    And no side effects

  Scenario: A parenthesized path pattern's WHERE is a pre-filter of SHORTEST
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH SHORTEST 1
        ( (:Station {name: 'Hartlebury'})
          (()--(n:Station))+
          (:Station {name: 'Cheltenham Spa'})
           WHERE none(stop IN n[..-1] WHERE stop.name = 'Bromsgrove') )
      RETURN [stop IN n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Worcester Shrub Hill', 'Ashchurch'] |
    And no side effects

  Scenario: SHORTEST 1 over a quantified path pattern of two relationships reaches every station
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH p = SHORTEST 1 (a:Station {name: 'Worcestershire Parkway'})(()-[]-()-[]-()){1,}(b:Station)
      RETURN count(p) AS paths, count(DISTINCT b) AS ends, all(x IN collect(length(p)) WHERE x % 2 = 0) AS even
      """
    Then the result should be, in any order:
      | paths | ends | even |
      | 9 | 9 | true |
    And no side effects

  Scenario: SHORTEST 2 over a path pattern of several relationship patterns
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH p = SHORTEST 2 (a:Station {name: 'Worcester Shrub Hill'})-[:LINK]-+(b)-[:LINK]-(c:Station {name: 'Bromsgrove'})
      RETURN [n IN nodes(p) | n.name] AS stops, b.name AS b
      """
    Then the result should be, in any order:
      | stops | b |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] | 'Droitwich Spa' |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] | 'Worcestershire Parkway' |
    And no side effects

  Scenario: ALL SHORTEST over several relationship patterns: a fixed last hop
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH p = ALL SHORTEST (a:Station {name: 'Hartlebury'})-[:LINK]-+(b)<-[:LINK]-(c:Station {name: 'Pershore'})
      RETURN [n IN nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Hartlebury', 'Droitwich Spa', 'Worcester Shrub Hill', 'Worcestershire Parkway', 'Pershore'] |
      | ['Hartlebury', 'Droitwich Spa', 'Bromsgrove', 'Worcestershire Parkway', 'Pershore'] |
    And no side effects

  Scenario: ANY SHORTEST over a group, a fixed node and a fixed relationship
    Given having executed:
      """
      CREATE (a:A {name: 'a'})-[:R]->(x {name: 'x'})-[:R]->(y {name: 'y'})-[:S]->(c:C {name: 'c'}),
        (a)-[:R]->(y), (x)-[:S]->(d:C {name: 'd'})
      """
    When executing query:
      """
      MATCH p = ANY SHORTEST (a:A)(()-[:R]->()){1,4}(b)-[:S]->(c:C)
      RETURN b.name AS b, c.name AS c, length(p) AS len
      """
    Then the result should be, in any order:
      | b | c | len |
      | 'y' | 'c' | 2 |
      | 'x' | 'd' | 2 |
    And no side effects

  Scenario: SHORTEST k GROUPS over several relationship patterns partitions by start and end node
    Given having executed:
      """
      CREATE (a:A {name: 'a'})-[:R]->(x {name: 'x'})-[:R]->(y {name: 'y'})-[:S]->(c:C {name: 'c'}),
        (a)-[:R]->(y), (x)-[:S]->(d:C {name: 'd'})
      """
    When executing query:
      """
      MATCH p = SHORTEST 2 GROUPS (a:A)(()-[:R]->()){1,4}(b)-[:S]->(c:C)
      RETURN c.name AS c, length(p) AS len, count(*) AS n
      """
    Then the result should be, in any order:
      | c | len | n |
      | 'c' | 2 | 1 |
      | 'c' | 3 | 1 |
      | 'd' | 2 | 1 |
    And no side effects

  Scenario: SHORTEST $k takes the number of paths from a parameter
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | 5 |
    When executing query:
      """
      MATCH p = SHORTEST $k (wos:Station {name: 'Worcester Shrub Hill'})-[:LINK]-+(bmv:Station {name: 'Bromsgrove'})
      RETURN count(p) AS paths
      """
    Then the result should be, in any order:
      | paths |
      | 5 |
    And no side effects

  Scenario: ANY $k takes the number of paths from a parameter
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | 3 |
    When executing query:
      """
      MATCH p = ANY $k (wos:Station {name: 'Worcester Shrub Hill'})-[:LINK]-+(bmv:Station {name: 'Bromsgrove'})
      RETURN count(p) AS paths
      """
    Then the result should be, in any order:
      | paths |
      | 3 |
    And no side effects

  Scenario: SHORTEST $k GROUPS takes the number of groups from a parameter
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | 2 |
    When executing query:
      """
      MATCH p = SHORTEST $k GROUPS (wos:Station {name: 'Worcester Shrub Hill'})-[:LINK]-+(bmv:Station {name: 'Bromsgrove'})
      RETURN length(p) AS len, count(*) AS paths
      """
    Then the result should be, in any order:
      | len | paths |
      | 2 | 2 |
      | 3 | 3 |
    And no side effects

  Scenario: SHORTEST $k with zero selects no path
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | 0 |
    When executing query:
      """
      MATCH p = SHORTEST $k (wos:Station {name: 'Worcester Shrub Hill'})-[:LINK]-+(bmv:Station {name: 'Bromsgrove'})
      RETURN count(p) AS paths
      """
    Then the result should be, in any order:
      | paths |
      | 0 |
    And no side effects

  Scenario: SHORTEST $k with a negative number is refused when the query runs
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | -1 |
    When executing query:
      """
      MATCH p = SHORTEST $k (wos:Station)-[:LINK]-+(bmv:Station)
      RETURN count(p) AS paths
      """
    Then the error code should be Neo.ClientError.Statement.ArgumentError

  Scenario: SHORTEST $k with a string is refused when the query runs
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    And parameters are:
      | k | '2' |
    When executing query:
      """
      MATCH p = SHORTEST $k (wos:Station)-[:LINK]-+(bmv:Station)
      RETURN count(p) AS paths
      """
    Then the error code should be Neo.ClientError.Statement.ArgumentError

  Scenario: shortestPath between two bound nodes
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Hartlebury'}), (b:Station {name: 'Cheltenham Spa'})
      MATCH p = shortestPath((a)-[:LINK*]-(b))
      RETURN [n IN nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Hartlebury', 'Droitwich Spa', 'Bromsgrove', 'Cheltenham Spa'] |
    And no side effects

  Scenario: allShortestPaths returns every path tied for shortest
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Worcester Shrub Hill'}), (b:Station {name: 'Bromsgrove'})
      MATCH p = allShortestPaths((a)-[:LINK*]-(b))
      RETURN [n IN nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] |
    And no side effects

  Scenario: shortestPath with a maximum length shorter than every path finds nothing
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Hartlebury'}), (b:Station {name: 'Cheltenham Spa'})
      OPTIONAL MATCH p = shortestPath((a)-[:LINK*..2]-(b))
      RETURN p IS NULL AS none
      """
    Then the result should be, in any order:
      | none |
      | true |
    And no side effects

  Scenario: shortestPath binds its relationship variable to a list and respects direction
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Pershore'}), (b:Station {name: 'Worcester Shrub Hill'})
      MATCH p = shortestPath((a)-[rs:LINK*]->(b))
      RETURN [r IN rs | r.distance] AS distances, length(p) AS len
      """
    Then the result should be, in any order:
      | distances | len |
      | [4.16, 3.71] | 2 |
    And no side effects

  Scenario: shortestPath from one node to every other node
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Hartlebury'})
      MATCH p = shortestPath((a)-[:LINK*]-(b:Station))
      RETURN length(p) AS len, count(*) AS n
      """
    Then the result should be, in any order:
      | len | n |
      | 1 | 1 |
      | 2 | 3 |
      | 3 | 3 |
      | 4 | 1 |
    And no side effects

  Scenario: shortestPath with a lower bound of zero from a node to itself is the empty path
    Given having executed:
      """
      CREATE (asc:Station {name:"Ashchurch"}),
        (bmv:Station {name:"Bromsgrove"}),
        (cnm:Station {name:"Cheltenham Spa"}),
        (dtw:Station {name:"Droitwich Spa"}),
        (hby:Station {name:"Hartlebury"}),
        (psh:Station {name:"Pershore"}),
        (wop:Station {name:"Worcestershire Parkway"}),
        (wof:Station {name:"Worcester Foregate Street"}),
        (wos:Station {name:"Worcester Shrub Hill"})
      CREATE (asc)-[:LINK {distance: 7.25}]->(cnm),
        (asc)-[:LINK {distance: 11.29}]->(wop),
        (asc)-[:LINK {distance: 14.75}]->(wos),
        (bmv)-[:LINK {distance: 31.14}]->(cnm),
        (bmv)-[:LINK {distance: 6.16}]->(dtw),
        (bmv)-[:LINK {distance: 12.6}]->(wop),
        (dtw)-[:LINK {distance: 5.64}]->(hby),
        (dtw)-[:LINK {distance: 6.03}]->(wof),
        (dtw)-[:LINK {distance: 5.76}]->(wos),
        (psh)-[:LINK {distance: 4.16}]->(wop),
        (wop)-[:LINK {distance: 3.71}]->(wos),
        (wof)-[:LINK {distance: 0.65}]->(wos)
      """
    When executing query:
      """
      MATCH (a:Station {name: 'Pershore'})
      MATCH p = shortestPath((a)-[:LINK*0..]-(a))
      RETURN length(p) AS len
      """
    Then the result should be, in any order:
      | len |
      | 0 |
    And no side effects

  Scenario: shortestPath beside another pattern part uses other relationships
    Given having executed:
      """
      CREATE (a:Start {name: 'a'})-[:R]->(b {name: 'b'}), (b)-[:R]->(a)
      """
    When executing query:
      """
      MATCH (x:Start)-[r:R]->(y), p = shortestPath((x)-[:R*]-(y))
      RETURN length(p) AS len
      """
    Then the result should be, in any order:
      | len |
      | 1 |
    And no side effects

  Scenario: A path pattern made only of a quantified path pattern with a lower bound of 0 is refused
    When executing query:
      """
      MATCH ((n)-[r]->(m)){0,10} RETURN n
      """
    Then a SyntaxError should be raised at compile time: InvalidQuantifiedPathPattern

  Scenario: A path pattern made only of a starred quantified path pattern is refused
    When executing query:
      """
      MATCH ((n)-[r]->(m))* RETURN count(*)
      """
    Then a SyntaxError should be raised at compile time: InvalidQuantifiedPathPattern

  Scenario: A path pattern made only of two groups that may both repeat zero times is refused
    When executing query:
      """
      MATCH ((a)-[:R]->(b)){,2} ((c)-[:S]->(d)){0,3} RETURN a
      """
    Then a SyntaxError should be raised at compile time: InvalidQuantifiedPathPattern

  Scenario: A group with a lower bound of 0 next to a written node pattern is allowed
    Given having executed:
      """
      CREATE (:Start {name: 's'})-[:R]->({name: 'x'})
      """
    When executing query:
      """
      MATCH (s:Start) ((n)-[r]->(m)){0,10} (t) RETURN t.name AS t ORDER BY t
      """
    Then the result should be, in order:
      | t   |
      | 's' |
      | 'x' |
    And no side effects

  Scenario: A lone quantified path pattern with a lower bound of 1 is allowed
    Given having executed:
      """
      CREATE ({name: 's'})-[:R]->({name: 'x'})
      """
    When executing query:
      """
      MATCH ((n)-[r]->(m)){1,10} RETURN [x IN n | x.name] AS n
      """
    Then the result should be, in any order:
      | n     |
      | ['s'] |
    And no side effects
