//! `ChatSDK`: a thin newtype over the core engine. Every async method clones the inner handle
//! before awaiting, so no borrow of the JS object is held across an await (no "recursive use of
//! an object detected", even from inside a listener).

use crate::convert::{arg, field};
use crate::hooks::BrowserHooks;
use crate::http::HttpTransport;
use crate::idb_store::{IdbOpener, JsMemoryOpener};
use crate::inner::SdkInner;
use crate::managers::{ConversationManager, MessageManager};
use crate::promise::promise;
use chat_core::args::{self, StorageKind};
use chat_core::store::StoreOpener;
use chat_core::{Engine, EngineOptions};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct ChatSDK {
    inner: Rc<SdkInner>,
    /// The managers' JavaScript objects, made once: every `get…Manager()` returns the same one.
    conversation_manager: JsValue,
    message_manager: JsValue,
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
                StorageKind::Memory => Rc::new(JsMemoryOpener::default()),
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
            let inner = Rc::new(SdkInner {
                engine,
                hooks,
                http,
                push: RefCell::new(None),
            });
            let sdk = ChatSDK {
                conversation_manager: ConversationManager::new(inner.clone()).into(),
                message_manager: MessageManager::new(inner.clone()).into(),
                inner,
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

    /// Always the same object (typed in index.d.ts).
    #[wasm_bindgen(js_name = getConversationManager)]
    pub fn get_conversation_manager(&self) -> JsValue {
        self.conversation_manager.clone()
    }

    /// Always the same object (typed in index.d.ts).
    #[wasm_bindgen(js_name = getMessageManager)]
    pub fn get_message_manager(&self) -> JsValue {
        self.message_manager.clone()
    }

    #[wasm_bindgen(js_name = addSDKListener)]
    pub fn add_sdk_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .add_listener(&self.inner.hooks.dispatcher.sdk, listener)
    }

    #[wasm_bindgen(js_name = removeSDKListener)]
    pub fn remove_sdk_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .remove_listener(&self.inner.hooks.dispatcher.sdk, listener)
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
