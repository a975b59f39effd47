// The push WebSocket and the cross-tab BroadcastChannel for the wasm, in plain JS: each queues
// what arrives and the wasm takes it in a loop (`ready` then `take`), so the wasm needs neither a
// closure per handler nor a channel of its own, nor the web-sys bindings of either API.
// `take` returns a text (a frame or a tab message), OPEN, CLOSED, or undefined when the queue is empty.
const OPEN = 0, CLOSED = 1;

class Queue {
  constructor() { this.q = []; this.wake = null; }
  put(e) {
    this.q.push(e);
    if (this.wake) { this.wake(); this.wake = null; }
  }
  /** Resolves when something is queued (at once if something is). */
  ready() { return this.q.length ? Promise.resolve() : new Promise((r) => { this.wake = r; }); }
  take() { return this.q.shift(); }
  /** The next queued item if it is a text, else undefined (and it stays queued). */
  takeText() { return typeof this.q[0] === "string" ? this.q.shift() : undefined; }
}

/** Throws (a SyntaxError) when the URL cannot be used. */
export class PushSocket extends Queue {
  constructor(url) {
    super();
    const ws = this.ws = new WebSocket(url);
    ws.onopen = () => this.put(OPEN);
    ws.onmessage = (e) => { if (typeof e.data === "string") this.put(e.data); };
    ws.onclose = () => this.put(CLOSED);
  }
  /** The socket's close event ends the wasm's loop. */
  close() { this.ws.close(); }
}

/** Throws where BroadcastChannel is unavailable. */
export class TabChannel extends Queue {
  constructor(name) {
    super();
    this.ch = new BroadcastChannel(name);
    this.ch.onmessage = (e) => { if (typeof e.data === "string") this.put(e.data); };
  }
  post(text) { this.ch.postMessage(text); }
  /** Stops receiving; the wasm's loop ends at CLOSED. */
  close() { this.ch.onmessage = null; this.ch.close(); this.put(CLOSED); }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
