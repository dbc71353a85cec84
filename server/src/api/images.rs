//! Images on boards: upload (editors) and download (anyone who may see the board).
//!
//! The bytes are checked, not trusted: the type is read from the file's own header (PNG, JPEG,
//! WebP or GIF; never SVG, which can carry script), the dimensions must be readable and bounded
//! (a small file must not decode into gigabytes in every participant's browser), the size is
//! bounded per image and per board. Downloads are served with a sandboxing policy and
//! `nosniff`, private to the caller, immutable (an id's bytes never change).

use axum::body::Body as RawBody;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{audit, board_role, plausible_id, visible_board, ApiPath, Authed};
use crate::auth::{new_id, now_ms};
use crate::http::{ApiError, AppState};
use crate::store::images::{Added, ImageInfo, StoredImage};

/// Largest width or height accepted, in pixels.
const MAX_SIDE: u32 = 16_384;
/// Largest decoded size accepted, in pixels (about 200 MB of RGBA in a browser).
const MAX_PIXELS: u64 = 50_000_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload_image)).routes(routes!(get_image))
}

/// An image stored on a board.
#[derive(Serialize, ToSchema, Debug)]
pub struct Image {
    /// Its id, written in the board document's image items (`asset`).
    id: String,
    /// `image/png`, `image/jpeg`, `image/webp` or `image/gif`, read from the bytes.
    content_type: String,
    width: u32,
    height: u32,
    /// Size in bytes.
    bytes: i64,
}

impl From<ImageInfo> for Image {
    fn from(i: ImageInfo) -> Self {
        Self { id: i.id, content_type: i.content_type, width: i.width, height: i.height, bytes: i.byte_size }
    }
}

/// Uploads an image to a board (its editors): the raw bytes as the body, with an image
/// content type. The same bytes uploaded again to the board answer the existing image (200).
#[utoipa::path(post, path = "/boards/{board_id}/images", tag = "boards",
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 201, body = Image), (status = 200, body = Image), (status = 403), (status = 404),
        (status = 413), (status = 415)))]
async fn upload_image(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(board_id): ApiPath<String>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<(StatusCode, Json<Image>), ApiError> {
    // The board role, as on the WebSocket: archived boards and viewers cannot add anything.
    let (board, _, role) = board_role(&app, &caller, &board_id).await?;
    if !role.can_edit() {
        return Err(ApiError::forbidden("your role does not allow adding images to this board"));
    }
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !declared.trim().to_ascii_lowercase().starts_with("image/") {
        return Err(unsupported());
    }
    let limit = app.config.max_image_bytes;
    let data = axum::body::to_bytes(body, limit).await.map_err(|_| ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "payload_too_large",
        message: format!("an image may not exceed {limit} bytes"),
    })?;
    let (content_type, width, height) = inspect(&data)?;
    let image = StoredImage {
        info: ImageInfo {
            id: new_id(),
            board_id: board.id.clone(),
            content_type: content_type.to_owned(),
            width,
            height,
            byte_size: i64::try_from(data.len()).unwrap_or(i64::MAX),
            sha256: hex::encode(Sha256::digest(&data)),
        },
        data: data.to_vec(),
    };
    let quota = i64::try_from(app.config.max_board_image_bytes).unwrap_or(i64::MAX);
    match app.db.add_image(&image, &caller.principal_id(), now_ms(), quota).await.map_err(ApiError::store)? {
        Added::New(info) => {
            audit(
                &app,
                &caller,
                "image.upload",
                &board.id,
                serde_json::json!({"image": info.id, "bytes": info.byte_size, "type": info.content_type}),
            )
            .await;
            Ok((StatusCode::CREATED, Json(info.into())))
        }
        Added::Existing(info) => Ok((StatusCode::OK, Json(info.into()))),
        Added::OverQuota => Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "board_images_full",
            message: "this board holds as many images as it may".into(),
        }),
    }
}

/// An image of a board, for anyone who may see the board.
#[utoipa::path(get, path = "/boards/{board_id}/images/{image_id}", tag = "boards",
    responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 304), (status = 404)))]
async fn get_image(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath((board_id, image_id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (board, _) = visible_board(&app, &caller, &board_id).await?;
    if !plausible_id(&image_id) {
        return Err(ApiError::not_found("image"));
    }
    let image = app
        .db
        .image(&board.id, &image_id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("image"))?;
    let etag = format!("\"{}\"", &image.info.sha256[..image.info.sha256.len().min(32)]);
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { image.data.into_response() };
    let out = response.headers_mut();
    // Only stored types reach here; the fallback never applies.
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&image.info.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, etag);
    }
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

fn unsupported() -> ApiError {
    ApiError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        message: "send a PNG, JPEG, WebP or GIF image".into(),
    }
}

/// The real type and the dimensions of an image, read from its bytes.
fn inspect(data: &[u8]) -> Result<(&'static str, u32, u32), ApiError> {
    use imagesize::ImageType;
    let content_type = match imagesize::image_type(data) {
        Ok(ImageType::Png) => "image/png",
        Ok(ImageType::Jpeg) => "image/jpeg",
        Ok(ImageType::Webp) => "image/webp",
        Ok(ImageType::Gif) => "image/gif",
        _ => return Err(unsupported()),
    };
    let size = imagesize::blob_size(data).map_err(|_| unsupported())?;
    let (w, h) = (u32::try_from(size.width).unwrap_or(0), u32::try_from(size.height).unwrap_or(0));
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ApiError::bad_request(format!(
            "images must be 1 to {MAX_SIDE} pixels wide and high, at most {MAX_PIXELS} pixels in all"
        )));
    }
    Ok((content_type, w, h))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn reads_the_type_and_size_from_the_bytes() {
        assert_eq!(inspect(&png(640, 480)).unwrap(), ("image/png", 640, 480));
        let gif = b"GIF89a\x20\x00\x10\x00\x00\x00\x00";
        assert_eq!(inspect(gif).unwrap(), ("image/gif", 32, 16));
    }

    #[test]
    fn refuses_what_is_not_a_supported_image() {
        for data in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            b"",
            b"BM\x00\x00",
            b"\x89PNG\r\n",
        ] {
            assert_eq!(inspect(data).unwrap_err().status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
    }

    #[test]
    fn refuses_decompression_bombs_and_empty_images() {
        assert_eq!(inspect(&png(20_000, 10)).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(inspect(&png(10_000, 10_000)).unwrap_err().status, StatusCode::BAD_REQUEST);
        assert_eq!(inspect(&png(0, 10)).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
