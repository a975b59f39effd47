//! Starts a server in-process on a random port and talks to it over real HTTP and WebSocket.
#![allow(dead_code)]

use chat_server::auth::make_user_sig;
use chat_server::{serve, Config, ServerHandle};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Srv {
    pub handle: ServerHandle,
    pub url: String,
    pub config: Config,
    pub client: reqwest::Client,
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The PostgreSQL cluster the tests run against (`scripts/with-postgres` sets it), if any.
pub fn test_postgres() -> Option<String> {
    std::env::var("CHAT_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.is_empty())
}

/// The database a test server uses: `db` itself on SQLite; with `CHAT_TEST_POSTGRES` set, a
/// fresh PostgreSQL database for `:memory:`, and one database per file path (so a restarted
/// server finds its data). Panics (the test fails) if PostgreSQL is asked for but unreachable.
pub async fn test_db(db: &str) -> String {
    let Some(admin_url) = test_postgres() else {
        return db.to_owned();
    };
    if chat_server::postgres::is_postgres_url(db) {
        return db.to_owned(); // chosen by the test itself
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = if db == ":memory:" {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        format!("t_{}_{n}_{nanos}", std::process::id())
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        db.hash(&mut h);
        format!("f_{:x}", h.finish())
    };
    let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("CHAT_TEST_POSTGRES={admin_url} is unreachable: {e}"));
    tokio::spawn(connection);
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some();
    if !exists {
        if let Err(e) = client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
        {
            // Another server of the same test may have created it meanwhile.
            let dup = e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE);
            assert!(dup, "CREATE DATABASE {name}: {e}");
        }
    }
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// A server with rate limiting off unless `tune` turns it on.
pub async fn start(tune: impl FnOnce(&mut Config)) -> Srv {
    let mut config = Config {
        rate_limit: 0,
        secret_key: "test-secret".into(),
        ..Config::default()
    };
    tune(&mut config);
    config.db = test_db(&config.db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(config.clone(), listener).await.unwrap();
    Srv {
        url: handle.url(),
        handle,
        config,
        client: reqwest::Client::new(),
    }
}

impl Srv {
    pub fn sig(&self, user: &str) -> String {
        make_user_sig(
            self.config.sdk_app_id,
            &self.config.secret_key,
            user,
            now_secs() + 3600,
        )
    }

    pub async fn send_raw(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get_as(&self, user: &str, path: &str) -> (u16, Value) {
        let req = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.sig(user));
        self.send_raw(req).await
    }

    pub async fn post_as(&self, user: &str, path: &str, body: Value) -> (u16, Value) {
        let req = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(self.sig(user))
            .json(&body);
        self.send_raw(req).await
    }

    /// Sends text and asserts success.
    pub async fn say(&self, from: &str, conversation: &str, text: &str) -> Value {
        let (status, body) = self
            .post_as(
                from,
                "/v1/messages",
                serde_json::json!({"conversationID": conversation, "text": text}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn delete(&self, user: &str, ids: &[&str], clear: bool) -> Value {
        let (status, body) = self
            .post_as(
                user,
                "/v1/conversations/delete",
                serde_json::json!({"conversationIDList": ids, "clearMessage": clear}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn list_ids(&self, user: &str) -> Vec<String> {
        let (status, body) = self.get_as(user, "/v1/conversations?count=100").await;
        assert_eq!(status, 200, "{body}");
        body["conversationList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["conversationID"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn history_texts(&self, user: &str, conversation: &str) -> Vec<String> {
        let (status, body) = self
            .get_as(
                user,
                &format!("/v1/messages?conversationID={conversation}&count=100"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["messageList"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A single-use WebSocket ticket for `user` (POST /v1/ws-ticket).
    pub async fn ticket(&self, user: &str) -> String {
        let (status, body) = self.post_as(user, "/v1/ws-ticket", Value::Null).await;
        assert_eq!(status, 200, "{body}");
        body["ticket"].as_str().unwrap().to_owned()
    }

    pub async fn ws(&self, user: &str) -> Ws {
        let url = format!(
            "{}/v1/ws?ticket={}",
            self.url.replacen("http", "ws", 1),
            self.ticket(user).await
        );
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }
}

/// The next text frame as JSON, or None after `wait`.
pub async fn next_frame(ws: &mut Ws, wait: Duration) -> Option<Value> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => continue,
            _ => return None,
        }
    }
}

pub const WAIT: Duration = Duration::from_secs(5);
