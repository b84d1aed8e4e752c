//! Just enough HTTP/1.1 framing for the token server and the fault proxy.
//!
//! Hand-written instead of hyper because the proxy must control the wire byte by byte (cut a body in
//! the middle, reset the socket, trickle bytes), which a conforming HTTP stack deliberately prevents.
//! Bodies are kept as raw wire bytes (chunked encoding included) so forwarding is byte-exact.

use std::io;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

/// Upper bound on a request or response head; registries send far less.
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request or status line plus headers, with the raw bytes for forwarding.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub first_line: String,
    pub headers: Vec<(String, String)>,
    pub raw: Vec<u8>,
}

/// How the body following a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

impl Head {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Request method (first word of a request line).
    pub fn method(&self) -> &str {
        self.first_line.split(' ').next().unwrap_or("")
    }

    /// Request target (second word of a request line).
    pub fn target(&self) -> &str {
        self.first_line.split(' ').nth(1).unwrap_or("")
    }

    /// Status code of a response line.
    pub fn status(&self) -> u16 {
        self.first_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// Body framing of a request.
    pub fn request_framing(&self) -> Framing {
        self.length_framing().unwrap_or(Framing::None)
    }

    /// Body framing of a response to a request with `method`.
    pub fn response_framing(&self, method: &str) -> Framing {
        let status = self.status();
        if method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
            return Framing::None;
        }
        self.length_framing().unwrap_or(Framing::UntilClose)
    }

    fn length_framing(&self) -> Option<Framing> {
        if self.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
            return Some(Framing::Chunked);
        }
        self.header("content-length").and_then(|v| v.trim().parse().ok()).map(Framing::Length)
    }

    /// Whether either side asked to close the connection after this message.
    pub fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || self.first_line.ends_with("HTTP/1.0")
    }
}

/// Reads one head. `Ok(None)` on a clean end of stream before the first byte.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> io::Result<Option<Head>> {
    // A TLS ClientHello (clients probing https first) has no line ending to wait for: refuse it now.
    let first = reader.fill_buf().await?;
    if first.first() == Some(&0x16) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "TLS handshake on a plain HTTP port"));
    }
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return if raw.is_empty() { Ok(None) } else { Err(eof("inside a message head")) };
        }
        raw.extend_from_slice(&line);
        if raw.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "message head too large"));
        }
        let text = String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
        if text.is_empty() {
            if lines.is_empty() {
                continue; // tolerate stray CRLF between messages
            }
            break;
        }
        lines.push(text);
    }
    let first_line = lines.remove(0);
    if !first_line.is_ascii() || first_line.splitn(3, ' ').count() != 3 {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not an HTTP/1.x message head"));
    }
    let headers = lines
        .iter()
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect();
    Ok(Some(Head { first_line, headers, raw }))
}

/// Reads a body with the given framing, returning its raw wire bytes.
pub(crate) async fn read_body<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    framing: Framing,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    match framing {
        Framing::None => {}
        Framing::Length(n) => {
            body.resize(n as usize, 0);
            reader.read_exact(&mut body).await?;
        }
        Framing::UntilClose => {
            reader.read_to_end(&mut body).await?;
        }
        Framing::Chunked => read_chunked(reader, &mut body).await?,
    }
    Ok(body)
}

async fn read_chunked<R: AsyncRead + Unpin>(reader: &mut BufReader<R>, body: &mut Vec<u8>) -> io::Result<()> {
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(eof("in a chunk size line"));
        }
        body.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line);
        let size_text = text.trim().split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size_text, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))?;
        if size == 0 {
            // Trailers, then the empty line that ends the body.
            loop {
                let mut trailer = Vec::new();
                if reader.read_until(b'\n', &mut trailer).await? == 0 {
                    return Err(eof("in chunked trailers"));
                }
                body.extend_from_slice(&trailer);
                if trailer == b"\r\n" || trailer == b"\n" {
                    return Ok(());
                }
            }
        }
        let start = body.len();
        body.resize(start + size as usize + 2, 0); // data plus its CRLF
        reader.read_exact(&mut body[start..]).await?;
    }
}

fn eof(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, format!("connection closed {what}"))
}

/// Splits a query string into decoded `(key, value)` pairs (`%XX` and `+` decoding).
pub(crate) fn query_pairs(target: &str) -> Vec<(String, String)> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3]).map(|h| u8::from_str_radix(h, 16)) {
                    Ok(Ok(b)) => {
                        out.push(b);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_chunked_body_raw() {
        let wire = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nNEXT";
        let mut reader = BufReader::new(&wire[..]);
        let head = read_head(&mut reader).await.unwrap().unwrap();
        assert_eq!(head.request_framing(), Framing::Chunked);
        let body = read_body(&mut reader, Framing::Chunked).await.unwrap();
        assert_eq!(body, b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn decodes_query() {
        let pairs = query_pairs("/token?service=reg&scope=repository%3Aa%2Fb%3Apull%2Cpush");
        assert_eq!(pairs[1], ("scope".into(), "repository:a/b:pull,push".into()));
    }
}
