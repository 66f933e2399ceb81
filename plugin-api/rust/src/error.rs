use std::fmt;

use crate::sys;

/// A status code plugin.h defines as an error (`KERBERUS_ERR_*`), as a host
/// function returned it. `KERBERUS_OK`, `KERBERUS_ASYNC` and
/// `KERBERUS_BUSY` are not errors and have no variant: functions that can
/// fail return `Result<_, ErrorCode>` (a stream's write says `Busy` in its
/// `Ok`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `KERBERUS_ERR_INVALID`: an argument is NULL, malformed or out of range.
    Invalid,
    /// `KERBERUS_ERR_NOT_FOUND`: the key, header, parameter or route does not exist.
    NotFound,
    /// `KERBERUS_ERR_WRONG_TYPE`: the config value exists but has another type.
    WrongType,
    /// `KERBERUS_ERR_CONFLICT`: the route (or metric name) is taken.
    Conflict,
    /// `KERBERUS_ERR_STATE`: not allowed now (a route after init, a second answer, ...).
    State,
    /// `KERBERUS_ERR_EXPIRED`: the host already answered the request (deadline 504, shutdown 503).
    Expired,
    /// `KERBERUS_ERR_TOO_LARGE`: a size limit was exceeded.
    TooLarge,
    /// `KERBERUS_ERR_INTERNAL`: failure inside the plugin.
    Internal,
    /// `KERBERUS_ERR_UNREACHABLE`: an outbound request found no upstream.
    Unreachable,
    /// `KERBERUS_ERR_TIMEOUT`: an outbound request ran out of time.
    Timeout,
    /// `KERBERUS_ERR_CANCELLED`: an outbound request was cancelled.
    Cancelled,
    /// `KERBERUS_ERR_CLOSED` (ABI 1.4): a streamed response's client is
    /// gone; end the stream and stop producing.
    Closed,
    /// A code this crate does not know (from a newer host); never
    /// `KERBERUS_OK`, `KERBERUS_ASYNC` or `KERBERUS_BUSY`.
    Other(sys::kerberus_status),
}

impl ErrorCode {
    /// The error a status stands for; `None` for `KERBERUS_OK`,
    /// `KERBERUS_ASYNC` and `KERBERUS_BUSY`.
    pub fn from_status(status: sys::kerberus_status) -> Option<ErrorCode> {
        Some(match status {
            sys::KERBERUS_OK | sys::KERBERUS_ASYNC | sys::KERBERUS_BUSY => return None,
            sys::KERBERUS_ERR_INVALID => ErrorCode::Invalid,
            sys::KERBERUS_ERR_NOT_FOUND => ErrorCode::NotFound,
            sys::KERBERUS_ERR_WRONG_TYPE => ErrorCode::WrongType,
            sys::KERBERUS_ERR_CONFLICT => ErrorCode::Conflict,
            sys::KERBERUS_ERR_STATE => ErrorCode::State,
            sys::KERBERUS_ERR_EXPIRED => ErrorCode::Expired,
            sys::KERBERUS_ERR_TOO_LARGE => ErrorCode::TooLarge,
            sys::KERBERUS_ERR_INTERNAL => ErrorCode::Internal,
            sys::KERBERUS_ERR_UNREACHABLE => ErrorCode::Unreachable,
            sys::KERBERUS_ERR_TIMEOUT => ErrorCode::Timeout,
            sys::KERBERUS_ERR_CANCELLED => ErrorCode::Cancelled,
            sys::KERBERUS_ERR_CLOSED => ErrorCode::Closed,
            other => ErrorCode::Other(other),
        })
    }

    /// `Ok(())` for `KERBERUS_OK`, the error otherwise (`KERBERUS_ASYNC`,
    /// which no host function returns, reads as `Other(1)`, and
    /// `KERBERUS_BUSY`, which only response_write returns, as `Other(2)`).
    pub fn check(status: sys::kerberus_status) -> Result<(), ErrorCode> {
        match status {
            sys::KERBERUS_OK => Ok(()),
            _ => Err(ErrorCode::from_status(status).unwrap_or(ErrorCode::Other(status))),
        }
    }

    /// The numeric code plugin.h gives it.
    pub fn status(self) -> sys::kerberus_status {
        match self {
            ErrorCode::Invalid => sys::KERBERUS_ERR_INVALID,
            ErrorCode::NotFound => sys::KERBERUS_ERR_NOT_FOUND,
            ErrorCode::WrongType => sys::KERBERUS_ERR_WRONG_TYPE,
            ErrorCode::Conflict => sys::KERBERUS_ERR_CONFLICT,
            ErrorCode::State => sys::KERBERUS_ERR_STATE,
            ErrorCode::Expired => sys::KERBERUS_ERR_EXPIRED,
            ErrorCode::TooLarge => sys::KERBERUS_ERR_TOO_LARGE,
            ErrorCode::Internal => sys::KERBERUS_ERR_INTERNAL,
            ErrorCode::Unreachable => sys::KERBERUS_ERR_UNREACHABLE,
            ErrorCode::Timeout => sys::KERBERUS_ERR_TIMEOUT,
            ErrorCode::Cancelled => sys::KERBERUS_ERR_CANCELLED,
            ErrorCode::Closed => sys::KERBERUS_ERR_CLOSED,
            ErrorCode::Other(status) => status,
        }
    }

    /// The name plugin.h gives the code, for messages: `"KERBERUS_ERR_STATE"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "KERBERUS_ERR_INVALID",
            ErrorCode::NotFound => "KERBERUS_ERR_NOT_FOUND",
            ErrorCode::WrongType => "KERBERUS_ERR_WRONG_TYPE",
            ErrorCode::Conflict => "KERBERUS_ERR_CONFLICT",
            ErrorCode::State => "KERBERUS_ERR_STATE",
            ErrorCode::Expired => "KERBERUS_ERR_EXPIRED",
            ErrorCode::TooLarge => "KERBERUS_ERR_TOO_LARGE",
            ErrorCode::Internal => "KERBERUS_ERR_INTERNAL",
            ErrorCode::Unreachable => "KERBERUS_ERR_UNREACHABLE",
            ErrorCode::Timeout => "KERBERUS_ERR_TIMEOUT",
            ErrorCode::Cancelled => "KERBERUS_ERR_CANCELLED",
            ErrorCode::Closed => "KERBERUS_ERR_CLOSED",
            ErrorCode::Other(_) => "unknown kerberus_status",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Other(status) => write!(f, "unknown kerberus_status {}", status),
            code => f.write_str(code.name()),
        }
    }
}

/// A failure with a message for people: what `init` returns to fail the
/// plugin (the message becomes its error, in the log line, in
/// `kerberusd --check` and in the inventory), and what the crate returns
/// when the host refuses something a plugin cannot carry on without (a
/// route, a config value of the wrong type, a metric).
///
/// Messages from the crate read `"<context>: <code name>"`, e.g.
/// `"route GET /x: KERBERUS_ERR_CONFLICT"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
}

impl Error {
    /// A failure of the plugin's own (`KERBERUS_ERR_INTERNAL`).
    pub fn new(message: impl Into<String>) -> Error {
        Error { code: ErrorCode::Internal, message: message.into() }
    }

    /// A failure with the code to report to the host.
    pub fn with_code(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    /// `"<context>: <code name>"`, the form the crate's own errors take.
    pub(crate) fn refused(code: ErrorCode, context: impl fmt::Display) -> Error {
        Error { code, message: format!("{}: {}", context, code) }
    }

    /// The code `init` returns to the host for this failure.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The text for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::new(message)
    }
}

impl From<ErrorCode> for Error {
    fn from(code: ErrorCode) -> Error {
        Error { code, message: code.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_code() {
        for status in sys::KERBERUS_ERR_CLOSED..=-1 {
            let code = ErrorCode::from_status(status).unwrap();
            assert_eq!(code.status(), status);
            assert_ne!(code.name(), "unknown kerberus_status", "{}", status);
        }
        assert_eq!(ErrorCode::from_status(sys::KERBERUS_OK), None);
        assert_eq!(ErrorCode::from_status(sys::KERBERUS_ASYNC), None);
        assert_eq!(ErrorCode::from_status(sys::KERBERUS_BUSY), None);
        assert_eq!(ErrorCode::from_status(-12), Some(ErrorCode::Closed));
        assert_eq!(ErrorCode::Closed.name(), "KERBERUS_ERR_CLOSED");
        assert_eq!(ErrorCode::from_status(-42), Some(ErrorCode::Other(-42)));
        assert_eq!(ErrorCode::check(0), Ok(()));
        assert_eq!(ErrorCode::check(-5), Err(ErrorCode::State));
        assert_eq!(ErrorCode::check(1), Err(ErrorCode::Other(1)));
        assert_eq!(ErrorCode::check(2), Err(ErrorCode::Other(2)));
        assert_eq!(ErrorCode::check(-12), Err(ErrorCode::Closed));
    }

    #[test]
    fn refusals_name_their_context_and_code() {
        let e = Error::refused(ErrorCode::Conflict, "route GET /x");
        assert_eq!(e.to_string(), "route GET /x: KERBERUS_ERR_CONFLICT");
        assert_eq!(e.code(), ErrorCode::Conflict);
        assert_eq!(Error::from("nope").code(), ErrorCode::Internal);
        assert_eq!(Error::from(ErrorCode::Other(-42)).to_string(), "unknown kerberus_status -42");
    }
}
