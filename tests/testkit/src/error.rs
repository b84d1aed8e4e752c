//! The single error type of the test kit: a message that says what failed and where.

/// A test-kit failure (registry did not start, an HTTP call failed, a push was refused...).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

impl Error {
    /// Builds an error from anything printable.
    pub fn msg(message: impl Into<String>) -> Self {
        Error(message.into())
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error(format!("http: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("io: {e}"))
    }
}
