-- Tenant templates ("one format, many sessions"): a board's layout, kind, phases, prompts and
-- image deck, kept without the session's contributions, from which facilitators create new
-- boards in one step. `state` is the stripped document (a Yjs v1 update); the images it names
-- are copied beside it (a template outlives its source board), and copied again, under new ids,
-- to every board made from it.
CREATE TABLE board_template (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenant (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           BLOB NOT NULL,
    source_board_id TEXT REFERENCES board (id) ON DELETE SET NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX board_template_tenant ON board_template (tenant_id, created_at);

CREATE TABLE board_template_image (
    template_id  TEXT NOT NULL REFERENCES board_template (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    byte_size    BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (template_id, id)
);

-- The template a board was made from (kept when the template is deleted: NULL then).
ALTER TABLE board ADD COLUMN template_id TEXT REFERENCES board_template (id) ON DELETE SET NULL;
CREATE INDEX board_template_made ON board (template_id);
