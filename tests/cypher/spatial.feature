Feature: Spatial
  # point() and point.distance() as in the Neo4j Cypher Manual's spatial functions.

  Scenario: Cartesian points and their distance
    Given an empty graph
    When executing query:
      """
      WITH point({x: 2.3, y: 4.5}) AS p1, point({x: 1.1, y: 5.4}) AS p2
      RETURN p1.x AS x, p1.srid AS srid, p1.crs AS crs, round(point.distance(p1, p2), 3) AS d
      """
    Then the result should be, in any order:
      | x   | srid | crs         | d   |
      | 2.3 | 7203 | 'cartesian' | 1.5 |
    And no side effects

  Scenario: Geographic points
    Given an empty graph
    When executing query:
      """
      WITH point({longitude: 12.78, latitude: 56.7}) AS p
      RETURN p.longitude AS lon, p.latitude AS lat, p.srid AS srid, p.crs AS crs
      """
    Then the result should be, in any order:
      | lon   | lat  | srid | crs      |
      | 12.78 | 56.7 | 4326 | 'wgs-84' |
    And no side effects

  Scenario: A null coordinate gives a null point; points of different systems have no distance
    Given an empty graph
    When executing query:
      """
      RETURN point({x: null, y: 1}) AS p,
             point.distance(point({x: 1, y: 1}), point({longitude: 1, latitude: 1})) AS d
      """
    Then the result should be, in any order:
      | p    | d    |
      | null | null |
    And no side effects

  Scenario: A point without coordinates is an argument error
    Given an empty graph
    When executing query:
      """
      RETURN point({z: 1}) AS p
      """
    Then an ArgumentError should be raised at runtime: InvalidArgumentValue

  Scenario: point.withinBBox
    Given an empty graph
    When executing query:
      """
      WITH point({x: 0, y: 0}) AS ll, point({x: 10, y: 10}) AS ur
      RETURN point.withinBBox(point({x: 5, y: 5}), ll, ur) AS inside,
             point.withinBBox(point({x: 50, y: 5}), ll, ur) AS outside
      """
    Then the result should be, in any order:
      | inside | outside |
      | true   | false   |
    And no side effects
