// The page's handle on the wasm engine running in worker.js: promise-based calls, and a lint
// scheduler that debounces typing and never queues more than one pending run (latest wins).

export class Engine {
  constructor(workerUrl = new URL("./worker.js", import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: "module" });
    this.nextId = 1;
    this.pending = new Map();
    this.worker.onmessage = (event) => {
      const { id, result, error, ms } = event.data;
      const call = this.pending.get(id);
      if (!call) return;
      this.pending.delete(id);
      if (error !== undefined) call.reject(new Error(error));
      else call.resolve({ result, ms });
    };
    this.worker.onerror = (event) => {
      const err = new Error(`the engine failed to start: ${event.message ?? "unknown error"}`);
      for (const call of this.pending.values()) call.reject(err);
      this.pending.clear();
    };
  }

  /**
   * Calls a worker operation; resolves to {result, ms} where ms is the time spent in the worker.
   * Calls are answered in the order they are made.
   */
  call(op, ...args) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }
}

/**
 * Runs `task` after `delayMs` of quiet. While a run is in flight, further requests collapse into
 * one follow-up run, so a burst of keystrokes costs at most two lints.
 */
export class Debouncer {
  constructor(task, delayMs) {
    this.task = task;
    this.delayMs = delayMs;
    this.timer = undefined;
    this.running = false;
    this.again = false;
  }

  request(immediately = false) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.#fire(), immediately ? 0 : this.delayMs);
  }

  async #fire() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.task();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.#fire();
      }
    }
  }
}
