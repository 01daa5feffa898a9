// Axis scales of the parallel-coordinates view, built on d3-scale.
//
// Every axis maps data units to pixels: linear and log axes map values, categorical axes
// map category codes (0 .. k-1, the first category at the bottom). Domains are the axis
// spec's domain widened to the values seen, so a brush kept in data units lands on the same
// values whatever the axis range becomes.

import { scaleLinear, scaleLog } from "d3-scale";
import { format } from "d3-format";
import { interpolateViridis } from "d3-scale-chromatic";
import { categoryCodes } from "./filter.js";

const MAX_CATEGORY_LABELS = 15;
const MAX_LOG_TICKS = 8;

const formatSmall = format(".3~e");
const formatPlain = format(".4~g");
const formatPrecise = format(".6~g");

/** A short label for a number on an axis: 0.001, 25, 1e-5, 3.2e+6. */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const size = Math.abs(value);
  const text = size >= 1e5 || size < 1e-3 ? formatSmall(value) : formatPlain(value);
  return text.replace("e+", "e");
}

/** A number with six significant digits, for tables and tooltips. */
export function formatPrecise6(value) {
  if (!Number.isFinite(value)) return String(value);
  return formatPrecise(value);
}

/** Smallest and largest finite value among the first `n` (positive ones only for log). */
export function extent(column, n, positiveOnly = false) {
  let low = Infinity;
  let high = -Infinity;
  if (!column) return null;
  for (let i = 0; i < n; i++) {
    const v = column[i];
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return low <= high ? [low, high] : null;
}

/** The axis domain: the spec's domain widened to the values seen; null when there is none. */
export function axisDomain(axis, column, n) {
  const log = axis.kind === "log";
  let domain = axis.domain ? [axis.domain[0], axis.domain[1]] : null;
  if (domain && log && !(domain[0] > 0 && domain[1] > 0)) domain = null;
  const seen = extent(column, n, log);
  if (seen) {
    domain = domain ? [Math.min(domain[0], seen[0]), Math.max(domain[1], seen[1])] : seen;
  }
  return domain;
}

function thin(list, most) {
  if (list.length <= most) return list;
  const stride = Math.ceil(list.length / most);
  return list.filter((_, i) => i % stride === 0);
}

function logTicks(low, high) {
  const lo = Math.log10(low);
  const hi = Math.log10(high);
  const decades = [];
  for (let k = Math.ceil(lo - 1e-9); k <= Math.floor(hi + 1e-9); k++) decades.push(10 ** k);
  if (decades.length >= 2) return thin(decades, MAX_LOG_TICKS);
  const ticks = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const v = Number((m * 10 ** k).toPrecision(3));
      if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : [low, high];
}

/**
 * The scale of one axis.
 *
 * @param axis the axis spec (kind, domain, categories, integer, constant)
 * @param column its values (data units), or null
 * @param n number of runs
 * @param range [bottom, top] in pixels
 * @param flipped draw the axis upside down
 * @returns {kind, domain, y(value), ticks: [{value, y, label}], invert([y0, y1]) -> brush value,
 *   pixels(brush value) -> [y0, y1] or null}
 */
export function axisScale(axis, column, n, range, flipped = false) {
  const [bottom, top] = range;
  const pixelRange = flipped ? [top, bottom] : [bottom, top];

  if (axis.kind === "categorical") {
    const categories = axis.categories ?? [];
    const k = categories.length;
    const scale = scaleLinear()
      .domain(k > 1 ? [0, k - 1] : [-1, 1])
      .range(pixelRange);
    const stride = Math.max(1, Math.ceil(k / MAX_CATEGORY_LABELS));
    const ticks = categories.map((c, code) => ({
      value: code,
      y: scale(code),
      label: code % stride === 0 ? c.label : "",
    }));
    const y = (code) => (Number.isInteger(code) && code >= 0 && code < k ? scale(code) : NaN);
    const half = k > 1 ? Math.abs(scale(1) - scale(0)) / 2 : Math.abs(bottom - top) / 4;
    return {
      kind: "categorical",
      domain: [0, Math.max(0, k - 1)],
      scale,
      y,
      ticks,
      step: half * 2,
      invert([y0, y1]) {
        const low = Math.min(y0, y1);
        const high = Math.max(y0, y1);
        return categories.filter((_, code) => scale(code) >= low && scale(code) <= high).map((c) => c.value);
      },
      pixels(values) {
        const codes = [...categoryCodes(axis, values)];
        if (!codes.length) return null;
        const ys = codes.map((c) => scale(c));
        const pad = Math.min(half, 10);
        return clampSelection([Math.min(...ys) - pad, Math.max(...ys) + pad], top, bottom);
      },
    };
  }

  const log = axis.kind === "log";
  let domain = axisDomain(axis, column, n);
  const empty = domain === null;
  if (empty) domain = log ? [1, 10] : [0, 1];
  const constant = domain[0] === domain[1];
  let drawn = domain;
  if (constant) {
    const v = domain[0];
    drawn = log ? [v / Math.sqrt(10), v * Math.sqrt(10)] : v === 0 ? [-1, 1] : [v - Math.abs(v) / 2, v + Math.abs(v) / 2];
  }
  const scale = (log ? scaleLog() : scaleLinear()).domain(drawn).range(pixelRange);
  let tickValues;
  if (empty) tickValues = [];
  else if (constant) tickValues = [domain[0]];
  else if (log) tickValues = logTicks(domain[0], domain[1]);
  else {
    tickValues = scale.ticks(5);
    if (axis.integer) tickValues = tickValues.filter((t) => Number.isInteger(t));
    if (tickValues.length < 2) tickValues = [domain[0], domain[1]];
  }
  const y = (value) => {
    if (!Number.isFinite(value) || (log && value <= 0)) return NaN;
    return scale(value);
  };
  return {
    kind: axis.kind,
    domain,
    empty,
    scale,
    y,
    ticks: tickValues.map((value) => ({ value, y: scale(value), label: formatNumber(value) })),
    invert([y0, y1]) {
      const a = scale.invert(y0);
      const b = scale.invert(y1);
      return [Math.min(a, b), Math.max(a, b)];
    },
    pixels(chosen) {
      const a = y(chosen[0]);
      const b = y(chosen[1]);
      const ends = [a, b].map((v, i) =>
        Number.isFinite(v) ? v : log && chosen[i] <= 0 ? scale.range()[0] : NaN,
      );
      if (!ends.every(Number.isFinite)) return null;
      return clampSelection([Math.min(...ends), Math.max(...ends)], top, bottom);
    },
  };
}

function clampSelection([a, b], top, bottom) {
  const lowPixel = Math.min(top, bottom);
  const highPixel = Math.max(top, bottom);
  let y0 = Math.max(lowPixel, Math.min(highPixel, a));
  let y1 = Math.max(lowPixel, Math.min(highPixel, b));
  // A range outside the axis still shows as a sliver at the nearest end.
  if (y1 - y0 < 2) {
    if (y0 + 2 <= highPixel) y1 = y0 + 2;
    else y0 = y1 - 2;
  }
  return [y0, y1];
}

/**
 * Position of a metric value on the colour scale, 1 for the best value whatever the goal.
 * Returns a function of the value; NaN for values without a colour.
 */
export function metricColorPosition(goal, low, high) {
  if (!(low <= high)) return () => NaN;
  const [worst, best] = goal === "maximize" ? [low, high] : [high, low];
  if (worst === best) return (v) => (Number.isFinite(v) ? 1 : NaN);
  return (v) => (Number.isFinite(v) ? Math.max(0, Math.min(1, (v - worst) / (best - worst))) : NaN);
}

/** Colour of a position on the metric scale (viridis: dark worst, bright best). */
export function metricColor(t) {
  return interpolateViridis(t);
}
