-- slipwatch schema v7 for PostgreSQL: public boards (twin of storage/migrations/007_public_boards.sql).

CREATE TABLE public_boards (
    guild_id   BIGINT  PRIMARY KEY,
    slug       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
