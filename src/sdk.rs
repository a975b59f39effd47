//! `ChatSDK`: a thin newtype over the core engine. Every async method clones the inner handle
//! before awaiting, so no borrow of the JS object is held across an await (no "recursive use of
//! an object detected", even from inside a listener).

use crate::convert::{arg, field};
use crate::errors;
use crate::hooks::BrowserHooks;
use crate::http::HttpTransport;
use crate::idb_store::IdbOpener;
use crate::listener::JsListener;
use crate::managers::{ConversationManager, MessageManager};
use crate::push::Push;
use crate::tabs::TabChannel;
use chat_core::args::{self, StorageKind};
use chat_core::listeners::Registry;
use chat_core::memory_store::MemoryOpener;
use chat_core::store::StoreOpener;
use chat_core::{ChatError, Engine, EngineOptions};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

pub(crate) struct SdkInner {
    pub engine: Engine,
    pub hooks: Rc<BrowserHooks>,
    http: Rc<HttpTransport>,
    push: RefCell<Option<Push>>,
}

impl SdkInner {
    /// Starts push and cross-tab sync for the logged-in user (once).
    fn connect(&self) {
        let Some(namespace) = self.engine.namespace() else {
            return;
        };
        if self.push.borrow().is_none() && self.http.has_credentials() {
            let push = Push::start(self.engine.clone(), self.hooks.clone(), self.http.clone());
            *self.push.borrow_mut() = Some(push);
        }
        if self.hooks.tabs.borrow().is_none() {
            let tabs = TabChannel::open(&namespace.key(), self.engine.clone());
            *self.hooks.tabs.borrow_mut() = tabs;
        }
    }

    fn disconnect(&self) {
        if let Some(push) = self.push.borrow_mut().take() {
            push.stop();
        }
        self.hooks.tabs.borrow_mut().take();
    }

    pub fn registry_call(
        &self,
        registry: &Registry<JsListener>,
        listener: JsValue,
        add: bool,
    ) -> Result<(), JsValue> {
        if self.engine.is_destroyed() {
            return Err(errors::to_js(ChatError::destroyed()));
        }
        args::listener(&arg(&listener)).map_err(errors::to_js)?;
        let listener = JsListener(listener);
        if add {
            registry.add(listener);
        } else {
            registry.remove(&listener);
        }
        Ok(())
    }
}

type Call = std::pin::Pin<Box<dyn Future<Output = Result<JsValue, ChatError>>>>;

/// Turns a core future into a Promise that rejects with a `ChatError`. Boxed, so that the
/// Promise plumbing exists once in the wasm rather than once per method.
pub(crate) fn promise<F>(future: F) -> js_sys::Promise
where
    F: Future<Output = Result<JsValue, ChatError>> + 'static,
{
    boxed_promise(Box::pin(future))
}

fn boxed_promise(future: Call) -> js_sys::Promise {
    wasm_bindgen_futures::future_to_promise(async move { future.await.map_err(errors::to_js) })
}

#[wasm_bindgen]
pub struct ChatSDK {
    inner: Rc<SdkInner>,
}

#[wasm_bindgen]
impl ChatSDK {
    /// `ChatSDK.create(options)`: validates the options; storage opens at login.
    pub fn create(options: JsValue) -> js_sys::Promise {
        let checked = args::options(
            &arg(&options),
            &field(&options, "sdkAppID"),
            &field(&options, "serverURL"),
            &field(&options, "storage"),
            &field(&options, "conversationIDStyle"),
        );
        promise(async move {
            let options = checked?;
            let hooks = Rc::new(BrowserHooks::new());
            let http = Rc::new(HttpTransport::new(&options.server_url));
            let opener: Rc<dyn StoreOpener> = match options.storage {
                StorageKind::Memory => Rc::new(MemoryOpener::default()),
                StorageKind::IndexedDb => Rc::new(IdbOpener::default()),
            };
            let engine = Engine::new(
                EngineOptions {
                    sdk_app_id: options.sdk_app_id,
                    style: options.style,
                },
                http.clone(),
                opener,
                hooks.clone(),
            );
            let sdk = ChatSDK {
                inner: Rc::new(SdkInner {
                    engine,
                    hooks,
                    http,
                    push: RefCell::new(None),
                }),
            };
            Ok(sdk.into())
        })
    }

    pub fn login(&self, user_id: JsValue, user_sig: JsValue) -> js_sys::Promise {
        let (user_id, user_sig) = (arg(&user_id), arg(&user_sig));
        let inner = self.inner.clone();
        promise(async move {
            let before = inner.engine.login_user();
            inner.engine.login(&user_id, &user_sig).await?;
            if before != inner.engine.login_user() {
                inner.disconnect();
            }
            inner.connect();
            Ok(JsValue::UNDEFINED)
        })
    }

    pub fn logout(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.disconnect();
            inner.engine.logout().await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// The logged-in userID, or `null` (not `undefined`) when nobody is logged in.
    #[wasm_bindgen(js_name = getLoginUser)]
    pub fn get_login_user(&self) -> JsValue {
        self.inner
            .engine
            .login_user()
            .map_or(JsValue::NULL, |user| JsValue::from_str(&user))
    }

    #[wasm_bindgen(js_name = getConversationManager)]
    pub fn get_conversation_manager(&self) -> ConversationManager {
        ConversationManager::new(self.inner.clone())
    }

    #[wasm_bindgen(js_name = getMessageManager)]
    pub fn get_message_manager(&self) -> MessageManager {
        MessageManager::new(self.inner.clone())
    }

    #[wasm_bindgen(js_name = addSDKListener)]
    pub fn add_sdk_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .registry_call(&self.inner.hooks.dispatcher.sdk, listener, true)
    }

    #[wasm_bindgen(js_name = removeSDKListener)]
    pub fn remove_sdk_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .registry_call(&self.inner.hooks.dispatcher.sdk, listener, false)
    }

    /// Closes the push connection, the tab channel and the database; later calls reject 6013.
    pub fn destroy(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        promise(async move {
            inner.disconnect();
            inner.engine.destroy().await;
            inner.hooks.dispatcher.clear();
            Ok(JsValue::UNDEFINED)
        })
    }
}
