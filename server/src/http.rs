//! The HTTP surface: routes, shared state, JSON errors.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::{error, Level};

use crate::config::ServeConfig;
use crate::room::Rooms;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub store: Arc<dyn Store>,
    pub rooms: Rooms,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/ws/{board_id}", get(crate::ws::handler))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(CatchPanicLayer::custom(|_| {
            error!("request handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .with_state(state)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the store answers.
async fn readyz(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => {
            (StatusCode::OK, Json(json!({"status": "ready", "store": app.store.backend()}))).into_response()
        }
        Err(e) => {
            error!(error = %e, "readiness check: store unreachable");
            ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "store_unavailable",
                message: "the database does not answer".into(),
            }
            .into_response()
        }
    }
}

/// An error answered as `{"error": {"code", "message"}}`. Messages are written for clients;
/// internal details go to the log, never here.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, code: "not_found", message: format!("{what} not found") }
    }

    pub fn unauthorized(message: String) -> Self {
        Self { status: StatusCode::UNAUTHORIZED, code: "unauthorized", message }
    }

    pub fn internal() -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: "internal error".into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response()
    }
}
