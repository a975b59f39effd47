//! Bindings of js/glue.js: the push WebSocket and the tab BroadcastChannel, each a queue of
//! what arrived that one Rust loop takes (`ready`, then `take`), declared once for both.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// What both sockets share (the JS base class).
    #[derive(Clone)]
    pub type Queue;
    /// Resolves when something is queued.
    #[wasm_bindgen(method)]
    pub fn ready(this: &Queue) -> js_sys::Promise;
    /// A text, `OPEN` (push only), `CLOSED`, or undefined when nothing is queued.
    #[wasm_bindgen(method)]
    pub fn take(this: &Queue) -> JsValue;
    /// The next queued text, or undefined (anything else stays queued).
    #[wasm_bindgen(method, js_name = takeText)]
    pub fn take_text(this: &Queue) -> Option<String>;

    /// A WebSocket whose events queue up in JS.
    #[wasm_bindgen(extends = Queue)]
    #[derive(Clone)]
    pub type PushSocket;
    #[wasm_bindgen(constructor, catch)]
    pub fn new(url: &str) -> Result<PushSocket, JsValue>;
    #[wasm_bindgen(method)]
    pub fn close(this: &PushSocket);

    /// A BroadcastChannel whose messages queue up in JS.
    #[wasm_bindgen(extends = Queue)]
    #[derive(Clone)]
    pub type TabChannel;
    #[wasm_bindgen(constructor, catch)]
    pub fn new(name: &str) -> Result<TabChannel, JsValue>;
    /// Throws on a closed channel or an unclonable message (ignored: the other tabs catch up at
    /// their next sync).
    #[wasm_bindgen(method, catch)]
    pub fn post(this: &TabChannel, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    pub fn close(this: &TabChannel);

    pub fn sleep(ms: u32) -> js_sys::Promise;
}

/// What `take` returns besides texts and `CLOSED` (js/glue.js).
pub const OPEN: f64 = 0.0;
