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
        let encoded = match event {
            Event::ConversationDeleted(ids) => to_js_value(ids).map(|a| vec![a]),
            Event::NewConversation(list) | Event::ConversationChanged(list) => {
                to_js_value(list).map(|a| vec![a])
            }
            Event::TotalUnreadChanged(n) => Ok(vec![JsValue::from_f64(*n as f64)]),
            Event::RecvNewMessage(m) => to_js_value(m).map(|a| vec![a]),
            Event::ConnectFailed { code, message } => {
                Ok(vec![JsValue::from(*code), JsValue::from_str(message)])
            }
            Event::StorageFallback(reason) => Ok(vec![JsValue::from_str(reason)]),
            // Listed one by one: a new event with arguments must not compile into a silent drop.
            Event::SyncServerStart
            | Event::SyncServerFinish
            | Event::SyncServerFailed
            | Event::Connecting
            | Event::ConnectSuccess
            | Event::UserSigExpired => Ok(vec![]),
        };
        let call_args = encoded.map_err(|e| e.message)?;
        let array: js_sys::Array = call_args.into_iter().collect();
        method
            .apply(&self.0, &array)
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
