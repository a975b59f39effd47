//! Core futures as JavaScript Promises that reject with a `ChatError`.

use crate::errors::to_js_error;
use chat_core::ChatError;
use std::future::Future;
use std::pin::Pin;

type Call = Pin<Box<dyn Future<Output = Result<wasm_bindgen::JsValue, ChatError>>>>;

/// Boxed, so that the Promise plumbing exists once in the wasm rather than once per method.
pub(crate) fn promise<F>(future: F) -> js_sys::Promise
where
    F: Future<Output = Result<wasm_bindgen::JsValue, ChatError>> + 'static,
{
    boxed_promise(Box::pin(future))
}

fn boxed_promise(future: Call) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move { future.await.map_err(to_js_error) })
}
