"""The yearly 200-day check at a province's size, on PostgreSQL.

    DATABASE_URL=postgres://root@127.0.0.1:5432/kaitai .venv/bin/python bench/bench_onpost.py

Creates its own database (``<name>_bench_onpost`` next to DATABASE_URL's),
migrates it and generates in SQL (generate_series): one county with 100
townships, 5,000 villages and 50,000 stationed cadres (2% starting on July 1st,
2% leaving on June 30th), the monthly rollups of January to November 2026 (the
``MonthlyAttendance`` rows of 1,100 township batches, about 550,000 rows), the
sign-ins of December 1st to 10th (the month to date, about 760,000) and, to
show they are not used, a year of sign-ins of 300 of the cadres (about
135,000 older rows). A year of sign-ins for everyone (about 26 million rows)
is too heavy to generate here; instead it measures what the check reads.

In the same run:

  (a) the floor: the plain SQL ``SUM(on_post_days) ... GROUP BY cadre_id`` over
      the rollup rows of January to November, all rows fetched;
  (b) the check, ``check_on_post`` as of 2026-12-10, computing and storing
      50,000 rows; and its parts: computing only (``compute_year``), the month
      to date alone (``month_figures``);
  (c) the sign-in rows the check touched (PostgreSQL's own counters for the
      table, ``seq_tup_read + idx_tup_fetch``), against the month-to-date rows
      and the rows in the table; and the number of queries it sent.

It prints times and ratios and drops its database at the end (``--keep``
keeps it).
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, also when imported
import province  # noqa: E402

YEAR = 2026
AS_OF = datetime.date(YEAR, 12, 10)
ROLLUP_MONTHS = [datetime.date(YEAR, m, 1) for m in range(1, 12)]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cadres", type=int, default=50_000)
    parser.add_argument("--villages", type=int, default=5_000)
    parser.add_argument("--townships", type=int, default=100)
    parser.add_argument(
        "--history", type=int, default=300, help="cadres with a year of older sign-ins"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs of (a) and (b); best kept")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    return parser.parse_args()


# --- data ----------------------------------------------------------------------------


def generate(args) -> dict:
    from django.db import connection

    from attendance.calendar import calendar_ensure_year
    from core.choices import AreaKind, AreaLevel, UnitKind, UnitLevel
    from core.models import Area, DispatchingUnit

    county = Area.objects.create(level=AreaLevel.COUNTY, kind=AreaKind.COUNTY, name="基准县")
    unit = DispatchingUnit.objects.create(
        county=county, name="基准单位", kind=UnitKind.ECONOMIC, level=UnitLevel.COUNTY
    )
    calendar_ensure_year(county=county, year=YEAR)
    joined, left = datetime.date(YEAR, 7, 1), datetime.date(YEAR, 6, 30)
    p = {
        "county": county.pk,
        "unit": unit.pk,
        "joined": joined,
        "left": left,
        "t": args.townships,
        "v": args.villages,
        "n": args.cadres,
        "history": args.history,
        "first": datetime.date(YEAR, 1, 1),
        "nov": datetime.date(YEAR, 11, 30),
        "dec": datetime.date(YEAR, 12, 1),
        "as_of": AS_OF,
    }
    steps = [
        *province.steps(joined, left),
        (
            "township batches, January to November",
            """INSERT INTO attendance_attendancebatch (township_id, month, status, computed_at,
                   reopened_count)
               SELECT a.id, m.month::date, 'filed', now(), 0
               FROM core_area a
               CROSS JOIN generate_series(%(first)s::date, date '2026-11-01', interval '1 month')
                    m (month)
               WHERE a.level = 'township' AND a.county_id = %(county)s""",
        ),
        (
            "monthly rollups (MonthlyAttendance), January to November",
            """WITH w AS (
                 SELECT date_trunc('month', date)::date AS month, count(*) AS working
                 FROM attendance_workday
                 WHERE county_id = %(county)s AND is_working AND date BETWEEN %(first)s AND %(nov)s
                 GROUP BY 1
               ),
               x AS (
                 SELECT b.id AS batch_id, m.cadre_id, t.village_id, w.month, w.working,
                        -- most cadres miss 0–2.5 days a month, one in ten up to 9.5
                        LEAST(w.working, floor(random() * CASE WHEN m.cadre_id %% 10 = 0
                                                              THEN 20 ELSE 6 END) / 2.0) AS off
                 FROM teams_membership m
                 JOIN teams_team t ON t.id = m.team_id
                 JOIN core_area v ON v.id = t.village_id AND v.county_id = %(county)s
                 JOIN w ON w.month >= date_trunc('month', m.start_date)
                       AND (m.end_date IS NULL OR w.month <= m.end_date)
                 JOIN attendance_attendancebatch b ON b.township_id = v.township_id
                       AND b.month = w.month
               )
               INSERT INTO attendance_monthlyattendance (batch_id, cadre_id, village_id, month,
                   working_days, on_post_days, leave_days, absent_days, out_of_area,
                   outside_hours, rest_day_signins, days_without_log, subsidy)
               SELECT batch_id, cadre_id, village_id, month, working, working - off, 0, off,
                      0, 0, 0, 0, (working - off) * 60
               FROM x""",
        ),
        (
            "sign-ins of December 1st to 10th: two a working day, 5% missed",
            """INSERT INTO attendance_signin (client_id, signed_at, date, half, latitude, longitude,
                   accuracy_m, distance_m, in_area, accepted, accept_reason, counts, photo,
                   created_at, cadre_id, membership_id, village_id)
               SELECT gen_random_uuid(),
                      (x.day + CASE WHEN x.half = 'am' THEN time '08:30' ELSE time '15:30' END)
                        AT TIME ZONE 'Asia/Shanghai',
                      x.day, x.half, 43.6, 121.3, 15, 120, true, false, '', true, '', now(),
                      x.cadre_id, x.mid, x.village_id
               FROM (
                 SELECT m.id AS mid, m.cadre_id, t.village_id, d.date AS day, h.half,
                        random() AS r
                 FROM teams_membership m
                 JOIN teams_team t ON t.id = m.team_id
                 JOIN core_area v ON v.id = t.village_id AND v.county_id = %(county)s
                 JOIN attendance_workday d ON d.county_id = %(county)s AND d.is_working
                      AND d.date BETWEEN %(dec)s AND %(as_of)s
                      AND d.date >= m.start_date AND (m.end_date IS NULL OR d.date <= m.end_date)
                 CROSS JOIN (VALUES ('am'), ('pm')) h (half)
               ) x
               WHERE x.r > 0.05""",
        ),
        (
            "older sign-ins, January to November, of some cadres (not to be read)",
            """INSERT INTO attendance_signin (client_id, signed_at, date, half, latitude, longitude,
                   accuracy_m, distance_m, in_area, accepted, accept_reason, counts, photo,
                   created_at, cadre_id, membership_id, village_id)
               SELECT gen_random_uuid(),
                      (d.date + CASE WHEN h.half = 'am' THEN time '08:30' ELSE time '15:30' END)
                        AT TIME ZONE 'Asia/Shanghai',
                      d.date, h.half, 43.6, 121.3, 15, 120, true, false, '', true, '', now(),
                      m.cadre_id, m.id, t.village_id
               FROM (SELECT * FROM teams_membership ORDER BY id LIMIT %(history)s) m
               JOIN teams_team t ON t.id = m.team_id
               JOIN attendance_workday d ON d.county_id = %(county)s AND d.is_working
                    AND d.date BETWEEN %(first)s AND %(nov)s AND d.date >= m.start_date
                    AND (m.end_date IS NULL OR d.date <= m.end_date)
               CROSS JOIN (VALUES ('am'), ('pm')) h (half)""",
        ),
    ]
    with connection.cursor() as cursor:
        # Bulk load: no foreign-key triggers, secondary indexes built afterwards.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        indexes = []
        for table in ("attendance_signin", "attendance_monthlyattendance"):
            cursor.execute(
                """SELECT i.indexname, i.indexdef FROM pg_indexes i
                   WHERE i.tablename = %s AND NOT EXISTS (
                     SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
                [table],
            )
            indexes += cursor.fetchall()
        for index_name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{index_name}"')
        for label, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql, p)
            print(f"  {label}: {cursor.rowcount:,} rows, {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        for _index_name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET session_replication_role = DEFAULT")
        print(f"  {len(indexes)} indexes rebuilt: {time.perf_counter() - started:.1f} s")
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM attendance_monthlyattendance")
        rollups = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM attendance_signin")
        signins = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM attendance_signin WHERE date BETWEEN %(dec)s AND %(as_of)s", p
        )
        month_to_date = cursor.fetchone()[0]
    return {
        "county": county,
        "rollups": rollups,
        "signins": signins,
        "month_to_date": month_to_date,
    }


# --- (a) the floor ----------------------------------------------------------------------

FLOOR_SQL = """
SELECT cadre_id, SUM(on_post_days)
FROM attendance_monthlyattendance
WHERE month BETWEEN %(first)s AND %(last)s
GROUP BY cadre_id
"""


def floor() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"first": ROLLUP_MONTHS[0], "last": ROLLUP_MONTHS[-1]})
        return len(cursor.fetchall())


# --- (c) what the check reads ---------------------------------------------------------


def signin_reads() -> int:
    """Rows of attendance_signin read so far (sequential + index fetches), from
    PostgreSQL's cumulative statistics (flushed first; PostgreSQL 15+)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.6)  # the backend flushes its pending counters when idle
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) "
            "FROM pg_stat_user_tables WHERE relname = 'attendance_signin'"
        )
        return int(cursor.fetchone()[0])


def _signin_nodes(node: dict):
    if node.get("Relation Name") == "attendance_signin":
        yield node
    for child in node.get("Plans", ()):
        yield from _signin_nodes(child)


def signin_plan(statements: list[str], *, no_seqscan: bool = False) -> dict:
    """EXPLAIN ANALYZE of the check's statements that read attendance_signin:
    the rows their sign-in scans returned, the rows they read and threw away
    (filter), the scan kinds and the execution time. ``no_seqscan`` makes the
    planner take the (date, cadre) index, the plan it picks by itself when the
    month is a twelfth of the table (a real year of sign-ins)."""
    from django.db import connection, transaction

    used = discarded = 0
    kinds, ms = set(), 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        if no_seqscan:
            cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in statements:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0][0]
            ms += plan["Execution Time"]
            for node in _signin_nodes(plan["Plan"]):
                loops = node.get("Actual Loops", 1)
                used += round(node.get("Actual Rows", 0) * loops)
                discarded += round(node.get("Rows Removed by Filter", 0) * loops)
                kinds.add(node["Node Type"])
    return {"used": used, "discarded": discarded, "kinds": sorted(kinds), "ms": ms}


def main() -> None:
    args = parse_args()
    admin_url, bench_url, name = province.bench_database("bench_onpost")
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaitai.settings.test")
    province.create_database(admin_url, name)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from attendance import audit as monthly
        from attendance import onpost
        from attendance.models import OnPostCheck

        print(f"database {name}: migrating")
        call_command("migrate", verbosity=0)
        print("generating in SQL:")
        started = time.perf_counter()
        data = generate(args)
        county = data["county"]
        print(f"  total {time.perf_counter() - started:.1f} s")
        print(
            f"{args.cadres:,} cadres in {args.villages:,} villages of {args.townships} "
            f"townships; {data['rollups']:,} rollup rows (2026-01 to 2026-11); "
            f"{data['signins']:,} sign-ins, {data['month_to_date']:,} of them from "
            f"2026-12-01 to {AS_OF}"
        )

        def check():
            return onpost.check_on_post(county=county, year=YEAR, as_of=AS_OF, via="bench")

        check()  # warm: seeds nothing new, fills caches like a weekly run would find them
        t_floor, floor_rows = province.timed(floor, args.runs)
        before = signin_reads()
        with CaptureQueriesContext(connection) as queries:
            check()
        touched = signin_reads() - before
        reading = [q["sql"] for q in queries if "attendance_signin" in q["sql"]]
        chosen = signin_plan(reading)
        indexed = signin_plan(reading, no_seqscan=True)
        t_check, result = province.timed(check, args.runs)
        t_compute, figures = province.timed(
            lambda: onpost.compute_year(county=county, year=YEAR, as_of=AS_OF), args.runs
        )
        t_month, month_rows = province.timed(
            lambda: monthly.month_figures(county=county, month=AS_OF.replace(day=1), upto=AS_OF),
            args.runs,
        )
        stored = OnPostCheck.objects.filter(year=YEAR).count()
        assert stored == len(figures) == result[0]["rows"] == args.cadres, stored
        # the check's on-post days agree with the floor plus the month to date
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, {"first": ROLLUP_MONTHS[0], "last": ROLLUP_MONTHS[-1]})
            expected = dict(cursor.fetchall())
        for row in month_rows:
            expected[row["cadre_id"]] = expected.get(row["cadre_id"], 0) + row["on_post_days"]
        wrong = [f.cadre_id for f in figures if f.on_post_days != expected.get(f.cadre_id, 0)]

        connection.close()
        counts = {s: result[0][s] for s in ("met", "on_track", "at_risk")}
        print()
        print(f"(a) floor, SUM(on_post_days) GROUP BY cadre over the rollups: {t_floor:.3f} s")
        print(f"    ({floor_rows:,} cadres)")
        print(f"(b) check_on_post, compute and store {stored:,} rows: {t_check:.3f} s  {counts}")
        print(f"    compute only (compute_year):                    {t_compute:.3f} s")
        print(f"    of which the month to date (month_figures):     {t_month:.3f} s")
        print(f"    storing (upsert, removal, audit row; b - compute): {t_check - t_compute:.3f} s")
        print(
            f"(c) queries sent: {len(queries)}, of which {len(reading)} read sign-ins; "
            f"sign-ins: month to date {data['month_to_date']:,}, in the table {data['signins']:,}"
        )
        print(f"    PostgreSQL's counters, rows of attendance_signin read: {touched:,}")
        for label, plan in (("planner's choice", chosen), ("(date, cadre) index", indexed)):
            print(
                f"    {label}: {', '.join(plan['kinds'])}; rows used {plan['used']:,}, "
                f"read and discarded {plan['discarded']:,}; {plan['ms'] / 1000:.3f} s"
            )
        print()
        print(f"check / floor:                 {t_check / t_floor:.1f}x")
        print(f"compute only / floor:          {t_compute / t_floor:.1f}x")
        print(f"(compute - month to date) / floor: {(t_compute - t_month) / t_floor:.1f}x")
        print(
            f"sign-in rows used / month-to-date rows: "
            f"{chosen['used'] / max(1, data['month_to_date']):.2f}; older rows used: "
            f"{max(0, chosen['used'] - data['month_to_date']):,}"
        )
        if wrong:
            print(f"MISMATCH with the floor for {len(wrong)} cadres, e.g. {wrong[:5]}")
            sys.exit(1)
    finally:
        if not args.keep:
            province.drop_database(admin_url, name)
            print(f"dropped {name}")


if __name__ == "__main__":
    main()
