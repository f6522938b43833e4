-- The delivery engine's two batched writes, each one statement (PostgreSQL only; see src/store/jobs.rs).
--
-- An instance's enqueue writer and completion writer each write a batch of operations in one transaction. Run as
-- separate statements, a batch of one create cost 4 round trips to the database to enqueue it (BEGIN, the job's
-- upsert, the operation's insert, COMMIT) and 6 to record it (BEGIN, the job row's lock, its update, the call
-- log's mapping, the operation's delete, COMMIT). These functions take the whole batch as arrays, one element per
-- operation in the given order, and run the same statements inside the database: one round trip per batch.
--
-- Each statement of a PL/pgSQL function that is not STABLE takes a new snapshot (READ COMMITTED), as separate
-- statements of a transaction do: a statement after a row lock that had to wait sees what its holder committed.
-- The completion relies on it (see complete_delivery_ops). SQLite runs the same statements from the code: it
-- has no functions, and its calls do not cross a network.

-- Enqueues operations (src/store/jobs.rs, `Store::enqueue_many`): per operation, the job's upsert (which takes
-- the lease when asked and the job is due and unheld), the lookup of a pending operation to merge with, and the
-- insert or merge (which writes a create's sent mark when its submitter leased the job). One row per operation,
-- `item` its 1-based position.
CREATE FUNCTION enqueue_delivery_ops(
    p_now BIGINT, p_new_ids TEXT[], p_user_ids TEXT[], p_platforms TEXT[], p_kinds TEXT[], p_keys TEXT[],
    p_owners TEXT[], p_lease_expires BIGINT[], p_ops TEXT[], p_payloads TEXT[], p_fingerprints TEXT[],
    p_merge_any BOOLEAN[]
) RETURNS TABLE (
    item INTEGER, job_id TEXT, next_attempt_at_ms BIGINT, attempts INTEGER, lease_owner TEXT, op_id BIGINT,
    merged BOOLEAN, marked BOOLEAN, alone BOOLEAN
) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_job TEXT;
    v_next BIGINT;
    v_attempts INTEGER;
    v_owner TEXT;
    v_merge BIGINT;
    v_mark BOOLEAN;
    v_op BIGINT;
    v_marked BOOLEAN;
    v_alone BOOLEAN;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_new_ids, 1), 0) LOOP
        INSERT INTO delivery_jobs (id, user_id, platform, kind, subject_key, state, attempts, next_attempt_at_ms,
            created_at_ms, updated_at_ms, lease_owner, lease_expires_at_ms)
        VALUES (p_new_ids[i], p_user_ids[i], p_platforms[i], p_kinds[i], p_keys[i], 'queued', 0, p_now, p_now,
            p_now, p_owners[i], p_lease_expires[i])
        ON CONFLICT (user_id, kind, subject_key) DO UPDATE
        SET attempts = CASE WHEN delivery_jobs.state = 'queued' THEN delivery_jobs.attempts ELSE 0 END,
            next_attempt_at_ms = CASE WHEN delivery_jobs.state = 'queued'
                THEN delivery_jobs.next_attempt_at_ms ELSE excluded.next_attempt_at_ms END,
            lease_owner = CASE WHEN excluded.lease_owner IS NOT NULL
                    AND (delivery_jobs.state <> 'queued' OR delivery_jobs.next_attempt_at_ms <= p_now)
                    AND (delivery_jobs.lease_owner IS NULL OR delivery_jobs.lease_expires_at_ms < p_now)
                THEN excluded.lease_owner ELSE delivery_jobs.lease_owner END,
            lease_expires_at_ms = CASE WHEN excluded.lease_owner IS NOT NULL
                    AND (delivery_jobs.state <> 'queued' OR delivery_jobs.next_attempt_at_ms <= p_now)
                    AND (delivery_jobs.lease_owner IS NULL OR delivery_jobs.lease_expires_at_ms < p_now)
                THEN excluded.lease_expires_at_ms ELSE delivery_jobs.lease_expires_at_ms END,
            state = 'queued', platform = excluded.platform, updated_at_ms = excluded.updated_at_ms
        RETURNING delivery_jobs.id, delivery_jobs.next_attempt_at_ms, delivery_jobs.attempts,
            delivery_jobs.lease_owner
        INTO v_job, v_next, v_attempts, v_owner;

        -- A job made just now has no operation to merge with.
        v_merge := NULL;
        IF v_job <> p_new_ids[i] THEN
            IF p_merge_any[i] THEN
                SELECT o.id INTO v_merge FROM delivery_ops o
                WHERE o.job_id = v_job AND o.op = p_ops[i] ORDER BY o.id LIMIT 1;
            ELSE
                SELECT o.id INTO v_merge FROM delivery_ops o
                WHERE o.job_id = v_job AND o.op = p_ops[i] AND o.fingerprint = p_fingerprints[i]
                    AND o.id = (SELECT MAX(m.id) FROM delivery_ops m WHERE m.job_id = v_job);
            END IF;
        END IF;

        v_mark := p_owners[i] IS NOT NULL AND v_owner = p_owners[i] AND p_ops[i] = 'create_call';
        IF v_merge IS NOT NULL THEN
            UPDATE delivery_ops SET payload = p_payloads[i], fingerprint = p_fingerprints[i] WHERE id = v_merge;
            v_marked := false;
            IF v_mark THEN
                UPDATE delivery_ops SET sent_at_ms = p_now WHERE id = v_merge AND sent_at_ms IS NULL;
                v_marked := FOUND;
            END IF;
            v_op := v_merge;
            v_alone := false;
        ELSE
            INSERT INTO delivery_ops (job_id, op, payload, fingerprint, enqueued_at_ms, sent_at_ms)
            VALUES (v_job, p_ops[i], p_payloads[i], p_fingerprints[i], p_now, CASE WHEN v_mark THEN p_now END)
            RETURNING delivery_ops.id, NOT EXISTS (SELECT 1 FROM delivery_ops o
                WHERE o.job_id = v_job AND o.id < delivery_ops.id)
            INTO v_op, v_alone;
            v_marked := v_mark;
        END IF;

        item := i;
        job_id := v_job;
        next_attempt_at_ms := v_next;
        attempts := v_attempts;
        lease_owner := v_owner;
        op_id := v_op;
        merged := v_merge IS NOT NULL;
        marked := v_marked;
        alone := v_alone;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Records finished operations (src/store/jobs.rs, `Store::complete_ops`): per operation, the job row's lock
-- (only the lease holder's completion counts), the job's update (idle and unleased after its last operation),
-- the created call log's mapping when there is one (`p_log_ids[i]` not null), and the operation's delete. One
-- row per operation, `state` the job's state after it, null when the lease was lost (nothing changed).
--
-- The lock is a statement of its own: PostgreSQL evaluates a statement's subqueries in the snapshot it started
-- with, also after waiting for a row lock, so the update's `NOT EXISTS` would miss an operation an enqueuer
-- committed while the update waited for the row; the update, a later statement, sees it.
CREATE FUNCTION complete_delivery_ops(
    p_now BIGINT, p_job_ids TEXT[], p_owners TEXT[], p_op_ids BIGINT[], p_log_user_ids TEXT[],
    p_log_session_ids TEXT[], p_log_extension_numbers TEXT[], p_log_hashed_extension_ids TEXT[],
    p_log_record_ids TEXT[], p_log_platforms TEXT[], p_log_contact_ids TEXT[], p_log_ids TEXT[]
) RETURNS TABLE (item INTEGER, state TEXT) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_state TEXT;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_job_ids, 1), 0) LOOP
        v_state := NULL;
        PERFORM 1 FROM delivery_jobs WHERE id = p_job_ids[i] AND lease_owner = p_owners[i] FOR UPDATE;
        IF FOUND THEN
            UPDATE delivery_jobs SET attempts = 0, last_error = NULL, last_message = NULL, updated_at_ms = p_now,
                lease_owner = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                    WHERE o.job_id = p_job_ids[i] AND o.id <> p_op_ids[i]) THEN NULL ELSE lease_owner END,
                lease_expires_at_ms = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                    WHERE o.job_id = p_job_ids[i] AND o.id <> p_op_ids[i]) THEN NULL ELSE lease_expires_at_ms END,
                state = CASE WHEN state = 'queued' AND NOT EXISTS (SELECT 1 FROM delivery_ops o
                    WHERE o.job_id = p_job_ids[i] AND o.id <> p_op_ids[i]) THEN 'idle' ELSE state END
            WHERE id = p_job_ids[i] AND lease_owner = p_owners[i]
            RETURNING delivery_jobs.state INTO v_state;
        END IF;
        IF v_state IS NOT NULL THEN
            IF p_log_ids[i] IS NOT NULL THEN
                INSERT INTO call_logs (user_id, session_id, extension_number, hashed_extension_id, record_id,
                    platform, contact_id, third_party_log_id, claim_token, claimed_at_ms, created_at_ms,
                    updated_at_ms)
                VALUES (p_log_user_ids[i], p_log_session_ids[i], p_log_extension_numbers[i],
                    p_log_hashed_extension_ids[i], p_log_record_ids[i], p_log_platforms[i], p_log_contact_ids[i],
                    p_log_ids[i], NULL, p_now, p_now, p_now)
                ON CONFLICT (user_id, session_id, extension_number, hashed_extension_id) DO UPDATE
                SET third_party_log_id = excluded.third_party_log_id, claim_token = NULL,
                    record_id = excluded.record_id, contact_id = excluded.contact_id,
                    updated_at_ms = excluded.updated_at_ms
                WHERE call_logs.third_party_log_id IS NULL;
            END IF;
            DELETE FROM delivery_ops WHERE id = p_op_ids[i] AND job_id = p_job_ids[i];
        END IF;
        item := i;
        state := v_state;
        RETURN NEXT;
    END LOOP;
END
$$;
