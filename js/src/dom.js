// Small DOM helpers shared by the views, and file export (PNG, SVG, CSV downloads).

/** Create an element with a class, attributes and children (strings become text). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children, skipping null, undefined and false. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A panel: section with a title bar (title, note, buttons) and a body. */
export function panel(testid, title, extraClass = "") {
  const note = h("span", { class: "nbs-note" });
  const tools = h("span", { class: "nbs-tools" });
  const heading = h("div", { class: "nbs-panel-title" }, h("h3", { text: title }), note, tools);
  const body = h("div", { class: "nbs-panel-body" });
  const section = h(
    "section",
    { class: `nbs-panel ${extraClass}`.trim(), "data-testid": testid },
    heading,
    body,
  );
  return { section, heading, note, tools, body };
}

export function button(label, testid, onclick, title) {
  return h("button", { class: "nbs-button", type: "button", "data-testid": testid, title, onclick }, label);
}

/** Run a function at most once per animation frame. */
export function frameThrottle(fn) {
  let pending = 0;
  const schedule = () => {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      fn();
    });
  };
  schedule.cancel = () => {
    if (pending) cancelAnimationFrame(pending);
    pending = 0;
  };
  return schedule;
}

/**
 * Call `fn` whenever `element`'s width changes (not its height, which drawing changes).
 * Returns a function that stops watching.
 */
export function onWidthChange(element, fn) {
  let width = 0;
  const observer = new ResizeObserver(() => {
    if (element.clientWidth !== width) {
      width = element.clientWidth;
      fn();
    }
  });
  observer.observe(element);
  return () => observer.disconnect();
}

// Limitation: exports are browser downloads; front ends that block downloads from outputs
// (some VS Code setups) save nothing.
export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, style: "display:none" });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Limitation: exported SVG and PNG carry this fixed light style, not the notebook's theme.
export const EXPORT_STYLE = `
text { font: 11px system-ui, -apple-system, "Segoe UI", sans-serif; fill: #222; }
.domain, .tick line { stroke: #444; }
.nbs-axis-title { font-weight: 600; }
.nbs-metric .nbs-axis-title { font-weight: 700; }
.selection { fill: #3b82f6; fill-opacity: 0.15; stroke: #1d4ed8; }
.overlay, .handle { fill: none; stroke: none; }
.nbs-nan-label { fill: #d62728; }
`;

/** A standalone SVG document of an SVG element, with the export style and a white page. */
export function svgDocument(svg, width, height, inner = "") {
  const copy = svg.cloneNode(true);
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.setAttribute("width", width);
  copy.setAttribute("height", height);
  copy.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = EXPORT_STYLE;
  const page = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  page.setAttribute("width", width);
  page.setAttribute("height", height);
  page.setAttribute("fill", "white");
  copy.insertBefore(page, copy.firstChild);
  copy.insertBefore(style, copy.firstChild);
  let text = new XMLSerializer().serializeToString(copy);
  if (inner) text = text.replace(/(<rect[^>]*fill="white"[^>]*\/>)/, `$1${inner}`);
  return text;
}

/** Draw an SVG document onto a 2D context (for PNG export). */
export function drawSvg(context, svgText, width, height) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
    image.onload = () => {
      context.drawImage(image, 0, 0, width, height);
      URL.revokeObjectURL(url);
      resolve();
    };
    image.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error("could not draw the SVG"));
    };
    image.src = url;
  });
}

/** Export a panel's SVG as a PNG at twice its size. */
export async function exportSvgAsPng(svg, width, height, filename) {
  const scale = 2;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  await drawSvg(canvas.getContext("2d"), svgDocument(svg, width, height), canvas.width, canvas.height);
  await new Promise((resolve) =>
    canvas.toBlob((blob) => {
      download(filename, blob);
      resolve();
    }, "image/png"),
  );
}

/** Quote a CSV cell when it needs it. */
export function csvCell(value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A text (not numeric) CSV cell: one that a spreadsheet would run as a formula (it starts with
 * =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so it opens as text.
 */
export function csvText(value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return csvCell(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
}
