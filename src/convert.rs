//! Conversions between JavaScript values and core types. Arguments become `Arg`s (checked in the
//! core); results become plain objects through JSON, which keeps the glue small.

use chat_core::{Arg, ChatError, ErrorCode};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// Arrays longer than this are not copied item by item: the core refuses over 100 anyway.
const MAX_ITEMS_COPIED: u32 = 101;

pub fn arg(value: &JsValue) -> Arg {
    if value.is_undefined() {
        Arg::Undefined
    } else if value.is_null() {
        Arg::Null
    } else if let Some(b) = value.as_bool() {
        Arg::Bool(b)
    } else if let Some(n) = value.as_f64() {
        Arg::Number(n)
    } else if let Some(s) = value.as_string() {
        Arg::Str(s)
    } else if let Some(array) = value.dyn_ref::<js_sys::Array>() {
        let len = array.length();
        let items = (0..len.min(MAX_ITEMS_COPIED))
            .map(|i| item(&array.get(i)))
            .collect();
        Arg::Array {
            len: len as usize,
            items,
        }
    } else if value.is_function() {
        Arg::Function
    } else if value.is_object() {
        Arg::Object
    } else if value.is_symbol() {
        Arg::Other("symbol")
    } else {
        Arg::Other("bigint")
    }
}

/// An array item: nested arrays are described, not copied.
fn item(value: &JsValue) -> Arg {
    if js_sys::Array::is_array(value) {
        Arg::Array {
            len: js_sys::Array::from(value).length() as usize,
            items: Vec::new(),
        }
    } else {
        arg(value)
    }
}

/// A field of an options object (`undefined` when the object is not an object).
pub fn field(object: &JsValue, name: &str) -> Arg {
    if !object.is_object() {
        return Arg::Undefined;
    }
    arg(&js_sys::Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED))
}

pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, ChatError> {
    let json = serde_json::to_string(value).map_err(|e| {
        ChatError::new(ErrorCode::ServerError, format!("cannot encode result: {e}"))
    })?;
    js_sys::JSON::parse(&json)
        .map_err(|_| ChatError::new(ErrorCode::ServerError, "cannot decode result"))
}
