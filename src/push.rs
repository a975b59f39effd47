//! The WebSocket push: get a single-use ticket (the userSig never goes into a URL), connect, apply
//! each pushed change in order, and on every (re)connect sync from the stored cursor; reconnect
//! with exponential backoff until stopped (a server that drops a slow socket is caught up the same
//! way). An expired userSig ends the loop with `onUserSigExpired`.

use crate::events::{sleep, PushSocket, OPEN};
use crate::hooks::BrowserHooks;
use crate::http::HttpTransport;
use chat_core::event::{Event, Hooks};
use chat_core::wire::ChangeEnvelope;
use chat_core::{ChatError, Engine, ErrorCode};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;

const FIRST_RETRY_MS: u32 = 250;
const MAX_RETRY_MS: u32 = 10_000;
/// Most pushed frames applied in one store write.
const MAX_BURST: usize = 500;

/// A running push connection; `stop` ends it.
pub struct Push {
    stopped: Rc<Cell<bool>>,
    socket: Rc<RefCell<Option<PushSocket>>>,
}

impl Push {
    pub fn start(engine: Engine, hooks: Rc<BrowserHooks>, http: Rc<HttpTransport>) -> Push {
        let push = Push {
            stopped: Rc::new(Cell::new(false)),
            socket: Rc::new(RefCell::new(None)),
        };
        let (stopped, socket) = (push.stopped.clone(), push.socket.clone());
        wasm_bindgen_futures::spawn_local(run(engine, hooks, http, stopped, socket));
        push
    }

    pub fn stop(&self) {
        self.stopped.set(true);
        if let Some(ws) = self.socket.borrow_mut().take() {
            ws.close();
        }
    }
}

/// Reports a failed connect or sync; true when retrying cannot help (the loop ends).
fn report(hooks: &BrowserHooks, e: ChatError) -> bool {
    if e.is(ErrorCode::UserSigExpired) {
        hooks.emit(Event::UserSigExpired);
        return true;
    }
    let fatal = e.is(ErrorCode::UserSigInvalid) || e.is(ErrorCode::SdkNotLoggedIn);
    hooks.emit(Event::ConnectFailed {
        code: e.code,
        message: e.message,
    });
    fatal
}

async fn run(
    engine: Engine,
    hooks: Rc<BrowserHooks>,
    http: Rc<HttpTransport>,
    stopped: Rc<Cell<bool>>,
    socket: Rc<RefCell<Option<PushSocket>>>,
) {
    let mut retry_ms = FIRST_RETRY_MS;
    while !stopped.get() {
        hooks.emit(Event::Connecting);
        // A fresh single-use ticket per attempt: the userSig never goes into the URL.
        let url = http.websocket_url().await;
        if stopped.get() {
            return;
        }
        match url {
            Err(e) => {
                if report(&hooks, e) {
                    return;
                }
            }
            Ok(url) => {
                let Some(opened) = session(&engine, &hooks, &url, &socket).await else {
                    hooks.emit(Event::ConnectFailed {
                        code: ErrorCode::NetworkDisconnected.code(),
                        message: "cannot open the push WebSocket (check serverURL)".into(),
                    });
                    return;
                };
                if stopped.get() {
                    return;
                }
                if opened {
                    retry_ms = FIRST_RETRY_MS;
                }
                // Learn why: a sync answers with the server's own code (expired userSig,
                // unreachable); it also catches up on what the closed socket missed.
                match engine.sync().await {
                    Err(e) => {
                        if report(&hooks, e) {
                            return;
                        }
                    }
                    Ok(()) if !opened => hooks.emit(Event::ConnectFailed {
                        code: ErrorCode::NetworkDisconnected.code(),
                        message: "the push connection could not be opened".into(),
                    }),
                    Ok(()) => {}
                }
            }
        }
        let jitter = (js_sys::Math::random() * f64::from(retry_ms) / 2.0) as u32;
        let _ = JsFuture::from(sleep(retry_ms + jitter)).await;
        retry_ms = (retry_ms * 2).min(MAX_RETRY_MS);
    }
}

/// One WebSocket, pumped until it closes: `Some(opened)`, or `None` if it cannot be created.
async fn session(
    engine: &Engine,
    hooks: &Rc<BrowserHooks>,
    url: &str,
    socket: &Rc<RefCell<Option<PushSocket>>>,
) -> Option<bool> {
    let ws = PushSocket::new(url).ok()?;
    *socket.borrow_mut() = Some(ws.clone());
    let mut opened = false;
    loop {
        let event = ws.take();
        if event.is_undefined() {
            let _ = JsFuture::from(ws.ready()).await;
        } else if let Some(text) = event.as_string() {
            // Frames that arrived together are applied as one store write.
            let mut burst: Vec<ChangeEnvelope> = Vec::new();
            let mut next = Some(text);
            while let Some(text) = next {
                match crate::convert::from_json(&text) {
                    Some(envelope) => burst.push(envelope),
                    // Nothing is lost (the next sync fetches the feed), but say so.
                    None => {
                        let mut line = String::from("dropped an unreadable push frame: ");
                        line.extend(text.chars().take(120));
                        hooks.log_error(&line);
                    }
                }
                next = if burst.len() < MAX_BURST {
                    ws.take_text()
                } else {
                    None
                };
            }
            engine.on_pushes(burst).await;
        } else if event.as_f64() == Some(OPEN) {
            opened = true;
            hooks.emit(Event::ConnectSuccess);
            let engine = engine.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let _ = engine.sync().await;
            });
        } else {
            return Some(opened); // CLOSED
        }
    }
}
