//! The one error type of the web application and how it becomes a response: internals are logged,
//! never shown. Pages get a short page, the JSON API a JSON body.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lekdicht_store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not logged in (pages redirect to the login page; the API answers 401).
    #[error("not authenticated")]
    Unauthenticated { api: bool },
    /// Logged in but without the permission.
    #[error("forbidden")]
    Forbidden,
    /// Missing or wrong CSRF token, or a cross-site request.
    #[error("cross-site request refused")]
    Csrf,
    /// Unknown, or belonging to another organisation.
    #[error("not found")]
    NotFound,
    /// The request was understood but is not valid; the message is safe to show.
    #[error("{0}")]
    BadRequest(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, text) = match &self {
            AppError::Unauthenticated { api: false } => {
                return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
            }
            AppError::Unauthenticated { api: true } => {
                (StatusCode::UNAUTHORIZED, "authentication required")
            }
            AppError::Forbidden => (StatusCode::FORBIDDEN, "forbidden / geen toegang"),
            AppError::Csrf => (StatusCode::FORBIDDEN, "request refused / verzoek geweigerd"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found / niet gevonden"),
            AppError::BadRequest(message) => {
                return (StatusCode::BAD_REQUEST, message.clone()).into_response();
            }
            AppError::Store(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error / interne fout",
                )
            }
        };
        (status, text).into_response()
    }
}
