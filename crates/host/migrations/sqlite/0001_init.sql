-- callbridge store, SQLite flavour. Keep in step with ../postgres/0001_init.sql: the two must mean the same.
-- Times are UTC epoch milliseconds (INTEGER); JSON documents are TEXT; tokens are `v1:` ciphertexts (see crypto.rs).

-- Generated-once server secrets (JWT secret, hash key, token key) shared by every instance.
CREATE TABLE server_secrets (
    name          TEXT    NOT NULL PRIMARY KEY,
    value         TEXT    NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- One RingCentral user's connection to one CRM account; id is `<crm user id>-<platform>`.
CREATE TABLE users (
    id                       TEXT    NOT NULL PRIMARY KEY,
    platform                 TEXT    NOT NULL,
    hostname                 TEXT    NOT NULL DEFAULT '',
    timezone_name            TEXT,
    timezone_offset          TEXT,                        -- JSON: a number or a string, as the client sent it
    access_token             TEXT    NOT NULL DEFAULT '', -- encrypted; '' when there is none
    refresh_token            TEXT,                        -- encrypted
    token_expiry_ms          INTEGER,
    platform_additional_info TEXT    NOT NULL DEFAULT '{}',
    user_settings            TEXT    NOT NULL DEFAULT '{}',
    rc_account_id            TEXT,
    hashed_rc_extension_id   TEXT,
    created_at_ms            INTEGER NOT NULL,
    updated_at_ms            INTEGER NOT NULL
);

-- The call-log mapping (RingCentral session -> CRM activity), scoped by user. A row is either pending (claim_token
-- set, no CRM id yet: someone is creating the CRM record now) or logged (third_party_log_id set, claim gone).
CREATE TABLE call_logs (
    user_id             TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,
    extension_number    TEXT    NOT NULL DEFAULT '',
    hashed_extension_id TEXT    NOT NULL DEFAULT '',
    record_id           TEXT    NOT NULL,                -- telephonySessionId, or the call record id
    platform            TEXT    NOT NULL,
    contact_id          TEXT,
    third_party_log_id  TEXT,
    claim_token         TEXT,
    claimed_at_ms       INTEGER NOT NULL,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (user_id, session_id, extension_number, hashed_extension_id),
    CHECK ((third_party_log_id IS NULL) <> (claim_token IS NULL))
);

CREATE TABLE message_logs (
    user_id             TEXT    NOT NULL,
    id                  TEXT    NOT NULL,                -- RC message id (or its group/shared-SMS variant)
    platform            TEXT    NOT NULL,
    conversation_id     TEXT,
    conversation_log_id TEXT,
    third_party_log_id  TEXT    NOT NULL,
    created_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX message_logs_conversation_log ON message_logs (user_id, conversation_log_id);

-- Account-wide admin settings; id is sha256hex("<rcAccountId>:<HASH_KEY>").
CREATE TABLE admin_configs (
    id            TEXT    NOT NULL PRIMARY KEY,
    user_settings TEXT    NOT NULL DEFAULT '{}',
    user_mappings TEXT    NOT NULL DEFAULT '[]',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

-- At most one token refresh per user at a time, across every instance.
CREATE TABLE refresh_leases (
    user_id        TEXT    NOT NULL PRIMARY KEY,
    holder         TEXT    NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    acquired_at_ms INTEGER NOT NULL
);

-- Notes the client caches before the call log exists (POST /callLog/cacheNote).
CREATE TABLE note_cache (
    user_id       TEXT    NOT NULL,
    session_id    TEXT    NOT NULL,
    note          TEXT    NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, session_id)
);
CREATE INDEX note_cache_expiry ON note_cache (expires_at_ms);
