-- teamboard's PostgreSQL schema, version 3 (roles): who may write what, enforced by the database.
--
-- Who a client is, is its database role (current_user); with peer authentication over the unix
-- socket, that is the OS login. The `access` table says what each role may do, per board:
--   member  writes its board's rows: KPIs, goals, targets, entries, plans, explanations,
--           actions (and their history), huddles, the change log;
--   leader  is a member of its board, and leads it and every board below it (boards.parent):
--           reviews them and answers or takes over the escalations sent to a board it leads;
--   wall    reads (every role with any access reads every board: the roll-ups need them).
-- Only the tables' owner (or a member of the owner role) changes boards and access: the owner
-- bypasses row-level security; everyone else is held to the policies below, which ask the
-- SECURITY DEFINER helpers (owned by the owner, search_path pinned, writing nothing).
-- Table privileges go to PUBLIC, so no cluster-wide group role is needed (a cluster may hold
-- several stores): a role without an `access` row here reads and writes nothing.

CREATE TABLE access (
    login text NOT NULL CHECK (login ~ '^[A-Za-z_][A-Za-z0-9_.-]{0,62}$'),
    board bigint REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    kind text NOT NULL CHECK (kind IN ('member', 'leader', 'wall')),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'wall') = (board IS NULL))
);
CREATE UNIQUE INDEX access_one ON access (login, coalesce(board, 0), kind);
CREATE INDEX access_board ON access (board, kind);

-- Every grant and revoke, append-only: who gave or took which access, when.
CREATE TABLE access_history (
    id bigserial PRIMARY KEY,
    login text NOT NULL,
    board bigint,
    kind text NOT NULL,
    granted boolean NOT NULL,
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);

-- Is `usr` the tables' owner or a member of that role (those bypass row-level security)?
CREATE FUNCTION teamboard_owns(usr text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT pg_has_role(usr::name, c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = 'meta'::regclass
$$;

CREATE FUNCTION teamboard_owner() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c WHERE c.oid = 'meta'::regclass
$$;

-- Does `usr` read this store (any access, or the owner)?
CREATE FUNCTION teamboard_reads(usr text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM access a WHERE a.login = usr) OR teamboard_owns(usr)
$$;

-- Does `usr` write on some board (a member or leader anywhere: may touch the last change)?
CREATE FUNCTION teamboard_writes_any(usr text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM access a WHERE a.login = usr AND a.kind IN ('member', 'leader'))
$$;

-- Does `usr` write board `b`'s rows (a member or a leader of that very board)?
CREATE FUNCTION teamboard_writes(b bigint, usr text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT EXISTS (SELECT 1 FROM access a
                   WHERE a.login = usr AND a.board = b AND a.kind IN ('member', 'leader'))
$$;

-- Does `usr` lead board `b` (a leader of it or of a board above it)? 12 tiers are the most a
-- tree has; the walk stops at 64 whatever the data says.
CREATE FUNCTION teamboard_leads(b bigint, usr text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    WITH RECURSIVE up (id, depth) AS (
        SELECT b, 0
        UNION ALL
        SELECT bo.parent, up.depth + 1 FROM boards bo JOIN up ON bo.id = up.id
        WHERE bo.parent IS NOT NULL AND up.depth < 64
    )
    SELECT EXISTS (SELECT 1 FROM access a JOIN up ON a.board = up.id
                   WHERE a.login = usr AND a.kind = 'leader')
$$;

-- Is board `upper` above board `b` (its parent, or a board above that)?
CREATE FUNCTION teamboard_above(upper bigint, b bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    WITH RECURSIVE up (id, depth) AS (
        SELECT parent, 1 FROM boards WHERE id = b AND parent IS NOT NULL
        UNION ALL
        SELECT bo.parent, up.depth + 1 FROM boards bo JOIN up ON bo.id = up.id
        WHERE bo.parent IS NOT NULL AND up.depth < 64
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE id = upper)
$$;

CREATE FUNCTION teamboard_kpi_board(k bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER AS $$ SELECT board FROM kpis WHERE id = k $$;

CREATE FUNCTION teamboard_action_board(act bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER AS $$ SELECT board FROM actions WHERE id = act $$;

-- The board a change-log row is about (none for boards themselves: the owner's).
CREATE FUNCTION teamboard_ref_board(tbl text, ref bigint) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER AS $$
    SELECT CASE tbl WHEN 'kpis' THEN (SELECT board FROM kpis WHERE id = ref)
                    WHEN 'actions' THEN (SELECT board FROM actions WHERE id = ref)
                    WHEN 'goals' THEN (SELECT board FROM goals WHERE id = ref) END
$$;

-- May `usr` do `need` ('write', 'lead', 'write or lead', 'owner') on board `b`? True, or an
-- insufficient_privilege error whose DETAIL (JSON: login, board, as, what) lets the client say
-- what was refused and which `teamboard access grant` would allow it. Only for WITH CHECK (a
-- row being written): a USING clause may be evaluated on rows the statement does not touch.
CREATE FUNCTION teamboard_may(usr text, b bigint, need text, what text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
DECLARE
    ok boolean := false;
    bname text;
BEGIN
    -- It answers for the caller's own role (a policy passes current_user): a role without
    -- access must not learn boards' names by asking about someone else's.
    IF NOT pg_has_role(session_user, usr::name, 'MEMBER') THEN
        RAISE EXCEPTION 'teamboard_may answers for your own role only'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF need IN ('write', 'write or lead') THEN
        ok := teamboard_writes(b, usr);
    END IF;
    IF NOT ok AND need IN ('lead', 'write or lead') THEN
        ok := teamboard_leads(b, usr);
    END IF;
    IF ok THEN
        RETURN true;
    END IF;
    SELECT name INTO bname FROM boards WHERE id = b;
    IF need = 'owner' OR b IS NULL THEN
        bname := NULL;
        RAISE EXCEPTION '% may not add or change %: only the store''s owner does', usr, what
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = jsonb_build_object('login', usr, 'board', NULL, 'what', what,
                                              'as', 'owner')::text,
                  HINT = coalesce(teamboard_owner(), '');
    END IF;
    RAISE EXCEPTION '% may not write % on board %', usr, what, bname
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = jsonb_build_object(
                  'login', usr, 'board', bname, 'what', what,
                  'as', CASE need WHEN 'owner' THEN 'owner'
                                  WHEN 'lead' THEN 'leader' ELSE 'member' END)::text,
              HINT = coalesce(teamboard_owner(), '');
END $$;

-- Reading: anyone with access reads everything. `meta` (read first by every client) says so in
-- one error to a role without access, instead of showing it an empty store.
CREATE FUNCTION teamboard_reader(usr text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN
    IF teamboard_reads(usr) THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION '% has no access to this teamboard store', usr
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = jsonb_build_object('login', usr, 'board', NULL, 'what', 'read',
                                          'as', 'wall')::text,
              HINT = coalesce(teamboard_owner(), '');
END $$;

-- The last change (the board's header) is the writer's, now, whatever the client sends; only
-- the owner restoring history keeps one (as teamboard_who does for rows).
CREATE FUNCTION teamboard_meta_who() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.last_who, NEW.last_at, NEW.last_what) IS DISTINCT FROM
       (OLD.last_who, OLD.last_at, OLD.last_what)
       AND NOT (coalesce(current_setting('teamboard.restore', true), '') = 'on'
                AND teamboard_owns(current_user)) THEN
        NEW.last_who := current_user;
        NEW.last_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER meta_who BEFORE UPDATE ON meta FOR EACH ROW EXECUTE FUNCTION teamboard_meta_who();

-- Actions: who raised, answered or took over an escalation is the role that did, now; an
-- action's KPI is one of a board the writer writes or leads (else a countermeasure on someone
-- else's KPI would open their huddle's gate); only a leader of the board an escalation was sent
-- to answers or takes it over; and a leader from above (who leads the action's board but is not
-- on it) may only do that: answer or take over an escalation sent to a board they lead.
CREATE FUNCTION teamboard_action_rights() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    me text := current_user;
    e jsonb := NEW.escalation;
    was jsonb := CASE WHEN TG_OP = 'UPDATE' THEN OLD.escalation END;
    stamp text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
    pair text[];
BEGIN
    IF teamboard_owns(me) THEN
        RETURN NEW;
    END IF;
    IF e IS NOT NULL THEN
        -- raised to a board above its own, from its own (else it would wait on any board)
        IF (e->>'to', e->>'origin') IS DISTINCT FROM (was->>'to', was->>'origin')
           AND NOT (e->>'to' ~ '^[0-9]+$' AND (e->>'origin') = NEW.board::text
                    AND teamboard_above((e->>'to')::bigint, (e->>'origin')::bigint)) THEN
            RAISE EXCEPTION 'action #% may only be escalated from its board to a board above it',
                NEW.id USING ERRCODE = 'check_violation';
        END IF;
        FOREACH pair SLICE 1 IN ARRAY ARRAY[['who', 'at'], ['answered_by', 'answered_at'],
                                            ['taken_by', 'taken_at']] LOOP
            IF coalesce(e->>pair[1], '') <> ''
               AND (was IS NULL OR (e->>pair[1]) IS DISTINCT FROM (was->>pair[1])
                    OR (e->>pair[2]) IS DISTINCT FROM (was->>pair[2])) THEN
                e := e || jsonb_build_object(pair[1], me, pair[2], stamp);
                IF pair[1] <> 'who' THEN  -- answering or taking over is the leaders' above
                    PERFORM teamboard_may(me, (e->>'to')::bigint, 'lead',
                                          'an answer to an escalation');
                END IF;
            END IF;
        END LOOP;
        NEW.escalation := e;
    END IF;
    IF NEW.kpi IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.kpi IS DISTINCT FROM OLD.kpi) THEN
        PERFORM teamboard_may(me, teamboard_kpi_board(NEW.kpi), 'write or lead',
                              'an action for a KPI');
    END IF;
    IF TG_OP = 'UPDATE' AND NOT teamboard_writes(OLD.board, me) THEN
        IF was IS NULL OR (was->>'to') IS NULL
           OR NOT teamboard_leads((was->>'to')::bigint, me)
           OR (NEW.title, NEW.kpi, NEW.due, NEW.stage, NEW.extra)
              IS DISTINCT FROM (OLD.title, OLD.kpi, OLD.due, OLD.stage, OLD.extra)
           OR NEW.board NOT IN (OLD.board, (was->>'to')::bigint) THEN
            PERFORM teamboard_may(me, OLD.board, 'write',
                                  'actions (from above, a leader answers or takes them over)');
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER actions_rights BEFORE INSERT OR UPDATE ON actions FOR EACH ROW
    EXECUTE FUNCTION teamboard_action_rights();

-- KPIs: a leader from above (who leads the KPI's board but is not on it) changes only the goal's
-- name a KPI carries, when that goal (on the leader's board) is renamed (store/goals.py).
CREATE FUNCTION teamboard_kpi_rights() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    me text := current_user;
BEGIN
    IF teamboard_owns(me) OR teamboard_writes(OLD.board, me) THEN
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) - 'goal' - 'who' - 'at') IS DISTINCT FROM (to_jsonb(OLD) - 'goal' - 'who' - 'at')
       OR NEW.goal IS DISTINCT FROM (SELECT g.name FROM goals g WHERE g.id = NEW.goal_id) THEN
        PERFORM teamboard_may(me, OLD.board, 'write',
                              'KPIs (from above, a leader only renames the goals they serve)');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER kpis_rights BEFORE UPDATE ON kpis FOR EACH ROW
    EXECUTE FUNCTION teamboard_kpi_rights();

CREATE TRIGGER access_history_append_only BEFORE UPDATE OR DELETE ON access_history FOR EACH ROW
    EXECUTE FUNCTION teamboard_append_only();

DO $$
DECLARE
    t text;
    f regprocedure;
    everything text[] := ARRAY['meta', 'boards', 'goals', 'kpis', 'targets', 'entries',
                               'actions', 'action_history', 'reviews', 'estimates',
                               'explanations', 'huddles', 'changes', 'access',
                               'access_history', 'board_changes'];
    -- the row's board, as SQL over the row's columns; and what it takes to insert one
    board_of jsonb := jsonb_build_object(
        'goals', 'board', 'kpis', 'board', 'actions', 'board', 'reviews', 'board',
        'huddles', 'board_id',
        'targets', 'teamboard_kpi_board(kpi)', 'entries', 'teamboard_kpi_board(kpi)',
        'estimates', 'teamboard_kpi_board(kpi)', 'explanations', 'teamboard_kpi_board(kpi)',
        'action_history', 'teamboard_action_board(action)',
        'changes', 'teamboard_ref_board(tbl, ref)', 'boards', 'id', 'board_changes', 'board');
    need jsonb := jsonb_build_object(
        'reviews', 'lead', 'action_history', 'write or lead', 'boards', 'owner');
    what jsonb := jsonb_build_object(
        'goals', 'goals', 'kpis', 'KPIs', 'actions', 'actions', 'reviews', 'a review',
        'huddles', 'huddle minutes', 'targets', 'targets', 'entries', 'entries',
        'estimates', 'plans', 'explanations', 'explanations', 'action_history',
        'an action''s history', 'changes', 'the change log', 'boards', 'boards',
        'board_changes', 'entries');
BEGIN
    -- Definer helpers and triggers read only the owner's tables, never a temporary table or a
    -- function someone else put first on the search path.
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.proname LIKE 'teamboard\_%' AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp',
                       f, current_schema());
    END LOOP;
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());

    FOREACH t IN ARRAY everything LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON %I FROM PUBLIC', t);
        EXECUTE format('GRANT SELECT ON %I TO PUBLIC', t);
        EXECUTE format('CREATE POLICY teamboard_read ON %I FOR SELECT USING (%s)', t,
                       CASE t WHEN 'meta' THEN '(SELECT teamboard_reader(current_user::text))'
                              ELSE '(SELECT teamboard_reads(current_user::text))' END);
    END LOOP;

    FOREACH t IN ARRAY ARRAY['boards', 'goals', 'kpis', 'targets', 'entries', 'actions',
                             'action_history', 'reviews', 'estimates', 'explanations',
                             'huddles', 'changes', 'board_changes'] LOOP
        EXECUTE format('GRANT INSERT ON %I TO PUBLIC', t);
        EXECUTE format('CREATE POLICY teamboard_insert ON %I FOR INSERT '
                       'WITH CHECK (teamboard_may(current_user::text, %s, %L, %L))',
                       t, board_of->>t, coalesce(need->>t, 'write'), what->>t);
    END LOOP;
    -- Updates: the row as it was must be the writer's (USING: else it is not updated at all;
    -- teamboard counts the rows and says so), and as it will be too (WITH CHECK).
    FOREACH t IN ARRAY ARRAY['goals', 'huddles', 'board_changes'] LOOP
        EXECUTE format('GRANT UPDATE ON %I TO PUBLIC', t);
        EXECUTE format('CREATE POLICY teamboard_update ON %I FOR UPDATE '
                       'USING (teamboard_writes(%s, current_user::text)) '
                       'WITH CHECK (teamboard_may(current_user::text, %s, ''write'', %L))',
                       t, board_of->>t, board_of->>t, what->>t);
    END LOOP;
    GRANT UPDATE ON kpis TO PUBLIC;
    CREATE POLICY teamboard_update ON kpis FOR UPDATE
        USING (teamboard_writes(board, current_user::text)
               OR teamboard_leads(board, current_user::text))
        WITH CHECK (teamboard_may(current_user::text, board, 'write or lead', 'KPIs'));
    GRANT UPDATE ON actions TO PUBLIC;
    CREATE POLICY teamboard_update ON actions FOR UPDATE
        USING (teamboard_writes(board, current_user::text)
               OR teamboard_leads(board, current_user::text))
        WITH CHECK (teamboard_may(current_user::text, board, 'write or lead', 'actions'));
    GRANT UPDATE (last_who, last_at, last_what, last_n) ON meta TO PUBLIC;
    CREATE POLICY teamboard_update ON meta FOR UPDATE
        USING (teamboard_writes_any(current_user::text))
        WITH CHECK (teamboard_writes_any(current_user::text));
    GRANT USAGE ON SEQUENCE targets_id_seq, action_history_id_seq, entries_id_seq,
        last_change_seq TO PUBLIC;
END $$;
