//! `ChatError` (a real `Error` subclass from js/chat-error.js) and the `ErrorCode` table.

use chat_core::{ChatError, ErrorCode};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/chat-error.js")]
extern "C" {
    #[wasm_bindgen(js_name = ChatError)]
    type JsChatError;
    #[wasm_bindgen(constructor, js_class = "ChatError")]
    fn new(code: u32, message: &str) -> JsChatError;
    #[wasm_bindgen(js_name = chatErrorClass)]
    fn chat_error_class_js() -> JsValue;
}

/// The JavaScript value a failed call rejects (or throws) with.
pub fn to_js(error: ChatError) -> JsValue {
    JsChatError::new(error.code, &error.message).into()
}

/// The `ChatError` class (re-exported by the package entry).
#[wasm_bindgen(js_name = chatErrorClass)]
pub fn chat_error_class() -> JsValue {
    chat_error_class_js()
}

/// `ErrorCode`: a frozen object of names to numbers, built from the core's one table.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> JsValue {
    let obj = js_sys::Object::new();
    for code in ErrorCode::ALL {
        let _ = js_sys::Reflect::set(&obj, &code.name().into(), &code.code().into());
    }
    js_sys::Object::freeze(&obj).into()
}
