//! The engine's hooks in a browser: listeners, the cross-tab channel, the console.

use crate::listener::JsListener;
use crate::tabs::Tabs;
use chat_core::event::{Event, Hooks};
use chat_core::listeners::Dispatcher;
use chat_core::wire::ChangeEnvelope;
use std::cell::RefCell;

pub struct BrowserHooks {
    pub dispatcher: Dispatcher<JsListener>,
    pub tabs: RefCell<Option<Tabs>>,
}

impl BrowserHooks {
    pub fn new() -> Self {
        BrowserHooks {
            dispatcher: Dispatcher::new(|event: &Event, error: &str| {
                web_sys::console::error_1(
                    &format!("ChatSDK: listener {} threw: {error}", event.name()).into(),
                );
            }),
            tabs: RefCell::new(None),
        }
    }
}

impl Hooks for BrowserHooks {
    fn emit(&self, event: Event) {
        if let Event::StorageFallback(reason) = &event {
            web_sys::console::warn_1(&format!("ChatSDK: {reason}").into());
        }
        self.dispatcher.dispatch(&event);
    }

    fn share_with_tabs(&self, changes: &[ChangeEnvelope]) {
        if let Some(tabs) = self.tabs.borrow().as_ref() {
            tabs.post(changes);
        }
    }

    fn log_error(&self, message: &str) {
        web_sys::console::error_1(&format!("ChatSDK: {message}").into());
    }
}
