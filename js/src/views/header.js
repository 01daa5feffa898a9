// Header: the sweep's state and counts, progress, best run so far, the agent's message,
// notices, the last error, and the stop button.

import { fill, h } from "../dom.js";

function plural(count, word) {
  return `${count} ${word}`;
}

export function createHeaderView(container, ctx) {
  const counts = h("span", { class: "nbs-counts" });
  const title = h("div", { class: "nbs-header-line" });
  const bar = h("div", { class: "nbs-progress-fill" });
  const progressText = h("span", { class: "nbs-progress-text" });
  const progress = h("div", { class: "nbs-progress", "data-testid": "progress" }, h("div", { class: "nbs-progress-track" }, bar), progressText);
  const best = h("div", { class: "nbs-best", "data-testid": "best" });
  const agent = h("div", { class: "nbs-agent-line" });
  const notices = h("div", { class: "nbs-notices" });
  const error = h("div", { class: "nbs-error-line", "data-testid": "last-error" });
  const stop = h("button", { class: "nbs-button nbs-stop", type: "button", "data-testid": "stop-button" }, "Stop");
  const confirm = h(
    "span",
    { class: "nbs-confirm", hidden: true },
    "Stop the sweep? No new runs will start; running runs finish. ",
    h("button", { class: "nbs-button nbs-danger", type: "button", "data-testid": "stop-confirm" }, "Stop sweep"),
    h("button", { class: "nbs-button", type: "button", "data-testid": "stop-cancel" }, "Cancel"),
  );
  const root = h(
    "div",
    { class: "nbs-header nbsweep-agent", "data-testid": "header" },
    h("div", { class: "nbs-header-main" }, title, counts, progress, best, agent, notices, error),
    h("div", { class: "nbs-header-actions" }, stop, confirm),
  );
  container.replaceWith(root);

  let requested = false;
  const [confirmButton, cancelButton] = confirm.querySelectorAll("button");

  function sendStop() {
    confirm.hidden = true;
    stop.hidden = false;
    ctx.model.send({ type: "stop" });
    update();
    requested = true;
    stop.textContent = "Stopping…";
    stop.disabled = true;
  }

  stop.addEventListener("click", () => {
    const mode = ctx.model.get("header")?.stop?.mode;
    if (mode === "agent") sendStop();
    else {
      confirm.hidden = false;
      stop.hidden = true;
    }
  });
  confirmButton.addEventListener("click", sendStop);
  cancelButton.addEventListener("click", () => {
    confirm.hidden = true;
    stop.hidden = false;
  });
  best.addEventListener("click", (event) => {
    const id = event.target?.dataset?.runId;
    if (id) ctx.setSelected([id]);
  });

  function update() {
    const data = ctx.model.get("header") ?? {};
    const finished = data.finished ?? 0;
    const running = data.running ?? 0;
    const failed = data.failed ?? 0;
    const stopped = data.stopped ?? 0;
    Object.assign(root.dataset, {
      finished,
      running,
      failed,
      stopped,
      crashed: data.crashed ?? 0,
      runs: data.runs ?? 0,
      state: data.sweep_state ?? "",
    });
    fill(title, 
      h("b", { text: "nbsweep" }),
      " sweep ",
      h("code", { text: data.sweep_id ?? ctx.model.get("sweep_id") }),
      " ",
      h("span", { class: `nbs-sweep-state nbs-sweep-${String(data.sweep_state).toLowerCase()}`, text: data.sweep_state ?? "" }),
      data.sweep_reason ? h("span", { class: "nbs-muted", text: ` (${data.sweep_reason})` }) : null,
    );
    counts.replaceChildren(
      h("span", { class: "nbs-count nbs-state-finished", text: plural(finished, "finished") }),
      " · ",
      h("span", { class: "nbs-count nbs-state-running", text: plural(running, "running") }),
      " · ",
      h("span", { class: "nbs-count nbs-state-failed", text: plural(failed, "failed") }),
      " · ",
      h("span", { class: "nbs-count nbs-state-stopped", text: plural(stopped, "stopped") }),
    );

    const p = data.progress;
    progress.hidden = !p;
    if (p) {
      const share = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
      bar.style.width = `${(share * 100).toFixed(1)}%`;
      progressText.textContent = `${p.done} of ${p.total} runs done (${p.of})`;
      progress.setAttribute("aria-valuenow", String(p.done));
      progress.setAttribute("aria-valuemax", String(p.total));
    }

    if (data.best) {
      best.replaceChildren(
        `best ${data.metric} so far `,
        h("b", { text: data.best.label }),
        " (run ",
        h("a", { class: "nbs-run-link", "data-run-id": data.best.run_id, href: "#", text: data.best.run_id, onclick: (e) => e.preventDefault() }),
        ")",
      );
    } else best.textContent = data.metric ? `no finished run with a finite ${data.metric} yet` : "the sweep has no metric";

    const a = data.agent;
    agent.hidden = !a;
    if (a) {
      const total = a.count == null ? "" : ` of ${a.count}`;
      const current = a.current_run ? `, now running ${a.current_run}` : "";
      agent.textContent = `agent ${a.state}: ${a.started}${total} started${current}. ${a.message ?? ""}`.trim();
    }
    notices.replaceChildren(...(data.notices ?? []).map((text) => h("div", { class: "nbs-notice", text })));
    error.hidden = !data.last_error;
    if (data.last_error) {
      error.textContent = `last failure: run ${data.last_error.run_id}: ${data.last_error.head}`;
    }

    const stopInfo = data.stop ?? {};
    const mode = stopInfo.mode;
    if (stopInfo.requested || !stopInfo.enabled) requested = false; // the kernel has it
    const agentRunning = data.agent?.state === "running";
    let label;
    let enabled = false;
    if (requested || (stopInfo.requested && mode === "agent" && agentRunning)) label = "Stopping…";
    else if (stopInfo.enabled) {
      label = mode === "agent" ? "Stop agent" : "Stop sweep";
      enabled = true;
    } else if (mode === "agent") label = `Agent ${data.agent?.state ?? "ended"}`;
    else label = `Sweep ${String(data.sweep_state ?? "ended").toLowerCase()}`;
    stop.textContent = label;
    stop.disabled = !enabled;
    if (!enabled) {
      confirm.hidden = true;
      stop.hidden = false;
    }
  }

  ctx.on("change:header", update);
  update();
  return {
    destroy() {
      root.remove();
    },
  };
}
