//! `ConversationManager` and `MessageManager`: argument conversion and Promise plumbing only.

use crate::convert::{arg, to_js_value};
use crate::inner::SdkInner;
use crate::promise::promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct ConversationManager {
    inner: Rc<SdkInner>,
}

impl ConversationManager {
    pub(crate) fn new(inner: Rc<SdkInner>) -> Self {
        ConversationManager { inner }
    }
}

#[wasm_bindgen]
impl ConversationManager {
    #[wasm_bindgen(js_name = getConversationList)]
    pub fn get_conversation_list(&self, next_seq: JsValue, count: JsValue) -> js_sys::Promise {
        let (next_seq, count) = (arg(&next_seq), arg(&count));
        let engine = self.inner.engine.clone();
        promise(async move { to_js_value(&engine.get_conversation_list(&next_seq, &count).await?) })
    }

    #[wasm_bindgen(js_name = getConversation)]
    pub fn get_conversation(&self, conversation_id: JsValue) -> js_sys::Promise {
        let id = arg(&conversation_id);
        let engine = self.inner.engine.clone();
        promise(async move { to_js_value(&engine.get_conversation(&id).await?) })
    }

    #[wasm_bindgen(js_name = getTotalUnreadMessageCount)]
    pub fn get_total_unread_message_count(&self) -> js_sys::Promise {
        let engine = self.inner.engine.clone();
        promise(async move {
            let total = engine.get_total_unread_message_count().await?;
            Ok(JsValue::from_f64(total as f64))
        })
    }

    #[wasm_bindgen(js_name = cleanConversationUnreadMessageCount)]
    pub fn clean_conversation_unread_message_count(
        &self,
        conversation_id: JsValue,
    ) -> js_sys::Promise {
        let id = arg(&conversation_id);
        let engine = self.inner.engine.clone();
        promise(async move {
            engine.clean_conversation_unread_message_count(&id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = deleteConversation)]
    pub fn delete_conversation(&self, conversation_id: JsValue) -> js_sys::Promise {
        let id = arg(&conversation_id);
        let engine = self.inner.engine.clone();
        promise(async move {
            engine.delete_conversation(&id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    #[wasm_bindgen(js_name = deleteConversationList)]
    pub fn delete_conversation_list(
        &self,
        conversation_id_list: JsValue,
        clear_message: JsValue,
    ) -> js_sys::Promise {
        let (list, clear) = (arg(&conversation_id_list), arg(&clear_message));
        let engine = self.inner.engine.clone();
        promise(async move { to_js_value(&engine.delete_conversation_list(&list, &clear).await?) })
    }

    #[wasm_bindgen(js_name = addConversationListener)]
    pub fn add_conversation_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .add_listener(&self.inner.hooks.dispatcher.conversation, listener)
    }

    #[wasm_bindgen(js_name = removeConversationListener)]
    pub fn remove_conversation_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .remove_listener(&self.inner.hooks.dispatcher.conversation, listener)
    }
}

#[wasm_bindgen]
pub struct MessageManager {
    inner: Rc<SdkInner>,
}

impl MessageManager {
    pub(crate) fn new(inner: Rc<SdkInner>) -> Self {
        MessageManager { inner }
    }
}

#[wasm_bindgen]
impl MessageManager {
    #[wasm_bindgen(js_name = sendTextMessage)]
    pub fn send_text_message(&self, conversation_id: JsValue, text: JsValue) -> js_sys::Promise {
        let (id, text) = (arg(&conversation_id), arg(&text));
        let engine = self.inner.engine.clone();
        promise(async move { to_js_value(&engine.send_text_message(&id, &text).await?) })
    }

    #[wasm_bindgen(js_name = getHistoryMessageList)]
    pub fn get_history_message_list(
        &self,
        conversation_id: JsValue,
        count: JsValue,
        last_msg_id: JsValue,
    ) -> js_sys::Promise {
        let (id, count, last) = (arg(&conversation_id), arg(&count), arg(&last_msg_id));
        let engine = self.inner.engine.clone();
        promise(
            async move { to_js_value(&engine.get_history_message_list(&id, &count, &last).await?) },
        )
    }

    #[wasm_bindgen(js_name = addAdvancedMsgListener)]
    pub fn add_advanced_msg_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .add_listener(&self.inner.hooks.dispatcher.message, listener)
    }

    #[wasm_bindgen(js_name = removeAdvancedMsgListener)]
    pub fn remove_advanced_msg_listener(&self, listener: JsValue) -> Result<(), JsValue> {
        self.inner
            .remove_listener(&self.inner.hooks.dispatcher.message, listener)
    }
}
