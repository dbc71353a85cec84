-- Images placed on boards (the whiteboard's image items name them by id). They are served only
-- to those who may see the board, so they live in the database with the board, not on a public
-- path; a board's images go when the board goes. Identical bytes uploaded twice to one board are
-- stored once (sha256).
CREATE TABLE board_image (
    id           TEXT PRIMARY KEY,
    board_id     TEXT NOT NULL REFERENCES board (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    byte_size    BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (board_id, sha256)
);
