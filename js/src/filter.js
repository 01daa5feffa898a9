// Brush filtering: the same rule as nbsweep.views.brush_mask in Python.
//
// A numeric axis keeps values in [low, high], ends included; a categorical axis keeps the
// listed category values (an empty list keeps none). A run without a value on a brushed
// axis (NaN) is out. Brushes on axes that do not exist are ignored.

/**
 * A string that is equal for values nbsweep counts as the same category: numbers by value
 * (2 and 2.0 are one), booleans apart from numbers, null, strings, lists and objects by
 * content (object keys in any order).
 */
export function canonKey(value) {
  if (value === null || value === undefined) return "n";
  switch (typeof value) {
    case "boolean":
      return `b:${value}`;
    case "number":
      return `f:${Object.is(value, -0) ? 0 : value}`;
    case "string":
      return `s:${value}`;
    default:
      break;
  }
  if (Array.isArray(value)) return `l:[${value.map(canonKey).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `d:{${keys.map((k) => `${JSON.stringify(k)}:${canonKey(value[k])}`).join(",")}}`;
}

/** Codes (indices into `axis.categories`) of the chosen category values. */
export function categoryCodes(axis, values) {
  const wanted = new Set(values.map(canonKey));
  const codes = new Set();
  (axis.categories ?? []).forEach((category, code) => {
    if (wanted.has(canonKey(category.value))) codes.add(code);
  });
  return codes;
}

/** True when the brush has at least one entry on an existing axis. */
export function hasBrush(axes, brush) {
  if (!brush) return false;
  const keys = new Set(axes.map((a) => a.key));
  return Object.keys(brush).some((k) => keys.has(k));
}

/**
 * One byte per run, 1 when the run is inside every brushed range.
 *
 * @param axes axis specs (key, kind, categories)
 * @param columnOf function of an axis spec returning its column (data units) or null
 * @param n number of runs
 * @param brush axis key to [low, high] or to a list of category values
 */
export function filterMask(axes, columnOf, n, brush) {
  const mask = new Uint8Array(n).fill(1);
  if (!brush) return mask;
  const byKey = new Map(axes.map((a) => [a.key, a]));
  for (const [key, chosen] of Object.entries(brush)) {
    const axis = byKey.get(key);
    const column = axis ? columnOf(axis) : null;
    if (!axis || !column) continue;
    if (axis.kind === "categorical") {
      const codes = categoryCodes(axis, chosen);
      for (let i = 0; i < n; i++) if (mask[i] && !codes.has(column[i])) mask[i] = 0;
    } else {
      const low = Math.min(chosen[0], chosen[1]);
      const high = Math.max(chosen[0], chosen[1]);
      for (let i = 0; i < n; i++) {
        const v = column[i];
        // NaN fails both comparisons, so a run without a value is out.
        if (mask[i] && !(v >= low && v <= high)) mask[i] = 0;
      }
    }
  }
  return mask;
}

/** How many ones a mask holds. */
export function countSelected(mask) {
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i];
  return count;
}
