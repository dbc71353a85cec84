-- A new board kind, `photolangage` (photo-langage workshops). The CHECK constraint on
-- board.kind from 0002 is PostgreSQL's default name for it, board_kind_check.
ALTER TABLE board DROP CONSTRAINT board_kind_check;
ALTER TABLE board ADD CONSTRAINT board_kind_check
    CHECK (kind IN ('postit', 'demarreur', 'mandats', 'prototypes', 'radar', 'free', 'photolangage'));
