//! Records ⇄ plain JavaScript objects, field by field through `Reflect` (the core's serde derives
//! stay for the server; here a generic serde deserializer would put one visitor per type, serde's
//! type-error messages and float printing in the wasm). Decoders ignore fields they do not know,
//! so records written by a newer build still load.

use chat_core::model::{
    Conversation, ConversationOperationResult, ConversationPage, Message, Tombstone,
};
use chat_core::wire::{
    Change, ChangeEnvelope, ChangesReply, DeleteReply, DeleteRequest, DeleteResultItem, ErrorBody,
    HistoryReply, LoginReply, LoginRequest, MarkReadRequest, ReadReply, SendReply, SendRequest,
};
use js_sys::{Array, Object, Reflect};
use std::cell::Cell;
use wasm_bindgen::{JsCast, JsValue};

/// Largest integer a JavaScript number holds exactly (2^53 − 1).
const MAX_SAFE: u64 = (1 << 53) - 1;

std::thread_local! {
    /// Set when an encoded integer was above `MAX_SAFE` (JavaScript would round it).
    static INEXACT: Cell<bool> = const { Cell::new(false) };
}

/// A value as a plain JavaScript object; `Err` when one of its integers is above 2^53 − 1.
pub fn encode<T: ToJs + ?Sized>(value: &T) -> Result<JsValue, &'static str> {
    INEXACT.with(|f| f.set(false));
    let object = value.to_js();
    if INEXACT.with(Cell::get) {
        return Err("a number above 2^53 cannot be held exactly by JavaScript");
    }
    Ok(object)
}

/// A value read from a plain JavaScript object; the error names the field and what it holds.
pub fn decode<T: FromJs>(value: &JsValue) -> Result<T, String> {
    T::from_js(value)
}

pub trait ToJs {
    fn to_js(&self) -> JsValue;
}

pub trait FromJs: Sized {
    fn from_js(value: &JsValue) -> Result<Self, String>;
}

fn int(n: u64) -> JsValue {
    if n > MAX_SAFE {
        INEXACT.with(|f| f.set(true));
    }
    JsValue::from_f64(n as f64)
}

/// An object under construction (`Reflect.set` per field).
struct Out(Object);

impl Out {
    fn new() -> Self {
        Out(Object::new())
    }
    fn set(&self, key: &str, value: &JsValue) -> &Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), value);
        self
    }
    fn str(&self, key: &str, value: &str) -> &Self {
        self.set(key, &JsValue::from_str(value))
    }
    fn int(&self, key: &str, value: u64) -> &Self {
        self.set(key, &int(value))
    }
    fn bool(&self, key: &str, value: bool) -> &Self {
        self.set(key, &JsValue::from_bool(value))
    }
    fn done(&self) -> JsValue {
        self.0.clone().into()
    }
}

impl<T: ToJs> ToJs for [T] {
    fn to_js(&self) -> JsValue {
        self.iter().map(ToJs::to_js).collect::<Array>().into()
    }
}

impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        self.as_slice().to_js()
    }
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for Message {
    fn to_js(&self) -> JsValue {
        Out::new()
            .str("msgID", &self.msg_id)
            .str("conversationID", &self.conversation_id)
            .str("sender", &self.sender)
            .str("text", &self.text)
            .int("timestamp", self.timestamp)
            .int("seq", self.seq)
            .done()
    }
}

impl ToJs for Conversation {
    fn to_js(&self) -> JsValue {
        let out = Out::new();
        out.str("conversationID", &self.conversation_id)
            .int("type", self.kind.into());
        if let Some(user_id) = &self.user_id {
            out.str("userID", user_id);
        }
        if let Some(group_id) = &self.group_id {
            out.str("groupID", group_id);
        }
        out.str("showName", &self.show_name)
            .int("unreadCount", self.unread_count.into());
        if let Some(m) = &self.last_message {
            out.set("lastMessage", &m.to_js());
        }
        out.int("orderKey", self.order_key).done()
    }
}

impl ToJs for Tombstone {
    fn to_js(&self) -> JsValue {
        Out::new()
            .str("conversationID", &self.conversation_id)
            .int("uptoSeq", self.upto_seq)
            .bool("cleared", self.cleared)
            .done()
    }
}

impl ToJs for ConversationOperationResult {
    fn to_js(&self) -> JsValue {
        Out::new()
            .str("conversationID", &self.conversation_id)
            .int("resultCode", self.result_code.into())
            .str("resultInfo", &self.result_info)
            .done()
    }
}

impl ToJs for ConversationPage {
    fn to_js(&self) -> JsValue {
        Out::new()
            .set("conversationList", &self.conversation_list.to_js())
            .int("nextSeq", self.next_seq)
            .bool("isFinished", self.is_finished)
            .done()
    }
}

/// Flat on the wire and between tabs: `seq` (when not 0), `kind`, then the change's fields.
impl ToJs for ChangeEnvelope {
    fn to_js(&self) -> JsValue {
        let out = Out::new();
        if self.seq != 0 {
            out.int("seq", self.seq);
        }
        match &self.change {
            Change::ConversationUpdated {
                conversation,
                message,
            } => {
                out.str("kind", UPDATED)
                    .set("conversation", &conversation.to_js());
                if let Some(m) = message {
                    out.set("message", &m.to_js());
                }
            }
            Change::ConversationDeleted {
                conversation_id,
                clear_message,
                upto_seq,
            } => {
                out.str("kind", DELETED)
                    .str("conversationID", conversation_id)
                    .bool("clearMessage", *clear_message)
                    .int("uptoSeq", *upto_seq);
            }
        }
        out.done()
    }
}

const UPDATED: &str = "conversationUpdated";
const DELETED: &str = "conversationDeleted";

impl ToJs for LoginRequest {
    fn to_js(&self) -> JsValue {
        Out::new()
            .int("sdkAppID", self.sdk_app_id)
            .str("userID", &self.user_id)
            .done()
    }
}

impl ToJs for DeleteRequest {
    fn to_js(&self) -> JsValue {
        Out::new()
            .set("conversationIDList", &self.conversation_id_list.to_js())
            .bool("clearMessage", self.clear_message)
            .done()
    }
}

impl ToJs for SendRequest {
    fn to_js(&self) -> JsValue {
        Out::new()
            .str("conversationID", &self.conversation_id)
            .str("text", &self.text)
            .done()
    }
}

impl ToJs for MarkReadRequest {
    fn to_js(&self) -> JsValue {
        Out::new()
            .str("conversationID", &self.conversation_id)
            .done()
    }
}

/// The fields of an object being read. Missing means `undefined` or `null`. A bad field does not
/// return at once: it is noted (the first one wins) and read as a default, and `done` answers with
/// the note. Decoders then drop a half-built record in one place, not once per field and `?`.
struct In<'a> {
    value: &'a JsValue,
    error: Cell<Option<String>>,
}

impl In<'_> {
    fn of(value: &JsValue) -> Result<In<'_>, String> {
        if value.is_object() {
            Ok(In {
                value,
                error: Cell::new(None),
            })
        } else {
            Err(String::from("not an object"))
        }
    }

    /// The record read, or the first bad field's error.
    fn done<T>(self, value: T) -> Result<T, String> {
        match self.error.into_inner() {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }

    /// The first bad field so far, if any.
    fn check(&self) -> Result<(), String> {
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    #[inline(never)]
    fn fail(&self, error: String) {
        let first = self.error.take().unwrap_or(error);
        self.error.set(Some(first));
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(self.value, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    fn string(&self, key: &str) -> String {
        self.opt_string(key).unwrap_or_else(|| {
            self.fail(missing(key));
            String::new()
        })
    }

    fn opt_string(&self, key: &str) -> Option<String> {
        let text = self.get(key)?.as_string();
        if text.is_none() {
            self.fail(wrong(key, "a string"));
        }
        text
    }

    /// A whole number from 0 to `max` (at most 2^53 − 1).
    fn int(&self, key: &str, max: u64) -> u64 {
        self.opt_int(key, max).unwrap_or_else(|| {
            self.fail(missing(key));
            0
        })
    }

    fn opt_int(&self, key: &str, max: u64) -> Option<u64> {
        match self.get(key)?.as_f64() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= max.min(MAX_SAFE) as f64 => {
                Some(n as u64)
            }
            _ => {
                self.fail(wrong(key, "a whole number in range"));
                None
            }
        }
    }

    fn bool(&self, key: &str) -> Option<bool> {
        let flag = self.get(key)?.as_bool();
        if flag.is_none() {
            self.fail(wrong(key, "a boolean"));
        }
        flag
    }

    fn required_bool(&self, key: &str) -> bool {
        self.bool(key).unwrap_or_else(|| {
            self.fail(missing(key));
            false
        })
    }

    fn record<T: FromJs + Default>(&self, key: &str) -> T {
        self.opt_record(key).unwrap_or_else(|| {
            self.fail(missing(key));
            T::default()
        })
    }

    fn opt_record<T: FromJs>(&self, key: &str) -> Option<T> {
        self.nested(key, T::from_js(&self.get(key)?))
    }

    /// A list field; missing reads as empty.
    fn list<T: FromJs>(&self, key: &str) -> Vec<T> {
        match self.get(key) {
            None => Vec::new(),
            Some(v) => self.nested(key, Vec::from_js(&v)).unwrap_or_default(),
        }
    }

    /// A nested record or list; its error is prefixed with the field that holds it
    /// (`lastMessage.seq`).
    fn nested<T>(&self, key: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|e| {
                let mut text = String::from(key);
                text.push_str(": ");
                text.push_str(&e);
                self.fail(text);
            })
            .ok()
    }
}

fn missing(key: &str) -> String {
    let mut text = String::from("missing field ");
    text.push_str(key);
    text
}

fn wrong(key: &str, expected: &str) -> String {
    let mut text = String::from("field ");
    text.push_str(key);
    text.push_str(" is not ");
    text.push_str(expected);
    text
}

impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let Some(array) = value.dyn_ref::<Array>() else {
            return Err(String::from("not an array"));
        };
        // A plain loop: `collect` into a `Result` makes a larger adapter per item type.
        let mut out = Vec::with_capacity(array.length() as usize);
        for i in 0..array.length() {
            out.push(T::from_js(&array.get(i))?);
        }
        Ok(out)
    }
}

impl FromJs for String {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        value
            .as_string()
            .ok_or_else(|| String::from("not a string"))
    }
}

impl FromJs for Message {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let message = Message {
            msg_id: o.string("msgID"),
            conversation_id: o.string("conversationID"),
            sender: o.string("sender"),
            text: o.string("text"),
            timestamp: o.int("timestamp", MAX_SAFE),
            seq: o.int("seq", MAX_SAFE),
        };
        o.done(message)
    }
}

impl FromJs for Conversation {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let conversation = Conversation {
            conversation_id: o.string("conversationID"),
            kind: o.int("type", u8::MAX.into()) as u8,
            user_id: o.opt_string("userID"),
            group_id: o.opt_string("groupID"),
            show_name: o.string("showName"),
            unread_count: o.int("unreadCount", u32::MAX.into()) as u32,
            last_message: o.opt_record("lastMessage"),
            order_key: o.int("orderKey", MAX_SAFE),
        };
        o.done(conversation)
    }
}

impl FromJs for Tombstone {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let tombstone = Tombstone {
            conversation_id: o.string("conversationID"),
            upto_seq: o.int("uptoSeq", MAX_SAFE),
            cleared: o.required_bool("cleared"),
        };
        o.done(tombstone)
    }
}

impl FromJs for ChangeEnvelope {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let kind = o.string("kind");
        o.check()?; // a missing or non-string kind
        let change = match kind.as_str() {
            UPDATED => Change::ConversationUpdated {
                conversation: o.record("conversation"),
                message: o.opt_record("message"),
            },
            DELETED => Change::ConversationDeleted {
                conversation_id: o.string("conversationID"),
                clear_message: o.bool("clearMessage").unwrap_or(false),
                upto_seq: o.opt_int("uptoSeq", MAX_SAFE).unwrap_or(0),
            },
            _ => {
                let mut text = String::from("unknown change kind ");
                text.push_str(&chat_core::error::quote(&kind));
                return Err(text);
            }
        };
        let envelope = ChangeEnvelope {
            seq: o.opt_int("seq", MAX_SAFE).unwrap_or(0),
            change,
        };
        o.done(envelope)
    }
}

/// `{ticket}`: the reply to `POST /v1/ws-ticket`.
pub struct Ticket(pub String);

impl FromJs for Ticket {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let ticket = Ticket(o.string("ticket"));
        o.done(ticket)
    }
}

impl FromJs for ErrorBody {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let body = ErrorBody {
            code: o.int("code", u32::MAX.into()) as u32,
            message: o.string("message"),
        };
        o.done(body)
    }
}

impl FromJs for LoginReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let reply = LoginReply {
            user_id: o.string("userID"),
            server_time: o.int("serverTime", MAX_SAFE),
            sync_conversation_deletion: o.required_bool("syncConversationDeletion"),
        };
        o.done(reply)
    }
}

impl FromJs for DeleteResultItem {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let item = DeleteResultItem {
            result: ConversationOperationResult {
                conversation_id: o.string("conversationID"),
                result_code: o.int("resultCode", u32::MAX.into()) as u32,
                result_info: o.string("resultInfo"),
            },
            upto_seq: o.opt_int("uptoSeq", MAX_SAFE).unwrap_or(0),
            feed_seq: o.opt_int("feedSeq", MAX_SAFE).unwrap_or(0),
        };
        o.done(item)
    }
}

impl FromJs for DeleteReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        if o.get("results").is_none() {
            return Err(missing("results"));
        }
        let reply = DeleteReply {
            results: o.list("results"),
        };
        o.done(reply)
    }
}

impl FromJs for SendReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let reply = SendReply {
            message: o.record("message"),
            conversation: o.record("conversation"),
            feed_seq: o.opt_int("feedSeq", MAX_SAFE).unwrap_or(0),
        };
        o.done(reply)
    }
}

impl FromJs for HistoryReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        if o.get("messageList").is_none() {
            return Err(missing("messageList"));
        }
        let reply = HistoryReply {
            message_list: o.list("messageList"),
            has_more: o.bool("hasMore").unwrap_or(false),
        };
        o.done(reply)
    }
}

impl FromJs for ReadReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let reply = ReadReply {
            conversation: o.record("conversation"),
            feed_seq: o.opt_int("feedSeq", MAX_SAFE).unwrap_or(0),
        };
        o.done(reply)
    }
}

impl FromJs for ChangesReply {
    fn from_js(value: &JsValue) -> Result<Self, String> {
        let o = In::of(value)?;
        let reply = ChangesReply {
            cursor: o.int("cursor", MAX_SAFE),
            reset: o.bool("reset").unwrap_or(false),
            conversations: o.list("conversations"),
            changes: o.list("changes"),
            has_more: o.bool("hasMore").unwrap_or(false),
            next_after: o.opt_string("nextAfter"),
        };
        o.done(reply)
    }
}
