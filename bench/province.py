"""What the benchmarks share: their scratch databases, timing, and the
province the attendance benchmarks generate in SQL: townships,
villages, cadres of one unit, a team per village and a membership per cadre
(2% joining on ``joined``, 2% leaving on ``left``; the rest since 2025-03-01).

Each step is (label, SQL); the SQL takes the parameters ``county``, ``unit``,
``t`` (townships), ``v`` (villages), ``n`` (cadres), ``joined`` and ``left``.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
from urllib.parse import urlsplit, urlunsplit


def steps(joined: datetime.date, left: datetime.date) -> list[tuple[str, str]]:
    return [
        (
            "townships",
            """INSERT INTO core_area (level, kind, name, code, category, condition, created_at,
                       county_id, parent_id)
                   SELECT 'township', '镇', '镇' || i, '', '', '', now(), %(county)s, %(county)s
                   FROM generate_series(1, %(t)s) i""",
        ),
        (
            "villages",
            """WITH t AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM core_area
                              WHERE level = 'township' AND county_id = %(county)s)
                   INSERT INTO core_area (level, kind, name, code, category, condition, latitude,
                       longitude, radius_m, created_at, county_id, parent_id, township_id)
                   SELECT 'village', '村', '村' || i, '', '一般村', '', 43.6, 121.3, 1000, now(),
                          %(county)s, t.id, t.id
                   FROM generate_series(1, %(v)s) i JOIN t ON t.n = i %% %(t)s""",
        ),
        (
            "cadres",
            """INSERT INTO teams_cadre (name, name_pinyin, name_initials, id_number_enc,
                       id_number_hash, id_number_masked, phone_enc, phone_hash, phone_masked, sex,
                       birth_date, post, rank, education, major, agri_major, political_status,
                       rural_experience, prior_poverty_service, created_at, updated_at, county_id,
                       unit_id)
                   SELECT '干部' || i, 'ganbu' || i, 'gb', 'x', md5('id' || i),
                          '150523********' || lpad((i %% 10000)::text, 4, '0'), '', '', '',
                          CASE WHEN i %% 2 = 0 THEN '男' ELSE '女' END,
                          date '1975-01-01' + (i %% 9000), '', '', '', '', false, '', false, false,
                          now(), now(), %(county)s, %(unit)s
                   FROM generate_series(1, %(n)s) i""",
        ),
        (
            "teams",
            """INSERT INTO teams_team (formed_on, created_at, village_id)
                   SELECT date '2021-03-01', now(), id FROM core_area
                   WHERE level = 'village' AND county_id = %(county)s""",
        ),
        (
            f"memberships (2% start on {joined:%m-%d}, 2% end on {left:%m-%d})",
            """WITH c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM teams_cadre
                              WHERE county_id = %(county)s),
                        t AS (SELECT tm.id, row_number() OVER (ORDER BY tm.id) - 1 AS n
                              FROM teams_team tm JOIN core_area v ON v.id = tm.village_id
                              WHERE v.county_id = %(county)s)
                   INSERT INTO teams_membership (role, start_date, end_date, end_reason, end_decision,
                       created_at, cadre_id, team_id)
                   SELECT '工作队员',
                          CASE WHEN c.n %% 50 = 1 THEN %(joined)s ELSE date '2025-03-01' END,
                          CASE WHEN c.n %% 50 = 2 THEN %(left)s END,
                          CASE WHEN c.n %% 50 = 2 THEN '完成轮换' ELSE '' END, '', now(), c.id, t.id
                   FROM c JOIN t ON t.n = c.n %% %(v)s""",
        ),
    ]


def bench_database(script: str) -> tuple[str, str, str]:
    """(server URL for admin commands, benchmark database URL, its name): the
    database ``<DATABASE_URL's name>_<script>`` next to DATABASE_URL's."""
    url = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"{script} needs PostgreSQL: set DATABASE_URL=postgres://...")
    base = parts.path.lstrip("/") or "postgres"
    name = f"{base}_{script}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    bench = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    return admin, bench, name


def admin_execute(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def timed(fn, runs: int = 1):
    """(best time of ``runs`` calls, the last result)."""
    best, result = None, None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def create_database(admin_url: str, name: str) -> None:
    """A fresh, empty benchmark database."""
    admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}"')
    admin_execute(admin_url, f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    """Close this process's connections (if Django is set up) and drop the database."""
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
        pass
    admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}"')
