// State shared by every view of one dashboard: the hovered run and axis, the axis order
// and flips. Hovering or selecting a run in one view lights it in all of them. The
// selection and the brush live in the widget's model (Python sees them); this holds the
// rest, which only the page needs.

export class Emitter {
  constructor() {
    this.handlers = new Map();
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type)?.delete(handler);
  }

  emit(type, payload) {
    for (const handler of [...(this.handlers.get(type) ?? [])]) handler(payload);
  }
}

export function createState() {
  const emitter = new Emitter();
  const values = {
    hover: -1, // row of the hovered run, -1 when none
    hoverAxis: null, // key of the hovered axis (importance bar), null when none
    order: null, // axis keys in drawing order, null for the spec's order
    flipped: new Set(), // keys of flipped axes
  };
  return {
    get(key) {
      return values[key];
    },
    /** Change some values; emits "change" with the changed keys when anything changed. */
    set(patch) {
      const changed = [];
      for (const [key, value] of Object.entries(patch)) {
        if (values[key] !== value) {
          values[key] = value;
          changed.push(key);
        }
      }
      if (changed.length) emitter.emit("change", changed);
      return changed;
    },
    toggleFlip(key) {
      const flipped = new Set(values.flipped);
      if (flipped.has(key)) flipped.delete(key);
      else flipped.add(key);
      values.flipped = flipped;
      emitter.emit("change", ["flipped"]);
    },
    on: (type, handler) => emitter.on(type, handler),
    emit: (type, payload) => emitter.emit(type, payload),
  };
}

/** Axes in the order the user chose: known keys first, in that order, then new ones. */
export function orderAxes(axes, order) {
  if (!order) return axes.slice();
  const byKey = new Map(axes.map((a) => [a.key, a]));
  const out = order.filter((k) => byKey.has(k)).map((k) => byKey.get(k));
  const placed = new Set(out.map((a) => a.key));
  for (const axis of axes) if (!placed.has(axis.key)) out.push(axis);
  return out;
}
