//! The core's `Transport` over HTTP (gloo-net fetch), with a timeout per request. Unreachable →
//! 9508, no answer in time → 9520, 5xx or an unreadable reply → 9530, other errors as the server
//! coded them.

use chat_core::error::{quote, ChatError, ErrorCode, Result};
use chat_core::model::Conversation;
use chat_core::transport::Transport;
use chat_core::wire::*;
use gloo_net::http::Request;
use serde::de::DeserializeOwned;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

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
        #[derive(serde::Deserialize)]
        struct Ticket {
            ticket: String,
        }
        let path = "/v1/ws-ticket";
        let Ticket { ticket } = parse(path, &self.call(true, path, None, None).await?)?;
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", self.base.trim_start_matches("http://"))
        };
        Ok(format!("{ws_base}/v1/ws?ticket={}", encode(&ticket)))
    }

    /// One request; not generic, so the fetch state machine exists once in the wasm.
    async fn call(
        &self,
        post: bool,
        path: &str,
        body: Option<String>,
        sig: Option<&str>,
    ) -> Result<String> {
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
        let mut builder = if post {
            Request::post(&url)
        } else {
            Request::get(&url)
        };
        if let Some(sig) = sig.map(str::to_owned).or(stored) {
            builder = builder.header("Authorization", &format!("Bearer {sig}"));
        }
        let signal = controller.as_ref().map(|c| c.signal());
        builder = builder.abort_signal(signal.as_ref());
        let sent = match body {
            Some(b) => match builder.header("Content-Type", "application/json").body(b) {
                Ok(request) => request.send().await,
                Err(e) => Err(e),
            },
            None => builder.send().await,
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
        if (200..300).contains(&status) {
            return Ok(text);
        }
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) if status < 500 && body.code != 0 => Err(ChatError {
                code: body.code,
                message: body.message,
            }),
            _ => Err(ChatError::new(
                ErrorCode::ServerError,
                format!("the chat server answered HTTP {status} to {}", quote(path)),
            )),
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        parse(path, &self.call(false, path, None, None).await?)
    }

    async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let json = serde_json::to_string(body).map_err(|e| ChatError::invalid(e.to_string()))?;
        parse(path, &self.call(true, path, Some(json), None).await?)
    }
}

fn parse<T: DeserializeOwned>(path: &str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        ChatError::new(
            ErrorCode::ServerError,
            format!("unreadable reply from {}: {e}", quote(path)),
        )
    })
}

#[async_trait::async_trait(?Send)]
impl Transport for HttpTransport {
    async fn login(&self, request: &LoginRequest, user_sig: &str) -> Result<LoginReply> {
        let json = serde_json::to_string(request).map_err(|e| ChatError::invalid(e.to_string()))?;
        let path = "/v1/login";
        let reply = parse(
            path,
            &self.call(true, path, Some(json), Some(user_sig)).await?,
        )?;
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
