//! Cross-tab sync: one BroadcastChannel per (sdkAppID, userID). A tab posts the changes it made,
//! each with the seq of its feed entry; the others apply them through the same merge rules as
//! server pushes, so each fires its events exactly once whichever arrives first, and a sync reply
//! older than a change never undoes it.

use crate::convert::{from_json, to_json};
use chat_core::wire::ChangeEnvelope;
use chat_core::Engine;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/events.js")]
extern "C" {
    /// A BroadcastChannel whose messages queue up in JS (js/events.js).
    #[derive(Clone)]
    type TabChannel;
    #[wasm_bindgen(constructor, catch)]
    fn new(name: &str) -> Result<TabChannel, JsValue>;
    #[wasm_bindgen(method)]
    fn ready(this: &TabChannel) -> js_sys::Promise;
    /// A message's text, `CLOSED`, or undefined when nothing is queued.
    #[wasm_bindgen(method)]
    fn take(this: &TabChannel) -> JsValue;
    /// Throws on a closed channel or an unclonable message (ignored: the other tabs catch up at
    /// their next sync).
    #[wasm_bindgen(method, catch)]
    fn post(this: &TabChannel, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn close(this: &TabChannel);
}

/// The open channel; dropping it closes the channel and ends its reader.
pub struct Tabs(TabChannel);

impl Tabs {
    /// None where BroadcastChannel is unavailable (the SDK then works as a single tab).
    pub fn open(name: &str, engine: Engine) -> Option<Tabs> {
        let channel = TabChannel::new(name).ok()?;
        let reader = channel.clone();
        // Messages are applied one after another, in the order they arrived.
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let message = reader.take();
                if message.is_undefined() {
                    let _ = JsFuture::from(reader.ready()).await;
                } else if let Some(text) = message.as_string() {
                    if let Some(changes) = from_json::<Vec<ChangeEnvelope>>(&text) {
                        engine.on_tab_changes(changes).await;
                    }
                } else {
                    return; // closed
                }
            }
        });
        Some(Tabs(channel))
    }

    pub fn post(&self, changes: &[ChangeEnvelope]) {
        if let Some(text) = to_json(changes) {
            let _ = self.0.post(&text);
        }
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.0.close();
    }
}
