/**
 * The relations of the `geoLocation` filter of `files/list`, `search` and `aggregate` (the spec's
 * `GeoLocationFilter`: `INTERSECTS`, `DISJOINT`, `WITHIN`), computed exactly on planar coordinates, as a GeoJSON
 * geometry library would (no geodesic edges, no antimeridian wrapping, boundaries count as part of a shape):
 *
 * - a geometry is split into points, segments (line strings, and the rings of polygons) and polygons (an outer
 *   ring and its holes, the even-odd rule); a multi-geometry is the union of its members;
 * - `INTERSECTS`: the two share at least one point (a touch on a boundary counts); `DISJOINT` is its negation;
 * - `WITHIN`: every point of the file's geometry lies in the filter's shape (its boundary included). A segment is
 *   cut wherever it meets the shape's edges and each piece is tested at its midpoint; an area is within when its
 *   rings are, and no ring of the shape passes through its interior (a hole of the shape inside it).
 *
 * Orientation tests use plain floating point arithmetic: coordinates that differ by a rounding error may touch or
 * not as the arithmetic says.
 *
 * @internal
 */

type Position = ReadonlyArray<number>
type Ring = ReadonlyArray<Position>

/** The geometries of a file's `geoLocation` and of a filter's `shape` (already validated by schema.ts). */
export type Geometry =
  | { readonly type: "Point"; readonly coordinates: Position }
  | { readonly type: "LineString"; readonly coordinates: ReadonlyArray<Position> }
  | { readonly type: "Polygon"; readonly coordinates: ReadonlyArray<Ring> }
  | { readonly type: "MultiPoint"; readonly coordinates: ReadonlyArray<Position> }
  | { readonly type: "MultiLineString"; readonly coordinates: ReadonlyArray<ReadonlyArray<Position>> }
  | { readonly type: "MultiPolygon"; readonly coordinates: ReadonlyArray<ReadonlyArray<Ring>> }

export type Relation = "INTERSECTS" | "DISJOINT" | "WITHIN"

interface Point {
  readonly x: number
  readonly y: number
}
interface Segment {
  readonly a: Point
  readonly b: Point
}
/** The parts of a geometry: lone points, segments (of lines; polygon edges are in `polygons`), polygons. */
interface Parts {
  readonly points: ReadonlyArray<Point>
  readonly segments: ReadonlyArray<Segment>
  readonly polygons: ReadonlyArray<ReadonlyArray<ReadonlyArray<Point>>>
}

const point = (p: Position): Point => ({ x: p[0]!, y: p[1]! })
const segmentsOf = (line: ReadonlyArray<Position>): Array<Segment> =>
  line.slice(1).map((p, i) => ({ a: point(line[i]!), b: point(p) }))
const polygonOf = (rings: ReadonlyArray<Ring>) => rings.map((ring) => ring.map(point))

const partsOf = (geometry: Geometry): Parts => {
  switch (geometry.type) {
    case "Point":
      return { points: [point(geometry.coordinates)], segments: [], polygons: [] }
    case "MultiPoint":
      return { points: geometry.coordinates.map(point), segments: [], polygons: [] }
    case "LineString":
      return { points: [], segments: segmentsOf(geometry.coordinates), polygons: [] }
    case "MultiLineString":
      return { points: [], segments: geometry.coordinates.flatMap(segmentsOf), polygons: [] }
    case "Polygon":
      return { points: [], segments: [], polygons: [polygonOf(geometry.coordinates)] }
    case "MultiPolygon":
      return { points: [], segments: [], polygons: geometry.coordinates.map(polygonOf) }
  }
}

const ringSegments = (ring: ReadonlyArray<Point>): Array<Segment> =>
  ring.slice(1).map((b, i) => ({ a: ring[i]!, b }))
const edgesOf = (parts: Parts): Array<Segment> =>
  parts.polygons.flatMap((polygon) => polygon.flatMap(ringSegments))
const verticesOf = (parts: Parts): Array<Point> =>
  parts.polygons.flatMap((polygon) => polygon.flatMap((ring) => ring))

const cross = (o: Point, a: Point, b: Point) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
const between = (v: number, a: number, b: number) => v >= Math.min(a, b) && v <= Math.max(a, b)
const same = (p: Point, q: Point) => p.x === q.x && p.y === q.y

const onSegment = (p: Point, s: Segment): boolean =>
  cross(s.a, s.b, p) === 0 && between(p.x, s.a.x, s.b.x) && between(p.y, s.a.y, s.b.y)

const segmentsMeet = (s: Segment, t: Segment): boolean => {
  const d1 = cross(t.a, t.b, s.a)
  const d2 = cross(t.a, t.b, s.b)
  const d3 = cross(s.a, s.b, t.a)
  const d4 = cross(s.a, s.b, t.b)
  if (((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0))) return true
  return onSegment(s.a, t) || onSegment(s.b, t) || onSegment(t.a, s) || onSegment(t.b, s)
}

/** Inside a polygon (even-odd over all its rings), or on one of its rings. */
const inPolygon = (p: Point, polygon: ReadonlyArray<ReadonlyArray<Point>>): boolean => {
  let inside = false
  for (const ring of polygon) {
    for (const edge of ringSegments(ring)) {
      if (onSegment(p, edge)) return true
      const { a, b } = edge
      if ((a.y > p.y) !== (b.y > p.y) && p.x < a.x + ((p.y - a.y) * (b.x - a.x)) / (b.y - a.y)) inside = !inside
    }
  }
  return inside
}

/** Strictly inside a polygon: inside and on none of its rings. */
const inInterior = (p: Point, polygon: ReadonlyArray<ReadonlyArray<Point>>): boolean =>
  inPolygon(p, polygon) && !polygon.some((ring) => ringSegments(ring).some((edge) => onSegment(p, edge)))

const covers = (parts: Parts, p: Point): boolean =>
  parts.points.some((q) => same(p, q)) ||
  parts.segments.some((s) => onSegment(p, s)) ||
  parts.polygons.some((polygon) => inPolygon(p, polygon))

const pointMeets = (parts: Parts) => (p: Point) => covers(parts, p)

const segmentMeets = (parts: Parts) => (s: Segment): boolean =>
  parts.points.some((p) => onSegment(p, s)) ||
  parts.segments.some((t) => segmentsMeet(s, t)) ||
  edgesOf(parts).some((t) => segmentsMeet(s, t)) ||
  parts.polygons.some((polygon) => inPolygon(s.a, polygon))

/** Two polygons meet when their rings cross or touch, or a vertex of one lies in the other. */
const polygonMeets = (parts: Parts) => (polygon: ReadonlyArray<ReadonlyArray<Point>>): boolean => {
  const own: Parts = { points: [], segments: [], polygons: [polygon] }
  const edges = polygon.flatMap(ringSegments)
  return parts.points.some((p) => inPolygon(p, polygon)) ||
    parts.segments.some((s) => edges.some((e) => segmentsMeet(s, e)) || inPolygon(s.a, polygon)) ||
    edgesOf(parts).some((s) => edges.some((e) => segmentsMeet(s, e))) ||
    verticesOf(parts).some((p) => inPolygon(p, polygon)) ||
    verticesOf(own).some((p) => parts.polygons.some((other) => inPolygon(p, other)))
}

const intersects = (a: Parts, b: Parts): boolean =>
  a.points.some(pointMeets(b)) || a.segments.some(segmentMeets(b)) || a.polygons.some(polygonMeets(b))

/** Where along `s` (0..1) it meets the segments `edges` and the points `points`: the cut points. */
const cuts = (s: Segment, edges: ReadonlyArray<Segment>, points: ReadonlyArray<Point>): Array<number> => {
  const dx = s.b.x - s.a.x
  const dy = s.b.y - s.a.y
  const along = (p: Point) => Math.abs(dx) >= Math.abs(dy) ? (p.x - s.a.x) / dx : (p.y - s.a.y) / dy
  const ts = [0, 1]
  const at = (p: Point) => {
    if (onSegment(p, s)) ts.push(along(p))
  }
  for (const e of edges) {
    at(e.a)
    at(e.b)
    const denominator = dx * (e.b.y - e.a.y) - dy * (e.b.x - e.a.x)
    if (denominator !== 0) {
      const t = ((e.a.x - s.a.x) * (e.b.y - e.a.y) - (e.a.y - s.a.y) * (e.b.x - e.a.x)) / denominator
      const u = ((e.a.x - s.a.x) * dy - (e.a.y - s.a.y) * dx) / denominator
      if (t > 0 && t < 1 && u >= 0 && u <= 1) ts.push(t)
    }
  }
  for (const p of points) at(p)
  return [...new Set(ts.filter((t) => Number.isFinite(t)))].sort((x, y) => x - y)
}

/** Every point of the segment is covered by `parts`: each piece between two cuts is tested at its midpoint. */
const segmentWithin = (s: Segment, parts: Parts, edges: ReadonlyArray<Segment>): boolean => {
  if (!covers(parts, s.a) || !covers(parts, s.b)) return false
  if (same(s.a, s.b)) return true
  const ts = cuts(s, [...parts.segments, ...edges], parts.points)
  for (let i = 1; i < ts.length; i++) {
    const t = (ts[i - 1]! + ts[i]!) / 2
    if (!covers(parts, { x: s.a.x + t * (s.b.x - s.a.x), y: s.a.y + t * (s.b.y - s.a.y) })) return false
  }
  return true
}

const within = (a: Parts, b: Parts): boolean => {
  const edges = edgesOf(b)
  if (!a.points.every((p) => covers(b, p))) return false
  if (!a.segments.every((s) => segmentWithin(s, b, edges))) return false
  if (a.polygons.length > 0 && b.polygons.length === 0) return false
  return a.polygons.every((polygon) => {
    const own = polygon.flatMap(ringSegments)
    if (!own.every((s) => segmentWithin(s, b, edges))) return false
    // no ring of the shape may pass through the interior of this area (which would put a hole of it inside)
    return edges.every((e) => {
      const ts = cuts(e, own, [])
      for (let i = 1; i < ts.length; i++) {
        const t = (ts[i - 1]! + ts[i]!) / 2
        if (inInterior({ x: e.a.x + t * (e.b.x - e.a.x), y: e.a.y + t * (e.b.y - e.a.y) }, polygon)) return false
      }
      return !inInterior(e.a, polygon)
    })
  })
}

/** Whether a file's geometry stands in `relation` to the filter's `shape`. */
export const relates = (relation: Relation, file: Geometry, shape: Geometry): boolean => {
  const a = partsOf(file)
  const b = partsOf(shape)
  switch (relation) {
    case "INTERSECTS":
      return intersects(a, b)
    case "DISJOINT":
      return !intersects(a, b)
    case "WITHIN":
      return within(a, b)
  }
}
