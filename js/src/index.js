// The nbsweep dashboard widget (anywidget entry point).
//
// `initialize` runs once per widget model: it keeps the run columns (decode.js) and the
// shared hover/selection state (state.js) and answers the kernel's messages. `render` runs
// once per view: it asks the kernel for a full snapshot and builds the five views, which all
// read the same columns, so a reload or a second view of the same widget works.

import "./dashboard.css";
import { ColumnStore } from "./decode.js";
import { filterMask, countSelected, hasBrush } from "./filter.js";
import { createState, orderAxes } from "./state.js";
import { createHeaderView } from "./views/header.js";
import { createParallelView } from "./views/parallel.js";
import { createImportanceView } from "./views/importance.js";
import { createTableView } from "./views/table.js";
import { createCurvesView } from "./views/curves.js";

const REQUEST_TIMEOUT_MS = 30_000;
const SNAPSHOT_RETRY_MS = 1_000;

// Models by their dashboard id: `initialize` and `render` get different proxies of one model.
const shared = new Map();

function sharedFor(model) {
  const id = model.get("_dashboard_id");
  let entry = shared.get(id);
  if (!entry) {
    entry = {
      store: new ColumnStore(),
      state: createState(),
      pending: new Map(),
      nextRequest: 0,
      lastSnapshotAsk: -Infinity,
      filterCache: null,
    };
    shared.set(id, entry);
  }
  return entry;
}

function askSnapshot(model, entry, force = false) {
  const now = performance.now();
  if (!force && now - entry.lastSnapshotAsk < SNAPSHOT_RETRY_MS) return;
  entry.lastSnapshotAsk = now;
  model.send({ type: "snapshot" });
}

function onMessage(model, entry, content, buffers) {
  if (!content || typeof content !== "object") return;
  if (content.type === "rows") {
    let result;
    try {
      result = entry.store.apply(content, buffers ?? []);
    } catch (error) {
      console.error("[nbsweep] bad rows message", error);
      askSnapshot(model, entry, true);
      return;
    }
    if (result.status === "gap") askSnapshot(model, entry);
    return;
  }
  const waiting = entry.pending.get(content.request);
  if (waiting) {
    entry.pending.delete(content.request);
    clearTimeout(waiting.timer);
    waiting.resolve({ content, buffers: buffers ?? [] });
  }
}

function initialize({ model }) {
  const entry = sharedFor(model);
  const handler = (content, buffers) => onMessage(model, entry, content, buffers);
  model.on("msg:custom", handler);
  return () => {
    model.off("msg:custom", handler);
    for (const waiting of entry.pending.values()) clearTimeout(waiting.timer);
    shared.delete(model.get("_dashboard_id"));
  };
}

/** What every view gets: the model, the columns, the shared state and helpers. */
function makeContext(model, entry, root) {
  const cleanups = [];
  const ctx = {
    model,
    store: entry.store,
    state: entry.state,
    root,
    axes: () => model.get("axes") ?? [],
    orderedAxes: () => orderAxes(model.get("axes") ?? [], entry.state.get("order")),
    metric: () => model.get("metric") ?? {},
    brush: () => model.get("brush") ?? {},
    setBrush(brush, save) {
      model.set("brush", brush);
      if (save) model.save_changes();
    },
    selected: () => model.get("selected") ?? [],
    setSelected(ids) {
      model.set("selected", ids);
      model.save_changes();
    },
    columnOf(axis) {
      return axis.is_metric ? entry.store.metric : entry.store.column(axis.key);
    },
    /** Runs inside the brush: {mask (null when nothing is brushed), count}. */
    filtered() {
      const axes = ctx.axes();
      const brush = ctx.brush();
      const cache = entry.filterCache;
      // The model hands out the same objects until they change, so identity is enough.
      if (cache && cache.version === entry.store.version && cache.axes === axes && cache.brush === brush) {
        return cache;
      }
      const n = entry.store.n;
      let mask = null;
      let count = n;
      if (hasBrush(axes, brush)) {
        mask = filterMask(axes, ctx.columnOf, n, brush);
        count = countSelected(mask);
      }
      entry.filterCache = { version: entry.store.version, axes, brush, mask, count };
      return entry.filterCache;
    },
    request(message) {
      const id = ++entry.nextRequest;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          entry.pending.delete(id);
          reject(new Error(`no answer to ${message.type} in ${REQUEST_TIMEOUT_MS / 1000} s`));
        }, REQUEST_TIMEOUT_MS);
        entry.pending.set(id, { resolve, reject, timer });
        model.send({ ...message, request: id });
      });
    },
    /** Listen to a model event, the columns ("store") or the shared state ("state"). */
    on(type, handler) {
      let off;
      if (type === "store") off = entry.store.subscribe(handler);
      else if (type === "state") off = entry.state.on("change", handler);
      else {
        model.on(type, handler);
        off = () => model.off(type, handler);
      }
      cleanups.push(off);
      return off;
    },
    markDrawn() {
      if (entry.store.ready && root.dataset.ready !== "true") root.dataset.ready = "true";
    },
    dispose() {
      for (const off of cleanups.splice(0)) off();
    },
  };
  return ctx;
}

function render({ model, el }) {
  const entry = sharedFor(model);
  const root = document.createElement("div");
  root.className = "nbsweep-dashboard";
  root.dataset.sweepId = model.get("sweep_id");
  root.dataset.ready = "false";
  el.appendChild(root);

  const ctx = makeContext(model, entry, root);
  const header = document.createElement("div");
  const parallel = document.createElement("div");
  const row = document.createElement("div");
  row.className = "nbs-row";
  const importance = document.createElement("div");
  const curves = document.createElement("div");
  const table = document.createElement("div");
  row.append(importance, curves);
  root.append(header, parallel, row, table);

  const views = [
    createHeaderView(header, ctx),
    createParallelView(parallel, ctx),
    createImportanceView(importance, ctx),
    createCurvesView(curves, ctx),
    createTableView(table, ctx),
  ];
  askSnapshot(model, entry, true);

  return () => {
    for (const view of views) view.destroy();
    ctx.dispose();
    root.remove();
  };
}

export default { initialize, render };
