"""The throwaway cluster the PostgreSQL tests run on answers, as a role that is not root."""

from __future__ import annotations

import psycopg


def test_cluster_answers_on_its_socket(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT current_user, current_setting('fsync')").fetchone()
    assert row == ("postgres", "off")
