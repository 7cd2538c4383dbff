//! The one error type of the web application and how it becomes a response: internals are logged,
//! never shown. Pages get a short text, the JSON API one JSON shape for every error: RFC 9457
//! problem details (`application/problem+json`, see [`api_problems`]).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
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

/// Longest error text carried into a problem's `detail`.
const MAX_DETAIL: usize = 4096;

/// Turns every error answer under `/api/` that is not JSON already (from a handler, the
/// authentication layer or an extractor's rejection) into an RFC 9457 problem: `type`
/// `about:blank`, `title` the status's reason phrase, `status`, and the text as `detail`.
pub async fn api_problems(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !api || !(status.is_client_error() || status.is_server_error()) || json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = axum::body::to_bytes(body, MAX_DETAIL)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let title = status.canonical_reason().unwrap_or("Error");
    let mut problem = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
    });
    if !detail.is_empty() {
        problem["detail"] = serde_json::Value::String(detail);
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(problem.to_string()))
}
