-- A new board kind, `photolangage` (photo-langage workshops). SQLite cannot change a CHECK
-- constraint in place, so `board` is rebuilt (https://www.sqlite.org/lang_altertable.html,
-- "Making Other Kinds Of Table Schema Changes"): new table, copy, drop, rename.
--
-- Dropping `board` while foreign keys are enforced would delete every row that references it
-- (ON DELETE CASCADE: invites, guests and their sessions, images, versions). sqlx runs each
-- SQLite migration inside a transaction, where `PRAGMA foreign_keys` cannot be changed, so the
-- store runs the migrations on a connection whose foreign keys are off and checks them after
-- (server/src/store/sqlite.rs). This guard refuses to run otherwise: the insert fails its CHECK
-- when foreign keys are on, and the whole migration is rolled back.
CREATE TEMP TABLE migration_0005_guard (foreign_keys INTEGER CHECK (foreign_keys = 0));
INSERT INTO migration_0005_guard SELECT foreign_keys FROM pragma_foreign_keys;
DROP TABLE migration_0005_guard;

CREATE TABLE board_new (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    project_id  TEXT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('postit', 'demarreur', 'mandats', 'prototypes', 'radar', 'free', 'photolangage')),
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    archived_at BIGINT
);
INSERT INTO board_new (id, tenant_id, project_id, title, kind, created_by, created_at, archived_at)
    SELECT id, tenant_id, project_id, title, kind, created_by, created_at, archived_at FROM board;
DROP TABLE board;
ALTER TABLE board_new RENAME TO board;
CREATE INDEX board_project ON board (project_id);
