-- slipwatch schema v7: public boards.
--
-- A server that opts in (/alerts public on) publishes its watchlist at /b/<slug>. Nothing of a
-- server without a row here is ever served; turning the board off deletes the row, so the slug
-- is free again and the server is private as before.

CREATE TABLE public_boards (
    guild_id   INTEGER PRIMARY KEY,
    -- Lower-case letters, digits and single hyphens, 3 to 40 characters (checked in tracker).
    slug       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
