//! Cross-tab sync: one BroadcastChannel per (sdkAppID, userID). A tab posts the changes it made,
//! each with the seq of its feed entry; the others apply them through the same merge rules as
//! server pushes, so each fires its events exactly once whichever arrives first, and a sync reply
//! older than a change never undoes it.

use crate::convert::{from_json, to_json};
use crate::events::TabChannel;
use chat_core::wire::ChangeEnvelope;
use chat_core::Engine;
use wasm_bindgen_futures::JsFuture;

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
