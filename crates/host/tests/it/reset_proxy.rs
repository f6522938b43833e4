//! `ResetProxy`: a TCP proxy in front of the wiremock CRM that plays a CRM which makes the record and then resets the
//! connection. Every request is relayed to the mock and its answer back, except the armed one: it reaches the mock
//! (which records it and answers), but the client gets a TCP reset instead of the answer, so for the client the
//! outcome of its write is unknown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The request to reset after the mock answered it: its method and its path (without the query).
type Armed = Arc<Mutex<Option<(String, String)>>>;

pub struct ResetProxy {
    origin: String,
    armed: Armed,
    resets: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl ResetProxy {
    /// Starts a proxy to `upstream` (`http://host:port`, the mock's `uri()`) on a free local port.
    pub async fn start(upstream: &str) -> ResetProxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let armed: Armed = Arc::default();
        let resets = Arc::new(AtomicUsize::new(0));
        let (task_armed, task_resets) = (Arc::clone(&armed), Arc::clone(&resets));
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (armed, resets, upstream) = (Arc::clone(&task_armed), Arc::clone(&task_resets), upstream.clone());
                tokio::spawn(async move {
                    // A connection that fails mid-relay ends like a dropped one: the client sees an error and the
                    // test's expectations at the mock tell what reached it.
                    drop(relay(client, &upstream, &armed, &resets).await);
                });
            }
        });
        ResetProxy { origin, armed, resets, accept }
    }

    /// The origin to point the connector at.
    pub fn uri(&self) -> &str {
        &self.origin
    }

    /// Resets the connection of the next request with this method and path once the mock has answered it.
    pub fn arm(&self, method: &str, path: &str) {
        *self.armed.lock().unwrap() = Some((method.to_owned(), path.to_owned()));
    }

    /// How many connections were reset after their request reached the mock.
    pub fn resets(&self) -> usize {
        self.resets.load(Ordering::SeqCst)
    }
}

impl Drop for ResetProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Relays one client connection's requests, one at a time, over a connection of its own to the upstream.
async fn relay(mut client: TcpStream, upstream: &str, armed: &Armed, resets: &AtomicUsize) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    let (mut client_buffer, mut server_buffer) = (Vec::new(), Vec::new());
    while let Some(request) = read_message(&mut client, &mut client_buffer).await? {
        let reset = {
            let mut armed = armed.lock().unwrap();
            let hit = armed.as_ref().is_some_and(|(method, path)| request.is(method, path));
            if hit {
                *armed = None;
            }
            hit
        };
        server.write_all(&request.bytes).await?;
        let Some(response) = read_message(&mut server, &mut server_buffer).await? else { return Ok(()) };
        if reset {
            // The mock has made the record and answered; the client gets a reset (RST, not FIN) instead.
            client.set_zero_linger()?;
            drop(client);
            resets.fetch_add(1, Ordering::SeqCst);
            return Ok(());
        }
        client.write_all(&response.bytes).await?;
    }
    Ok(())
}

/// One HTTP/1.1 message as read off the wire: its first line and all its bytes.
struct Message {
    first_line: String,
    bytes: Vec<u8>,
}

impl Message {
    /// A request with this method whose target's path (the query left out) is `path`.
    fn is(&self, method: &str, path: &str) -> bool {
        let mut parts = self.first_line.split(' ');
        parts.next() == Some(method) && parts.next().is_some_and(|target| target.split('?').next() == Some(path))
    }
}

/// Reads one message, head and `Content-Length` body (the mock and reqwest send no chunked bodies here), keeping
/// any bytes past its end in `buffer`. `None` when the peer closed between messages.
async fn read_message(stream: &mut (impl AsyncRead + Unpin), buffer: &mut Vec<u8>) -> std::io::Result<Option<Message>> {
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|it| it == b"\r\n\r\n") {
            break at + 4;
        }
        if !fill(stream, buffer).await? {
            return if buffer.is_empty() { Ok(None) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let header = |wanted: &str| {
        head.lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| value.trim().to_owned())
    };
    if header("transfer-encoding").is_some() {
        return Err(std::io::Error::other("a chunked body: this proxy relays only Content-Length bodies"));
    }
    let length = match header("content-length") {
        Some(value) => value.parse::<usize>().map_err(std::io::Error::other)?,
        None => 0,
    };
    while buffer.len() < head_end + length {
        if !fill(stream, buffer).await? {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    let bytes: Vec<u8> = buffer.drain(..head_end + length).collect();
    let first_line = head.lines().next().unwrap_or_default().to_owned();
    Ok(Some(Message { first_line, bytes }))
}

/// Appends what the stream has to `buffer`; `false` at its end.
async fn fill(stream: &mut (impl AsyncRead + Unpin), buffer: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let read = stream.read(&mut chunk).await?;
    buffer.extend_from_slice(&chunk[..read]);
    Ok(read > 0)
}
