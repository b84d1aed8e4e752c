//! `cip lsp`: a Language Server Protocol server on stdin/stdout. Findings as you type (with the
//! secondary locations as related information), quick fixes from the findings' fixes, hover on a
//! digest (its tags, its destinations, where else it is promoted) and on a finding (the README's
//! documentation of its code), document symbols (registries, images) and formatting.
//!
//! Built on rust-analyzer's `lsp-server` (the transport: a synchronous message loop over
//! crossbeam channels) and `lsp-types` (the protocol's types), rather than `tower-lsp`: the core
//! is synchronous and pure, so an async runtime and `async-trait` handlers would add machinery
//! and no concurrency worth having (one lint of a Kubernetes-scale tree is tens of milliseconds);
//! the loop below is the whole scheduler, and debouncing is a receive timeout.
//!
//! The workspace is the editor's root folder ([`project`]): its manifests are read from disk at
//! `initialize` (and followed afterwards through `workspace/didChangeWatchedFiles`, when the client
//! can watch files for the server), open documents override them, and an edit re-reads only the edited file
//! ([`cip_core::workspace`]) before the rules run over every manifest, so a change in
//! `images/<x>/images.yaml` re-checks its pair and every cross-file overlap. Changes are applied
//! at once but linted after a 150 ms pause in typing, or before answering any request. After each
//! lint the server logs its own time (`window/logMessage`: `cip: linted ... in N.NN ms`), which the
//! benchmark (`bench/lsp.sh`) reads.

mod actions;
mod docs;
mod hover;
mod position;
mod project;
mod symbols;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use cip_core::{Diagnostic, Severity};
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, DiagnosticRelatedInformation,
    InitializeParams, NumberOrString, OneOf, PositionEncodingKind, PublishDiagnosticsParams,
    ServerCapabilities, ServerInfo, TextDocumentContentChangeEvent, TextDocumentSyncCapability,
    TextDocumentSyncKind, Uri, notification, request,
};

use position::Encoding;
use project::Project;

/// How long typing must pause before a re-lint.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Serves one client on stdin/stdout until `shutdown` and `exit`.
pub(crate) fn serve() -> anyhow::Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let (id, params) = connection.initialize_start().context("waiting for `initialize`")?;
    let params: InitializeParams = serde_json::from_value(params).context("reading `initialize`")?;
    let encoding = negotiate(&params);
    let capabilities = capabilities(encoding);
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo { name: "cip".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    connection.initialize_finish(id, result).context("answering `initialize`")?;
    let mut server = Server::new(connection, Project::open(root(&params)), encoding);
    if watches_files(&params) {
        server.watch_files();
    }
    server.run()?;
    drop(server);
    io_threads.join().context("closing stdin/stdout")?;
    Ok(())
}

/// UTF-8 when the client offers it (no conversion of byte columns), else UTF-16 (the default
/// every client supports).
fn negotiate(params: &InitializeParams) -> Encoding {
    let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_ref());
    if offered.is_some_and(|kinds| kinds.contains(&PositionEncodingKind::UTF8)) {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    }
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
        hover_provider: Some(lsp_types::HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, actions::FIX_ALL.clone()]),
            ..CodeActionOptions::default()
        })),
        ..ServerCapabilities::default()
    }
}

/// True when the client can watch files for the server (dynamic registration).
fn watches_files(params: &InitializeParams) -> bool {
    let workspace = params.capabilities.workspace.as_ref();
    let watched = workspace.and_then(|w| w.did_change_watched_files.as_ref());
    watched.and_then(|w| w.dynamic_registration).unwrap_or(false)
}

/// The first workspace folder, else the (deprecated) root URI, as a directory path.
fn root(params: &InitializeParams) -> Option<PathBuf> {
    #[allow(deprecated)]
    let uri = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|f| f.uri.as_str().to_owned())
        .or_else(|| params.root_uri.as_ref().map(|u| u.as_str().to_owned()))?;
    let path = PathBuf::from(project::decode(uri.strip_prefix("file://")?));
    path.is_dir().then_some(path)
}

/// The server's state between messages.
pub(crate) struct Server {
    connection: Connection,
    project: Project,
    encoding: Encoding,
    /// Open documents that are manifests: URI -> path in findings.
    open: HashMap<String, String>,
    /// Open documents that are not (yet) manifests: URI -> text, so a later edit that makes one
    /// a manifest has the whole text.
    others: HashMap<String, String>,
    /// Edited texts not linted yet, and when to lint them.
    pending: BTreeMap<String, String>,
    deadline: Option<Instant>,
    /// A file left the workspace since the last lint.
    stale: bool,
    /// Files whose findings were last published non-empty (to clear them when fixed).
    published: BTreeSet<String>,
    /// The findings of the last lint.
    diagnostics: Vec<Diagnostic>,
}

impl Server {
    fn new(connection: Connection, project: Project, encoding: Encoding) -> Self {
        Self {
            connection,
            project,
            encoding,
            open: HashMap::new(),
            others: HashMap::new(),
            pending: BTreeMap::new(),
            deadline: None,
            stale: false,
            published: BTreeSet::new(),
            diagnostics: Vec::new(),
        }
    }

    fn run(&mut self) -> anyhow::Result<()> {
        // The workspace as read from disk: findings for every manifest, not only open ones.
        self.lint(0);
        loop {
            let message = match self.deadline {
                Some(deadline) => {
                    match self
                        .connection
                        .receiver
                        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    {
                        Ok(message) => message,
                        Err(error) if error.is_timeout() => {
                            self.flush();
                            continue;
                        }
                        Err(_) => return Ok(()),
                    }
                }
                None => match self.connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(()),
                },
            };
            match message {
                Message::Request(request) => {
                    if self.connection.handle_shutdown(&request).context("shutting down")? {
                        return Ok(());
                    }
                    self.flush();
                    let response = self.answer(request);
                    self.send(Message::Response(response));
                }
                Message::Notification(notification) => self.notice(notification),
                Message::Response(_) => {}
            }
        }
    }

    /// Asks the client to report YAML files created, changed or deleted on disk (a new
    /// `images/<x>/images.yaml` from a `git pull`, say), so the workspace follows the disk.
    fn watch_files(&self) {
        let options = lsp_types::DidChangeWatchedFilesRegistrationOptions {
            watchers: ["**/*.yaml", "**/*.yml"]
                .into_iter()
                .map(|glob| lsp_types::FileSystemWatcher {
                    glob_pattern: lsp_types::GlobPattern::String(glob.into()),
                    kind: None,
                })
                .collect(),
        };
        let registration = lsp_types::Registration {
            id: "cip-watch".into(),
            method: notification::DidChangeWatchedFiles::METHOD.into(),
            register_options: serde_json::to_value(options).ok(),
        };
        let params = lsp_types::RegistrationParams { registrations: vec![registration] };
        self.send(Message::Request(Request::new(
            "cip-watch".to_owned().into(),
            request::RegisterCapability::METHOD.into(),
            params,
        )));
    }

    fn send(&self, message: Message) {
        // A closed channel means the client is gone; the loop ends on the next receive.
        let _ = self.connection.sender.send(message);
    }

    fn answer(&mut self, request: Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            request::HoverRequest::METHOD => {
                parse(request).map(|p| serde_json::to_value(hover::hover(self, &p)))
            }
            request::DocumentSymbolRequest::METHOD => {
                parse(request).map(|p| serde_json::to_value(symbols::symbols(self, &p)))
            }
            request::CodeActionRequest::METHOD => {
                parse(request).map(|p| serde_json::to_value(actions::code_actions(self, &p)))
            }
            request::Formatting::METHOD => match parse(request).map(|p| actions::format(self, &p)) {
                Ok(Err(message)) => {
                    return Response::new_err(id, lsp_server::ErrorCode::RequestFailed as i32, message);
                }
                other => other.map(|edits| serde_json::to_value(edits.unwrap_or_default())),
            },
            method => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("cip lsp does not handle {method}"),
                );
            }
        };
        match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(error)) => {
                Response::new_err(id, lsp_server::ErrorCode::InternalError as i32, error.to_string())
            }
            Err(error) => {
                Response::new_err(id, lsp_server::ErrorCode::InvalidParams as i32, error.to_string())
            }
        }
    }

    fn notice(&mut self, notification: Notification) {
        match notification.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(notification.params)
                else {
                    return;
                };
                self.edited(p.text_document.uri.as_str(), p.text_document.text);
                // Opening shows findings at once.
                self.flush();
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(notification.params)
                else {
                    return;
                };
                let uri = p.text_document.uri.as_str();
                let Some(mut text) = self.text(uri) else { return };
                for change in p.content_changes {
                    apply_change(self.encoding, &mut text, change);
                }
                self.edited(uri, text);
                self.deadline = Some(Instant::now() + DEBOUNCE);
            }
            notification::DidChangeWatchedFiles::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeWatchedFilesParams>(notification.params)
                else {
                    return;
                };
                for change in p.changes {
                    self.on_disk(change.uri.as_str(), change.typ == lsp_types::FileChangeType::DELETED);
                }
                self.deadline = Some(Instant::now() + DEBOUNCE);
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(notification.params)
                else {
                    return;
                };
                self.closed(p.text_document.uri.as_str());
            }
            _ => {}
        }
    }

    /// The current text of an open document.
    fn text(&self, uri: &str) -> Option<String> {
        if let Some(text) = self.others.get(uri) {
            return Some(text.clone());
        }
        let path = self.open.get(uri)?;
        if let Some(text) = self.pending.get(path) {
            return Some(text.clone());
        }
        let files = self.project.workspace.files();
        files.find(path).map(|id| files.get(id).text.clone())
    }

    /// Records a document's new text (linted at the next flush).
    fn edited(&mut self, uri: &str, text: String) {
        let path = self.open.get(uri).cloned().or_else(|| self.project.path_of(uri, &text));
        match path {
            Some(path) => {
                self.others.remove(uri);
                self.open.insert(uri.to_owned(), path.clone());
                self.pending.insert(path, text);
            }
            None => {
                self.others.insert(uri.to_owned(), text);
            }
        }
    }

    /// A file changed on disk: open documents keep the editor's text; others are re-read, added
    /// (when they are manifests) or removed.
    fn on_disk(&mut self, uri: &str, deleted: bool) {
        if self.open.contains_key(uri) {
            return;
        }
        let absolute = uri.strip_prefix("file://").map(project::decode);
        let text = if deleted { None } else { absolute.and_then(|p| std::fs::read_to_string(p).ok()) };
        match text {
            Some(text) => {
                if let Some(path) = self.project.path_of(uri, &text) {
                    self.pending.insert(path, text);
                }
            }
            None => {
                if let Some(path) = self.project.path_of(uri, "") {
                    self.pending.remove(&path);
                    self.stale |= self.project.workspace.remove(&path);
                }
            }
        }
    }

    /// A closed document goes back to what is on disk (or leaves the workspace).
    fn closed(&mut self, uri: &str) {
        self.others.remove(uri);
        let Some(path) = self.open.remove(uri) else { return };
        self.pending.remove(&path);
        let on_disk =
            uri.strip_prefix("file://").map(project::decode).and_then(|p| std::fs::read_to_string(p).ok());
        match on_disk {
            Some(text) => {
                self.pending.insert(path, text);
            }
            None => {
                self.stale |= self.project.workspace.remove(&path);
            }
        }
        self.flush();
    }

    /// Applies the pending texts and re-lints.
    fn flush(&mut self) {
        self.deadline = None;
        let stale = std::mem::take(&mut self.stale);
        if self.pending.is_empty() && !stale {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let changed = pending.len();
        let start = (Instant::now(), thread_cpu());
        for (path, text) in pending {
            self.project.workspace.set_text(&path, text);
        }
        self.lint_since(start, changed);
    }

    fn lint(&mut self, changed: usize) {
        self.lint_since((Instant::now(), thread_cpu()), changed);
    }

    /// Lints the workspace, publishes what changed, and logs the server time since `start` (wall
    /// clock, and this thread's CPU time where the system reports it).
    fn lint_since(&mut self, (start, cpu_start): (Instant, Option<Duration>), changed: usize) {
        self.diagnostics = self.project.workspace.lint();
        let linted = start.elapsed();
        self.publish();
        let total = start.elapsed();
        let cpu = match (cpu_start, thread_cpu()) {
            (Some(a), Some(b)) => format!("; {:.2} ms CPU", b.saturating_sub(a).as_secs_f64() * 1e3),
            _ => String::new(),
        };
        let workspace = &self.project.workspace;
        let files = workspace.files().iter().count();
        let digests: usize = workspace.manifests().iter().flat_map(|m| &m.images).map(|i| i.dmap.len()).sum();
        let message = format!(
            "cip: linted {files} files ({digests} digests) after {changed} changed in {:.2} ms ({:.2} ms with publishing{cpu}), {} findings",
            linted.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            self.diagnostics.len(),
        );
        let params = lsp_types::LogMessageParams { typ: lsp_types::MessageType::LOG, message };
        self.send(Message::Notification(Notification::new(
            notification::LogMessage::METHOD.to_owned(),
            params,
        )));
    }

    /// Sends the findings of every file that has some, and empty lists to files that had some.
    fn publish(&mut self) {
        let mut by_file: BTreeMap<&str, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
        for diagnostic in &self.diagnostics {
            by_file.entry(&diagnostic.location.file).or_default().push(self.to_lsp(diagnostic));
        }
        let now: BTreeSet<String> = by_file.keys().map(|f| (*f).to_owned()).collect();
        let cleared: Vec<String> = self.published.difference(&now).cloned().collect();
        let mut messages = Vec::new();
        for (file, diagnostics) in by_file.into_iter().chain(cleared.iter().map(|f| (f.as_str(), Vec::new())))
        {
            let Ok(uri) = self.project.uri_of(file).parse::<Uri>() else { continue };
            let params = PublishDiagnosticsParams { uri, diagnostics, version: None };
            messages.push(Notification::new(notification::PublishDiagnostics::METHOD.to_owned(), params));
        }
        for message in messages {
            self.send(Message::Notification(message));
        }
        self.published = now;
    }

    /// A core finding as an LSP diagnostic (labels become related information).
    pub(crate) fn to_lsp(&self, diagnostic: &Diagnostic) -> lsp_types::Diagnostic {
        let files = self.project.workspace.files();
        let related: Vec<DiagnosticRelatedInformation> = diagnostic
            .labels
            .iter()
            .filter_map(|label| {
                let uri = self.project.uri_of(&label.location.file).parse().ok()?;
                let range = self.encoding.range(files, &label.location);
                Some(DiagnosticRelatedInformation {
                    location: lsp_types::Location { uri, range },
                    message: label.message.clone(),
                })
            })
            .collect();
        let message = match &diagnostic.help {
            Some(help) => format!("{}\nhelp: {help}", diagnostic.message),
            None => diagnostic.message.clone(),
        };
        lsp_types::Diagnostic {
            range: self.encoding.range(files, &diagnostic.location),
            severity: Some(match diagnostic.severity {
                Severity::Error => lsp_types::DiagnosticSeverity::ERROR,
                Severity::Warning => lsp_types::DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(diagnostic.code.as_str().to_owned())),
            source: Some("cip".into()),
            message,
            related_information: (!related.is_empty()).then_some(related),
            ..lsp_types::Diagnostic::default()
        }
    }

    /// The path and current text of a document the server lints.
    pub(crate) fn document(&self, uri: &Uri) -> Option<(cip_core::FileId, &str)> {
        let path = self.open.get(uri.as_str()).cloned().or_else(|| {
            let text =
                std::fs::read_to_string(project::decode(uri.as_str().strip_prefix("file://")?)).ok()?;
            self.project.path_of(uri.as_str(), &text)
        })?;
        let files = self.project.workspace.files();
        let id = files.find(&path)?;
        Some((id, files.get(id).text.as_str()))
    }
}

/// CPU time this thread has run (Linux: `/proc/thread-self/schedstat`, nanoseconds first), the
/// steadier figure on a machine shared with other work, where wall time includes waiting for a
/// core.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok().map(Duration::from_nanos)
}

fn parse<P: serde::de::DeserializeOwned>(request: Request) -> Result<P, serde_json::Error> {
    serde_json::from_value(request.params)
}

/// Applies one change event (a range edit, or the whole text) to `text`.
fn apply_change(encoding: Encoding, text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        Some(range) => {
            let starts = position::line_starts(text);
            let start = encoding.offset(text, &starts, range.start);
            let end = encoding.offset(text, &starts, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
        None => *text = change.text,
    }
}
