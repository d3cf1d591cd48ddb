//! The API's error type and its wire shape `{"errors":{"code":N,"message":["…"]}}`.

use serde_json::{Value, json};

/// An error the sandbox answers with, mirroring the status codes Freshsales uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: validation failed (bad value, duplicate unique field, missing required field).
    #[error("bad request: {}", .0.join("; "))]
    BadRequest(Vec<String>),
    /// 401: missing or wrong API key.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: the key's user may not call this endpoint.
    #[error("forbidden")]
    Forbidden,
    /// 404: unknown id or route.
    #[error("not found: {0}")]
    NotFound(String),
}

impl ApiError {
    /// A 400 with a single message.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest(vec![message.into()])
    }

    /// The record-not-found 404 used for every unknown id.
    pub fn not_found() -> Self {
        ApiError::NotFound("Record not found".to_string())
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized => 401,
            ApiError::Forbidden => 403,
            ApiError::NotFound(_) => 404,
        }
    }

    /// The messages that go into the body.
    pub fn messages(&self) -> Vec<String> {
        match self {
            ApiError::BadRequest(m) => m.clone(),
            ApiError::Unauthorized => {
                vec!["Invalid API key or missing Authorization header.".into()]
            }
            ApiError::Forbidden => vec!["You are not authorised to perform this operation.".into()],
            ApiError::NotFound(m) => vec![m.clone()],
        }
    }

    /// The JSON body in the shape Freshsales uses.
    pub fn body(&self) -> Value {
        error_body(self.status(), &self.messages())
    }
}

/// Builds `{"errors":{"code":code,"message":[...]}}`.
pub fn error_body(code: u16, messages: &[String]) -> Value {
    json!({"errors": {"code": code, "message": messages}})
}

/// Result alias for store operations.
pub type ApiResult<T> = Result<T, ApiError>;
