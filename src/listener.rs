//! A JavaScript listener object as a core `Listener`: identity is the object itself.

use crate::convert::to_js_value;
use chat_core::event::Event;
use chat_core::listeners::Listener;
use wasm_bindgen::{JsCast, JsValue};

#[derive(Clone, PartialEq)]
pub struct JsListener(pub JsValue);

impl Listener for JsListener {
    fn handle(&self, event: &Event) -> Result<(), String> {
        let method =
            js_sys::Reflect::get(&self.0, &event.name().into()).unwrap_or(JsValue::UNDEFINED);
        let Some(method) = method.dyn_ref::<js_sys::Function>() else {
            return Ok(()); // the listener does not want this event
        };
        // Built in place (no Vec per call): at most two arguments, the last one encoded.
        let args = js_sys::Array::new();
        let last = match event {
            Event::ConversationDeleted(ids) => Some(to_js_value(ids)),
            Event::NewConversation(list) | Event::ConversationChanged(list) => {
                Some(to_js_value(list))
            }
            Event::TotalUnreadChanged(n) => Some(Ok(JsValue::from_f64(*n as f64))),
            Event::RecvNewMessage(m) => Some(to_js_value(m)),
            Event::ConnectFailed { code, message } => {
                args.push(&JsValue::from(*code));
                Some(Ok(JsValue::from_str(message)))
            }
            Event::StorageFallback(reason) => Some(Ok(JsValue::from_str(reason))),
            // Listed one by one: a new event with arguments must not compile into a silent drop.
            Event::SyncServerStart
            | Event::SyncServerFinish
            | Event::SyncServerFailed
            | Event::Connecting
            | Event::ConnectSuccess
            | Event::UserSigExpired => None,
        };
        if let Some(last) = last {
            args.push(&last.map_err(|e| e.message)?);
        }
        method
            .apply(&self.0, &args)
            .map(|_| ())
            .map_err(|thrown| describe(&thrown))
    }
}

fn describe(thrown: &JsValue) -> String {
    js_sys::JSON::stringify(thrown)
        .ok()
        .and_then(|s| s.as_string())
        .filter(|s| s != "{}")
        .or_else(|| {
            thrown
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.to_string()))
        })
        .unwrap_or_else(|| {
            // undefined, a symbol, a function…: its type is all JSON and Error cannot tell.
            let mut text = String::from("a thrown ");
            text.push_str(&thrown.js_typeof().as_string().unwrap_or_default());
            text
        })
}
