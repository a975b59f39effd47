//! A bare-TCP WebSocket client for the abuse run: after the 101 the caller holds a plain
//! `TcpStream`, so it can refuse to read, flood control frames, or just sit idle, costing this
//! process next to nothing. The receive buffer is small so that a non-reading client stalls the
//! server quickly.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub async fn connect(server: &str) -> Result<TcpStream, String> {
    let addr: std::net::SocketAddr = server
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| format!("{server}: {e} (use http://IP:PORT)"))?;
    let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .set_recv_buffer_size(16 * 1024)
        .map_err(|e| e.to_string())?;
    socket.connect(addr).await.map_err(|e| e.to_string())
}

async fn read_head(stream: &mut TcpStream) -> Result<String, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut byte).await {
            Ok(0) | Err(_) => break,
            Ok(_) => head.push(byte[0]),
        }
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// A WebSocket opened with `ticket`; the raw stream after the 101.
pub async fn open(server: &str, ticket: &str) -> Result<TcpStream, String> {
    let mut stream = connect(server).await?;
    let request = format!(
        "GET /v1/ws?ticket={ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let head = tokio::time::timeout(Duration::from_secs(10), read_head(&mut stream))
        .await
        .map_err(|_| "no upgrade answer within 10 s".to_owned())??;
    if head.starts_with("HTTP/1.1 101") {
        Ok(stream)
    } else {
        Err(head.lines().next().unwrap_or("no answer").to_owned())
    }
}

/// 1,000 masked client pings with 16-byte payloads, back to back.
pub fn ping_burst() -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x89, 0x80 | 16];
    frame.extend_from_slice(&mask);
    frame.extend((0..16).map(|i| b'p' ^ mask[i % 4]));
    frame.repeat(1_000)
}

/// Whether the server has closed `stream` (EOF or reset) within `wait`, reading and discarding.
pub async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}
