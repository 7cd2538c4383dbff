//! The embedded static assets (CSS, htmx) with long cache headers, and `/healthz`. Nothing is
//! fetched from elsewhere at run time.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::AppState;

const CSS: &str = include_str!("../assets/app.css");
const HTMX: &str = include_str!("../assets/htmx.min.js");
const HTMX_LICENSE: &str = include_str!("../assets/htmx-LICENSE.txt");

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/app.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/htmx.min.js",
            get(|| async { asset("text/javascript; charset=utf-8", HTMX) }),
        )
        .route(
            "/static/htmx-LICENSE.txt",
            get(|| async { asset("text/plain; charset=utf-8", HTMX_LICENSE) }),
        )
        .route("/healthz", get(|| async { "ok" }))
}
