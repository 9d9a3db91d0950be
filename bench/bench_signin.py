"""Sign-in throughput under concurrency, against a bare Django INSERT view.

    DATABASE_URL=postgres://root@127.0.0.1:5432/kaitai_e .venv/bin/python bench/bench_signin.py

Creates its own database (``<name>_bench_signin`` next to DATABASE_URL's),
migrates it and seeds one county with townships, villages and many stationed
cadres, each with an API token. It writes a settings module and a URLconf to a
temporary directory (the project's base settings, PostgreSQL with persistent
connections, plus one extra URL) and starts gunicorn on the loopback address
with 2 sync workers, the same server for both endpoints:

  (a) the floor: a bare Django view (this module's ``floor_view``) that reads
      the JSON body and does one INSERT, through the same middleware;
  (b) ``POST /api/v1/signins/`` with token authentication and realistic bodies:
      a fresh client_id each, a random cadre each (so most cadres sign in
      several times in the same half: the first counts, the rest are repeats,
      which is the partial unique constraint at work), mostly inside the
      village radius, some outside.

A Python load generator with N threads sends a fixed number of requests to
each (a new connection per request: gunicorn's sync workers do not keep
connections alive, for either endpoint). The two are measured alternately,
``--rounds`` times, and the best round of each is kept. The county's sign-in
windows are set to the whole day so the run does the in-hours work at any
hour. It prints requests/s of both and the ratio, checks the stored rows
(one row per request, at most one counting sign-in per cadre and half), and
drops its database at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, also when imported
import province  # noqa: E402

HOST = "127.0.0.1"  # loopback only
MAX_REQUESTS = 100_000
POINT = (43.6, 121.3)
METRES_PER_DEGREE = 111_195.08


# --- the floor view (imported by the generated URLconf inside gunicorn) ----------------


def floor_view(request):
    """One INSERT of the posted client_id; nothing else."""
    from django.db import connection
    from django.http import JsonResponse

    if request.method != "POST":
        return JsonResponse({"detail": "POST"}, status=405)
    client_id = json.loads(request.body)["client_id"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (client_id, created_at) VALUES (%s, now())", [client_id]
        )
    return JsonResponse({"client_id": client_id}, status=201)


def _exempt(view):
    from django.contrib.auth.decorators import login_not_required
    from django.views.decorators.csrf import csrf_exempt

    return login_not_required(csrf_exempt(view))


# --- set-up ----------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per endpoint and round")
    parser.add_argument("--threads", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; best kept")
    parser.add_argument("--cadres", type=int, default=2000)
    parser.add_argument("--villages", type=int, default=200)
    parser.add_argument("--townships", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be 1..{MAX_REQUESTS}")
    if not 1 <= args.threads <= 256:
        parser.error("--threads must be 1..256")
    return args


def write_settings(directory: Path, database_url: str) -> None:
    (directory / "bench_settings.py").write_text(
        textwrap.dedent(
            f"""
            # Written by bench/bench_signin.py: the project's settings, PostgreSQL
            # with persistent connections, one extra URL for the floor view.
            import environ

            from kaitai.settings.base import *  # noqa: F403

            DEBUG = False
            SECRET_KEY = "bench-signin-not-a-secret"
            FIELD_ENCRYPTION_KEY = "bench-signin-field-key"
            ALLOWED_HOSTS = ["{HOST}"]
            DATABASES = {{"default": environ.Env.db_url_config({database_url!r})}}
            DATABASES["default"]["CONN_MAX_AGE"] = 600
            DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
            ROOT_URLCONF = "bench_urls"
            PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
            LOGGING = {{"version": 1, "root": {{"level": "WARNING"}}}}
            """
        )
    )
    (directory / "bench_urls.py").write_text(
        textwrap.dedent(
            """
            from django.urls import include, path

            from bench.bench_signin import _exempt, floor_view

            urlpatterns = [
                path("bench/insert/", _exempt(floor_view)),
                path("", include("kaitai.urls")),
            ]
            """
        )
    )


def environment(directory: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(directory), str(ROOT)])
    env.pop("REDIS_URL", None)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def seed(args) -> list[tuple[str, int]]:
    """The county, its villages and stationed cadres with tokens; [(token, village)]."""
    import datetime

    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token
    from stdnum.cn import ric

    from attendance.models import AttendanceSettings
    from core.choices import AreaKind, AreaLevel, Role, UnitKind, UnitLevel
    from core.models import Area, DispatchingUnit, User
    from teams.choices import MemberRole
    from teams.models import Cadre, Membership, Team

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, "
                "client_id uuid NOT NULL UNIQUE, created_at timestamptz NOT NULL)"
            )
        county = Area.objects.create(level=AreaLevel.COUNTY, kind=AreaKind.COUNTY, name="基准县")
        # The whole day is "in hours", so the run does the counting work at any hour.
        AttendanceSettings.objects.create(
            county=county,
            morning_start=datetime.time(0, 0),
            afternoon_start=datetime.time(12, 0),
            day_end=datetime.time(23, 59, 59, 999999),
        )
        unit = DispatchingUnit.objects.create(
            county=county, name="基准单位", kind=UnitKind.ECONOMIC, level=UnitLevel.COUNTY
        )
        townships = [
            Area.objects.create(
                level=AreaLevel.TOWNSHIP,
                kind=AreaKind.TOWN,
                name=f"镇{t}",
                parent=county,
                county=county,
            )
            for t in range(args.townships)
        ]
        villages = Area.objects.bulk_create(
            Area(
                level=AreaLevel.VILLAGE,
                kind=AreaKind.VILLAGE,
                name=f"村{v}",
                parent=townships[v % len(townships)],
                county=county,
                township=townships[v % len(townships)],
                category="一般村",
                latitude=round(POINT[0] + (v % 20) * 0.05, 6),
                longitude=round(POINT[1] + (v // 20) * 0.05, 6),
                radius_m=1000,
            )
            for v in range(args.villages)
        )
        teams = Team.objects.bulk_create(
            Team(village=v, formed_on=datetime.date(2025, 1, 1)) for v in villages
        )
        template = User(username="x", role=Role.CADRE)
        template.set_password("Bench#Passw0rd-2026")
        users = User.objects.bulk_create(
            User(
                username=f"bench{i:05d}",
                role=Role.CADRE,
                password=template.password,
                password_changed_at=template.password_changed_at,
            )
            for i in range(args.cadres)
        )
        cadres = []
        for i, user in enumerate(users):
            birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=i // 1000)
            body = f"150523{birth:%Y%m%d}{i % 1000:03d}"
            number = body + ric.calc_check_digit(body + "0")
            cadre = Cadre(
                county=county,
                user=user,
                unit=unit,
                name=f"干部{i}",
                sex="男" if i % 2 else "女",
                birth_date=birth,
            )
            cadre.set_number("id_number", number)
            cadre.set_number("phone", f"139{i:08d}")
            cadres.append(cadre)
        Cadre.objects.bulk_create(cadres)
        Membership.objects.bulk_create(
            Membership(
                team=teams[i % len(teams)],
                cadre=cadre,
                role=MemberRole.MEMBER,
                start_date=datetime.date(2025, 1, 1),
            )
            for i, cadre in enumerate(cadres)
        )
        tokens = Token.objects.bulk_create(
            Token(user=user, key=Token.generate_key()) for user in users
        )
    point = {v.pk: (float(v.latitude), float(v.longitude)) for v in villages}
    village_of = {
        m.cadre.user_id: m.team.village_id
        for m in Membership.objects.select_related("cadre", "team")
    }
    connection.close()
    return [(t.key, point[village_of[t.user_id]]) for t in tokens]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "kaitai.wsgi:application",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _ = request(port, "GET", "/health/", None, {})
            if status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            sys.exit("gunicorn did not start")
        time.sleep(0.3)
    stop(server)
    sys.exit("gunicorn did not answer /health/ within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # the process group we started
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- CPU of the server processes ----------------------------------------------------------
#
# On a shared machine the requests/s of both endpoints move with everything
# else that runs; the CPU time the server spends per request does much less.
# Both are reported: gunicorn's workers and the PostgreSQL backends serving them.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def backend_pids(database_url: str, name: str) -> list[int]:
    import psycopg

    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


# --- load ------------------------------------------------------------------------------


def request(port: int, method: str, path: str, body: bytes | None, headers: dict):
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data
    finally:
        conn.close()


def signin_requests(people: list[tuple[str, tuple[float, float]]], n: int, seed: int):
    """n (body, headers) pairs: a random cadre each, 85% inside the radius."""
    rng = random.Random(seed)
    prepared = []
    for _ in range(n):
        token, (lat, lng) = rng.choice(people)
        metres = rng.uniform(0, 600) if rng.random() < 0.85 else rng.uniform(1500, 5000)
        body = {
            "client_id": str(uuid.uuid4()),
            "latitude": round(lat + metres / METRES_PER_DEGREE, 7),
            "longitude": lng,
            "accuracy": round(rng.uniform(5, 60), 1),
            "taken_at": "2026-03-10T09:00:00+08:00",
        }
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Token {token}",
        }
        prepared.append((json.dumps(body).encode(), headers))
    return prepared


def load(port: int, path: str, prepared: list, threads: int) -> dict:
    """Send every prepared request with `threads` concurrent clients."""
    position = iter(range(len(prepared)))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def client() -> None:
        mine_lat, mine_status = [], {}
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                break
            body, headers = prepared[i]
            started = time.perf_counter()
            try:
                status, _ = request(port, "POST", path, body, headers)
            except OSError:
                status = 0
            mine_lat.append(time.perf_counter() - started)
            mine_status[status] = mine_status.get(status, 0) + 1
        with lock:
            latencies.extend(mine_lat)
            for k, v in mine_status.items():
                statuses[k] = statuses.get(k, 0) + v

    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(prepared),
        "seconds": elapsed,
        "rps": len(prepared) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "statuses": statuses,
    }


def check_rows(expected_signins: int) -> dict:
    from django.db import connection
    from django.db.models import Count

    from attendance.models import SignIn

    rows = SignIn.objects.count()
    doubled = (
        SignIn.objects.filter(counts=True)
        .values("cadre", "date", "half")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    counting = SignIn.objects.filter(counts=True).count()
    out_of_area = SignIn.objects.filter(in_area=False).count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_floor")
        (floor_rows,) = cursor.fetchone()
    connection.close()
    return {
        "signin_rows": rows,
        "expected_signin_rows": expected_signins,
        "counting": counting,
        "repeats_or_not_counting": rows - counting,
        "out_of_area": out_of_area,
        "halves_with_two_counting": doubled,
        "floor_rows": floor_rows,
    }


def main() -> None:
    args = parse_args()
    admin_url, bench_url, name = province.bench_database("bench_signin")
    province.create_database(admin_url, name)
    directory = Path(tempfile.mkdtemp(prefix="kaitai-bench-signin-"))
    server = None
    try:
        write_settings(directory, bench_url)
        env = environment(directory)
        print(f"database {name}: migrating…", flush=True)
        migrate(env)
        os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")})
        sys.path.insert(0, str(directory))
        import django

        django.setup()
        started = time.perf_counter()
        people = seed(args)
        print(
            f"seeded {args.cadres} cadres in {args.villages} villages, "
            f"{args.townships} townships ({time.perf_counter() - started:.1f} s)",
            flush=True,
        )

        port = free_port()
        server = start_gunicorn(env, port, args.workers)
        # warm-up: both workers import everything and open their connections
        warm = signin_requests(people, 100, seed=1)
        load(port, "/bench/insert/", warm, args.threads)
        load(port, "/api/v1/signins/", signin_requests(people, 100, seed=2), args.threads)

        workers = worker_pids(server.pid)
        backends = backend_pids(bench_url, name)

        def measured(path: str, prepared: list) -> dict:
            django_before, pg_before = cpu_seconds(workers), cpu_seconds(backends)
            result = load(port, path, prepared, args.threads)
            n = result["requests"]
            result["django_cpu_ms"] = 1000 * (cpu_seconds(workers) - django_before) / n
            result["pg_cpu_ms"] = 1000 * (cpu_seconds(backends) - pg_before) / n
            return result

        floors, signins = [], []
        for r in range(args.rounds):
            floor_load = signin_requests(people, args.requests, seed=100 + r)
            signin_load = signin_requests(people, args.requests, seed=200 + r)
            floors.append(measured("/bench/insert/", floor_load))
            signins.append(measured("/api/v1/signins/", signin_load))
            print(
                f"round {r + 1}: floor {floors[-1]['rps']:.0f} req/s, "
                f"sign-in {signins[-1]['rps']:.0f} req/s",
                flush=True,
            )
        stop(server)
        server = None

        floor = max(floors, key=lambda x: x["rps"])
        signin = max(signins, key=lambda x: x["rps"])
        cpu = {
            key: {
                "django": statistics.median(r["django_cpu_ms"] for r in results),
                "pg": statistics.median(r["pg_cpu_ms"] for r in results),
            }
            for key, results in (("floor", floors), ("signin", signins))
        }
        rows = check_rows(expected_signins=100 + args.requests * args.rounds)
        print()
        print(
            f"gunicorn {args.workers} sync workers, {args.threads} client threads, "
            f"{args.requests} requests per endpoint and round, best of {args.rounds}, "
            f"{os.cpu_count()} CPUs"
        )
        print(f"{'endpoint':<38}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}  statuses")
        for label, result in (
            ("(a) bare Django view, one INSERT", floor),
            ("(b) POST /api/v1/signins/ (token)", signin),
        ):
            print(
                f"{label:<38}{result['rps']:>8.0f}{result['p50_ms']:>9.1f}"
                f"{result['p95_ms']:>9.1f}  {result['statuses']}"
            )
        print(f"ratio (b)/(a), requests/s: {signin['rps'] / floor['rps']:.2f}")
        print()
        print("server CPU per request (median of the rounds; gunicorn workers + PostgreSQL):")
        for label, key in (("(a) floor", "floor"), ("(b) sign-in", "signin")):
            django_ms, pg_ms = cpu[key]["django"], cpu[key]["pg"]
            print(
                f"  {label:<13} Django {django_ms:6.2f} ms + PostgreSQL {pg_ms:5.2f} ms"
                f" = {django_ms + pg_ms:6.2f} ms"
            )
        total = {k: v["django"] + v["pg"] for k, v in cpu.items()}
        print(f"ratio (a)/(b), server CPU per request: {total['floor'] / total['signin']:.2f}")
        print(
            f"load average now: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
            f"(other work on the machine lowers both requests/s)"
        )
        print(f"stored: {rows}")
        ok_status = all(set(r["statuses"]) <= {201} for r in floors + signins)
        if (
            not ok_status
            or rows["halves_with_two_counting"]
            or (rows["signin_rows"] != rows["expected_signin_rows"])
        ):
            sys.exit("FAILED: unexpected statuses or rows")
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(directory, ignore_errors=True)
        if not args.keep:
            province.drop_database(admin_url, name)


if __name__ == "__main__":
    main()
