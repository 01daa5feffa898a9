// Runs table: the runs inside the brush, sortable by any column. Clicking a row selects
// the run and shows its captured output and traceback (asked from the kernel).

import { STATE_NAMES } from "../decode.js";
import { formatNumber, formatPrecise6 } from "../scales.js";
import { button, csvCell, csvText, download, fill, frameThrottle, h, panel } from "../dom.js";

// Limitation: the table renders 100 rows at a time ("Show more" adds 100), sorted over all
// runs in the brush; CSV export has them all.
const PAGE = 100;
const DETAIL_REFRESH_MS = 2000;
const BRUSH_SETTLE_MS = 120;

function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

function isoTime(seconds) {
  return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : "";
}

export function createTableView(container, ctx) {
  const { store } = ctx;
  const parts = panel("runs-table", "Runs", "nbs-table-panel");
  container.replaceWith(parts.section);
  const table = h("table", { class: "nbs-table" });
  const thead = h("thead");
  const tbody = h("tbody");
  table.append(thead, tbody);
  const more = h("button", { class: "nbs-button nbs-more", type: "button", "data-testid": "show-more", hidden: true }, "Show more");
  const detail = h("div", { class: "nbs-detail", "data-testid": "run-detail", hidden: true });
  parts.body.append(h("div", { class: "nbs-table-scroll" }, table), more, detail);
  parts.tools.append(button("CSV", "export-csv", exportCsv, "Download the runs in the brush as CSV"));

  let sort = null; // {key, dir}; null: best metric first, else claim order
  let limit = PAGE;
  let signature = "";
  let detailRun = null;
  let detailAsked = 0;
  let detailVersion = -1;

  more.addEventListener("click", () => {
    limit += PAGE;
    request();
  });

  function columns() {
    const metric = ctx.metric();
    const axes = ctx.axes();
    const out = [
      { key: "id", label: "run", value: (r) => store.ids[r], text: (r) => store.ids[r] },
      { key: "state", label: "state", value: (r) => STATE_NAMES[store.state[r]] ?? "", text: (r) => STATE_NAMES[store.state[r]] ?? "?" },
    ];
    const metricAxis = axes.find((a) => a.is_metric);
    if (metricAxis) {
      out.push({
        key: "metric",
        label: metric.name,
        numeric: true,
        value: (r) => store.metric[r],
        text: (r) => (store.nonfinite[r] ? "NaN/inf" : Number.isFinite(store.metric[r]) ? formatPrecise6(store.metric[r]) : ""),
      });
    }
    for (const axis of axes) {
      if (axis.is_metric) continue;
      const column = store.column(axis.key);
      if (axis.kind === "categorical") {
        const labels = (axis.categories ?? []).map((c) => c.label);
        out.push({
          key: `param:${axis.key}`,
          label: axis.name,
          value: (r) => (column && Number.isFinite(column[r]) ? labels[column[r]] : undefined),
          code: (r) => (column ? column[r] : NaN),
          text: (r) => (column && Number.isFinite(column[r]) ? labels[column[r]] ?? "?" : ""),
        });
      } else {
        out.push({
          key: `param:${axis.key}`,
          label: axis.name,
          numeric: true,
          value: (r) => (column ? column[r] : NaN),
          text: (r) => (column && Number.isFinite(column[r]) ? formatNumber(column[r]) : ""),
        });
      }
    }
    out.push({ key: "duration", label: "duration", numeric: true, value: (r) => store.duration(r), text: (r) => formatDuration(store.duration(r)) });
    return out;
  }

  function sortedRows(cols) {
    const { mask } = ctx.filtered();
    const rows = [];
    for (let r = 0; r < store.n; r++) if (!mask || mask[r]) rows.push(r);
    let key = sort?.key;
    let dir = sort?.dir ?? 1;
    if (!sort) {
      if (cols.some((c) => c.key === "metric")) {
        key = "metric";
        dir = ctx.metric().goal === "maximize" ? -1 : 1;
      } else return rows;
    }
    const column = cols.find((c) => c.key === key);
    if (!column) return rows;
    const get = column.code ?? column.value;
    const values = new Map(rows.map((r) => [r, get(r)]));
    const missing = (v) => v === undefined || v === null || v === "" || (typeof v === "number" && Number.isNaN(v));
    rows.sort((a, b) => {
      const va = values.get(a);
      const vb = values.get(b);
      const ma = missing(va);
      const mb = missing(vb);
      if (ma || mb) return ma === mb ? a - b : ma ? 1 : -1; // missing values always last
      if (va < vb) return -dir;
      if (va > vb) return dir;
      return a - b;
    });
    return rows;
  }

  function renderHead(cols) {
    const active = sort?.key ?? (cols.some((c) => c.key === "metric") ? "metric" : null);
    const dir = sort?.dir ?? (ctx.metric().goal === "maximize" ? -1 : 1);
    thead.replaceChildren(
      h(
        "tr",
        {},
        cols.map((c) =>
          h(
            "th",
            {
              "data-column": c.key,
              class: c.numeric ? "nbs-num" : "",
              "aria-sort": c.key === active ? (dir > 0 ? "ascending" : "descending") : "none",
              title: "Sort by this column",
              onclick: () => {
                sort = sort?.key === c.key ? { key: c.key, dir: -sort.dir } : { key: c.key, dir: 1 };
                request();
              },
            },
            c.label,
            c.key === active ? (dir > 0 ? " ▲" : " ▼") : "",
          ),
        ),
      ),
    );
  }

  function render(first = false) {
    if (!first && !tbody.isConnected) return; // a view that was replaced: stay idle
    const cols = columns();
    const rows = sortedRows(cols);
    const shown = rows.slice(0, limit);
    const selected = new Set(ctx.selected());
    const hover = ctx.state.get("hover");
    const sig = [
      store.version,
      JSON.stringify(sort),
      limit,
      shown.join(","),
      [...selected].join(","),
      cols.map((c) => c.key + c.label).join(","),
    ].join("|");
    parts.section.dataset.total = String(rows.length);
    parts.section.dataset.shown = String(shown.length);
    parts.note.textContent =
      rows.length === store.n ? `${store.n} runs` : `${rows.length} of ${store.n} runs in the brush`;
    more.hidden = rows.length <= shown.length;
    more.textContent = `Show ${Math.min(PAGE, rows.length - shown.length)} more (${rows.length - shown.length} hidden)`;
    if (sig !== signature) {
      signature = sig;
      renderHead(cols);
      tbody.replaceChildren(
        ...shown.map((r) => {
          const id = store.ids[r];
          const tr = h(
            "tr",
            {
              "data-run-id": id,
              "data-row": r,
              class: `nbs-state-row-${STATE_NAMES[store.state[r]] ?? "unknown"}${selected.has(id) ? " is-selected" : ""}`,
              "aria-selected": selected.has(id) ? "true" : "false",
            },
            cols.map((c) =>
              h("td", { class: c.numeric ? "nbs-num" : c.key === "state" ? `nbs-state nbs-state-${c.text(r)}` : "", text: c.text(r) }),
            ),
          );
          return tr;
        }),
      );
    }
    for (const tr of tbody.children) tr.classList.toggle("is-hover", Number(tr.dataset.row) === hover);
    refreshDetail();
  }

  const request = frameThrottle(render);

  tbody.addEventListener("click", (event) => {
    const tr = event.target.closest("tr[data-run-id]");
    if (!tr) return;
    const id = tr.dataset.runId;
    const current = ctx.selected();
    if (event.ctrlKey || event.metaKey || event.shiftKey) {
      ctx.setSelected(current.includes(id) ? current.filter((x) => x !== id) : [...current, id]);
    } else ctx.setSelected(current.length === 1 && current[0] === id ? [] : [id]);
  });
  tbody.addEventListener("pointerover", (event) => {
    const tr = event.target.closest("tr[data-row]");
    if (tr) ctx.state.set({ hover: Number(tr.dataset.row) });
  });
  tbody.addEventListener("pointerleave", () => ctx.state.set({ hover: -1 }));

  // Detail of the selected run -------------------------------------------------------

  function refreshDetail() {
    const selected = ctx.selected();
    const id = selected.length ? selected[selected.length - 1] : null;
    if (!id) {
      detailRun = null;
      detail.hidden = true;
      return;
    }
    const row = store.rowOf.get(id);
    const version = row === undefined ? -1 : store.rowVersion[row];
    const now = performance.now();
    const changed = id !== detailRun;
    if (!changed && (version === detailVersion || now - detailAsked < DETAIL_REFRESH_MS)) return;
    detailRun = id;
    detailVersion = version;
    detailAsked = now;
    if (changed) {
      detail.hidden = false;
      detail.replaceChildren(h("div", { class: "nbs-muted", text: `loading run ${id}…` }));
    }
    ctx
      .request({ type: "run_detail", run: id })
      .then(({ content }) => {
        if (content.run === detailRun) showDetail(content);
      })
      .catch((error) => {
        if (id === detailRun) detail.replaceChildren(h("div", { class: "nbs-error-line", text: String(error.message ?? error) }));
      });
  }

  function showDetail(content) {
    detail.hidden = false;
    detail.dataset.runId = content.run;
    if (content.missing) {
      detail.replaceChildren(h("div", { class: "nbs-muted", text: `run ${content.run} is not in the store` }));
      return;
    }
    const config = Object.entries(content.config ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
    fill(
      detail,
      h("div", { class: "nbs-detail-title" }, h("b", { text: `run ${content.run}` }), ` ${content.state}`, content.stop_reason ? ` (${content.stop_reason})` : ""),
      h("div", { class: "nbs-muted", text: config }),
      content.error ? h("div", { class: "nbs-detail-label", text: "traceback" }) : null,
      content.error ? h("pre", { class: "nbs-pre nbs-traceback", "data-testid": "run-error", text: content.error }) : null,
      h("div", { class: "nbs-detail-label", text: content.output_truncated ? "output (last part)" : "output" }),
      h("pre", { class: "nbs-pre", "data-testid": "run-output", text: content.output || "(nothing printed)" }),
    );
  }

  // Export ---------------------------------------------------------------------------

  function exportCsv() {
    const cols = columns();
    const rows = sortedRows(cols);
    const header = cols.map((c) => (c.key === "duration" ? "duration_s" : c.key === "metric" ? c.label : c.label));
    header.push("started_at", "finished_at");
    const lines = [header.map(csvText).join(",")];
    for (const r of rows) {
      // Numbers go out as they are; text cells are kept from running as spreadsheet formulas.
      const cells = cols.map((c) => {
        if (c.key === "duration") return Number.isFinite(store.duration(r)) ? store.duration(r).toFixed(3) : "";
        if (c.key === "metric") return store.nonfinite[r] ? "nan" : Number.isFinite(store.metric[r]) ? String(store.metric[r]) : "";
        if (c.numeric) {
          const v = c.value(r);
          return Number.isFinite(v) ? String(v) : "";
        }
        return csvText(c.text(r));
      });
      cells.push(csvCell(isoTime(store.started[r])), csvCell(isoTime(store.finished[r])));
      lines.push(cells.join(","));
    }
    download(`nbsweep-${ctx.model.get("sweep_id")}-runs.csv`, new Blob([`${lines.join("\n")}\n`], { type: "text/csv" }));
  }

  ctx.on("store", request);
  // While a brush is dragged the table waits until the brush rests a moment.
  let brushTimer = 0;
  ctx.on("change:brush", () => {
    clearTimeout(brushTimer);
    brushTimer = setTimeout(request, BRUSH_SETTLE_MS);
  });
  ctx.on("change:axes", request);
  ctx.on("change:selected", request);
  ctx.on("state", (keys) => {
    if (keys.includes("hover")) request();
  });
  render(true); // at once: a second view of a widget shows its rows without waiting
  return {
    destroy() {
      clearTimeout(brushTimer);
      request.cancel();
      parts.section.remove();
    },
  };
}
