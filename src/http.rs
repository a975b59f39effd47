//! The core's `Transport` over HTTP (`fetch`, through js/glue.js), with a timeout per request. Unreachable →
//! 9508, no answer in time → 9520, 5xx or an unreadable reply → 9530, other errors as the server
//! coded them.

use crate::convert::to_json;
use crate::records::{decode, FromJs, Ticket, ToJs};
use chat_core::error::{quote, ChatError, ErrorCode, Result};
use chat_core::model::Conversation;
use chat_core::transport::Transport;
use chat_core::wire::*;
use futures_util::FutureExt;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

#[wasm_bindgen(module = "/js/glue.js")]
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

    /// One request; not generic, so the fetch state machine exists once in the wasm. Owns its
    /// path and hands it back with the reply, for the decoder's error messages.
    async fn call(
        &self,
        method: Method,
        path: String,
        sig: Option<String>,
    ) -> Result<(String, JsValue)> {
        let mut url = self.base.clone();
        url.push_str(&path);
        let sig = sig.or_else(|| self.user_sig.borrow().clone());
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
            return match json {
                Ok(value) => Ok((path, value)),
                Err(_) => Err(unreadable(&path, "not JSON")),
            };
        }
        match json.ok().and_then(|v| decode::<ErrorBody>(&v).ok()) {
            Some(body) if status < 500 && body.code != 0 => Err(ChatError {
                code: body.code,
                message: body.message,
            }),
            _ => Err(ChatError::new(
                ErrorCode::ServerError,
                format!("the chat server answered HTTP {status} to {}", quote(&path)),
            )),
        }
    }

    /// A request whose reply decodes as `T`: the one `call` future, boxed, under a plain poll
    /// (an async fn per reply type would put a state machine per transport method in the wasm).
    fn fetch<T: FromJs + 'static>(&self, method: Method, path: String) -> Reply<'_, T> {
        let call = self.boxed_call(method, path);
        Box::pin(call.map(|reply| reply.and_then(|(path, value)| parse(&path, value))))
    }

    /// Not inlined: the large `call` future is moved into its box here only, not once per `T`.
    #[inline(never)]
    fn boxed_call(&self, method: Method, path: String) -> Call<'_> {
        Box::pin(self.call(method, path, None))
    }

    fn get<T: FromJs + 'static>(&self, path: String) -> Reply<'_, T> {
        self.fetch(Method::Get, path)
    }

    fn post<B: ToJs, T: FromJs + 'static>(&self, path: &str, body: &B) -> Reply<'_, T> {
        match json(body) {
            Ok(body) => self.fetch(Method::Post(body), path.to_owned()),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

type Call<'a> = Pin<Box<dyn Future<Output = Result<(String, JsValue)>> + 'a>>;
type Reply<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + 'a>>;

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

// Only `login` is an async fn (it keeps the userSig once the server accepted it); the others
// build their request at once and return `fetch`'s future, with async_trait's signatures.
#[async_trait::async_trait(?Send)]
impl Transport for HttpTransport {
    async fn login(&self, request: &LoginRequest, user_sig: &str) -> Result<LoginReply> {
        let path = String::from("/v1/login");
        let method = Method::Post(json(request)?);
        let (path, value) = self.call(method, path, Some(user_sig.to_owned())).await?;
        let reply = parse(&path, value)?;
        *self.user_sig.borrow_mut() = Some(user_sig.to_owned());
        Ok(reply)
    }

    fn logout(&self) {
        *self.user_sig.borrow_mut() = None;
    }

    fn get_conversation<'s, 'a, 'f>(&'s self, conversation_id: &'a str) -> Reply<'f, Conversation>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        let mut path = String::from("/v1/conversations/");
        path.push_str(&encode(conversation_id));
        self.get(path)
    }

    fn delete_conversations<'s, 'a, 'f>(
        &'s self,
        request: &'a DeleteRequest,
    ) -> Reply<'f, DeleteReply>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        self.post("/v1/conversations/delete", request)
    }

    fn send_text<'s, 'a, 'f>(&'s self, request: &'a SendRequest) -> Reply<'f, SendReply>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        self.post("/v1/messages", request)
    }

    fn history<'s, 'a, 'f>(
        &'s self,
        conversation_id: &'a str,
        count: usize,
        before_seq: Option<u64>,
    ) -> Reply<'f, HistoryReply>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        let mut path = format!(
            "/v1/messages?conversationID={}&count={count}",
            encode(conversation_id)
        );
        if let Some(seq) = before_seq {
            path.push_str(&format!("&beforeSeq={seq}"));
        }
        self.get(path)
    }

    fn mark_read<'s, 'a, 'f>(&'s self, conversation_id: &'a str) -> Reply<'f, ReadReply>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        let body = MarkReadRequest {
            conversation_id: conversation_id.to_owned(),
        };
        self.post("/v1/conversations/read", &body)
    }

    fn changes<'s, 'a, 'f>(&'s self, since: u64, after: Option<&'a str>) -> Reply<'f, ChangesReply>
    where
        's: 'f,
        'a: 'f,
        Self: 'f,
    {
        let after = after.map_or(String::new(), |a| format!("&after={}", encode(a)));
        self.get(format!("/v1/changes?since={since}{after}"))
    }
}
