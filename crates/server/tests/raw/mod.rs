//! Hand-rolled WebSocket and HTTP clients for abuse tests: a bare `TcpStream` after the upgrade
//! (costs the test process next to nothing, so server memory can be measured in-process), with a
//! small receive buffer so that a client that never reads stalls the server quickly.
#![allow(dead_code)]

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Resident memory of this process (server and clients share it in these tests).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A TCP connection to `url` (`http://host:port`) with a small receive buffer.
pub async fn connect(url: &str) -> TcpStream {
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    socket.connect(addr).await.unwrap()
}

/// Reads until the end of the response head; returns it.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Opens a WebSocket with `ticket`; returns the raw stream after the 101, or the status line.
pub async fn try_ws(url: &str, ticket: &str) -> Result<TcpStream, String> {
    let mut stream = connect(url).await;
    let request = format!(
        "GET /v1/ws?ticket={ticket} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await;
    if head.starts_with("HTTP/1.1 101") {
        Ok(stream)
    } else {
        Err(head.lines().next().unwrap_or("").to_owned())
    }
}

/// A masked client ping frame with a 16-byte payload.
pub fn ping_frame() -> [u8; 22] {
    let mut f = [0u8; 22];
    f[0] = 0x89; // FIN + ping
    f[1] = 0x80 | 16; // masked, 16 bytes
    f[2..6].copy_from_slice(&[1, 2, 3, 4]);
    for i in 0..16 {
        f[6 + i] = b'p' ^ [1, 2, 3, 4][i % 4];
    }
    f
}

/// Reads and discards until the server closes the connection; the byte count, or None when it
/// is still open after `limit`.
pub async fn drain_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<u64> {
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    let result = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => total += n as u64,
            }
        }
    })
    .await;
    result.ok().map(|()| total)
}
