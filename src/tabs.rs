//! Cross-tab sync: one BroadcastChannel per (sdkAppID, userID). A tab posts the changes it made,
//! each with the seq of its feed entry; the others apply them through the same merge rules as
//! server pushes, so each fires its events exactly once whichever arrives first, and a sync reply
//! older than a change never undoes it.

use crate::convert::{from_json, to_json};
use chat_core::wire::ChangeEnvelope;
use chat_core::Engine;
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

pub struct TabChannel {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl TabChannel {
    /// None where BroadcastChannel is unavailable (the SDK then works as a single tab).
    pub fn open(name: &str, engine: Engine) -> Option<TabChannel> {
        let channel = BroadcastChannel::new(name).ok()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            if let Some(changes) = from_json::<Vec<ChangeEnvelope>>(&text) {
                let engine = engine.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    engine.on_tab_changes(changes).await;
                });
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(TabChannel {
            channel,
            _on_message: on_message,
        })
    }

    pub fn post(&self, changes: &[ChangeEnvelope]) {
        if let Some(text) = to_json(changes) {
            let _ = self.channel.post_message(&JsValue::from_str(&text));
        }
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
