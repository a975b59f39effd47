//! `SdkInner`: what one `ChatSDK` and its managers share (the engine, the listener hooks, the
//! transport and the push connection). Managers hold an `Rc` of it, never the `ChatSDK` itself.

use crate::convert::arg;
use crate::errors::to_js_error;
use crate::hooks::BrowserHooks;
use crate::http::HttpTransport;
use crate::listener::JsListener;
use crate::push::Push;
use crate::tabs::Tabs;
use chat_core::args;
use chat_core::listeners::Registry;
use chat_core::{ChatError, Engine};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;

pub(crate) struct SdkInner {
    pub engine: Engine,
    pub hooks: Rc<BrowserHooks>,
    pub http: Rc<HttpTransport>,
    pub push: RefCell<Option<Push>>,
}

impl SdkInner {
    /// Starts push and cross-tab sync for the logged-in user (once).
    pub fn connect(&self) {
        let Some(namespace) = self.engine.namespace() else {
            return;
        };
        if self.push.borrow().is_none() && self.http.has_credentials() {
            let push = Push::start(self.engine.clone(), self.hooks.clone(), self.http.clone());
            *self.push.borrow_mut() = Some(push);
        }
        if self.hooks.tabs.borrow().is_none() {
            let tabs = Tabs::open(&namespace.key(), self.engine.clone());
            *self.hooks.tabs.borrow_mut() = tabs;
        }
    }

    pub fn disconnect(&self) {
        if let Some(push) = self.push.borrow_mut().take() {
            push.stop();
        }
        self.hooks.tabs.borrow_mut().take();
    }

    /// `add…Listener`: a checked listener object joins `registry` (once).
    pub fn add_listener(
        &self,
        registry: &Registry<JsListener>,
        listener: JsValue,
    ) -> Result<(), JsValue> {
        registry.add(self.checked_listener(listener)?);
        Ok(())
    }

    /// `remove…Listener`: a checked listener object leaves `registry` (unknown ones are a no-op).
    pub fn remove_listener(
        &self,
        registry: &Registry<JsListener>,
        listener: JsValue,
    ) -> Result<(), JsValue> {
        registry.remove(&self.checked_listener(listener)?);
        Ok(())
    }

    fn checked_listener(&self, listener: JsValue) -> Result<JsListener, JsValue> {
        if self.engine.is_destroyed() {
            return Err(to_js_error(ChatError::destroyed()));
        }
        args::listener(&arg(&listener)).map_err(to_js_error)?;
        Ok(JsListener(listener))
    }
}
