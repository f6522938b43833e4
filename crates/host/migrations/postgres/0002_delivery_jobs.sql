-- Durable delivery (see src/delivery/): one job per call session or conversation, its operations in order.
-- Keep in step with ../sqlite/0002_delivery_jobs.sql.

-- A job: who, which session, whether it may run now, and who runs it. `state` is 'queued' (runs when due),
-- 'idle' (nothing to do) or 'failed' (stopped: the operator or a new request retries it). A lease that has
-- expired belongs to an instance that died; any worker takes the job over.
CREATE TABLE delivery_jobs (
    id                  TEXT    NOT NULL PRIMARY KEY,
    user_id             TEXT    NOT NULL,
    platform            TEXT    NOT NULL,
    kind                TEXT    NOT NULL,                -- 'call' or 'message'
    subject_key         TEXT    NOT NULL,                -- the call session id, or the conversation
    state               TEXT    NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,     -- failed attempts of the operation at the head
    next_attempt_at_ms  BIGINT  NOT NULL,
    lease_owner         TEXT,
    lease_expires_at_ms BIGINT,
    last_error          TEXT,                            -- for operators; never shown to users
    last_message        TEXT,                            -- JSON returnMessage shown on the next read
    created_at_ms       BIGINT  NOT NULL,
    updated_at_ms       BIGINT  NOT NULL,
    UNIQUE (user_id, kind, subject_key)
);
CREATE INDEX delivery_jobs_due ON delivery_jobs (state, next_attempt_at_ms);

-- A job's pending operations, applied in id order. `payload` is a `v1:` ciphertext (it can hold a recording
-- download link with a RingCentral token). `sent_at_ms` is set just before the CRM write: set on a later
-- attempt, the first one's outcome is unknown and the record must be looked for before creating again.
CREATE TABLE delivery_ops (
    id             BIGSERIAL PRIMARY KEY,
    job_id         TEXT    NOT NULL REFERENCES delivery_jobs (id) ON DELETE CASCADE,
    op             TEXT    NOT NULL,                     -- 'create_call', 'update_call', 'disposition', 'message_log'
    payload        TEXT    NOT NULL,
    fingerprint    TEXT    NOT NULL,                     -- identical repeats of a request merge
    sent_at_ms     BIGINT,
    enqueued_at_ms BIGINT  NOT NULL
);
CREATE INDEX delivery_ops_job ON delivery_ops (job_id, id);
