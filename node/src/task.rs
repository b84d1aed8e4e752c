//! [`Pure`]: a pure core call run on the libuv thread pool, so the `…Async` functions never block
//! Node's event loop. Arguments are decoded on the JavaScript thread first (only it can read JS
//! values); a decoding error travels through the task so the Promise rejects instead of the call
//! throwing.

use napi::bindgen_prelude::AsyncTask;
use napi::{Env, Task};
use serde::Serialize;

use crate::error::CipError;
use crate::json::Json;

type Work<T> = Box<dyn FnOnce() -> T + Send>;

/// A pure computation whose result is handed to JavaScript as plain data.
pub struct Pure<T> {
    work: Option<Result<Work<T>, CipError>>,
}

impl<T: Serialize + Send + 'static> Pure<T> {
    /// Wraps the decoded arguments' work (or the decoding error) as an async task.
    pub fn spawn(work: Result<impl FnOnce() -> T + Send + 'static, CipError>) -> AsyncTask<Self> {
        let work = work.map(|w| Box::new(w) as Work<T>);
        AsyncTask::new(Self { work: Some(work) })
    }
}

impl<T: Serialize + Send + 'static> Task for Pure<T> {
    type Output = Result<T, CipError>;
    type JsValue = Json<T>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        // napi calls `compute` exactly once per task.
        let work = self.work.take().expect("a task computes once");
        Ok(work.map(|w| w()))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        output.map(Json).map_err(|e| e.into_napi(&env))
    }
}
