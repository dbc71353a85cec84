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

use crate::auth::LoginLimiter;
use crate::config::ServeConfig;
use crate::live::Live;
use crate::room::Rooms;
use crate::store::{Database, StoreError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<ServeConfig>,
    pub db: Arc<dyn Database>,
    pub rooms: Rooms,
    pub live: Live,
    pub limiter: Arc<LoginLimiter>,
    pub guest_joins: Arc<crate::auth::GuestJoins>,
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = crate::api::router();
    let openapi = Arc::new(openapi);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/ws/{board_id}", get(crate::ws::handler))
        .route("/ws/{board_id}/mine", get(crate::ws::private_handler))
        .route("/api/v1/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
        .nest("/api/v1", api.layer(axum::extract::DefaultBodyLimit::max(state.config.max_body_bytes)))
        .merge(crate::ui::routes(match &state.config.ui_dir {
            Some(dir) => crate::ui::Source::Dir(Arc::new(dir.clone())),
            None => crate::ui::Source::Embedded,
        }))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                message: "method not allowed on this route".into(),
            }
        })
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
    match app.db.ping().await {
        Ok(()) => {
            (StatusCode::OK, Json(json!({"status": "ready", "store": app.db.backend()}))).into_response()
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

    pub fn unauthenticated() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated",
            message: "a valid token is required".into(),
        }
    }

    pub fn forbidden(message: &str) -> Self {
        Self { status: StatusCode::FORBIDDEN, code: "forbidden", message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, code: "bad_request", message: message.into() }
    }

    pub fn conflict(message: &str) -> Self {
        Self { status: StatusCode::CONFLICT, code: "conflict", message: message.into() }
    }

    pub fn too_many(message: &str) -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, code: "rate_limited", message: message.into() }
    }

    pub fn internal() -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: "internal error".into() }
    }

    /// A storage failure: logged with its details, answered without them.
    pub fn store(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::conflict(what),
            e => {
                error!(error = %e, "storage error");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": {"code": self.code, "message": self.message}}))).into_response()
    }
}
