-- Sessions that can end: a session token names its row here (`sid`), and logging out deletes the row. Tokens from
-- before this table have no `sid`; users.sessions_not_before_ms ends those (a logout sets it to the moment).
-- Keep in step with ../sqlite/0003_sessions.sql.
CREATE TABLE sessions (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_id       TEXT    NOT NULL,
    created_at_ms BIGINT  NOT NULL,
    expires_at_ms BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE users ADD COLUMN sessions_not_before_ms BIGINT  NOT NULL DEFAULT 0;
