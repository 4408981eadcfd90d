//! Typed errors of the library. The CLI prints them and maps them to exit codes.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input data: names the 1-based line and the field.
    #[error("line {line}: field `{field}`: {message}")]
    Input { line: u64, field: String, message: String },
    /// A line that is not valid JSON.
    #[error("line {line}: invalid JSON: {message}")]
    Json { line: u64, message: String },
    /// A bad command-line argument or option combination.
    #[error("{0}")]
    Argument(String),
    /// No usable GPU, or a GPU failure (device lost, out of memory, shader error).
    #[error("GPU: {0}")]
    Gpu(String),
    /// Two backends disagree beyond what rounding explains (`--cross-check`).
    #[error("{0}")]
    Mismatch(String),
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl Error {
    pub fn input(line: u64, field: &str, message: impl Into<String>) -> Self {
        Error::Input { line, field: field.to_string(), message: message.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Writing to a pipe whose reader has gone (`rso sample ... | head`): not a failure of
    /// the run, so the CLI stops quietly.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Exit code for the CLI: 2 for bad input or arguments, 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Json { .. } | Error::Argument(_) => 2,
            Error::Gpu(_) | Error::Mismatch(_) | Error::Io { .. } => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
