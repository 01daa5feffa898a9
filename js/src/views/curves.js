// Metric curves: the chosen logged keys against step, for the selected runs and the run
// under the mouse, one small chart per key. Curves are asked from the kernel and kept until
// their run changes.

import { select } from "d3-selection";
import { scaleLinear } from "d3-scale";
import { axisBottom, axisLeft } from "d3-axis";
import { schemeTableau10 } from "d3-scale-chromatic";
import { typed } from "../decode.js";
import { formatNumber } from "../scales.js";
import { button, download, exportSvgAsPng, frameThrottle, h, onWidthChange, panel, svgDocument } from "../dom.js";

const CHART_HEIGHT = 170;
const MARGIN = { top: 18, right: 14, bottom: 26, left: 56 };
// Limitation: curves of at most 10 selected runs (plus the hovered one) are drawn.
const MAX_RUNS = 10;
const HOVER_DELAY_MS = 150;
const REFETCH_MS = 1000;

/** SVG path of one curve; a NaN value breaks the line. */
function linePath({ steps, values }, x, y) {
  let d = "";
  let pen = false;
  for (let i = 0; i < steps.length; i++) {
    if (!Number.isFinite(values[i])) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${x(steps[i]).toFixed(1)},${y(values[i]).toFixed(1)}`;
    pen = true;
  }
  return d;
}

export function createCurvesView(container, ctx) {
  const { store } = ctx;
  const parts = panel("curves", "Curves", "nbs-curves");
  container.replaceWith(parts.section);
  const chips = h("div", { class: "nbs-chips", "data-testid": "curve-keys" });
  const message = h("div", { class: "nbs-message", "data-testid": "curves-message" });
  const charts = h("div", { class: "nbs-curve-charts" });
  parts.body.append(chips, message, charts);
  const svg = select(charts).append("svg").attr("class", "nbs-curve-svg");
  parts.tools.append(
    button("PNG", "export-png", () => exportPng(), "Download this view as PNG"),
    button("SVG", "export-svg", () => exportSvg(), "Download this view as SVG"),
  );

  const cache = new Map(); // run \0 key -> {steps, values, version}
  const inFlight = new Set();
  let hoverTimer = 0;
  let laterTimer = 0;
  let shownHover = -1;
  let size = { width: 0, height: 0 };

  function keys() {
    return ctx.model.get("curve_keys") ?? [];
  }

  function runsShown() {
    const ids = ctx.selected().slice(0, MAX_RUNS);
    const hover = shownHover;
    const hoverId = hover >= 0 && hover < store.n ? store.ids[hover] : null;
    return { ids, hoverId: hoverId && !ids.includes(hoverId) ? hoverId : null };
  }

  function renderChips() {
    const active = new Set(keys());
    const all = ctx.model.get("logged_keys") ?? [];
    chips.replaceChildren(
      ...all.slice(0, 24).map((key) =>
        h(
          "button",
          {
            type: "button",
            class: `nbs-chip${active.has(key) ? " is-on" : ""}`,
            "data-key": key,
            "aria-pressed": active.has(key) ? "true" : "false",
            onclick: () => {
              const now = keys();
              const next = now.includes(key) ? now.filter((k) => k !== key) : [...now, key];
              ctx.model.set("curve_keys", next);
              ctx.model.save_changes();
            },
          },
          key,
        ),
      ),
    );
  }

  function fetchMissing(ids) {
    const wanted = keys();
    const needRuns = new Set();
    for (const id of ids) {
      const row = store.rowOf.get(id);
      const version = row === undefined ? 0 : store.rowVersion[row];
      for (const key of wanted) {
        const entry = cache.get(`${id}\0${key}`);
        // A changed run is asked for again, at most once a second.
        const changed = entry && entry.version !== version;
        const stale = !entry || (changed && performance.now() - entry.fetchedAt > REFETCH_MS);
        if (stale && !inFlight.has(`${id}\0${key}`)) needRuns.add(id);
        else if (changed && !laterTimer) {
          laterTimer = setTimeout(() => {
            laterTimer = 0;
            request();
          }, REFETCH_MS);
        }
      }
    }
    if (!needRuns.size || !wanted.length) return;
    const runs = [...needRuns];
    const versions = new Map(runs.map((id) => [id, store.rowVersion[store.rowOf.get(id)] ?? 0]));
    for (const id of runs) for (const key of wanted) inFlight.add(`${id}\0${key}`);
    ctx
      .request({ type: "curves", runs, keys: wanted })
      .then(({ content, buffers }) => {
        content.series.forEach((s, i) => {
          cache.set(`${s.run}\0${s.key}`, {
            steps: typed(buffers[2 * i], Float64Array),
            values: typed(buffers[2 * i + 1], Float64Array),
            version: versions.get(s.run) ?? 0,
            fetchedAt: performance.now(),
            thinned: s.thinned,
          });
        });
      })
      .catch((error) => console.warn("[nbsweep] curves:", error))
      .finally(() => {
        for (const id of runs) for (const key of wanted) inFlight.delete(`${id}\0${key}`);
        request();
      });
  }

  function render() {
    if (!charts.isConnected) return;
    renderChips();
    const wanted = keys();
    const { ids, hoverId } = runsShown();
    const all = hoverId ? [...ids, hoverId] : ids;
    fetchMissing(all);
    let text = "";
    if (!wanted.length) text = "Choose a logged key above to draw its curves.";
    else if (!all.length) text = "Select runs in the table (or hover a line in the parallel view) to see their curves.";
    message.textContent = text;
    message.hidden = !text;
    const width = Math.max(320, Math.floor(charts.clientWidth) || 480);
    const series = [];
    for (const key of wanted) {
      for (const [i, id] of all.entries()) {
        const entry = cache.get(`${id}\0${key}`);
        if (entry && entry.steps.length) series.push({ key, id, entry, hover: id === hoverId, color: schemeTableau10[i % 10] });
      }
    }
    parts.section.dataset.series = String(series.length);
    parts.note.textContent = all.length ? `${all.length} run${all.length === 1 ? "" : "s"}` : "";
    const shownKeys = text ? [] : wanted;
    const height = shownKeys.length * CHART_HEIGHT;
    size = { width, height };
    svg.attr("width", width).attr("height", height);
    const panels = svg
      .selectAll("g.nbs-curve-chart")
      .data(shownKeys, (d) => d)
      .join((enter) => {
        const g = enter.append("g").attr("class", "nbs-curve-chart");
        g.append("g").attr("class", "nbs-x");
        g.append("g").attr("class", "nbs-y");
        g.append("g").attr("class", "nbs-paths");
        g.append("text").attr("class", "nbs-curve-title").attr("x", MARGIN.left).attr("y", 12);
        return g;
      })
      .attr("data-key", (d) => d)
      .attr("transform", (_, i) => `translate(0,${i * CHART_HEIGHT})`);
    panels.each(function (key) {
      const g = select(this);
      const mine = series.filter((s) => s.key === key);
      let x0 = Infinity;
      let x1 = -Infinity;
      let y0 = Infinity;
      let y1 = -Infinity;
      for (const s of mine) {
        const { steps, values } = s.entry;
        for (let i = 0; i < steps.length; i++) {
          if (!Number.isFinite(values[i])) continue;
          x0 = Math.min(x0, steps[i]);
          x1 = Math.max(x1, steps[i]);
          y0 = Math.min(y0, values[i]);
          y1 = Math.max(y1, values[i]);
        }
      }
      if (!(x0 <= x1)) [x0, x1, y0, y1] = [0, 1, 0, 1];
      if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
      if (y0 === y1) [y0, y1] = [y0 - Math.abs(y0 || 1) / 2, y1 + Math.abs(y1 || 1) / 2];
      const x = scaleLinear().domain([x0, x1]).range([MARGIN.left, width - MARGIN.right]);
      const y = scaleLinear().domain([y0, y1]).nice().range([CHART_HEIGHT - MARGIN.bottom, MARGIN.top]);
      g.select(".nbs-x").attr("transform", `translate(0,${CHART_HEIGHT - MARGIN.bottom})`).call(axisBottom(x).ticks(6).tickFormat(formatNumber));
      g.select(".nbs-y").attr("transform", `translate(${MARGIN.left},0)`).call(axisLeft(y).ticks(5).tickFormat(formatNumber));
      g.select(".nbs-curve-title").text(`${key} vs step${mine.some((s) => s.entry.thinned) ? " (long curves thinned)" : ""}`);
      g.select(".nbs-paths")
        .selectAll("path")
        .data(mine, (s) => s.id)
        .join("path")
        .attr("data-run-id", (s) => s.id)
        .attr("fill", "none")
        .attr("stroke", (s) => (s.hover ? "#ff7f0e" : s.color))
        .attr("stroke-width", (s) => (s.hover ? 2.4 : 1.6))
        .attr("stroke-dasharray", (s) => (s.hover ? "5 3" : null))
        .attr("d", (s) => linePath(s.entry, x, y))
        .selectAll("title")
        .data((s) => [s])
        .join("title")
        .text((s) => `run ${s.id}`);
    });
  }

  const request = frameThrottle(render);

  function onHover() {
    clearTimeout(hoverTimer);
    hoverTimer = setTimeout(() => {
      const hover = ctx.state.get("hover");
      if (hover !== shownHover) {
        shownHover = hover;
        request();
      }
    }, HOVER_DELAY_MS);
  }

  function exportSvg() {
    if (!size.height) return;
    const text = svgDocument(svg.node(), size.width, size.height);
    download(`nbsweep-${ctx.model.get("sweep_id")}-curves.svg`, new Blob([text], { type: "image/svg+xml" }));
  }

  function exportPng() {
    if (!size.height) return;
    return exportSvgAsPng(svg.node(), size.width, size.height, `nbsweep-${ctx.model.get("sweep_id")}-curves.png`);
  }

  ctx.on("change:curve_keys", request);
  ctx.on("change:logged_keys", request);
  ctx.on("change:selected", request);
  ctx.on("store", () => {
    // Only rows on show matter; a changed run's curves are asked for again.
    const { ids, hoverId } = runsShown();
    if ([...ids, hoverId].some((id) => id && store.rowOf.has(id))) request();
  });
  ctx.on("state", (changed) => {
    if (changed.includes("hover")) onHover();
  });
  const stopResize = onWidthChange(parts.body, request);
  request();
  return {
    destroy() {
      clearTimeout(hoverTimer);
      clearTimeout(laterTimer);
      request.cancel();
      stopResize();
      parts.section.remove();
    },
  };
}
