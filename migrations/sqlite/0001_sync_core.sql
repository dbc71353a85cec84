-- The sync core's storage: every board document is an append-only log of Yjs updates,
-- folded from time to time into a snapshot. A board may hold several documents, named by
-- `doc` ('main' today); every table is keyed by (board_id, doc) for that reason.

-- The newest sequence number of each document. Appends bump it and number their rows from
-- it inside the same transaction, so sequence order is commit order and gaps never appear.
CREATE TABLE doc_head (
    board_id TEXT NOT NULL,
    doc      TEXT NOT NULL,
    head     INTEGER NOT NULL,
    PRIMARY KEY (board_id, doc)
) WITHOUT ROWID;

-- Each accepted update, as the server integrated it (lib0 v1 encoding), in commit order.
CREATE TABLE doc_update (
    board_id TEXT NOT NULL,
    doc      TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (board_id, doc, seq)
) WITHOUT ROWID;

-- The whole document state (a v1 update) covering every log row with seq <= upto_seq;
-- those rows are deleted in the transaction that writes the snapshot.
CREATE TABLE doc_snapshot (
    board_id   TEXT NOT NULL,
    doc        TEXT NOT NULL,
    upto_seq   INTEGER NOT NULL,
    format     INTEGER NOT NULL DEFAULT 1, -- 1: lib0 v1 update
    data       BLOB NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (board_id, doc)
) WITHOUT ROWID;

-- Which principal (user or guest) first wrote with each Yjs client id on a board. An update
-- that advances a client id bound to someone else is a spoof and is refused.
CREATE TABLE board_client (
    board_id   TEXT NOT NULL,
    client_id  INTEGER NOT NULL,
    principal  TEXT NOT NULL,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (board_id, client_id)
) WITHOUT ROWID;
