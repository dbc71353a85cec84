-- Tenants, people, projects, boards and who may do what. Every id is random (UUIDv7 text);
-- every time is milliseconds since the Unix epoch (BIGINT), the same on both backends.
-- Secrets are never stored: passwords as argon2id hashes, tokens as SHA-256 hashes.

-- An organisation. Nothing crosses from one tenant to another.
CREATE TABLE tenant (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A person with an account. Emails are unique across the installation (stored lower-case) so
-- that login needs no tenant; the tenant role says who manages members.
CREATE TABLE app_user (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    tenant_role   TEXT NOT NULL CHECK (tenant_role IN ('admin', 'member')),
    created_at    BIGINT NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX app_user_tenant ON app_user (tenant_id);

CREATE TABLE project (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenant (id),
    name       TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX project_tenant ON project (tenant_id);

-- A member's role in one project: owner (members, everything), facilitator (boards, invites),
-- editor (edits boards), viewer (reads).
CREATE TABLE project_member (
    project_id TEXT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES app_user (id),
    role       TEXT NOT NULL CHECK (role IN ('owner', 'facilitator', 'editor', 'viewer')),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_member_user ON project_member (user_id);

-- A board; its documents live in doc_head / doc_update / doc_snapshot under the same id.
-- An archived board is read-only for everyone.
CREATE TABLE board (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    project_id  TEXT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('postit', 'demarreur', 'mandats', 'prototypes', 'radar', 'free')),
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    archived_at BIGINT
);
CREATE INDEX board_project ON board (project_id);

-- A link that lets anyone holding it join one board as a guest, with a role, until it expires
-- or is revoked. Only the hash of its token is kept.
CREATE TABLE invite (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL REFERENCES tenant (id),
    board_id   TEXT NOT NULL REFERENCES board (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX invite_board ON invite (board_id);

-- Someone without an account who joined a board through an invite, under a display name.
CREATE TABLE guest (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenant (id),
    board_id     TEXT NOT NULL REFERENCES board (id) ON DELETE CASCADE,
    invite_id    TEXT NOT NULL REFERENCES invite (id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A bearer token (login or guest join), by hash. Expiring, revocable (logout).
CREATE TABLE session (
    token_hash TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenant (id),
    user_id    TEXT REFERENCES app_user (id),
    guest_id   TEXT REFERENCES guest (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    CHECK ((user_id IS NULL) <> (guest_id IS NULL))
);
CREATE INDEX session_by_user ON session (user_id);

-- Every change of membership, role, invite or board lifecycle: who, what, when.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    at        BIGINT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
