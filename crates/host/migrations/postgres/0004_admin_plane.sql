-- The admin plane: server-side logging settings per account, and the users RingCentral confirmed as admins of an
-- account (routes that get no RingCentral token check the session's user against this list).
-- Keep in step with ../sqlite/0004_admin_plane.sql.
ALTER TABLE admin_configs ADD COLUMN server_logging_settings TEXT NOT NULL DEFAULT '{}';

CREATE TABLE account_admins (
    account_id     TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    verified_at_ms BIGINT  NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
