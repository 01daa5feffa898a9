// Parallel coordinates: one axis per parameter and the metric last; run lines on a canvas,
// axes and brushes in SVG.
//
// Lines are drawn in batches: runs are grouped by style (failed, each colour bin and dash
// pattern, NaN metric) and each batch is one canvas path; drawing goes on for at most a
// few milliseconds per animation frame, so the page stays responsive at 10,000 runs. Three
// canvases: every run in grey underneath (only while something is brushed; redrawn only
// when the axes change), the runs inside the brush in colour (redrawn on every brush move),
// and hover and selection on top, so moving the mouse never redraws the lines. Brushes are
// kept in data units (the `brush` trait) and redrawn from them whenever an axis changes its
// range.

import { select } from "d3-selection";
import { axisLeft } from "d3-axis";
import { brushY, brushSelection } from "d3-brush";
import { drag } from "d3-drag";
import { axisScale, extent, formatNumber, formatPrecise6, metricColor, metricColorPosition } from "../scales.js";
import { STATE, STATE_NAMES } from "../decode.js";
import { categoryCodes } from "../filter.js";
import { button, download, drawSvg, frameThrottle, h, panel, svgDocument } from "../dom.js";

const HEIGHT = 380;
const MARGIN = { top: 54, bottom: 20, left: 76, right: 76 };
const TITLE_Y = 16;
const NAN_Y = 36;
const CHUNK_ROWS = 200; // rows per canvas path
const FRAME_BUDGET_MS = 12; // drawing time per animation frame
const HAIRLINE_ABOVE = 1000; // above this many runs, lines are one device pixel wide
const MANY_RUNS = 500;
const BINS = 32;
const HOVER_PX = 6;
const BRUSH_HALF = 11;
const ONE_AXIS_HALF = 14;

const GREY_OUT = "rgba(150, 150, 150, 0.22)";
const GREY_FAILED = "rgba(125, 125, 125, 0.6)";
const GREY_NO_METRIC = "rgba(110, 110, 110, 0.65)";
const RED_NAN = "rgba(214, 39, 40, 0.9)";
const DASHES = { solid: [], running: [5, 3], stopped: [1.5, 3], nan: [6, 3, 1.5, 3] };

function dashOf(state) {
  if (state === STATE.running) return "running";
  if (state === STATE.stopped) return "stopped";
  return "solid";
}

export function createParallelView(container, ctx) {
  const { store, state } = ctx;
  const parts = panel("parallel", "Parallel coordinates", "nbs-parallel");
  container.replaceWith(parts.section);
  const body = h("div", { class: "nbs-pc-body", style: `height:${HEIGHT}px` });
  const back = h("canvas", { class: "nbs-pc-back" });
  const canvas = h("canvas", { class: "nbs-pc-lines", "data-testid": "lines", "data-drawn": "0", "data-highlighted": "0" });
  const overlay = h("canvas", { class: "nbs-pc-overlay" });
  const tooltip = h("div", { class: "nbs-tooltip", hidden: true, "data-testid": "tooltip" });
  body.append(back, canvas, overlay, tooltip);
  const legend = h("div", { class: "nbs-legend" });
  parts.body.append(body, legend);
  const svg = select(body).append("svg").attr("class", "nbs-pc-svg");
  const axesLayer = svg.append("g").attr("class", "nbs-axes");
  const nanLabel = svg.append("text").attr("class", "nbs-nan-label").attr("y", NAN_Y).attr("dy", "0.32em");

  parts.tools.append(
    button("Clear brushes", "clear-brushes", () => ctx.setBrush({}, true), "Remove every brush"),
    button("PNG", "export-png", () => exportPng(), "Download this view as PNG"),
    button("SVG", "export-svg", () => exportSvg(), "Download this view as SVG"),
  );

  let layout = null;
  let ys = null; // Float32Array: row * axes + axis -> y pixel (NaN: no point)
  let colorPos = () => NaN;
  let colorRange = null;
  let drawable = 0; // runs with at least one point on the axes
  let backDrawn = false; // the grey layer shows the current layout
  const jobs = new Map(); // canvas -> drawing job, run by pumpJobs
  let jobFrame = 0;
  let activeBrush = null;
  let dragging = null;
  let pointer = null;
  const brushes = new Map();
  const needs = { layout: true, lines: true, overlay: true };
  const metricColors = Array.from({ length: BINS }, (_, bin) => metricColor((bin + 0.5) / BINS));

  const schedule = frameThrottle(() => {
    if (!body.isConnected) return; // a view that was replaced: stay idle
    if (needs.layout) computeLayout();
    if (!layout) return;
    if (needs.layout) {
      renderAxes();
      computePositions();
      backDrawn = false;
    }
    if (needs.layout || needs.lines) drawLines();
    if (needs.layout || needs.lines || needs.overlay) drawOverlay();
    if (needs.layout || needs.lines) syncBrushes();
    needs.layout = needs.lines = needs.overlay = false;
  });
  function request(kind) {
    needs[kind] = true;
    schedule();
  }

  // Layout ---------------------------------------------------------------------------

  // Limitation: the metric axis is linear, like the matplotlib figure's; a few diverged runs
  // squash the rest (brush the metric axis to look closer). No log or quantile metric axis.
  function computeLayout() {
    const width = Math.floor(body.clientWidth);
    if (!width) {
      layout = null;
      return;
    }
    const axes = ctx.orderedAxes();
    const plotTop = MARGIN.top;
    const plotBottom = HEIGHT - MARGIN.bottom;
    const m = axes.length;
    const span = width - MARGIN.left - MARGIN.right;
    const flipped = state.get("flipped");
    const items = axes.map((axis, i) => {
      const column = ctx.columnOf(axis);
      return {
        axis,
        key: axis.key,
        x: m === 1 ? width / 2 : MARGIN.left + (i * span) / (m - 1),
        column,
        scale: axisScale(axis, column, store.n, [plotBottom, plotTop], flipped.has(axis.key)),
      };
    });
    layout = { width, height: HEIGHT, plotTop, plotBottom, items, n: store.n, spacing: m > 1 ? span / (m - 1) : width };
    const dpr = window.devicePixelRatio || 1;
    for (const c of [back, canvas, overlay]) {
      c.width = Math.round(width * dpr);
      c.height = Math.round(HEIGHT * dpr);
      c.style.width = `${width}px`;
      c.style.height = `${HEIGHT}px`;
    }
    const metric = ctx.metric();
    colorRange = extent(store.metric, store.n);
    colorPos = colorRange ? metricColorPosition(metric.goal, colorRange[0], colorRange[1]) : () => NaN;
    renderLegend(metric);
  }

  function computePositions() {
    const { items, n } = layout;
    const m = items.length;
    ys = new Float32Array(n * m).fill(NaN);
    items.forEach((item, j) => {
      const { column, scale } = item;
      const isMetric = item.axis.is_metric;
      for (let row = 0; row < n; row++) {
        let y = NaN;
        if (isMetric && store.nonfinite[row]) y = NAN_Y;
        else if (column) y = scale.y(column[row]);
        ys[row * m + j] = y;
      }
    });
    drawable = 0;
    for (let row = 0; row < n; row++) {
      for (let j = 0; j < m; j++) {
        if (Number.isFinite(ys[row * m + j])) {
          drawable++;
          break;
        }
      }
    }
  }

  // Axes and brushes -----------------------------------------------------------------

  function title(item) {
    const room = Math.max(40, Math.min(layout.spacing, 220) - 10);
    const chars = Math.max(4, Math.floor(room / 6.4));
    const mark = state.get("flipped").has(item.key) ? " ⇅" : "";
    const name = item.axis.name;
    return (name.length > chars ? `${name.slice(0, chars - 1)}…` : name) + mark;
  }

  function renderAxes() {
    svg.attr("width", layout.width).attr("height", layout.height);
    const groups = axesLayer
      .selectAll("g.nbs-axis")
      .data(layout.items, (d) => d.key)
      .join((enter) => {
        const g = enter.append("g").attr("class", "nbs-axis").attr("data-testid", "axis");
        g.append("g").attr("class", "nbs-ticks");
        g.append("g").attr("class", "nbs-brush");
        const text = g
          .append("text")
          .attr("class", "nbs-axis-title")
          .attr("data-testid", "axis-title")
          .attr("text-anchor", "middle")
          .attr("y", TITLE_Y);
        text.append("tspan");
        text.append("title");
        text.on("click", (event, d) => {
          if (event.defaultPrevented) return;
          state.toggleFlip(d.key);
        });
        text.call(titleDrag);
        return g;
      });
    groups
      .attr("data-axis", (d) => d.key)
      .attr("data-kind", (d) => d.axis.kind)
      .attr("transform", (d) => `translate(${d.x},0)`)
      .classed("nbs-metric", (d) => d.axis.is_metric)
      .classed("is-flipped", (d) => state.get("flipped").has(d.key))
      .classed("is-hot", (d) => state.get("hoverAxis") === d.key);
    groups.each(function (d) {
      const g = select(this);
      const ticks = d.scale.ticks;
      const generator = axisLeft(d.scale.scale)
        .tickValues(ticks.map((t) => t.value))
        .tickFormat((_, i) => ticks[i].label)
        .tickSizeOuter(0);
      g.select(".nbs-ticks").call(generator);
      const t = g.select(".nbs-axis-title");
      t.select("tspan").text(title(d));
      t.select("title").text(
        `${d.axis.name} (${d.axis.kind}${d.axis.constant ? ", constant" : ""}). Click to flip, drag to move.`,
      );
      const brushNode = g.select(".nbs-brush");
      if (!brushes.has(d.key)) {
        const brush = brushY()
          .extent([
            [-BRUSH_HALF, layout.plotTop],
            [BRUSH_HALF, layout.plotBottom],
          ])
          .on("start brush end", (event) => onBrush(event, d.key));
        brushes.set(d.key, brush);
        brushNode.call(brush);
      }
    });
    const metricItem = layout.items.find((i) => i.axis.is_metric);
    let nan = 0;
    for (let row = 0; row < layout.n; row++) nan += store.nonfinite[row];
    nanLabel
      .attr("x", metricItem ? metricItem.x - 6 : 0)
      .attr("text-anchor", "end")
      .attr("hidden", metricItem && nan ? null : true)
      .text(nan ? `✕ NaN/inf (${nan})` : "");
  }

  function itemOf(key) {
    return layout?.items.find((i) => i.key === key);
  }

  function onBrush(event, key) {
    if (!event.sourceEvent) return; // our own brush.move
    const item = itemOf(key);
    if (!item) return;
    if (event.type === "start") activeBrush = key;
    const brush = { ...ctx.brush() };
    let snapTo = null;
    if (!event.selection) delete brush[key];
    else {
      const value = item.scale.invert(event.selection);
      if (item.axis.kind === "categorical" && event.type === "end") {
        if (value.length === 0) delete brush[key];
        else {
          brush[key] = value;
          snapTo = item.scale.pixels(value);
        }
      } else brush[key] = value;
    }
    if (event.type === "end") activeBrush = null;
    ctx.setBrush(brush, event.type === "end");
    if (event.type === "end") {
      const node = axesLayer.select(`g.nbs-axis[data-axis="${CSS.escape(key)}"] .nbs-brush`);
      const brushObject = brushes.get(key);
      if (!(key in brush)) node.call(brushObject.move, null);
      else if (snapTo) node.call(brushObject.move, snapTo);
    }
  }

  function syncBrushes() {
    const brush = ctx.brush();
    axesLayer.selectAll("g.nbs-axis").each(function (d) {
      if (d.key === activeBrush) return;
      const node = select(this).select(".nbs-brush");
      const want = brush[d.key] != null ? d.scale.pixels(brush[d.key]) : null;
      const have = brushSelection(node.node());
      if (!want && !have) return;
      if (want && have && Math.abs(want[0] - have[0]) < 0.5 && Math.abs(want[1] - have[1]) < 0.5) return;
      node.call(brushes.get(d.key).move, want);
    });
    // Limitation: a categorical brush set from Python may pick categories that are not next
    // to each other; one brush rectangle cannot show that, so it spans them all and the
    // picked labels are marked (the filter uses exactly the picked ones).
    axesLayer.selectAll("g.nbs-axis").each(function (d) {
      if (d.axis.kind !== "categorical") return;
      const picked = brush[d.key] ? categoryCodes(d.axis, brush[d.key]) : null;
      select(this)
        .selectAll(".tick")
        .classed("is-picked", (code) => Boolean(picked?.has(code)))
        .classed("is-unpicked", (code) => Boolean(picked && !picked.has(code)));
    });
  }

  // Limitation: while an axis is dragged only the axis moves; the lines follow when it is
  // dropped. The order and the flips live in the page (shared by the views of one widget),
  // not in Python, so a page reload resets them.
  const titleDrag = drag()
    .clickDistance(4)
    .container(() => svg.node())
    .subject((event, d) => ({ x: d.x, y: TITLE_Y }))
    .on("start", (event, d) => {
      dragging = { key: d.key, moved: false };
    })
    .on("drag", function (event, d) {
      if (!dragging) return;
      dragging.moved = true;
      d.x = Math.max(0, Math.min(layout.width, event.x));
      select(this.parentNode).raise().attr("transform", `translate(${d.x},0)`).classed("is-dragging", true);
    })
    .on("end", function (event, d) {
      select(this.parentNode).classed("is-dragging", false);
      const moved = dragging?.moved;
      dragging = null;
      if (!moved) return;
      const order = layout.items
        .slice()
        .sort((a, b) => a.x - b.x)
        .map((i) => i.key);
      state.set({ order });
    });

  // Lines ----------------------------------------------------------------------------

  function groupRows(mask) {
    const { n } = layout;
    // Many opaque lines make one blob: the more runs, the more transparent each line.
    const alpha = Math.min(0.9, Math.max(0.25, 12 / Math.sqrt(Math.max(1, n))));
    // Few NaN-metric runs are drawn on top so they are seen; many would hide the rest.
    const nanOrder = n > MANY_RUNS ? 5 : 1e6;
    const groups = new Map();
    const add = (key, order, stroke, dash, row, groupAlpha = 1) => {
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { order, stroke, dash, alpha: groupAlpha, rows: [] }));
      group.rows.push(row);
    };
    for (let row = 0; row < n; row++) {
      if (mask && !mask[row]) continue;
      const s = store.state[row];
      if (store.nonfinite[row]) add("nan", nanOrder, RED_NAN, DASHES.nan, row, n > MANY_RUNS ? 0.6 : 1);
      else if (s === STATE.failed || s === STATE.crashed) add("failed", 1, GREY_FAILED, DASHES.solid, row);
      else {
        const dash = dashOf(s);
        const t = colorPos(store.metric[row]);
        if (!Number.isFinite(t)) add(`none:${dash}`, 2, GREY_NO_METRIC, DASHES[dash], row);
        else {
          const bin = Math.min(BINS - 1, Math.floor(t * BINS));
          add(`c:${bin}:${dash}`, 10 + bin, metricColors[bin], DASHES[dash], row, alpha);
        }
      }
    }
    return [...groups.values()].sort((a, b) => a.order - b.order);
  }

  /** Add one run's line to the current path; returns how many points it has. */
  function tracePath(c, row, xs, m) {
    const base = row * m;
    if (m === 1) {
      const y = ys[base];
      if (!Number.isFinite(y)) return 0;
      c.moveTo(xs[0] - ONE_AXIS_HALF, y);
      c.lineTo(xs[0] + ONE_AXIS_HALF, y);
      return 1;
    }
    let pen = false;
    let points = 0;
    for (let j = 0; j < m; j++) {
      const y = ys[base + j];
      if (!Number.isFinite(y)) {
        pen = false;
        continue;
      }
      points++;
      if (pen) c.lineTo(xs[j], y);
      else {
        c.moveTo(xs[j], y);
        pen = true;
      }
    }
    return points;
  }

  function lineWidth() {
    // A one-device-pixel line is many times cheaper to draw than a wider one where the
    // canvas has no GPU, which is what keeps 10,000 lines quick everywhere.
    return layout.n > HAIRLINE_ABOVE ? 1 / (window.devicePixelRatio || 1) : 1;
  }

  /** Start drawing batches of rows onto a canvas; returns nothing, calls done(count). */
  function startJob(target, groups, done) {
    const dpr = window.devicePixelRatio || 1;
    const c = target.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, layout.width, HEIGHT);
    const xs = layout.items.map((i) => i.x);
    const m = xs.length;
    const width = lineWidth();
    let gi = 0;
    let ri = 0;
    let count = 0;
    jobs.set(target, {
      step() {
        if (gi >= groups.length) return true;
        const group = groups[gi];
        const end = Math.min(group.rows.length, ri + CHUNK_ROWS);
        c.beginPath();
        for (let k = ri; k < end; k++) if (tracePath(c, group.rows[k], xs, m) > 0) count++;
        c.strokeStyle = group.stroke;
        c.globalAlpha = group.alpha ?? 1;
        c.lineWidth = width;
        c.setLineDash(group.dash);
        c.stroke();
        c.globalAlpha = 1;
        ri = end;
        if (ri >= group.rows.length) {
          gi++;
          ri = 0;
        }
        return gi >= groups.length;
      },
      done: () => done(count),
    });
  }

  function pumpJobs() {
    jobFrame = 0;
    const deadline = performance.now() + FRAME_BUDGET_MS;
    // The coloured lines first: they are what a brush changes.
    for (const target of [canvas, back]) {
      const job = jobs.get(target);
      if (!job) continue;
      let finished = false;
      while (!finished && performance.now() < deadline) finished = job.step();
      if (finished) {
        jobs.delete(target);
        job.done();
      }
    }
    if (jobs.size) jobFrame = requestAnimationFrame(pumpJobs);
  }

  function drawLines() {
    const { mask } = ctx.filtered();
    if (!mask) {
      back.hidden = true;
      jobs.delete(back);
    } else if (!backDrawn) {
      back.hidden = false;
      backDrawn = true;
      startJob(back, [{ stroke: GREY_OUT, dash: DASHES.solid, rows: Array.from({ length: layout.n }, (_, i) => i) }], () => {});
    }
    startJob(canvas, groupRows(mask), (count) => {
      canvas.dataset.drawn = String(drawable);
      canvas.dataset.highlighted = String(count);
      const filtered = ctx.filtered().count;
      parts.note.textContent = `${store.n} runs${filtered !== store.n ? `, ${filtered} in the brush` : ""}`;
      ctx.markDrawn();
    });
    if (jobFrame) cancelAnimationFrame(jobFrame);
    pumpJobs();
  }

  function strokeRow(c, row, color, width) {
    const xs = layout.items.map((i) => i.x);
    c.beginPath();
    tracePath(c, row, xs, xs.length);
    c.strokeStyle = color;
    c.lineWidth = width;
    c.stroke();
  }

  function rowColor(row) {
    if (store.nonfinite[row]) return RED_NAN;
    const s = store.state[row];
    if (s === STATE.failed || s === STATE.crashed) return "rgb(125,125,125)";
    const t = colorPos(store.metric[row]);
    return Number.isFinite(t) ? metricColor(t) : "rgb(110,110,110)";
  }

  function drawOverlay() {
    const dpr = window.devicePixelRatio || 1;
    const c = overlay.getContext("2d");
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.clearRect(0, 0, layout.width, HEIGHT);
    c.lineJoin = "round";
    if (!ys) return;
    for (const id of ctx.selected()) {
      const row = store.rowOf.get(id);
      if (row === undefined || row >= layout.n) continue;
      strokeRow(c, row, "rgba(20,20,20,0.85)", 4);
      strokeRow(c, row, rowColor(row), 2);
    }
    const hover = state.get("hover");
    if (hover >= 0 && hover < layout.n) {
      strokeRow(c, hover, "rgba(255,255,255,0.9)", 5);
      strokeRow(c, hover, "#ff7f0e", 2.5);
    }
  }

  // Hover ----------------------------------------------------------------------------

  function nearestRow(mx, my) {
    const { items, n } = layout;
    const m = items.length;
    if (!m || !ys) return -1;
    let j = 0;
    let t = 0;
    if (m > 1) {
      while (j < m - 2 && mx > items[j + 1].x) j++;
      t = Math.max(0, Math.min(1, (mx - items[j].x) / (items[j + 1].x - items[j].x)));
    }
    const { mask } = ctx.filtered();
    let best = -1;
    let bestDistance = HOVER_PX;
    for (let row = 0; row < n; row++) {
      if (mask && !mask[row]) continue;
      const a = ys[row * m + j];
      const b = m > 1 ? ys[row * m + j + 1] : a;
      let y;
      if (Number.isFinite(a) && Number.isFinite(b)) y = a + (b - a) * t;
      else if (Number.isFinite(a) && t < 0.15) y = a;
      else if (Number.isFinite(b) && t > 0.85) y = b;
      else continue;
      const distance = Math.abs(y - my);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = row;
      }
    }
    return best;
  }

  const hoverFrame = frameThrottle(() => {
    if (!pointer || !layout || dragging) return;
    const row = nearestRow(pointer.x, pointer.y);
    state.set({ hover: row });
    showTooltip(row);
  });

  function valueLabel(item, row) {
    const v = item.column ? item.column[row] : NaN;
    if (item.axis.is_metric && store.nonfinite[row]) return "NaN/inf";
    if (!Number.isFinite(v)) return "—";
    if (item.axis.kind === "categorical") return item.axis.categories?.[v]?.label ?? "?";
    return item.axis.is_metric ? formatPrecise6(v) : formatNumber(v);
  }

  function showTooltip(row) {
    if (row < 0 || !pointer) {
      tooltip.hidden = true;
      return;
    }
    const lines = layout.items.map((item) =>
      h("div", {}, h("span", { class: "nbs-tip-key", text: `${item.axis.name}: ` }), valueLabel(item, row)),
    );
    tooltip.replaceChildren(
      h("div", { class: "nbs-tip-title" }, h("b", { text: store.ids[row] }), ` ${STATE_NAMES[store.state[row]] ?? "?"}`),
      ...lines,
    );
    tooltip.hidden = false;
    const left = pointer.x + 14 + 220 > layout.width ? pointer.x - 14 - 220 : pointer.x + 14;
    tooltip.style.left = `${Math.max(0, left)}px`;
    tooltip.style.top = `${Math.max(0, Math.min(HEIGHT - 40, pointer.y + 10))}px`;
  }

  body.addEventListener("pointermove", (event) => {
    const box = body.getBoundingClientRect();
    pointer = { x: event.clientX - box.left, y: event.clientY - box.top };
    hoverFrame();
  });
  body.addEventListener("pointerleave", () => {
    pointer = null;
    tooltip.hidden = true;
    if (state.get("hover") >= 0) state.set({ hover: -1 });
  });
  body.addEventListener("click", (event) => {
    if (event.target.closest?.(".nbs-axis")) return;
    const row = state.get("hover");
    if (row >= 0) ctx.setSelected([store.ids[row]]);
  });

  // Legend and export ----------------------------------------------------------------

  function renderLegend(metric) {
    const stops = Array.from({ length: 11 }, (_, i) => metricColor(i / 10)).join(",");
    const items = [];
    if (metric.name && colorRange) {
      const [worst, best] = metric.goal === "maximize" ? colorRange : [colorRange[1], colorRange[0]];
      items.push(
        h("span", { class: "nbs-muted", text: `${metric.name}: worst ${formatNumber(worst)}` }),
        h("span", { class: "nbs-colorbar", style: `background:linear-gradient(to right,${stops})` }),
        h("span", { class: "nbs-muted", text: `best ${formatNumber(best)} (${metric.goal})` }),
      );
    } else if (metric.name) items.push(h("span", { class: "nbs-muted", text: `no finite ${metric.name} yet` }));
    items.push(
      h(
        "span",
        { class: "nbs-muted nbs-styles" },
        "finished ─  running ╌  stopped ┈  failed/crashed grey  ",
        h("span", { class: "nbs-nan-key", text: "NaN/inf metric red ✕" }),
      ),
    );
    legend.replaceChildren(...items);
  }

  function linesSvg() {
    const { mask } = ctx.filtered();
    const groups = groupRows(mask);
    if (mask) {
      const out = [];
      for (let row = 0; row < layout.n; row++) if (!mask[row]) out.push(row);
      groups.unshift({ stroke: GREY_OUT, dash: DASHES.solid, rows: out });
    }
    const xs = layout.items.map((i) => i.x);
    const m = xs.length;
    const paths = [];
    for (const group of groups) {
      const d = [];
      for (const row of group.rows) {
        let pen = false;
        for (let j = 0; j < m; j++) {
          const y = ys[row * m + j];
          if (!Number.isFinite(y)) {
            pen = false;
            continue;
          }
          d.push(`${pen ? "L" : "M"}${xs[j].toFixed(1)} ${y.toFixed(1)}`);
          pen = true;
        }
      }
      if (d.length) {
        const dash = group.dash.length ? ` stroke-dasharray="${group.dash.join(" ")}"` : "";
        const opacity = group.alpha && group.alpha < 1 ? ` stroke-opacity="${group.alpha.toFixed(2)}"` : "";
        paths.push(`<path fill="none" stroke="${group.stroke}" stroke-width="1"${dash}${opacity} d="${d.join("")}"/>`);
      }
    }
    return `<g class="nbs-lines">${paths.join("")}</g>`;
  }

  function fileName(ext) {
    return `nbsweep-${ctx.model.get("sweep_id")}-parallel.${ext}`;
  }

  function exportSvg() {
    if (!layout) return;
    const text = svgDocument(svg.node(), layout.width, HEIGHT, linesSvg());
    download(fileName("svg"), new Blob([text], { type: "image/svg+xml" }));
  }

  async function exportPng() {
    if (!layout) return;
    const scale = 2;
    const out = document.createElement("canvas");
    out.width = layout.width * scale;
    out.height = HEIGHT * scale;
    const c = out.getContext("2d");
    c.fillStyle = "white";
    c.fillRect(0, 0, out.width, out.height);
    if (!back.hidden) c.drawImage(back, 0, 0, out.width, out.height);
    c.drawImage(canvas, 0, 0, out.width, out.height);
    c.drawImage(overlay, 0, 0, out.width, out.height);
    const text = svgDocument(svg.node(), layout.width, HEIGHT).replace(/<rect[^>]*fill="white"[^>]*\/>/, "");
    await drawSvg(c, text, out.width, out.height);
    out.toBlob((blob) => download(fileName("png"), blob), "image/png");
  }

  // Wiring ---------------------------------------------------------------------------

  ctx.on("store", () => request("layout"));
  ctx.on("change:axes", () => request("layout"));
  ctx.on("change:metric", () => request("layout"));
  ctx.on("change:brush", () => request("lines"));
  ctx.on("change:selected", () => request("overlay"));
  ctx.on("state", (keys) => {
    if (keys.includes("order") || keys.includes("flipped")) request("layout");
    if (keys.includes("hover")) request("overlay");
    if (keys.includes("hoverAxis") && layout) {
      axesLayer.selectAll("g.nbs-axis").classed("is-hot", (d) => state.get("hoverAxis") === d.key);
    }
  });
  const resize = new ResizeObserver(() => {
    if (layout && Math.floor(body.clientWidth) === layout.width) return;
    request("layout");
  });
  resize.observe(body);
  request("layout");

  return {
    destroy() {
      jobs.clear();
      if (jobFrame) cancelAnimationFrame(jobFrame);
      schedule.cancel();
      hoverFrame.cancel();
      resize.disconnect();
      parts.section.remove();
    },
  };
}
