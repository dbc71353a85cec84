-- Named versions of a board's document: taken automatically at each phase change (in the same
-- transaction as the update that changed the phase) and on a facilitator's request. Each holds
-- the whole document state (a Yjs v1 update) and the log sequence it was taken at.
CREATE TABLE board_version (
    id         TEXT PRIMARY KEY,
    board_id   TEXT NOT NULL REFERENCES board (id) ON DELETE CASCADE,
    doc        TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    label      TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    byte_size  BIGINT NOT NULL,
    state      BYTEA NOT NULL
);
CREATE INDEX board_version_board ON board_version (board_id, created_at);
