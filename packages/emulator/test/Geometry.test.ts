/**
 * The `geoLocation` filter of files/list, search and aggregate: the relations computed by the emulator for every
 * geometry type a file can have, against every shape type the spec allows, and through the routes.
 */
import { Emulator } from "@effect-cdf/emulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type Geometry, relates } from "../src/internal/geometry.js"
import { createFile, postOk } from "./utils.js"

const square = (x0: number, y0: number, size: number) => [
  [x0, y0],
  [x0 + size, y0],
  [x0 + size, y0 + size],
  [x0, y0 + size],
  [x0, y0]
]
const polygon = (...rings: Array<Array<Array<number>>>): Geometry => ({ type: "Polygon", coordinates: rings })
const point = (x: number, y: number): Geometry => ({ type: "Point", coordinates: [x, y] })
const line = (...positions: Array<Array<number>>): Geometry => ({ type: "LineString", coordinates: positions })

/** A 10 x 10 square with a 4 x 4 hole in its middle. */
const donut = polygon(square(0, 0, 10), square(3, 3, 4))
/** A concave "U": the notch is x in (3, 7), y in (3, 10]. */
const u = polygon([[0, 0], [10, 0], [10, 10], [7, 10], [7, 3], [3, 3], [3, 10], [0, 10], [0, 0]])

describe("geometry relations (planar, boundaries included)", () => {
  it("points: inside, on the boundary, in a hole, outside", () => {
    expect(relates("INTERSECTS", point(1, 1), donut)).toBe(true)
    expect(relates("INTERSECTS", point(10, 5), donut)).toBe(true)
    expect(relates("INTERSECTS", point(3, 5), donut)).toBe(true)
    expect(relates("INTERSECTS", point(5, 5), donut)).toBe(false)
    expect(relates("DISJOINT", point(5, 5), donut)).toBe(true)
    expect(relates("WITHIN", point(5, 5), donut)).toBe(false)
    expect(relates("WITHIN", point(10, 10), donut)).toBe(true)
    expect(relates("INTERSECTS", point(11, 5), donut)).toBe(false)
    expect(relates("WITHIN", point(2, 2), line([0, 0], [4, 4]))).toBe(true)
    expect(relates("WITHIN", point(2, 2.5), line([0, 0], [4, 4]))).toBe(false)
    expect(relates("INTERSECTS", point(2, 2), point(2, 2))).toBe(true)
  })

  it("lines: crossing, touching, collinear overlap, inside a hole, through a concave notch", () => {
    expect(relates("INTERSECTS", line([-1, 5], [1, 5]), donut)).toBe(true)
    expect(relates("INTERSECTS", line([4, 4], [6, 6]), donut)).toBe(false)
    expect(relates("INTERSECTS", line([-5, 0], [0, 0]), donut)).toBe(true)
    expect(relates("INTERSECTS", line([0, 0], [2, 2]), line([2, 2], [5, 0]))).toBe(true)
    expect(relates("INTERSECTS", line([0, 0], [2, 0]), line([1, 0], [5, 0]))).toBe(true)
    expect(relates("INTERSECTS", line([0, 0], [2, 0]), line([3, 0], [5, 0]))).toBe(false)
    expect(relates("WITHIN", line([1, 1], [2, 9]), donut)).toBe(true)
    // both ends inside, the middle crosses the hole
    expect(relates("WITHIN", line([1, 5], [9, 5]), donut)).toBe(false)
    // both ends in the arms of the U, the segment crosses the notch
    expect(relates("WITHIN", line([1, 8], [9, 8]), u)).toBe(false)
    // along the bottom of the notch: on the boundary, so within
    expect(relates("WITHIN", line([3, 3], [7, 3]), u)).toBe(true)
    // covered by two collinear pieces of the shape
    expect(relates("WITHIN", line([0, 0], [4, 0]), { type: "MultiLineString", coordinates: [[[0, 0], [2, 0]], [[2, 0], [5, 0]]] }))
      .toBe(true)
    expect(relates("WITHIN", line([0, 0], [4, 0]), { type: "MultiLineString", coordinates: [[[0, 0], [1, 0]], [[2, 0], [5, 0]]] }))
      .toBe(false)
  })

  it("polygons: overlap, containment both ways, a shape's hole inside the file's area, multipolygons", () => {
    expect(relates("INTERSECTS", polygon(square(8, 8, 5)), donut)).toBe(true)
    expect(relates("INTERSECTS", polygon(square(4, 4, 2)), donut)).toBe(false)
    expect(relates("DISJOINT", polygon(square(4, 4, 2)), donut)).toBe(true)
    // the shape entirely inside the file's area: no edge crosses, still intersects
    expect(relates("INTERSECTS", polygon(square(-5, -5, 30)), polygon(square(1, 1, 1)))).toBe(true)
    expect(relates("INTERSECTS", polygon(square(1, 1, 1)), polygon(square(-5, -5, 30)))).toBe(true)
    expect(relates("INTERSECTS", polygon(square(10, 0, 5)), polygon(square(0, 0, 10)))).toBe(true)
    expect(relates("WITHIN", polygon(square(1, 1, 1)), donut)).toBe(true)
    expect(relates("WITHIN", polygon(square(0, 0, 10)), polygon(square(0, 0, 10)))).toBe(true)
    // the donut's hole lies inside this square: its edges are all within the donut, its area is not
    expect(relates("WITHIN", polygon(square(2, 2, 6)), donut)).toBe(false)
    // the U's notch cuts the square
    expect(relates("WITHIN", polygon(square(1, 6, 8)), u)).toBe(false)
    expect(relates("WITHIN", polygon(square(-1, -1, 3)), donut)).toBe(false)
    const two: Geometry = { type: "MultiPolygon", coordinates: [[square(0, 0, 2)], [square(5, 5, 2)]] }
    expect(relates("WITHIN", { type: "MultiPoint", coordinates: [[1, 1], [6, 6]] }, two)).toBe(true)
    expect(relates("WITHIN", { type: "MultiPoint", coordinates: [[1, 1], [3, 3]] }, two)).toBe(false)
    expect(relates("INTERSECTS", point(3, 3), two)).toBe(false)
    expect(relates("WITHIN", polygon(square(0, 0, 1)), line([0, 0], [1, 0]))).toBe(false)
    expect(relates("INTERSECTS", { type: "MultiPolygon", coordinates: [[square(20, 20, 1)], [square(1, 1, 1)]] }, donut))
      .toBe(true)
  })
})

describe("files/list, search and aggregate filter by geoLocation", () => {
  it.effect("INTERSECTS, DISJOINT and WITHIN select by geometry; files without a geoLocation match none", () =>
    Effect.gen(function*() {
      const at = (geometry: Geometry) => ({ type: "Feature", geometry })
      yield* createFile({ name: "in", geoLocation: at(point(1, 1)) })
      yield* createFile({ name: "hole", geoLocation: at(point(5, 5)) })
      yield* createFile({ name: "road", geoLocation: at(line([-5, 1], [1, 1])) })
      yield* createFile({ name: "site", geoLocation: at(polygon(square(1, 1, 2))) })
      yield* createFile({ name: "far", geoLocation: at({ type: "MultiPoint", coordinates: [[50, 50], [60, 60]] }) })
      yield* createFile({ name: "nowhere" })
      const list = (relation: string, shape: Geometry) =>
        Effect.map(
          postOk("files/list", { filter: { geoLocation: { relation, shape } } }),
          (body) => (body.items as Array<{ name: string }>).map((item) => item.name)
        )
      expect(yield* list("INTERSECTS", donut)).toEqual(["in", "road", "site"])
      expect(yield* list("WITHIN", donut)).toEqual(["in", "site"])
      expect(yield* list("DISJOINT", donut)).toEqual(["hole", "far"])
      // as @cognite/sdk types the relation: lower case
      expect(yield* list("within", donut)).toEqual(["in", "site"])
      expect(yield* list("INTERSECTS", { type: "MultiLineString", coordinates: [[[0, 5], [10, 5]], [[55, 50], [55, 70]]] }))
        .toEqual(["hole"])
      const count = yield* postOk("files/aggregate", { filter: { geoLocation: { relation: "WITHIN", shape: donut } } })
      expect(count.items).toEqual([{ count: 2 }])
      const search = yield* postOk("files/search", {
        filter: { geoLocation: { relation: "INTERSECTS", shape: point(2, 2) } },
        search: { name: "site" }
      })
      expect((search.items as Array<{ name: string }>).map((item) => item.name)).toEqual(["site"])
    }).pipe(Effect.provide(Emulator.layerInMemory())))
})
