//! A raw HTTP/1.1 client for API-level checks: exactly the request we write, every byte of the
//! answer (status, headers, body) back, over a unix socket or TCP.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper_util::rt::TokioIo;

/// One answer.
#[derive(Debug, Clone)]
pub struct Resp {
    /// `METHOD path` of the request, for messages.
    pub req: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends one request on a new connection.
pub async fn send(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let req_text = format!("{method} {path}");
    let fut = send_inner(host, method, path, headers, body);
    match tokio::time::timeout(Duration::from_secs(60), fut).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => panic!("{req_text} to {host}: {e}"),
        Err(_) => panic!("{req_text} to {host}: no answer within 60 s"),
    }
}

/// Like [`send`], but `None` instead of a panic (for cleanup).
pub async fn try_send(host: &str, method: &str, path: &str) -> Option<Resp> {
    let fut = send_inner(host, method, path, &[], None);
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .ok()?
        .ok()
}

async fn send_inner(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Resp, Box<dyn std::error::Error + Send + Sync>> {
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("Host", "localhost")
        .header("User-Agent", "shoal-compat-tests");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let response = if let Some(socket) = host.strip_prefix("unix://") {
        let stream = tokio::net::UnixStream::connect(socket).await?;
        exchange(stream, request).await?
    } else {
        let addr = host.strip_prefix("tcp://").unwrap_or(host);
        let stream = tokio::net::TcpStream::connect(addr).await?;
        exchange(stream, request).await?
    };
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    Ok(Resp {
        req: format!("{method} {path}"),
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

async fn exchange<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(request).await
}

impl Resp {
    fn dump(&self) -> String {
        let mut headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("<binary>")))
            .collect();
        headers.sort();
        format!(
            "{} -> {}\n{}\n\n{}",
            self.req,
            self.status,
            headers.join("\n"),
            String::from_utf8_lossy(&self.body)
        )
    }

    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}\n--- response ---\n{}\n----------------", self.dump())
    }

    #[track_caller]
    pub fn status(&self, status: u16) -> &Self {
        if self.status != status {
            self.fail(&format!("expected status {status}"));
        }
        self
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| self.fail(&format!("body is not JSON: {e}")))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    }

    #[track_caller]
    pub fn header_is(&self, name: &str, want: &str) -> &Self {
        match self.header(name) {
            Some(v) if v == want => self,
            other => self.fail(&format!("expected header {name}: {want}, got {other:?}")),
        }
    }

    /// The engine's error shape: this status, `Content-Type: application/json`, and a body that
    /// is exactly `{"message": <message>}`.
    #[track_caller]
    pub fn error(&self, status: u16, message: &str) -> &Self {
        self.status(status);
        let content_type = self.header("content-type").unwrap_or_default();
        if !content_type.starts_with("application/json") {
            self.fail("expected Content-Type: application/json on an error");
        }
        let want = serde_json::json!({ "message": message });
        if self.json() != want {
            self.fail(&format!("expected body {want}"));
        }
        self
    }

    /// Like [`Resp::error`], with the message matched by a regular expression.
    #[track_caller]
    pub fn error_re(&self, status: u16, re: &str) -> &Self {
        self.status(status);
        let body = self.json();
        let obj = body.as_object().cloned().unwrap_or_default();
        let message = obj.get("message").and_then(|m| m.as_str()).unwrap_or("");
        if obj.len() != 1 || !super::matches(message, re) {
            self.fail(&format!("expected body {{\"message\": /{re}/}}"));
        }
        self
    }
}
