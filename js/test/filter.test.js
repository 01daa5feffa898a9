// Brush filtering against the cases shared with the Python tests.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { canonKey, categoryCodes, countSelected, filterMask, hasBrush } from "../src/filter.js";

const fixture = JSON.parse(
  readFileSync(new URL("../../tests/data/brush_filter_cases.json", import.meta.url), "utf8"),
);
const columns = Object.fromEntries(
  Object.entries(fixture.columns).map(([key, values]) => [
    key,
    Float64Array.from(values, (v) => (v === null ? NaN : v)),
  ]),
);
const columnOf = (axis) => columns[axis.key] ?? null;
const n = fixture.ids.length;

describe("shared brush cases", () => {
  test.each(fixture.cases.map((c) => [c.name, c]))("%s", (_, c) => {
    const mask = filterMask(fixture.axes, columnOf, n, c.brush);
    const kept = fixture.ids.filter((_, i) => mask[i]);
    expect(kept).toEqual(c.expected);
    expect(countSelected(mask)).toBe(c.expected.length);
  });
});

describe("canonKey", () => {
  test("numbers by value, booleans and null apart", () => {
    expect(canonKey(1)).toBe(canonKey(1.0));
    expect(canonKey(true)).not.toBe(canonKey(1));
    expect(canonKey(null)).not.toBe(canonKey("null"));
    expect(canonKey(0)).toBe(canonKey(-0));
  });
  test("objects by content, keys in any order", () => {
    expect(canonKey({ a: 1, b: [1, "x"] })).toBe(canonKey({ b: [1.0, "x"], a: 1 }));
    expect(canonKey([1, 2])).not.toBe(canonKey([2, 1]));
  });
});

test("categoryCodes maps values to codes", () => {
  const axis = fixture.axes.find((a) => a.key === "opt");
  expect([...categoryCodes(axis, ["sgd", null, [64, 64]])].sort()).toEqual([1, 2, 5]);
});

test("hasBrush ignores brushes on unknown axes", () => {
  expect(hasBrush(fixture.axes, {})).toBe(false);
  expect(hasBrush(fixture.axes, { nope: [0, 1] })).toBe(false);
  expect(hasBrush(fixture.axes, { x: [0, 1] })).toBe(true);
});
