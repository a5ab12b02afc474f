-- teamboard's PostgreSQL schema, version 2 (issue 14, scale): run by schema.py MIGRATIONS[2]
-- after version 1 (schema.sql); version 3 (v3_roles.sql) puts its rows under the roles.
--
-- Entry ids from a real sequence: `record` writes under its board's lock only (writers on
-- different boards run at once), so max(id) + 1 would collide. The general transaction still
-- numbers its new entries itself (it holds the store's lock exclusively) and then moves the
-- sequence past them (store/pg/engine.py `write`).
CREATE SEQUENCE entries_id_seq AS bigint OWNED BY entries.id;
SELECT setval('entries_id_seq', coalesce((SELECT max(id) FROM entries), 0) + 1, false);
ALTER TABLE entries ALTER COLUMN id SET DEFAULT nextval('entries_id_seq');

-- Scoped reads (store/pg/scoped.py) load a board's rows: every KPI and action of a board (the
-- version-1 indexes cover the unarchived KPIs and the open actions only), the actions on a KPI
-- (an action taken over onto the board above keeps its KPI), the escalations to and from a
-- board, and a KPI by name (`record` resolves it in SQL).
CREATE INDEX kpis_board ON kpis (board);
CREATE INDEX kpis_lower_name ON kpis (lower(name)) WHERE NOT archived;
CREATE INDEX actions_board_all ON actions (board);
CREATE INDEX actions_kpi ON actions (kpi) WHERE kpi IS NOT NULL;
CREATE INDEX actions_escalated_to ON actions ((escalation->>'to')) WHERE escalation IS NOT NULL;
CREATE INDEX actions_escalated_from ON actions ((escalation->>'origin'))
    WHERE escalation IS NOT NULL;

-- The store's last change (the board's header) without one row every writer updates: `record`
-- keeps its board's last change here (no notify: the entry notifies its board; meta's row would
-- notify every follower of every board, and serialise writers on one row lock). The general
-- transaction still writes meta's; the newer of the two (by `n`) is the store's last change.
CREATE SEQUENCE last_change_seq AS bigint;
ALTER TABLE meta ADD COLUMN last_n bigint;
CREATE TABLE board_changes (
    board bigint PRIMARY KEY REFERENCES boards (id) DEFERRABLE INITIALLY DEFERRED,
    n bigint NOT NULL,
    who text NOT NULL,
    at timestamptz NOT NULL,
    what text NOT NULL
);
CREATE INDEX board_changes_n ON board_changes (n);

-- Who and when of a board's last change: the writer's role and the transaction's time, whatever
-- the client sends (an update is a new last change, so unlike `teamboard_who` it takes the new
-- writer's name too).
CREATE FUNCTION teamboard_board_change_who() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.who := current_user;
    NEW.at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER board_changes_who BEFORE INSERT OR UPDATE ON board_changes FOR EACH ROW
    EXECUTE FUNCTION teamboard_board_change_who();
