// Importance: one bar per parameter (mean over seeds) with whiskers from the lowest to the
// highest seed, Pearson's r beside it (per level for categoricals), the encoding named,
// and the reason instead of bars when there are too few runs.

import { select } from "d3-selection";
import { scaleLinear } from "d3-scale";
import { format } from "d3-format";
import { button, download, exportSvgAsPng, frameThrottle, h, onWidthChange, panel, svgDocument } from "../dom.js";

// Each parameter takes two lines: its bar with whiskers and value, then the correlation and
// any note, so long texts never squeeze the bars.
const ROW = 36;
const BAR = 16;
const RIGHT = 56;
const CHAR_PX = 6.3;
const signed = format("+.2f");

function correlationText(entry) {
  if (entry.levels?.length) {
    const parts = entry.levels.slice(0, 4).map((l) => `${l.label} ${l.correlation == null ? "n/a" : signed(l.correlation)}`);
    const more = entry.levels.length - 4;
    return `r: ${parts.join(", ")}${more > 0 ? `, +${more} more` : ""}`;
  }
  return entry.correlation == null ? "r n/a" : `r = ${signed(entry.correlation)}`;
}

export function createImportanceView(container, ctx) {
  const parts = panel("importance", "Importance", "nbs-importance");
  container.replaceWith(parts.section);
  const message = h("div", { class: "nbs-message", "data-testid": "importance-message", hidden: true });
  const chart = h("div", { class: "nbs-imp-chart" });
  const notes = h("div", { class: "nbs-notes" });
  parts.body.append(message, chart, notes);
  const svg = select(chart).append("svg").attr("class", "nbs-imp-svg");
  parts.tools.append(
    button("Order axes", "order-by-importance", orderAxes, "Order the parallel axes by importance"),
    button("PNG", "export-png", () => exportPng(), "Download this view as PNG"),
    button("SVG", "export-svg", () => exportSvg(), "Download this view as SVG"),
  );
  let size = { width: 0, height: 0 };

  function orderAxes() {
    const data = ctx.model.get("importance") ?? {};
    const names = (data.params ?? []).map((p) => p.name);
    const axes = ctx.axes();
    const order = [
      ...names.filter((name) => axes.some((a) => a.key === name && !a.is_metric)),
      ...axes.filter((a) => !a.is_metric && !names.includes(a.key)).map((a) => a.key),
      ...axes.filter((a) => a.is_metric).map((a) => a.key),
    ];
    ctx.state.set({ order });
  }

  function render() {
    if (!chart.isConnected) return;
    const data = ctx.model.get("importance") ?? {};
    const params = data.params ?? [];
    parts.section.dataset.pending = String(Boolean(data.pending));
    parts.note.textContent = data.metric ? `for ${data.metric} (${data.goal}), ${data.n_runs} runs` : "";
    const text = data.pending && !params.length ? "computing importance…" : data.message;
    message.hidden = !text || params.length > 0;
    message.textContent = text ?? "";
    const footer = [...(data.notes ?? [])];
    if (params.length) {
      footer.push(
        `Bars: ${data.method}; whiskers span the lowest to highest seed. r: Pearson correlation with ${data.metric} (of log10 for log10 parameters, of each level's indicator for one-hot ones).`,
      );
    }
    notes.replaceChildren(...footer.map((t) => h("div", { text: t })));
    chart.hidden = !params.length;
    if (!params.length) {
      svg.selectAll("*").remove();
      return;
    }
    const width = Math.max(360, Math.floor(chart.clientWidth) || 560);
    const longest = Math.max(...params.map((p) => `${p.name} [${p.encoding}]`.length));
    const label = Math.round(Math.min(width * 0.45, Math.max(110, longest * CHAR_PX + 14)));
    const height = params.length * ROW + 24;
    size = { width, height };
    svg.attr("width", width).attr("height", height);
    const reach = Math.max(1e-9, ...params.map((p) => p.max ?? p.importance));
    const x = scaleLinear().domain([0, reach]).range([label, Math.max(label + 60, width - RIGHT)]);
    const mid = BAR / 2 + 2;
    const rows = svg
      .selectAll("g.nbs-imp-row")
      .data(params, (d) => d.name)
      .join((enter) => {
        const g = enter.append("g").attr("class", "nbs-imp-row");
        g.append("text").attr("class", "nbs-imp-name").attr("y", mid).attr("dy", "0.32em").attr("text-anchor", "end");
        g.append("rect").attr("class", "nbs-imp-bar").attr("y", 2).attr("height", BAR);
        g.append("line").attr("class", "nbs-imp-whisker").attr("y1", mid).attr("y2", mid);
        g.append("line").attr("class", "nbs-imp-cap nbs-cap-lo").attr("y1", mid - 4).attr("y2", mid + 4);
        g.append("line").attr("class", "nbs-imp-cap nbs-cap-hi").attr("y1", mid - 4).attr("y2", mid + 4);
        g.append("text").attr("class", "nbs-imp-value").attr("y", mid).attr("dy", "0.32em");
        g.append("text").attr("class", "nbs-imp-r").attr("y", BAR + 11).attr("dy", "0.32em");
        g.append("title");
        g.on("pointerenter", (_, d) => ctx.state.set({ hoverAxis: d.name }));
        g.on("pointerleave", () => ctx.state.set({ hoverAxis: null }));
        return g;
      });
    rows
      .attr("data-param", (d) => d.name)
      .attr("data-importance", (d) => d.importance)
      .attr("transform", (_, i) => `translate(0,${i * ROW})`)
      .classed("is-constant", (d) => d.encoding === "constant");
    rows.select(".nbs-imp-name").attr("x", label - 8).text((d) => `${d.name} [${d.encoding}]`);
    rows.select(".nbs-imp-bar").attr("x", x(0)).attr("width", (d) => Math.max(0, x(d.importance) - x(0)));
    rows.select(".nbs-imp-whisker").attr("x1", (d) => x(d.min)).attr("x2", (d) => x(d.max));
    rows.select(".nbs-cap-lo").attr("x1", (d) => x(d.min)).attr("x2", (d) => x(d.min));
    rows.select(".nbs-cap-hi").attr("x1", (d) => x(d.max)).attr("x2", (d) => x(d.max));
    rows
      .select(".nbs-imp-value")
      .attr("x", (d) => x(d.max) + 6)
      .text((d) => format(".2f")(d.importance));
    rows
      .select(".nbs-imp-r")
      .attr("x", label)
      .text((d) => `${correlationText(d)}${d.note ? `  (${d.note})` : ""}`);
    rows
      .select("title")
      .text((d) => `${d.name}: importance ${format(".3f")(d.importance)} (seeds ${format(".3f")(d.min)}–${format(".3f")(d.max)}, sd ${format(".3f")(d.std)}), encoded ${d.encoding}, ${d.n_runs} runs. ${correlationText(d)}${d.note ? `. ${d.note}` : ""}`);
    svg
      .selectAll("text.nbs-imp-axis")
      .data([0])
      .join("text")
      .attr("class", "nbs-imp-axis nbs-muted")
      .attr("x", label)
      .attr("y", height - 6)
      .text(`importance (0 to ${format(".2f")(reach)})`);
  }

  function exportSvg() {
    if (!size.width) return;
    const text = svgDocument(svg.node(), size.width, size.height);
    download(`nbsweep-${ctx.model.get("sweep_id")}-importance.svg`, new Blob([text], { type: "image/svg+xml" }));
  }

  function exportPng() {
    if (!size.width) return;
    return exportSvgAsPng(svg.node(), size.width, size.height, `nbsweep-${ctx.model.get("sweep_id")}-importance.png`);
  }

  const request = frameThrottle(render);
  ctx.on("change:importance", request);
  const stopResize = onWidthChange(parts.body, request);
  render();
  return {
    destroy() {
      request.cancel();
      stopResize();
      parts.section.remove();
    },
  };
}
