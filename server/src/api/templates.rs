//! Tenant templates ("one format, many sessions"): a facilitator keeps a board's format as a
//! template of the organisation (its kind, layout, phases, prompts, image deck, without what the
//! session produced), creates boards from it in one step and sees those boards side by side.
//!
//! What a template keeps is decided here, in a yrs transaction over the board's committed state:
//! participants' notes (every note that is not locked, unless the request asks for `"all"`),
//! every note's `votes`, `stars` and `comments`, and the session's place in `meta` (`phase`,
//! `timer`, `votingOpen`, `demarreur`, `gallery`) are removed; everything else stays (frames,
//! shapes, strokes, clusters, locked notes, `matrix`, the rest of `meta`). Deleted content is
//! garbage-collected by yrs, so a template does not carry participants' text.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapRef, Out, ReadTxn, StateVector, Transact, Update};

use super::{audit, name, plausible_id, require, visible_board, ApiPath, Authed, Body};
use crate::auth::{new_id, now_ms};
use crate::boarddoc::Tally;
use crate::http::{ApiError, AppState};
use crate::store::templates::{NewTemplate, TemplateInfo};
use crate::store::DocKey;
use crate::tenancy::{board_access, Board, BoardKind, Caller, Project, ProjectRole, TenantRole, User};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_template, list_templates))
        .routes(routes!(get_template, delete_template))
        .routes(routes!(template_boards))
}

/// A template of the organisation.
#[derive(Serialize, ToSchema, Debug)]
pub struct Template {
    id: String,
    name: String,
    /// The kind of the boards made from it.
    kind: String,
    /// The board it was saved from (null once that board is deleted).
    source_board_id: Option<String>,
    /// Who saved it (`user:<id>`).
    created_by: String,
    created_at: i64,
    /// Size of its document in bytes.
    bytes: i64,
    /// Images it holds (copied to every board made from it).
    images: i64,
    /// Boards made from it (all of them, seen or not by the caller).
    boards: i64,
}

impl From<TemplateInfo> for Template {
    fn from(t: TemplateInfo) -> Self {
        Self {
            id: t.id,
            name: t.name,
            kind: t.kind,
            source_board_id: t.source_board_id,
            created_by: t.created_by,
            created_at: t.created_at,
            bytes: t.byte_size,
            images: t.images,
            boards: t.boards,
        }
    }
}

/// Which notes a template keeps.
#[derive(Deserialize, ToSchema, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TemplateContent {
    /// Only locked notes (the facilitator's prompts); the default.
    #[default]
    Prompts,
    /// Every note (without votes, stars or comments).
    All,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplate {
    /// The board to keep as a template.
    board_id: String,
    /// 1 to 200 characters.
    name: String,
    /// `prompts` (default) or `all`.
    content: Option<TemplateContent>,
}

/// A board made from a template, with what its session produced.
#[derive(Serialize, ToSchema, Debug)]
pub struct TemplateBoard {
    id: String,
    project_id: String,
    title: String,
    kind: BoardKind,
    created_at: i64,
    archived_at: Option<i64>,
    counts: Tally,
}

/// The caller as a member of a tenant: guests have no templates.
fn member(caller: &Caller) -> Result<&User, ApiError> {
    match caller {
        Caller::User(user) => Ok(user),
        Caller::Guest { .. } => Err(ApiError::forbidden("guests have no templates")),
    }
}

/// A template of the caller's tenant (guests and other tenants: 404).
async fn visible_template(
    app: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(TemplateInfo, Vec<u8>), ApiError> {
    let Caller::User(user) = caller else { return Err(ApiError::not_found("template")) };
    if !plausible_id(id) {
        return Err(ApiError::not_found("template"));
    }
    app.db
        .template(&user.tenant_id, id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("template"))
}

/// Saves a board as a template of the organisation (the board's facilitators and owners).
#[utoipa::path(post, path = "/templates", tag = "templates", request_body = CreateTemplate,
    responses((status = 201, body = Template), (status = 400), (status = 403), (status = 404)))]
async fn create_template(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Body(req): Body<CreateTemplate>,
) -> Result<(StatusCode, Json<Template>), ApiError> {
    let (board, role) = visible_board(&app, &caller, &req.board_id).await?;
    require(role, ProjectRole::Facilitator)?;
    let user = member(&caller)?;
    let template_name = name("name", &req.name, 200)?;
    let content = req.content.unwrap_or_default();
    let state = app.rooms.snapshot(&DocKey::main(board.id.as_str())).await.map_err(ApiError::store)?;
    let (state, images) = tokio::task::spawn_blocking(move || strip(&state, content))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "board state does not read");
            ApiError::internal()
        })?;
    let template = NewTemplate {
        id: new_id(),
        tenant_id: user.tenant_id.clone(),
        name: template_name,
        kind: board.kind.as_str().to_owned(),
        state,
        source_board_id: board.id.clone(),
        created_by: caller.principal_id(),
        created_at: now_ms(),
        images: images.into_iter().filter(|id| plausible_id(id)).collect(),
    };
    app.db.add_template(&template).await.map_err(ApiError::store)?;
    audit(
        &app,
        &caller,
        "template.create",
        &template.id,
        serde_json::json!({"board": board.id, "name": template.name}),
    )
    .await;
    let (info, _) = visible_template(&app, &caller, &template.id).await?;
    Ok((StatusCode::CREATED, Json(info.into())))
}

/// The organisation's templates, newest first (its members; guests: 403).
#[utoipa::path(get, path = "/templates", tag = "templates",
    responses((status = 200, body = [Template]), (status = 403)))]
async fn list_templates(
    State(app): State<AppState>,
    Authed(caller): Authed,
) -> Result<Json<Vec<Template>>, ApiError> {
    let user = member(&caller)?;
    let list = app.db.templates(&user.tenant_id).await.map_err(ApiError::store)?;
    Ok(Json(list.into_iter().map(Template::from).collect()))
}

/// One template (members of its organisation).
#[utoipa::path(get, path = "/templates/{template_id}", tag = "templates",
    responses((status = 200, body = Template), (status = 404)))]
async fn get_template(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(template_id): ApiPath<String>,
) -> Result<Json<Template>, ApiError> {
    Ok(Json(visible_template(&app, &caller, &template_id).await?.0.into()))
}

/// Deletes a template (whoever saved it, or an admin of the organisation). Boards made from it
/// stay, no longer linked to it.
#[utoipa::path(delete, path = "/templates/{template_id}", tag = "templates",
    responses((status = 204), (status = 403), (status = 404)))]
async fn delete_template(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(template_id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let (info, _) = visible_template(&app, &caller, &template_id).await?;
    let user = member(&caller)?;
    if info.created_by != caller.principal_id() && user.tenant_role != TenantRole::Admin {
        return Err(ApiError::forbidden("only whoever saved the template, or an admin, may delete it"));
    }
    app.db.delete_template(&info.id).await.map_err(ApiError::store)?;
    audit(&app, &caller, "template.delete", &info.id, serde_json::json!({"name": info.name})).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The boards made from a template that the caller may see, oldest first, each with what its
/// session produced (notes, clusters, dots, signals, participants), read from its committed state.
#[utoipa::path(get, path = "/templates/{template_id}/boards", tag = "templates",
    responses((status = 200, body = [TemplateBoard]), (status = 404)))]
async fn template_boards(
    State(app): State<AppState>,
    Authed(caller): Authed,
    ApiPath(template_id): ApiPath<String>,
) -> Result<Json<Vec<TemplateBoard>>, ApiError> {
    let (info, _) = visible_template(&app, &caller, &template_id).await?;
    let user = member(&caller)?;
    let boards = app.db.template_boards(&info.id, &user.id).await.map_err(ApiError::store)?;
    let mut out = Vec::new();
    for (board, member_role) in boards {
        if board.tenant_id != user.tenant_id || board_access(&caller, &board, member_role).is_none() {
            continue;
        }
        let state = app.rooms.snapshot(&DocKey::main(board.id.as_str())).await.map_err(ApiError::store)?;
        let counts = tokio::task::spawn_blocking(move || crate::boarddoc::tally(&state))
            .await
            .map_err(|_| ApiError::internal())?
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, board = %board.id, "board state does not read");
                Tally::default()
            });
        out.push(TemplateBoard {
            id: board.id,
            project_id: board.project_id,
            title: board.title,
            kind: board.kind,
            created_at: board.created_at,
            archived_at: board.archived_at,
            counts,
        });
    }
    Ok(Json(out))
}

/// Creates a board of `project` from a template of the caller's tenant, in one step: the board
/// takes the template's kind and state, and copies of its images under new ids (the state is
/// rewritten to name them). The caller's role in the project was checked.
pub(super) async fn create_board_from(
    app: &AppState,
    caller: &Caller,
    project: Project,
    title: String,
    kind: Option<BoardKind>,
    template_id: &str,
) -> Result<Board, ApiError> {
    let (info, state) = visible_template(app, caller, template_id).await?;
    if info.tenant_id != project.tenant_id {
        return Err(ApiError::not_found("template"));
    }
    let template_kind = BoardKind::parse(&info.kind).ok_or_else(|| {
        tracing::error!(kind = %info.kind, "template of an unknown kind");
        ApiError::internal()
    })?;
    if kind.is_some_and(|k| k != template_kind) {
        return Err(ApiError::bad_request("kind must be the template's kind (or be left out)"));
    }
    let images: Vec<(String, String)> = app
        .db
        .template_images(&info.id)
        .await
        .map_err(ApiError::store)?
        .into_iter()
        .map(|id| (id, new_id()))
        .collect();
    let renames: HashMap<String, String> = images.iter().cloned().collect();
    let state = tokio::task::spawn_blocking(move || remap_assets(&state, &renames))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "template state does not read");
            ApiError::internal()
        })?;
    let board = Board {
        id: new_id(),
        tenant_id: project.tenant_id,
        project_id: project.id,
        title,
        kind: template_kind,
        created_at: now_ms(),
        archived_at: None,
    };
    app.db
        .create_board_from_template(&board, &caller.principal_id(), &info.id, &images, &state)
        .await
        .map_err(ApiError::store)?;
    Ok(board)
}

// ---------------------------------------------------------------------------------------------
// The document work (pure, synchronous: run on a blocking thread).
// ---------------------------------------------------------------------------------------------

/// Why a state could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the document does not decode: {0}")]
pub struct Unreadable(String);

/// Keys of `meta` that describe where a session is, not its format.
const SESSION_META: [&str; 5] = ["phase", "timer", "votingOpen", "demarreur", "gallery"];
/// Keys of a note that hold what participants did with it.
const SESSION_NOTE_KEYS: [&str; 3] = ["votes", "stars", "comments"];

fn load(state: &[u8]) -> Result<Doc, Unreadable> {
    let doc = Doc::new();
    let update = Update::decode_v1(state).map_err(|e| Unreadable(e.to_string()))?;
    doc.transact_mut().apply_update(update).map_err(|e| Unreadable(e.to_string()))?;
    Ok(doc)
}

fn root_map(doc: &Doc, name: &str) -> Option<MapRef> {
    doc.transact().get_map(name)
}

fn text_of<T: ReadTxn>(map: &MapRef, txn: &T, key: &str) -> Option<String> {
    match map.get(txn, key)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// The asset ids of a `meta.deck` value.
fn deck_assets(deck: &Any) -> Vec<String> {
    let Any::Array(entries) = deck else { return Vec::new() };
    entries
        .iter()
        .filter_map(|e| match e {
            Any::Map(m) => match m.get("asset") {
                Some(Any::String(s)) => Some(s.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The template's state of a board's state, and the image ids it names.
pub fn strip(state: &[u8], content: TemplateContent) -> Result<(Vec<u8>, BTreeSet<String>), Unreadable> {
    let doc = load(state)?;
    let notes = root_map(&doc, "notes");
    let meta = root_map(&doc, "meta");
    let shapes = root_map(&doc, "shapes");
    let mut assets = BTreeSet::new();
    {
        let mut txn = doc.transact_mut();
        if let Some(notes) = &notes {
            let entries: Vec<(String, Out)> = notes.iter(&txn).map(|(k, v)| (k.to_owned(), v)).collect();
            for (id, value) in entries {
                let Out::YMap(note) = value else { continue };
                let locked = matches!(note.get(&txn, "locked"), Some(Out::Any(Any::Bool(true))));
                if !locked && content == TemplateContent::Prompts {
                    notes.remove(&mut txn, &id);
                    continue;
                }
                for key in SESSION_NOTE_KEYS {
                    if note.contains_key(&txn, key) {
                        note.remove(&mut txn, key);
                    }
                }
                if let Some(pick) = text_of(&note, &txn, "pick") {
                    assets.insert(pick);
                }
            }
        }
        if let Some(meta) = &meta {
            for key in SESSION_META {
                if meta.contains_key(&txn, key) {
                    meta.remove(&mut txn, key);
                }
            }
            if let Some(Out::Any(deck)) = meta.get(&txn, "deck") {
                assets.extend(deck_assets(&deck));
            }
        }
        if let Some(shapes) = &shapes {
            for (_, value) in shapes.iter(&txn) {
                let Out::YMap(shape) = value else { continue };
                if text_of(&shape, &txn, "type").as_deref() == Some("image") {
                    if let Some(asset) = text_of(&shape, &txn, "asset").filter(|a| !a.is_empty()) {
                        assets.insert(asset);
                    }
                }
            }
        }
    }
    let out = doc.transact().encode_state_as_update_v1(&StateVector::default());
    Ok((out, assets))
}

/// A template's state with its image ids renamed (`renames`: template id → the new board's id)
/// in image shapes, `meta.deck` and notes' `pick`.
pub fn remap_assets(state: &[u8], renames: &HashMap<String, String>) -> Result<Vec<u8>, Unreadable> {
    if renames.is_empty() {
        return Ok(state.to_vec());
    }
    let doc = load(state)?;
    let notes = root_map(&doc, "notes");
    let meta = root_map(&doc, "meta");
    let shapes = root_map(&doc, "shapes");
    {
        let mut txn = doc.transact_mut();
        if let Some(shapes) = &shapes {
            let items: Vec<Out> = shapes.iter(&txn).map(|(_, v)| v).collect();
            for value in items {
                let Out::YMap(shape) = value else { continue };
                if text_of(&shape, &txn, "type").as_deref() != Some("image") {
                    continue;
                }
                if let Some(to) = text_of(&shape, &txn, "asset").and_then(|a| renames.get(&a)) {
                    shape.insert(&mut txn, "asset", to.as_str());
                }
            }
        }
        if let Some(notes) = &notes {
            let items: Vec<Out> = notes.iter(&txn).map(|(_, v)| v).collect();
            for value in items {
                let Out::YMap(note) = value else { continue };
                if let Some(to) = text_of(&note, &txn, "pick").and_then(|a| renames.get(&a)) {
                    note.insert(&mut txn, "pick", to.as_str());
                }
            }
        }
        if let Some(meta) = &meta {
            if let Some(Out::Any(Any::Array(entries))) = meta.get(&txn, "deck") {
                let renamed: Vec<Any> = entries
                    .iter()
                    .map(|e| match e {
                        Any::Map(m) => {
                            let mut m = (**m).clone();
                            if let Some(Any::String(a)) = m.get("asset") {
                                if let Some(to) = renames.get(a.as_ref()) {
                                    m.insert("asset".into(), Any::from(to.as_str()));
                                }
                            }
                            Any::Map(Arc::new(m))
                        }
                        other => other.clone(),
                    })
                    .collect();
                meta.insert(&mut txn, "deck", Any::Array(renamed.into()));
            }
        }
    }
    let out = doc.transact().encode_state_as_update_v1(&StateVector::default());
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use yrs::{MapPrelim, Text, TextPrelim};

    fn board() -> Vec<u8> {
        let doc = Doc::new();
        let notes = doc.get_or_insert_map("notes");
        let meta = doc.get_or_insert_map("meta");
        let shapes = doc.get_or_insert_map("shapes");
        {
            let mut txn = doc.transact_mut();
            let p = notes.insert(&mut txn, "prompt", MapPrelim::default());
            p.insert(&mut txn, "type", "note");
            p.insert(&mut txn, "locked", true);
            let t = p.insert(&mut txn, "text", TextPrelim::new(""));
            t.insert(&mut txn, 0, "Quel quartier rêvez-vous ?");
            let v = p.insert(&mut txn, "votes", MapPrelim::default());
            v.insert(&mut txn, "u1", 2.0);
            let n = notes.insert(&mut txn, "mine", MapPrelim::default());
            n.insert(&mut txn, "type", "note");
            let t = n.insert(&mut txn, "text", TextPrelim::new(""));
            t.insert(&mut txn, 0, "Un jardin partagé");
            meta.insert(&mut txn, "phase", "vote");
            meta.insert(&mut txn, "votingOpen", true);
            meta.insert(
                &mut txn,
                "phases",
                Any::from(vec![Any::from(HashMap::from([("id".to_owned(), Any::from("vote"))]))]),
            );
            meta.insert(
                &mut txn,
                "deck",
                Any::from(vec![Any::from(HashMap::from([
                    ("asset".to_owned(), Any::from("img-1")),
                    ("name".to_owned(), Any::from("forêt.png")),
                ]))]),
            );
            let s = shapes.insert(&mut txn, "s1", MapPrelim::default());
            s.insert(&mut txn, "type", "image");
            s.insert(&mut txn, "asset", "img-2");
        }
        let out = doc.transact().encode_state_as_update_v1(&StateVector::default());
        out
    }

    #[test]
    fn a_template_keeps_the_format_not_the_session() {
        let (state, assets) = strip(&board(), TemplateContent::Prompts).unwrap();
        assert_eq!(assets, BTreeSet::from(["img-1".to_owned(), "img-2".to_owned()]));
        let doc = load(&state).unwrap();
        let txn = doc.transact();
        let notes = txn.get_map("notes").unwrap();
        assert_eq!(notes.len(&txn), 1);
        let Some(Out::YMap(p)) = notes.get(&txn, "prompt") else { panic!("the prompt stays") };
        assert!(p.get(&txn, "votes").is_none());
        let meta = txn.get_map("meta").unwrap();
        assert!(meta.get(&txn, "phase").is_none() && meta.get(&txn, "votingOpen").is_none());
        assert!(meta.get(&txn, "phases").is_some() && meta.get(&txn, "deck").is_some());
        // The participant's text is gone from the bytes, not only from the map.
        assert!(!String::from_utf8_lossy(&state).contains("jardin"));
        assert!(String::from_utf8_lossy(&state).contains("quartier"));
        drop(txn);

        let (all, _) = strip(&board(), TemplateContent::All).unwrap();
        let doc = load(&all).unwrap();
        let txn = doc.transact();
        assert_eq!(txn.get_map("notes").unwrap().len(&txn), 2);
    }

    #[test]
    fn assets_are_renamed_everywhere() {
        let (state, _) = strip(&board(), TemplateContent::Prompts).unwrap();
        let renames = HashMap::from([
            ("img-1".to_owned(), "new-1".to_owned()),
            ("img-2".to_owned(), "new-2".to_owned()),
        ]);
        let out = remap_assets(&state, &renames).unwrap();
        let doc = load(&out).unwrap();
        let txn = doc.transact();
        let meta = txn.get_map("meta").unwrap();
        let Some(Out::Any(deck)) = meta.get(&txn, "deck") else { panic!("deck") };
        assert_eq!(deck_assets(&deck), vec!["new-1".to_owned()]);
        let shapes = txn.get_map("shapes").unwrap();
        let Some(Out::YMap(s)) = shapes.get(&txn, "s1") else { panic!("shape") };
        assert_eq!(text_of(&s, &txn, "asset").as_deref(), Some("new-2"));
    }
}
