// The delta decoder: snapshots, deltas with new and changed rows, growing categories, gaps.
import { describe, expect, test } from "vitest";
import { ColumnStore, STATE, typed } from "../src/decode.js";
import { filterMask } from "../src/filter.js";

const FIXED = ["row", "state", "metric", "nonfinite", "started", "finished"];

/** A rows message as the kernel sends it: DataViews at odd offsets, like real buffers. */
function message({ seq, reset = false, n, newFrom, newIds, rows, params = {} }) {
  const keys = Object.keys(params);
  const columns = [...FIXED, ...keys.map((k) => `param:${k}`)];
  const view = (Ctor, values) => {
    const bytes = new Uint8Array(values.length * Ctor.BYTES_PER_ELEMENT + 3);
    const body = new Ctor(values.length);
    body.set(values);
    bytes.set(new Uint8Array(body.buffer), 3);
    return new DataView(bytes.buffer, 3, body.byteLength);
  };
  const buffers = [
    view(Uint32Array, rows.map((r) => r.row)),
    view(Uint8Array, rows.map((r) => r.state ?? STATE.finished)),
    view(Float64Array, rows.map((r) => r.metric ?? NaN)),
    view(Uint8Array, rows.map((r) => (r.nonfinite ? 1 : 0))),
    view(Float64Array, rows.map((r) => r.started ?? 100)),
    view(Float64Array, rows.map((r) => r.finished ?? NaN)),
    ...keys.map((k) => view(Float64Array, rows.map((r) => r.params?.[k] ?? NaN))),
  ];
  const content = { type: "rows", seq, reset, n, new_from: newFrom, new_ids: newIds, columns, time: 1000, axes_version: 0 };
  return [content, buffers];
}

function snapshot() {
  return message({
    seq: 1,
    reset: true,
    n: 2,
    newFrom: 0,
    newIds: ["a", "b"],
    rows: [
      { row: 0, metric: 0.5, params: { lr: 0.01, opt: 0 } },
      { row: 1, state: STATE.running, params: { lr: 0.1, opt: 1 } },
    ],
    params: { lr: 0, opt: 0 },
  });
}

describe("ColumnStore", () => {
  test("a snapshot fills every column", () => {
    const store = new ColumnStore();
    const result = store.apply(...snapshot());
    expect(result.status).toBe("applied");
    expect(result.reset).toBe(true);
    expect(store.n).toBe(2);
    expect(store.ids).toEqual(["a", "b"]);
    expect(store.rowOf.get("b")).toBe(1);
    expect(Array.from(store.state.subarray(0, 2))).toEqual([STATE.finished, STATE.running]);
    expect(store.metric[0]).toBe(0.5);
    expect(store.metric[1]).toBeNaN();
    expect(Array.from(store.column("lr").subarray(0, 2))).toEqual([0.01, 0.1]);
    expect(store.ready).toBe(true);
  });

  test("a delta with new rows, changed rows and a new category", () => {
    const store = new ColumnStore();
    store.apply(...snapshot());
    const versionBefore = store.rowVersion[0];
    const [content, buffers] = message({
      seq: 2,
      n: 4,
      newFrom: 2,
      newIds: ["c", "d"],
      rows: [
        { row: 1, metric: 0.25, params: { lr: 0.1, opt: 1 }, finished: 130 },
        { row: 2, nonfinite: true, params: { lr: 0.001, opt: 2 } },
        { row: 3, state: STATE.failed, params: { opt: 0 } },
      ],
      params: { lr: 0, opt: 0 },
    });
    const result = store.apply(content, buffers);
    expect(result.status).toBe("applied");
    expect(result.added).toBe(2);
    expect(Array.from(result.rows)).toEqual([1, 2, 3]);
    expect(store.n).toBe(4);
    expect(store.ids).toEqual(["a", "b", "c", "d"]);
    expect(store.metric[1]).toBe(0.25);
    expect(store.state[1]).toBe(STATE.finished);
    expect(store.nonfinite[2]).toBe(1);
    expect(store.state[3]).toBe(STATE.failed);
    expect(store.column("lr")[3]).toBeNaN(); // no value
    expect(store.column("opt")[2]).toBe(2); // the code of a category that is new
    expect(store.rowVersion[0]).toBe(versionBefore); // unchanged row keeps its version
    expect(store.rowVersion[1]).toBeGreaterThan(versionBefore);
    expect(store.duration(1)).toBe(30);

    // With the axis grown to three categories, a brush on the new one finds that run.
    const axes = [
      {
        key: "opt",
        kind: "categorical",
        categories: [
          { value: "adam", label: "adam" },
          { value: "sgd", label: "sgd" },
          { value: "lion", label: "lion" },
        ],
      },
    ];
    const mask = filterMask(axes, (a) => store.column(a.key), store.n, { opt: ["lion"] });
    expect(Array.from(mask)).toEqual([0, 0, 1, 0]);
  });

  test("rows beyond the first capacity are kept", () => {
    const store = new ColumnStore();
    store.apply(...snapshot());
    const ids = Array.from({ length: 200 }, (_, i) => `n${i}`);
    const [content, buffers] = message({
      seq: 2,
      n: 202,
      newFrom: 2,
      newIds: ids,
      rows: ids.map((_, i) => ({ row: i + 2, metric: i, params: { lr: i + 1 } })),
      params: { lr: 0 },
    });
    store.apply(content, buffers);
    expect(store.n).toBe(202);
    expect(store.metric[201]).toBe(199);
    expect(store.column("lr")[0]).toBe(0.01);
    expect(store.column("lr")[201]).toBe(200);
  });

  test("a missed message is a gap: the delta is refused until a snapshot", () => {
    const store = new ColumnStore();
    expect(store.apply(...message({ seq: 5, n: 1, newFrom: 0, newIds: ["x"], rows: [{ row: 0 }] })).status).toBe("gap");
    store.apply(...snapshot());
    const skipped = message({ seq: 3, n: 2, newFrom: 2, newIds: [], rows: [] });
    expect(store.apply(...skipped).status).toBe("gap");
    const old = message({ seq: 1, n: 2, newFrom: 2, newIds: [], rows: [] });
    expect(store.apply(...old).status).toBe("stale");
    expect(store.n).toBe(2);
  });

  test("a snapshot replaces everything, also after deltas", () => {
    const store = new ColumnStore();
    store.apply(...snapshot());
    const [content, buffers] = message({
      seq: 9,
      reset: true,
      n: 1,
      newFrom: 0,
      newIds: ["z"],
      rows: [{ row: 0, metric: 3 }],
      params: {},
    });
    store.apply(content, buffers);
    expect(store.ids).toEqual(["z"]);
    expect(store.rowOf.has("a")).toBe(false);
    expect(store.column("lr")).toBeNull();
    expect(store.seq).toBe(9);
  });

  test("listeners hear every applied message", () => {
    const store = new ColumnStore();
    const heard = [];
    store.subscribe((r) => heard.push(r.reset));
    store.apply(...snapshot());
    store.apply(...message({ seq: 2, n: 2, newFrom: 2, newIds: [], rows: [{ row: 0, metric: 1 }] }));
    expect(heard).toEqual([true, false]);
  });

  test("a message whose buffers disagree is an error, not a silent mix", () => {
    const store = new ColumnStore();
    const [content, buffers] = snapshot();
    buffers[2] = new DataView(new ArrayBuffer(8));
    expect(() => store.apply(content, buffers)).toThrow(/metric/);
  });
});

test("typed copies any buffer, aligned", () => {
  const bytes = new Uint8Array(17);
  new DataView(bytes.buffer).setFloat64(1, 2.5, true);
  expect(Array.from(typed(new DataView(bytes.buffer, 1, 8), Float64Array))).toEqual([2.5]);
  expect(() => typed(new DataView(bytes.buffer, 0, 7), Float64Array)).toThrow(RangeError);
});
