//! The core's `Transport` over HTTP (gloo-net fetch), with a timeout per request. Unreachable →
//! 9508, no answer in time → 9520, 5xx or an unreadable reply → 9530, other errors as the server
//! coded them.

use crate::convert::to_json;
use crate::records::{decode, FromJs, Ticket, ToJs};
use chat_core::error::{quote, ChatError, ErrorCode, Result};
use chat_core::model::Conversation;
use chat_core::transport::Transport;
use chat_core::wire::*;
use gloo_net::http::Request;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;

pub const REQUEST_TIMEOUT_MS: u32 = 10_000;

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
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", self.base.trim_start_matches("http://"))
        };
        Ok(format!("{ws_base}/v1/ws?ticket={}", encode(&ticket)))
    }

    /// One request; not generic, so the fetch state machine exists once in the wasm.
    async fn call(&self, method: Method, path: &str, sig: Option<&str>) -> Result<JsValue> {
        let url = format!("{}{path}", self.base);
        let controller = web_sys::AbortController::new().ok();
        let timed_out = Rc::new(Cell::new(false));
        let timer = {
            let (flag, controller) = (timed_out.clone(), controller.clone());
            gloo_timers::callback::Timeout::new(REQUEST_TIMEOUT_MS, move || {
                flag.set(true);
                if let Some(c) = controller {
                    c.abort();
                }
            })
        };
        let stored = self.user_sig.borrow().clone();
        let mut builder = match method {
            Method::Get => Request::get(&url),
            Method::Post(_) => Request::post(&url),
        };
        if let Some(sig) = sig.map(str::to_owned).or(stored) {
            builder = builder.header("Authorization", &format!("Bearer {sig}"));
        }
        let signal = controller.as_ref().map(|c| c.signal());
        builder = builder.abort_signal(signal.as_ref());
        let sent = match method {
            Method::Post(body) => match builder
                .header("Content-Type", "application/json")
                .body(body)
            {
                Ok(request) => request.send().await,
                Err(e) => Err(e),
            },
            Method::Get => builder.send().await,
        };
        let received = match sent {
            Ok(response) => {
                let status = response.status();
                response.text().await.map(|text| (status, text))
            }
            Err(e) => Err(e),
        };
        drop(timer);
        let (status, text) = match received {
            Err(_) if timed_out.get() => {
                return Err(ChatError::new(
                    ErrorCode::RequestTimeout,
                    format!(
                        "no answer from {} within {REQUEST_TIMEOUT_MS} ms",
                        quote(&url)
                    ),
                ))
            }
            Err(e) => {
                return Err(ChatError::new(
                    ErrorCode::NetworkDisconnected,
                    format!("cannot reach the chat server at {}: {e}", quote(&self.base)),
                ))
            }
            Ok(pair) => pair,
        };
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
