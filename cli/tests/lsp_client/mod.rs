//! A scripted LSP client for `cip lsp`: spawns the binary, frames JSON-RPC messages on its stdin
//! and reads its stdout on a thread. Shared by the LSP test and the re-lint benchmark.

// Each user uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A client speaking to one `cip lsp` process.
pub struct Client {
    pub child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Every message received and not yet consumed by an `expect`.
    pub seen: Vec<Value>,
    next_id: i64,
}

impl Client {
    pub fn start(cip: &str, root: &Path, encodings: &[&str]) -> (Self, Value) {
        let mut child = Command::new(cip)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cip lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                stdout.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut client = Self { child, stdin, messages, seen: Vec::new(), next_id: 1 };
        let uri = uri(root);
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": "w"}],
                "capabilities": {
                    "general": {"positionEncodings": encodings},
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
                },
            }),
        );
        client.notify("initialized", json!({}));
        (client, result)
    }

    pub fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.expect(&format!("response to {method}"), |m| m["id"] == id);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The first message (already received or arriving within 10 s) matching `want`.
    pub fn expect(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {what} within 10 s; received: {:#?}", self.seen));
            if want(&message) {
                return message;
            }
            self.seen.push(message);
        }
    }

    /// The next diagnostics published for `file` (a path under the root) after those already
    /// consumed.
    pub fn diagnostics(&mut self, root: &Path, file: &str) -> Vec<Value> {
        let uri = uri(&root.join(file));
        let message = self.expect(&format!("diagnostics for {file}"), |m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
