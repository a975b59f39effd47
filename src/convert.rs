//! Conversions between JavaScript values and core types. Arguments become `Arg`s (checked in the
//! core); results and records cross as JavaScript objects (`records`, field by field), and JSON
//! text (HTTP bodies, push frames) is parsed and printed by JavaScript's own `JSON`, so the wasm
//! carries no JSON parser or printer of its own.

use crate::records::{decode, encode, FromJs, ToJs};
use chat_core::{Arg, ChatError, ErrorCode};
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

/// A result handed to the application. Encoding fails only for a number JavaScript cannot hold
/// exactly (above 2^53), which only a corrupt local record can carry: 6019, not a server error.
/// Takes `dyn`: one copy of this in the wasm, not one per result type.
pub fn to_js_value(value: &dyn ToJs) -> Result<JsValue, ChatError> {
    encode(value).map_err(|e| {
        let mut message = String::from("cannot hand the result to JavaScript: ");
        message.push_str(e);
        ChatError::new(ErrorCode::DatabaseOperateFailed, message)
    })
}

/// JSON text of a value (`JSON.stringify` of its object).
pub fn to_json<T: ToJs + ?Sized>(value: &T) -> Option<String> {
    let object = encode(value).ok()?;
    js_sys::JSON::stringify(&object).ok()?.as_string()
}

/// A value from JSON text (`JSON.parse`, then the object); None when either step fails.
pub fn from_json<T: FromJs>(text: &str) -> Option<T> {
    decode(&js_sys::JSON::parse(text).ok()?).ok()
}
