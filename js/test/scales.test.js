// Axis scales: linear, log and categorical axes, flips, domains and brush conversion.
import { describe, expect, test } from "vitest";
import { axisDomain, axisScale, formatNumber, metricColorPosition } from "../src/scales.js";

const RANGE = [300, 50]; // [bottom, top] in pixels

describe("linear axes", () => {
  const axis = { key: "x", kind: "linear", domain: [0, 1] };

  test("maps the domain onto the range, bottom to top", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.y(0)).toBeCloseTo(300);
    expect(s.y(1)).toBeCloseTo(50);
    expect(s.y(0.5)).toBeCloseTo(175);
    expect(s.y(NaN)).toBeNaN();
  });

  test("a flipped axis puts the low end at the top", () => {
    const s = axisScale(axis, null, 0, RANGE, true);
    expect(s.y(0)).toBeCloseTo(50);
    expect(s.y(1)).toBeCloseTo(300);
  });

  test("brush pixels invert to data units in order, flipped or not", () => {
    for (const flipped of [false, true]) {
      const s = axisScale(axis, null, 0, RANGE, flipped);
      const [lo, hi] = s.invert([s.y(0.2), s.y(0.6)]);
      expect(lo).toBeCloseTo(0.2);
      expect(hi).toBeCloseTo(0.6);
      const [y0, y1] = s.pixels([0.2, 0.6]);
      expect(y0).toBeLessThan(y1);
      expect(Math.min(y0, y1)).toBeCloseTo(Math.min(s.y(0.2), s.y(0.6)));
    }
  });

  test("the domain widens to values outside the spec, never shrinks", () => {
    const column = Float64Array.from([0.5, 2, NaN]);
    expect(axisDomain(axis, column, 3)).toEqual([0, 2]);
    expect(axisDomain({ ...axis, domain: null }, column, 3)).toEqual([0.5, 2]);
  });

  test("a brush kept in data units lands on the same values after the domain grows", () => {
    const before = axisScale(axis, null, 0, RANGE);
    const after = axisScale(axis, Float64Array.from([4]), 1, RANGE);
    const [a0, a1] = after.pixels([0.2, 0.6]);
    expect(after.invert([a0, a1])[0]).toBeCloseTo(0.2);
    expect(after.invert([a0, a1])[1]).toBeCloseTo(0.6);
    expect(a1 - a0).toBeLessThan(before.pixels([0.2, 0.6])[1] - before.pixels([0.2, 0.6])[0]);
  });

  test("a constant axis puts its value in the middle with one tick", () => {
    const s = axisScale({ key: "c", kind: "linear", domain: [3, 3] }, null, 0, RANGE);
    expect(s.y(3)).toBeCloseTo(175);
    expect(s.ticks.map((t) => t.label)).toEqual(["3"]);
  });

  test("integer axes get integer ticks", () => {
    const s = axisScale({ key: "n", kind: "linear", domain: [1, 4], integer: true }, null, 0, RANGE);
    expect(s.ticks.every((t) => Number.isInteger(t.value))).toBe(true);
  });

  test("an axis without any value draws nothing", () => {
    const s = axisScale({ key: "m", kind: "linear", domain: null }, Float64Array.from([NaN]), 1, RANGE);
    expect(s.empty).toBe(true);
    expect(s.ticks).toEqual([]);
  });
});

describe("log axes", () => {
  const axis = { key: "lr", kind: "log", domain: [1e-5, 0.1] };

  test("positions are linear in log10 of the value", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.y(1e-5)).toBeCloseTo(300);
    expect(s.y(0.1)).toBeCloseTo(50);
    expect(s.y(1e-3)).toBeCloseTo(175);
  });

  test("values that are not positive have no position", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.y(0)).toBeNaN();
    expect(s.y(-1)).toBeNaN();
  });

  test("ticks are powers of ten labelled with their real values", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.ticks.map((t) => t.label)).toEqual(["1e-5", "1e-4", "0.001", "0.01", "0.1"]);
  });

  test("brushes round-trip in data units", () => {
    const s = axisScale(axis, null, 0, RANGE, true);
    const [lo, hi] = s.invert(s.pixels([1e-4, 1e-2]));
    expect(lo).toBeCloseTo(1e-4, 8);
    expect(hi).toBeCloseTo(1e-2, 8);
  });

  test("a log domain ignores values that are not positive", () => {
    expect(axisDomain(axis, Float64Array.from([-1, 0, 1]), 3)).toEqual([1e-5, 1]);
  });
});

describe("categorical axes", () => {
  const axis = {
    key: "opt",
    kind: "categorical",
    categories: [
      { value: "adam", label: "adam" },
      { value: null, label: "None" },
      { value: true, label: "True" },
    ],
  };

  test("codes sit evenly, first at the bottom, labelled with real values", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.y(0)).toBeCloseTo(300);
    expect(s.y(1)).toBeCloseTo(175);
    expect(s.y(2)).toBeCloseTo(50);
    expect(s.ticks.map((t) => t.label)).toEqual(["adam", "None", "True"]);
    expect(s.y(3)).toBeNaN();
    expect(s.y(NaN)).toBeNaN();
  });

  test("flipping reverses the order", () => {
    const s = axisScale(axis, null, 0, RANGE, true);
    expect(s.y(0)).toBeCloseTo(50);
    expect(s.y(2)).toBeCloseTo(300);
  });

  test("a brush covers category values, and is drawn around them", () => {
    const s = axisScale(axis, null, 0, RANGE);
    expect(s.invert([160, 310])).toEqual(["adam", null]);
    expect(s.invert([100, 120])).toEqual([]);
    const [y0, y1] = s.pixels([null, true]);
    expect(y0).toBeLessThan(50 + 1e-9 + 10);
    expect(y1).toBeGreaterThan(175);
    expect(s.pixels(["nope"])).toBeNull();
  });

  test("a single category sits in the middle", () => {
    const s = axisScale({ ...axis, categories: [{ value: 1, label: "1" }] }, null, 0, RANGE);
    expect(s.y(0)).toBeCloseTo(175);
  });

  test("many categories keep every tick but label only some", () => {
    const categories = Array.from({ length: 40 }, (_, i) => ({ value: i, label: String(i) }));
    const s = axisScale({ key: "k", kind: "categorical", categories }, null, 0, RANGE);
    expect(s.ticks).toHaveLength(40);
    expect(s.ticks.filter((t) => t.label).length).toBeLessThanOrEqual(15);
  });
});

describe("metric colours", () => {
  test("the best value is 1 whether the goal is to minimize or maximize", () => {
    const minimize = metricColorPosition("minimize", 0.1, 0.9);
    const maximize = metricColorPosition("maximize", 0.1, 0.9);
    expect(minimize(0.1)).toBe(1);
    expect(minimize(0.9)).toBe(0);
    expect(maximize(0.9)).toBe(1);
    expect(maximize(0.1)).toBe(0);
    expect(minimize(NaN)).toBeNaN();
  });

  test("one value only is the best", () => {
    expect(metricColorPosition("minimize", 2, 2)(2)).toBe(1);
  });
});

test("formatNumber writes short labels", () => {
  expect(formatNumber(0)).toBe("0");
  expect(formatNumber(0.001)).toBe("0.001");
  expect(formatNumber(1e-5)).toBe("1e-5");
  expect(formatNumber(123456)).toBe("1.235e5");
  expect(formatNumber(25)).toBe("25");
});
