-- teamboard's PostgreSQL schema, version 1 (store/pg/schema.py applies it and its migrations).
-- Bad data cannot be stored: foreign keys (deferred to the commit, so one transaction may add a
-- board and its parent in any order), checks on stages, directions, frequencies and kinds, names
-- unique per board, entries append-only. Who wrote a row is the database role (current_user),
-- set by a trigger, never a name the client sends; only the tables' owner may keep a row's
-- who and when (`SET LOCAL teamboard.restore = 'on'`: migrate, restore, the demo).
-- Every write, whoever makes it (teamboard, psql, another program), notifies channel
-- 'teamboard' with the board it touched as the payload ('' for the store as a whole).

CREATE TABLE meta (
    id int PRIMARY KEY CHECK (id = 1),
    schema_version int NOT NULL CHECK (schema_version >= 1),
    last_who text,
    last_at timestamptz,
    last_what text
);

CREATE TABLE boards (
    id bigint PRIMARY KEY CHECK (id > 0),
    name text NOT NULL CHECK (btrim(name) <> ''),
    description text NOT NULL DEFAULT '',
    parent bigint REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED CHECK (parent <> id),
    kpi_limit int NOT NULL DEFAULT 7 CHECK (kpi_limit >= 0),
    review_days int CHECK (review_days >= 1),
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX boards_name ON boards (lower(name));
CREATE INDEX boards_parent ON boards (parent);

CREATE TABLE goals (
    id bigint PRIMARY KEY CHECK (id > 0),
    board bigint NOT NULL REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    name text NOT NULL CHECK (btrim(name) <> ''),
    parent bigint REFERENCES goals (id) DEFERRABLE INITIALLY DEFERRED CHECK (parent <> id),
    due date,
    description text NOT NULL DEFAULT '',
    archived boolean NOT NULL DEFAULT false,
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX goals_board ON goals (board);

CREATE TABLE kpis (
    id bigint PRIMARY KEY CHECK (id > 0),
    board bigint NOT NULL REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    name text NOT NULL CHECK (btrim(name) <> ''),
    direction text NOT NULL CHECK (direction IN ('up', 'down')),
    unit text NOT NULL DEFAULT '',
    amber double precision CHECK (amber NOT IN ('NaN', 'Infinity', '-Infinity')),
    frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly')),
    owner text NOT NULL DEFAULT '',
    goal text NOT NULL DEFAULT '',
    goal_id bigint REFERENCES goals (id) DEFERRABLE INITIALLY DEFERRED,
    kind text NOT NULL CHECK (kind IN ('leading', 'lagging')),
    counter bigint REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED CHECK (counter <> id),
    description text NOT NULL DEFAULT '',
    archived boolean NOT NULL DEFAULT false,
    category text CHECK (btrim(category) <> ''),
    due text CHECK (due ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
-- Names are unique per board among the KPIs on it (an archived one keeps its name aside).
CREATE UNIQUE INDEX kpis_name ON kpis (board, lower(name)) WHERE NOT archived;

-- A KPI's targets: a new one is a new row; in force by `since` (none: from the start), then order
-- of setting.
CREATE TABLE targets (
    id bigserial PRIMARY KEY,
    kpi bigint NOT NULL REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED,
    value double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    since date,
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX targets_kpi ON targets (kpi, since, id);

-- Entries are append-only: the latest per KPI and date (highest id) wins at read time.
CREATE TABLE entries (
    id bigint PRIMARY KEY CHECK (id > 0),
    kpi bigint NOT NULL REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED,
    date date NOT NULL,
    value double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    plan double precision CHECK (plan NOT IN ('NaN', 'Infinity', '-Infinity')),
    note text NOT NULL DEFAULT '',
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX entries_kpi_date ON entries (kpi, date, id);

CREATE TABLE actions (
    id bigint PRIMARY KEY CHECK (id > 0),
    title text NOT NULL CHECK (btrim(title) <> ''),
    board bigint NOT NULL REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    kpi bigint REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED,
    owner text NOT NULL DEFAULT '',
    due date,
    stage text NOT NULL CHECK (stage IN ('plan', 'do', 'check', 'act', 'done')),
    escalation jsonb CHECK (escalation IS NULL OR jsonb_typeof(escalation) = 'object'),
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_board ON actions (board) WHERE stage <> 'done';

-- An action's history (stage moves and edits), append-only, in order of id.
CREATE TABLE action_history (
    id bigserial PRIMARY KEY,
    action bigint NOT NULL REFERENCES actions (id) DEFERRABLE INITIALLY DEFERRED,
    field text NOT NULL,
    old jsonb,
    new jsonb NOT NULL,
    stage text NOT NULL CHECK (stage IN ('plan', 'do', 'check', 'act', 'done')),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX action_history_action ON action_history (action, id);

CREATE TABLE reviews (
    id bigint PRIMARY KEY CHECK (id > 0),
    board bigint NOT NULL REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    note text NOT NULL DEFAULT '',
    reds bigint[] NOT NULL DEFAULT '{}',
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reviews_board ON reviews (board, at);

CREATE TABLE estimates (
    id bigint PRIMARY KEY CHECK (id > 0),
    kpi bigint NOT NULL REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED,
    date date NOT NULL,
    value double precision NOT NULL CHECK (value NOT IN ('NaN', 'Infinity', '-Infinity')),
    "by" text NOT NULL,
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX estimates_kpi ON estimates (kpi, date, id);

CREATE TABLE explanations (
    id bigint PRIMARY KEY CHECK (id > 0),
    kpi bigint NOT NULL REFERENCES kpis (id) DEFERRABLE INITIALLY DEFERRED,
    text text NOT NULL CHECK (btrim(text) <> ''),
    since date NOT NULL,
    until date NOT NULL CHECK (until >= since),
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX explanations_kpi ON explanations (kpi, until);

-- A huddle's minutes stay one document (store/huddle.py reads them), tied to their board.
CREATE TABLE huddles (
    id bigint PRIMARY KEY CHECK (id > 0),
    board_id bigint REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    date date NOT NULL,
    minutes jsonb NOT NULL CHECK (jsonb_typeof(minutes) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX huddles_board ON huddles (board_id, date);

-- The change log (`teamboard log`): one field of a board, KPI, goal or action changed.
CREATE TABLE changes (
    id bigint PRIMARY KEY CHECK (id > 0),
    tbl text NOT NULL CHECK (tbl IN ('boards', 'kpis', 'actions', 'goals')),
    ref bigint NOT NULL,
    field text NOT NULL,
    old jsonb,
    new jsonb,
    what text NOT NULL DEFAULT '',
    extra jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    who text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_ref ON changes (tbl, ref);

-- Who and when: the role and the transaction's time, unless the owner restores history.
CREATE FUNCTION teamboard_who() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.who := OLD.who;
        NEW.at := OLD.at;
    ELSIF NOT (coalesce(current_setting('teamboard.restore', true), '') = 'on'
               AND pg_has_role(current_user,
                   (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')) THEN
        NEW.who := current_user;
        NEW.at := now();
    END IF;
    RETURN NEW;
END $$;

CREATE FUNCTION teamboard_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'teamboard: % are append-only (a new row supersedes an old one)', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

-- Notify the board a row belongs to (found through its KPI or action where it has no board).
CREATE FUNCTION teamboard_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    j jsonb;
    b text;
BEGIN
    IF TG_OP = 'DELETE' THEN j := to_jsonb(OLD); ELSE j := to_jsonb(NEW); END IF;
    b := CASE WHEN TG_TABLE_NAME = 'boards' THEN j->>'id'
              ELSE coalesce(j->>'board', j->>'board_id') END;
    IF TG_TABLE_NAME IN ('targets', 'entries', 'estimates', 'explanations') THEN
        SELECT board::text INTO b FROM kpis WHERE id = (j->>'kpi')::bigint;
    ELSIF TG_TABLE_NAME = 'action_history' THEN
        SELECT board::text INTO b FROM actions WHERE id = (j->>'action')::bigint;
    END IF;
    PERFORM pg_notify('teamboard', coalesce(b, ''));
    RETURN NULL;
END $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['boards', 'goals', 'kpis', 'targets', 'entries', 'actions',
                             'action_history', 'reviews', 'estimates', 'explanations',
                             'huddles', 'changes'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION teamboard_who()', t || '_who', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['meta', 'boards', 'goals', 'kpis', 'targets', 'entries', 'actions',
                             'action_history', 'reviews', 'estimates', 'explanations',
                             'huddles', 'changes'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION teamboard_notify()', t || '_notify', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['entries', 'targets', 'action_history', 'changes'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION teamboard_append_only()', t || '_append_only', t);
    END LOOP;
END $$;
