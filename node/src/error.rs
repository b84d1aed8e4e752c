//! [`CipError`]: a failure handed to JavaScript as an `Error` whose `code` names the kind of
//! failure and whose `registry`/`repository` say where, so scripts can branch on them without
//! parsing messages. Findings about manifests are never errors: they are data in the report.

use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsValue, Status};

/// Code of an argument that has the wrong type (Node's own convention).
pub const INVALID_ARG_TYPE: &str = "ERR_INVALID_ARG_TYPE";
/// Code of an argument whose type is right but whose value is unusable.
pub const INVALID_ARG_VALUE: &str = "ERR_INVALID_ARG_VALUE";

/// A failure that becomes a JavaScript `Error` with `code` (and, for registry failures, the
/// registry and repository involved).
#[derive(Clone, Debug)]
pub struct CipError {
    /// Stable, machine-readable code (`ERR_INVALID_ARG_TYPE`, `CIP_…`).
    pub code: String,
    /// What happened and what to do, for people.
    pub message: String,
    /// The registry involved, when there is one.
    pub registry: Option<String>,
    /// The repository involved, when there is one.
    pub repository: Option<String>,
    /// The error's `name` when not plain `Error` (`AbortError`).
    pub name: Option<&'static str>,
}

impl CipError {
    /// A failure with a code and a message only.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), registry: None, repository: None, name: None }
    }

    /// The same failure with another `name` (as DOM's `AbortError`).
    pub fn named(mut self, name: &'static str) -> Self {
        self.name = Some(name);
        self
    }

    /// An argument with the wrong type.
    pub fn arg_type(message: impl Into<String>) -> Self {
        Self::new(INVALID_ARG_TYPE, message)
    }

    /// An argument with an unusable value.
    pub fn arg_value(message: impl Into<String>) -> Self {
        Self::new(INVALID_ARG_VALUE, message)
    }

    /// Builds the JavaScript `Error` (on the JavaScript thread) and wraps it so napi throws or
    /// rejects with exactly that object.
    pub fn into_napi(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(error) => error,
            // Building an object only fails while the environment is shutting down; a plain
            // error with the same text is the best that can still be delivered.
            Err(_) => napi::Error::new(Status::GenericFailure, format!("{}: {}", self.code, self.message)),
        }
    }

    fn build(&self, env: &Env) -> napi::Result<napi::Error> {
        let mut object: Object = env.create_error(napi::Error::new(Status::GenericFailure, &self.message))?;
        object.set_named_property("code", self.code.as_str())?;
        if let Some(name) = self.name {
            object.set_named_property("name", name)?;
        }
        if let Some(registry) = &self.registry {
            object.set_named_property("registry", registry.as_str())?;
        }
        if let Some(repository) = &self.repository {
            object.set_named_property("repository", repository.as_str())?;
        }
        Ok(napi::Error::from(object.to_unknown()))
    }
}
