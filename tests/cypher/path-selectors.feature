Feature: PathSelectors
  # GQL path selectors (SHORTEST k, ALL SHORTEST, SHORTEST k GROUPS, ANY k) and quantified path
  # patterns with inner predicates, from the Neo4j Cypher Manual's "Shortest paths" and
  # "Quantified path patterns" pages (the Worcestershire stations graph and its documented rows).

  Background:
    Given an empty graph

  Scenario: SHORTEST 1 returns one of the paths tied for shortest
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
      MATCH p = SHORTEST 1 (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN length(p) AS result
      """
    Then the result should be, in any order:
      | result |
      | 2 |
    And no side effects

  Scenario: SHORTEST 2 returns both paths tied for shortest
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
      MATCH p = SHORTEST 2 (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN [n in nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] |
    And no side effects

  Scenario: SHORTEST 5 returns the next shortest paths
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
      MATCH p = SHORTEST 5 (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN [n in nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Worcester Foregate Street', 'Droitwich Spa', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Ashchurch', 'Worcestershire Parkway', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Ashchurch', 'Cheltenham Spa', 'Bromsgrove'] |
    And no side effects

  Scenario: ALL SHORTEST returns every path tied for shortest
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
      MATCH p = ALL SHORTEST (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN [n in nodes(p) | n.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] |
    And no side effects

  Scenario: SHORTEST 2 GROUPS returns the paths of the two shortest lengths
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
      MATCH p = SHORTEST 2 GROUPS (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN [n in nodes(p) | n.name] AS stops, length(p) AS pathLength
      """
    Then the result should be, in any order:
      | stops | pathLength |
      | ['Worcester Shrub Hill', 'Droitwich Spa', 'Bromsgrove'] | 2 |
      | ['Worcester Shrub Hill', 'Worcestershire Parkway', 'Bromsgrove'] | 2 |
      | ['Worcester Shrub Hill', 'Worcester Foregate Street', 'Droitwich Spa', 'Bromsgrove'] | 3 |
      | ['Worcester Shrub Hill', 'Ashchurch', 'Worcestershire Parkway', 'Bromsgrove'] | 3 |
      | ['Worcester Shrub Hill', 'Ashchurch', 'Cheltenham Spa', 'Bromsgrove'] | 3 |
    And no side effects

  Scenario: SHORTEST 8 GROUPS returns the groups that exist
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
      MATCH p = SHORTEST 8 GROUPS (wos:Station)-[:LINK]-+(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN length(p) AS pathLength, count(*) AS numPaths
      """
    Then the result should be, in any order:
      | pathLength | numPaths |
      | 2 | 2 |
      | 3 | 3 |
      | 4 | 1 |
      | 5 | 4 |
      | 6 | 8 |
      | 7 | 10 |
      | 8 | 6 |
    And no side effects

  Scenario: ANY with a relationship predicate tests reachability
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
      MATCH path = ANY
        (:Station {name: 'Pershore'})-[l:LINK WHERE l.distance < 10]-+(b:Station {name: 'Bromsgrove'})
      RETURN [r IN relationships(path) | r.distance] AS distances
      """
    Then the result should be, in any order:
      | distances |
      | [4.16, 3.71, 5.76, 6.16] |
    And no side effects

  Scenario: Path selectors select per partition of start and end node
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
      UNWIND ["Droitwich Spa", "Hartlebury"] AS a
      UNWIND ["Ashchurch", "Cheltenham Spa"] AS b
      MATCH SHORTEST 2 GROUPS (o:Station {name: a})-[l]-+(d:Station {name: b})
      RETURN o.name AS start, d.name AS end,
          size(l) AS pathLength, count(*) AS numPaths
      ORDER BY start, end, pathLength
      """
    Then the result should be, in order:
      | start | end | pathLength | numPaths |
      | 'Droitwich Spa' | 'Ashchurch' | 2 | 1 |
      | 'Droitwich Spa' | 'Ashchurch' | 3 | 4 |
      | 'Droitwich Spa' | 'Cheltenham Spa' | 2 | 1 |
      | 'Droitwich Spa' | 'Cheltenham Spa' | 3 | 1 |
      | 'Hartlebury' | 'Ashchurch' | 3 | 1 |
      | 'Hartlebury' | 'Ashchurch' | 4 | 4 |
      | 'Hartlebury' | 'Cheltenham Spa' | 3 | 1 |
      | 'Hartlebury' | 'Cheltenham Spa' | 4 | 1 |
    And no side effects

  Scenario: SHORTEST over a quantified path pattern with a group variable
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
      RETURN [stop in n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Bromsgrove'] |
    And no side effects

  Scenario: A MATCH WHERE is a post-filter of a path selector
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
      RETURN [stop in n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
    And no side effects

  Scenario: A predicate inside a quantified path pattern is a pre-filter
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
      RETURN [stop in n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Worcester Shrub Hill', 'Ashchurch'] |
    And no side effects

  Scenario: A parenthesized path pattern's WHERE is a pre-filter
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
      RETURN [stop in n[..-1] | stop.name] AS stops
      """
    Then the result should be, in any order:
      | stops |
      | ['Droitwich Spa', 'Worcester Shrub Hill', 'Ashchurch'] |
    And no side effects

  Scenario: SHORTEST 1 to every reachable end node
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
      MATCH p = SHORTEST 1 (:Station {name: 'Hartlebury'})--+(b:Station)
      RETURN b.name AS destination, length(p) AS pathLength
      ORDER BY pathLength, destination
      """
    Then the result should be, in order:
      | destination | pathLength |
      | 'Droitwich Spa' | 1 |
      | 'Bromsgrove' | 2 |
      | 'Worcester Foregate Street' | 2 |
      | 'Worcester Shrub Hill' | 2 |
      | 'Ashchurch' | 3 |
      | 'Cheltenham Spa' | 3 |
      | 'Worcestershire Parkway' | 3 |
      | 'Pershore' | 4 |
    And no side effects

  Scenario: A WHERE on the path after a selector filters the selected paths
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
      MATCH p = SHORTEST 1 (:Station {name: 'Hartlebury'})--+(b:Station)
      WHERE length(p) % 2 = 0
      RETURN b.name AS destination, length(p) AS pathLength
      ORDER BY pathLength, destination
      """
    Then the result should be, in order:
      | destination | pathLength |
      | 'Bromsgrove' | 2 |
      | 'Worcester Foregate Street' | 2 |
      | 'Worcester Shrub Hill' | 2 |
      | 'Pershore' | 4 |
    And no side effects

  Scenario: A subpath variable in a parenthesized path pattern is a pre-filter
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
        (p = (:Station {name: 'Hartlebury'})--+(b:Station)
          WHERE length(p) % 2 = 0 )
      RETURN b.name AS destination, length(p) AS pathLength
      ORDER BY pathLength, destination
      """
    Then the result should be, in order:
      | destination | pathLength |
      | 'Bromsgrove' | 2 |
      | 'Worcester Foregate Street' | 2 |
      | 'Worcester Shrub Hill' | 2 |
      | 'Ashchurch' | 4 |
      | 'Cheltenham Spa' | 4 |
      | 'Droitwich Spa' | 4 |
      | 'Pershore' | 4 |
      | 'Worcestershire Parkway' | 4 |
    And no side effects

  Scenario: ANY k and the PATH keyword
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
      MATCH p = ANY 2 PATHS (wos:Station)-[:LINK]-{1,2}(bmv:Station)
      WHERE wos.name = "Worcester Shrub Hill" AND bmv.name = "Bromsgrove"
      RETURN count(p) AS n
      """
    Then the result should be, in any order:
      | n |
      | 2 |
    And no side effects

  Scenario: A selective path selector must be the only path pattern of its MATCH
    When executing query:
      """
      MATCH p = SHORTEST 2 (:A)--+(a)--+(:B), q = ANY 2 (a)-->{,2}(:C) RETURN p, q
      """
    Then a SyntaxError should be raised at compile time: InvalidPathPattern

  Scenario: A path selector over several variable-length relationships
    Given having executed:
      """
      CREATE (:A)-[:R]->(m)-[:R]->(n)-[:R]->(:B), (m)-[:R]->(:B)
      """
    When executing query:
      """
      MATCH p = SHORTEST 2 (:A)--+(a)--+(:B) RETURN length(p) AS len, count(*) AS n
      """
    Then the result should be, in any order:
      | len | n |
      | 2   | 1 |
      | 3   | 2 |
    And no side effects

  Scenario: The number of paths of a selector must be positive
    When executing query:
      """
      MATCH p = SHORTEST 0 (a)-->+(b) RETURN p
      """
    Then a SyntaxError should be raised at compile time: InvalidArgumentValue

  Scenario: A subpath variable needs a path selector
    When executing query:
      """
      MATCH (:A)-[:S]->(:B) (p = ((a)-[r]->(b))+) RETURN p
      """
    Then a SyntaxError should be raised at compile time: InvalidPathPattern

  Scenario: A path selector in CREATE is refused
    When executing query:
      """
      CREATE SHORTEST 1 (a)-[:R]->(b)
      """
    Then a SyntaxError should be raised at compile time: InvalidPathPattern

  Scenario: Quantified path pattern with node predicates: group variables are lists
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH ((x:A)-[:R]->(z:B WHERE z.h > 2)){2}
      RETURN [n in x | n.h] AS x_h, [n in z | n.h] AS z_h
      """
    Then the result should be, in any order:
      | x_h | z_h |
      | [1, 3] | [3, 4] |
      | [3, 4] | [4, 5] |
    And no side effects

  Scenario: Quantified path pattern with node predicates, one to five iterations
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH ((x:A)-[:R]->(z:B WHERE z.h > 2)){1,5}
      RETURN [n in x | n.h] AS x_h, [n in z | n.h] AS z_h
      """
    Then the result should be, in any order:
      | x_h | z_h |
      | [1] | [3] |
      | [3] | [4] |
      | [4] | [5] |
      | [1, 3] | [3, 4] |
      | [3, 4] | [4, 5] |
      | [1, 3, 4] | [3, 4, 5] |
    And no side effects

  Scenario: A WHERE inside a quantified path pattern sees the iteration's singletons
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH (s) ((x)-[r:R]->(y) WHERE y.h > x.h AND r IS NOT NULL){1,3} (e)
      RETURN s.h AS s, e.h AS e, size(r) AS hops
      """
    Then the result should be, in any order:
      | s | e | hops |
      | 1 | 3 | 1 |
      | 1 | 4 | 2 |
      | 1 | 5 | 3 |
      | 3 | 4 | 1 |
      | 3 | 5 | 2 |
      | 4 | 5 | 1 |
    And no side effects

  Scenario: A relationship predicate and an inline map inside a quantified path pattern
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH (s:A {h: 1}) ((x)-[r:R WHERE startNode(r) = x]->(y:B {h: 3})){1,3} (e)
      RETURN e.h AS e, [n IN x | n.h] AS xs
      """
    Then the result should be, in any order:
      | e | xs |
      | 3 | [1] |
    And no side effects

  Scenario: A group variable is a list outside its quantified path pattern
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH ((x)-[r]->(z)){2,3} WHERE z.h > x.h RETURN x
      """
    Then a TypeError should be raised at compile time: InvalidArgumentType

  Scenario: A quantified path pattern of two relationships
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH ((a)-[:R]->(b)-[:R]->(c)){1,3} RETURN [n IN a | n.h] AS a, [n IN c | n.h] AS c
      """
    Then the result should be, in any order:
      | a   | c   |
      | [1] | [4] |
      | [3] | [5] |
    And no side effects

  Scenario: A quantified path pattern variable cannot be declared outside it too
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5}),
             (:A {h: 7})-[:R]->(:B {h: 2})
      """
    When executing query:
      """
      MATCH (x) ((x)-[:R]->(y)){1,3} (z) RETURN z
      """
    Then a SyntaxError should be raised at compile time: VariableAlreadyBound

  Scenario: shortestPath over a quantified path pattern binds its group variables
    Given having executed:
      """
      CREATE (:A {h: 1})-[:R]->(:A:B {h: 3})-[:R]->(:A:B {h: 4})-[:R]->(:B {h: 5})
      """
    When executing query:
      """
      MATCH p = shortestPath((s {h: 1}) ((x)-[:R]->(y WHERE y.h > 2))+ (e {h: 5}))
      RETURN [n IN x | n.h] AS xs, [n IN y | n.h] AS ys, length(p) AS l
      """
    Then the result should be, in any order:
      | xs        | ys        | l |
      | [1, 3, 4] | [3, 4, 5] | 3 |
    And no side effects
