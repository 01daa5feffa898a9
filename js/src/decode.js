// Column store of the runs, filled from the kernel's `rows` messages.
//
// A `rows` message carries some rows (a delta) or all of them (`reset`), as one binary
// buffer per column; see nbsweep/views/_dashboard.py for the exact shape. Rows keep their
// index for the dashboard's lifetime; new rows are appended and bring their ids.

export const STATE_NAMES = ["running", "finished", "failed", "crashed", "stopped"];
export const STATE = Object.freeze({
  running: 0,
  finished: 1,
  failed: 2,
  crashed: 3,
  stopped: 4,
});

const PARAM_PREFIX = "param:";

/** Copy a received buffer (ArrayBuffer, DataView or typed array) into a new typed array. */
export function typed(buffer, Ctor) {
  let bytes;
  if (buffer instanceof ArrayBuffer) {
    bytes = new Uint8Array(buffer);
  } else if (ArrayBuffer.isView(buffer)) {
    bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } else {
    throw new TypeError("expected a binary buffer");
  }
  if (bytes.byteLength % Ctor.BYTES_PER_ELEMENT !== 0) {
    throw new RangeError(`buffer of ${bytes.byteLength} bytes is not a ${Ctor.name}`);
  }
  // Copy, so the result is aligned whatever the offset of the received view.
  return new Ctor(bytes.slice().buffer);
}

function grown(array, capacity, fill) {
  const out = new array.constructor(capacity);
  if (fill !== 0) out.fill(fill);
  out.set(array.subarray(0, Math.min(array.length, capacity)));
  return out;
}

export class ColumnStore {
  constructor() {
    this.listeners = new Set();
    this.clear();
  }

  clear() {
    this.n = 0;
    this.capacity = 0;
    this.ids = [];
    this.rowOf = new Map();
    this.state = new Uint8Array(0);
    this.metric = new Float64Array(0);
    this.nonfinite = new Uint8Array(0);
    this.started = new Float64Array(0);
    this.finished = new Float64Array(0);
    this.rowVersion = new Uint32Array(0);
    this.params = new Map();
    this.seq = 0;
    this.version = 0;
    this.ready = false;
    this.axesVersion = -1;
    this.serverTime = NaN;
    this.receivedAt = NaN;
  }

  grow(need) {
    if (need <= this.capacity) return;
    const capacity = Math.max(64, this.capacity * 2, need);
    this.state = grown(this.state, capacity, 255);
    this.metric = grown(this.metric, capacity, NaN);
    this.nonfinite = grown(this.nonfinite, capacity, 0);
    this.started = grown(this.started, capacity, NaN);
    this.finished = grown(this.finished, capacity, NaN);
    this.rowVersion = grown(this.rowVersion, capacity, 0);
    for (const [key, column] of this.params) this.params.set(key, grown(column, capacity, NaN));
    this.capacity = capacity;
  }

  /** A parameter axis's column (data units; category codes for categorical axes). */
  column(key) {
    return this.params.get(key) ?? null;
  }

  /**
   * Apply one `rows` message. Returns `{status}`: "applied" (with `reset`, `rows` and
   * `added`), "gap" (a message was missed: ask for a snapshot) or "stale" (already seen).
   */
  apply(content, buffers) {
    if (!content || content.type !== "rows") return { status: "ignored" };
    const reset = Boolean(content.reset);
    if (!reset) {
      if (!this.ready) return { status: "gap" };
      if (content.seq <= this.seq) return { status: "stale" };
      if (content.seq !== this.seq + 1 || content.new_from !== this.n) return { status: "gap" };
    }
    const names = content.columns;
    if (!Array.isArray(names) || names.length !== buffers.length) {
      throw new Error(`rows message with ${names?.length} columns and ${buffers.length} buffers`);
    }
    const byName = new Map(names.map((name, i) => [name, buffers[i]]));
    const rows = typed(byName.get("row"), Uint32Array);
    const count = rows.length;
    const decoded = {
      state: typed(byName.get("state"), Uint8Array),
      metric: typed(byName.get("metric"), Float64Array),
      nonfinite: typed(byName.get("nonfinite"), Uint8Array),
      started: typed(byName.get("started"), Float64Array),
      finished: typed(byName.get("finished"), Float64Array),
    };
    const params = new Map();
    for (const name of names) {
      if (name.startsWith(PARAM_PREFIX)) {
        params.set(name.slice(PARAM_PREFIX.length), typed(byName.get(name), Float64Array));
      }
    }
    for (const [name, array] of [...Object.entries(decoded), ...params]) {
      if (array.length !== count) {
        throw new Error(`column ${name} has ${array.length} values for ${count} rows`);
      }
    }
    const newIds = content.new_ids ?? [];
    const total = content.n;
    if (content.new_from + newIds.length !== total) {
      throw new Error(`rows message brings ${newIds.length} ids for rows ${content.new_from}..${total}`);
    }
    for (let i = 0; i < count; i++) {
      if (rows[i] >= total) throw new Error(`row ${rows[i]} beyond ${total} rows`);
    }

    const priorVersion = this.version;
    const listeners = this.listeners;
    if (reset) this.clear();
    this.listeners = listeners;
    this.version = priorVersion + 1;
    this.grow(total);
    for (const key of params.keys()) {
      if (!this.params.has(key)) this.params.set(key, new Float64Array(this.capacity).fill(NaN));
    }
    for (let i = 0; i < newIds.length; i++) {
      const row = content.new_from + i;
      this.ids[row] = newIds[i];
      this.rowOf.set(newIds[i], row);
    }
    for (let i = 0; i < count; i++) {
      const row = rows[i];
      this.state[row] = decoded.state[i];
      this.metric[row] = decoded.metric[i];
      this.nonfinite[row] = decoded.nonfinite[i];
      this.started[row] = decoded.started[i];
      this.finished[row] = decoded.finished[i];
      this.rowVersion[row] = this.version;
    }
    for (const [key, values] of params) {
      const column = this.params.get(key);
      for (let i = 0; i < count; i++) column[rows[i]] = values[i];
    }
    const added = total - this.n;
    this.n = total;
    this.seq = content.seq;
    this.ready = true;
    this.axesVersion = content.axes_version ?? this.axesVersion;
    this.serverTime = content.time ?? NaN;
    this.receivedAt = Date.now() / 1000;
    const result = { status: "applied", reset, rows, added };
    for (const listener of this.listeners) listener(result);
    return result;
  }

  /** Subscribe to applied messages; returns the unsubscribe function. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Limitation: a running run's duration counts on the page's clock from the kernel time
  // of the last message, so a page that falls asleep shows it late until the next message.
  /** The kernel's clock now, estimated from the last message (seconds). */
  now() {
    if (!Number.isFinite(this.serverTime)) return Date.now() / 1000;
    return this.serverTime + (Date.now() / 1000 - this.receivedAt);
  }

  /** Seconds from start to finish, or to now while the run is running; NaN if unknown. */
  duration(row) {
    const start = this.started[row];
    if (!Number.isFinite(start)) return NaN;
    const end = Number.isFinite(this.finished[row])
      ? this.finished[row]
      : this.state[row] === STATE.running
        ? this.now()
        : NaN;
    return Math.max(0, end - start);
  }
}
