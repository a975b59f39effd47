//! `ChatError` values for JavaScript: instances of the real `Error` subclass in js/glue.js
//! (the package entry re-exports that class, and builds `ErrorCode` at build time, so neither
//! needs the wasm).

use chat_core::ChatError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    #[wasm_bindgen(js_name = ChatError)]
    type JsChatError;
    #[wasm_bindgen(constructor, js_class = "ChatError")]
    fn new(code: u32, message: &str) -> JsChatError;
}

/// The JavaScript value a failed call rejects (or throws) with.
pub fn to_js_error(error: ChatError) -> JsValue {
    JsChatError::new(error.code, &error.message).into()
}
