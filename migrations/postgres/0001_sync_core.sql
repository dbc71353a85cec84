-- The sync core's storage: every board document is an append-only log of Yjs updates,
-- folded from time to time into a snapshot. A board may hold several documents, named by
-- `doc` ('main' today); every table is keyed by (board_id, doc) for that reason.

-- The newest sequence number of each document. Appends bump it (taking the row lock until
-- commit) and number their rows from it, so within a document sequence order is commit order
-- and a reader paging by seq never skips a row, even with several nodes writing.
CREATE TABLE doc_head (
    board_id TEXT NOT NULL,
    doc      TEXT NOT NULL,
    head     BIGINT NOT NULL,
    PRIMARY KEY (board_id, doc)
);

-- Each accepted update, as the server integrated it (lib0 v1 encoding), in commit order.
CREATE TABLE doc_update (
    board_id TEXT NOT NULL,
    doc      TEXT NOT NULL,
    seq      BIGINT NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (board_id, doc, seq)
);

-- The whole document state (a v1 update) covering every log row with seq <= upto_seq;
-- those rows are deleted in the transaction that writes the snapshot.
CREATE TABLE doc_snapshot (
    board_id   TEXT NOT NULL,
    doc        TEXT NOT NULL,
    upto_seq   BIGINT NOT NULL,
    format     SMALLINT NOT NULL DEFAULT 1, -- 1: lib0 v1 update
    data       BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (board_id, doc)
);

-- Which principal (user or guest) first wrote with each Yjs client id on a board. An update
-- that advances a client id bound to someone else is a spoof and is refused.
CREATE TABLE board_client (
    board_id   TEXT NOT NULL,
    client_id  BIGINT NOT NULL,
    principal  TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (board_id, client_id)
);
