//! The core's `Transport` over HTTP (`fetch`, through js/fetch.js), with a timeout per request. Unreachable →
//! 9508, no answer in time → 9520, 5xx or an unreadable reply → 9530, other errors as the server
//! coded them.

use crate::convert::to_json;
use crate::records::{decode, FromJs, Ticket, ToJs};
use chat_core::error::{quote, ChatError, ErrorCode, Result};
use chat_core::model::Conversation;
use chat_core::transport::Transport;
use chat_core::wire::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// Resolves `[status, text]`; rejects with `"timeout"` or the error's text.
    fn request(
        method: &str,
        url: &str,
        sig: Option<&str>,
        body: Option<&str>,
        timeout_ms: u32,
    ) -> js_sys::Promise;
}

pub struct HttpTransport {
    base: String,
    user_sig: RefCell<Option<String>>,
}

fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

impl HttpTransport {
    pub fn new(base: &str) -> Self {
        HttpTransport {
            base: base.to_owned(),
            user_sig: RefCell::new(None),
        }
    }

    /// Whether a user is logged in (push can start).
    pub fn has_credentials(&self) -> bool {
        self.user_sig.borrow().is_some()
    }

    /// A push URL carrying a fresh single-use ticket (`POST /v1/ws-ticket`), never the userSig:
    /// URLs show up in browser console messages.
    pub async fn websocket_url(&self) -> Result<String> {
        let path = "/v1/ws-ticket";
        let Ticket(ticket) = self.post(path, &EmptyBody).await?;
        // Pushed onto one String: `trim_start_matches` and `format!` would bring str slicing's
        // panic messages (and the char printer they use) into the wasm.
        let (scheme, rest) = match self.base.strip_prefix("https://") {
            Some(rest) => ("wss://", rest),
            None => (
                "ws://",
                self.base.strip_prefix("http://").unwrap_or(&self.base),
            ),
        };
        let mut url = String::from(scheme);
        url.push_str(rest);
        url.push_str("/v1/ws?ticket=");
        url.push_str(&encode(&ticket));
        Ok(url)
    }

    /// One request; not generic, so the fetch state machine exists once in the wasm.
    async fn call(&self, method: Method, path: &str, sig: Option<&str>) -> Result<JsValue> {
        let url = format!("{}{path}", self.base);
        let sig = sig
            .map(str::to_owned)
            .or_else(|| self.user_sig.borrow().clone());
        let (verb, body) = match method {
            Method::Get => ("GET", None),
            Method::Post(body) => ("POST", Some(body)),
        };
        let sent = request(
            verb,
            &url,
            sig.as_deref(),
            body.as_deref(),
            REQUEST_TIMEOUT_MS,
        );
        let received = JsFuture::from(sent).await;
        let reply = match received {
            Err(e) if e.as_string().as_deref() == Some("timeout") => {
                let mut message = String::from("no answer from ");
                message.push_str(&quote(&url));
                message.push_str(" within ");
                message.push_str(&REQUEST_TIMEOUT_MS.to_string());
                message.push_str(" ms");
                return Err(ChatError::new(ErrorCode::RequestTimeout, message));
            }
            Err(e) => {
                let mut message = String::from("cannot reach the chat server at ");
                message.push_str(&quote(&self.base));
                message.push_str(": ");
                message.push_str(&e.as_string().unwrap_or_default());
                return Err(ChatError::new(ErrorCode::NetworkDisconnected, message));
            }
            Ok(reply) => js_sys::Array::from(&reply),
        };
        let status = reply.get(0).as_f64().unwrap_or(0.0) as u32;
        let text = reply.get(1).as_string().unwrap_or_default();
        let json = js_sys::JSON::parse(&text);
        if (200..300).contains(&status) {
            return json.map_err(|_| unreadable(path, "not JSON"));
        }
        match json.ok().and_then(|v| decode::<ErrorBody>(&v).ok()) {
            Some(body) if status < 500 && body.code != 0 => Err(ChatError {
                code: body.code,
                message: body.message,
            }),
            _ => Err(ChatError::new(
                ErrorCode::ServerError,
                format!("the chat server answered HTTP {status} to {}", quote(path)),
            )),
        }
    }

    async fn get<T: FromJs>(&self, path: &str) -> Result<T> {
        parse(path, self.call(Method::Get, path, None).await?)
    }

    async fn post<B: ToJs, T: FromJs>(&self, path: &str, body: &B) -> Result<T> {
        parse(
            path,
            self.call(Method::Post(json(body)?), path, None).await?,
        )
    }
}

/// `{}`: the body of a POST that needs none.
struct EmptyBody;

impl ToJs for EmptyBody {
    fn to_js(&self) -> JsValue {
        js_sys::Object::new().into()
    }
}

/// The HTTP method, with the JSON body of a POST.
enum Method {
    Get,
    Post(String),
}

fn json<B: ToJs>(body: &B) -> Result<String> {
    to_json(body).ok_or_else(|| ChatError::invalid("cannot encode the request body"))
}

fn unreadable(path: &str, why: &str) -> ChatError {
    ChatError::new(
        ErrorCode::ServerError,
        format!("unreadable reply from {}: {why}", quote(path)),
    )
}

fn parse<T: FromJs>(path: &str, value: JsValue) -> Result<T> {
    decode(&value).map_err(|e| unreadable(path, &e))
}

#[async_trait::async_trait(?Send)]
impl Transport for HttpTransport {
    async fn login(&self, request: &LoginRequest, user_sig: &str) -> Result<LoginReply> {
        let path = "/v1/login";
        let method = Method::Post(json(request)?);
        let reply = parse(path, self.call(method, path, Some(user_sig)).await?)?;
        *self.user_sig.borrow_mut() = Some(user_sig.to_owned());
        Ok(reply)
    }

    fn logout(&self) {
        *self.user_sig.borrow_mut() = None;
    }

    async fn get_conversation(&self, conversation_id: &str) -> Result<Conversation> {
        self.get(&format!("/v1/conversations/{}", encode(conversation_id)))
            .await
    }

    async fn delete_conversations(&self, request: &DeleteRequest) -> Result<DeleteReply> {
        self.post("/v1/conversations/delete", request).await
    }

    async fn send_text(&self, request: &SendRequest) -> Result<SendReply> {
        self.post("/v1/messages", request).await
    }

    async fn history(
        &self,
        conversation_id: &str,
        count: usize,
        before_seq: Option<u64>,
    ) -> Result<HistoryReply> {
        let mut path = format!(
            "/v1/messages?conversationID={}&count={count}",
            encode(conversation_id)
        );
        if let Some(seq) = before_seq {
            path.push_str(&format!("&beforeSeq={seq}"));
        }
        self.get(&path).await
    }

    async fn mark_read(&self, conversation_id: &str) -> Result<ReadReply> {
        let body = MarkReadRequest {
            conversation_id: conversation_id.to_owned(),
        };
        self.post("/v1/conversations/read", &body).await
    }

    async fn changes(&self, since: u64, after: Option<&str>) -> Result<ChangesReply> {
        let after = after.map_or(String::new(), |a| format!("&after={}", encode(a)));
        self.get(&format!("/v1/changes?since={since}{after}")).await
    }
}
