//! chat-server: the reference backend of the chat SDK (docs/protocol.md). `serve` runs it on a
//! bound listener so that tests can start it in-process.

pub mod auth;
pub mod config;
mod connection;
pub mod error;
pub mod extract;
mod history_page;
pub mod postgres;
pub mod publish_order;
pub mod push;
pub mod ratelimit;
mod reply_budget;
pub mod routes;
pub mod sqlite;
pub mod state;
pub mod storage;
mod stored_rows;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::middleware;
use axum::routing::{any, get, post};
use axum::Router;
pub use config::Config;
use push::Hub;
use ratelimit::RateLimiter;
use routes::{conversations, dev, feed, messages, session, ws_ticket};
use sqlite::SqliteStorage;
use state::{AppState, Inner};
use std::net::SocketAddr;
use std::sync::Arc;
use storage::Storage;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

/// Largest request body. A 12000-byte text can take 6x that once JSON-escaped, so this leaves room.
pub const BODY_LIMIT: usize = 128 * 1024;

/// Whether `origin` is `http(s)://localhost[:port]` or `http(s)://127.0.0.1[:port]`.
pub fn is_local_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.split(':').next().unwrap_or("");
    let port_ok = rest[host.len()..]
        .strip_prefix(':')
        .is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    (host == "localhost" || host == "127.0.0.1") && port_ok
}

fn cors(config: &Config) -> CorsLayer {
    let allowed = config.allow_origins.clone();
    let dev = config.dev;
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            allowed.iter().any(|a| a == origin) || (dev && is_local_origin(origin))
        }))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
}

pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/v1/info", get(session::info))
        .route("/v1/login", post(session::login))
        .route("/v1/conversations", get(conversations::list))
        .route("/v1/conversations/{id}", get(conversations::get_one))
        .route("/v1/conversations/delete", post(conversations::delete))
        .route("/v1/conversations/read", post(conversations::read))
        .route("/v1/messages", get(messages::history).post(messages::send))
        .route("/v1/changes", get(feed::changes))
        .route("/v1/ws-ticket", post(ws_ticket::issue))
        .route("/v1/ws", get(feed::ws))
        .route("/v1/{*rest}", any(routes::not_found));
    app = if state.config.dev {
        app.route("/dev/usersig", get(dev::usersig))
            .route("/dev/groups", post(dev::groups))
            .route("/dev/seed", post(dev::seed))
    } else {
        app
    };
    app = app.route("/dev/{*rest}", any(routes::not_found));
    app.nest_service("/pkg", ServeDir::new(&state.config.pkg))
        .fallback_service(ServeDir::new(&state.config.www))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(error::json_errors))
        .layer(CatchPanicLayer::new())
        .layer(cors(&state.config))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A running server; `shutdown` stops it gracefully and closes the database.
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish for at most the shutdown deadline, cuts
    /// what is left, and closes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Opens the database and serves on `listener` until the handle is shut down (or dropped).
pub async fn serve(config: Config, listener: TcpListener) -> Result<ServerHandle, String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let hub = Hub::new(config.sync_conversation_deletion, config.ws.clone());
    let db = config.db.clone();
    let sink = hub.clone();
    let storage: Arc<dyn Storage> = if postgres::is_postgres_url(&db) {
        Arc::new(postgres::PgStorage::open(&db, config.db_pool, sink).await?)
    } else {
        Arc::new(
            tokio::task::spawn_blocking(move || SqliteStorage::open(&db, sink))
                .await
                .map_err(|e| e.to_string())??,
        )
    };
    let state = AppState(Arc::new(Inner {
        limiter: RateLimiter::new(config.rate_limit),
        tickets: auth::Tickets::new(routes::ws_ticket::TICKET_TTL),
        config,
        storage,
        hub,
    }));
    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let timeouts = state.config.timeouts.clone();
        connection::accept_loop(listener, app, &timeouts, stopped, || state.hub.close_all()).await;
        state.storage.close().await;
    });
    Ok(ServerHandle {
        addr,
        stop: Some(stop),
        task,
    })
}
