"""Audit-log benchmark: append rates, verification speed and proof latency.

Each figure is printed beside the limit measured on the same machine in the same
run: the SHA-256 rate for small messages (the floor of hashing work per entry) and
the database's single-row commit rate (the floor of one-entry-per-transaction
appends).  Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/audit_bench.py \
        [--entries 1000000] [--single 3000] [--batch 5000] [--proofs 1000]

It works in its own database ``carbonx_bench`` (created, migrated and dropped; with
SQLite a temporary file), never in the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "carbonx_bench"


def _postgres_admin(url: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def prepare_database() -> tuple[str, Callable[[], None]]:
    """Point DATABASE_URL at a fresh bench database; return (description, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        _postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        _postgres_admin(url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = bench_url

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            _postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")

        return f"PostgreSQL ({parts.hostname}:{parts.port or 5432}/{BENCH_DB})", cleanup
    folder = tempfile.mkdtemp(prefix="carbonx-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"

    def cleanup_sqlite() -> None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)

    return "SQLite (temporary file)", cleanup_sqlite


def sha256_rate(seconds: float = 1.0) -> float:
    """Small-message SHA-256 operations per second (an entry is ~300 bytes)."""
    message = b"\x00" + b"x" * 300
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(10000):
            hashlib.sha256(message).digest()
        count += 10000
    return count / (time.perf_counter() - started)


def commit_rate(n: int) -> float:
    """Single-row INSERT + COMMIT per second on the same database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_commit (id integer PRIMARY KEY, v bytea)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE bench_commit (id integer PRIMARY KEY, v blob)"
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:  # autocommit: each INSERT is its own transaction
        for i in range(n):
            cursor.execute("INSERT INTO bench_commit (id, v) VALUES (%s, %s)", [i, b"x" * 32])
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_commit")
    return n / elapsed


def _item(i: int) -> dict:
    return {
        "type": "footprint.submitted",
        "actor": "user:bench",
        "company": f"company-{i % 50}",
        "subject": f"footprint:urn:uuid:{i:032x}",
        "payload": {"pf": f"{i:032x}", "sha256": "ab" * 32, "version": 1},
    }


def appends_single(n: int) -> float:
    from django.db import transaction

    from audit.services import audit_append

    started = time.perf_counter()
    for i in range(n):
        with transaction.atomic():
            audit_append(**_item(i))
    return n / (time.perf_counter() - started)


def appends_batched(total: int, batch: int, progress: bool) -> float:
    from django.db import transaction

    from audit.models import LogHead
    from audit.services import audit_append_many

    done = LogHead.objects.get().size
    appended, started = 0, time.perf_counter()
    while done < total:
        size = min(batch, total - done)
        with transaction.atomic():
            audit_append_many([_item(done + i) for i in range(size)])
        done += size
        appended += size
        if progress and appended % (batch * 20) == 0:
            rate = appended / (time.perf_counter() - started)
            print(f"  ... {done} entries ({rate:,.0f}/s)", file=sys.stderr)
    return appended / (time.perf_counter() - started)


def proof_latency(size: int, samples: int) -> tuple[float, float]:
    """Median and p95 milliseconds of an inclusion proof at tree size ``size``."""
    from audit import selectors
    from trust import merkle

    rng = random.Random(7)
    timings = []
    for _ in range(samples):
        seq = rng.randrange(size)
        started = time.perf_counter()
        proof = selectors.inclusion_proof(seq=seq, tree_size=size)
        timings.append((time.perf_counter() - started) * 1000)
    # One end-to-end check that the timed proofs are real.
    entry = selectors.entry_at(seq)
    assert entry is not None
    merkle.verify_inclusion(
        leaf_hash=bytes(entry.entry_hash),
        index=seq,
        size=size,
        proof=proof,
        root=selectors.log_root(size),
    )
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size to fill to")
    parser.add_argument("--single", type=int, default=3000, help="one-per-transaction appends")
    parser.add_argument("--batch", type=int, default=5000, help="entries per batched append")
    parser.add_argument("--proofs", type=int, default=1000, help="inclusion proofs to time")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    database, cleanup = prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("AUDIT_LOG_KEY_FILE", str(Path(tempfile.mkdtemp()) / "bench-key.pem"))
    import logging

    import django

    django.setup()
    logging.getLogger("audit").setLevel(logging.ERROR)
    from django.core.management import call_command

    from audit import services
    from audit.verification import verify_log

    try:
        call_command("migrate", verbosity=0)
        print(f"database: {database}; log size target {args.entries:,}", file=sys.stderr)
        sha_rate = sha256_rate()
        db_commits = commit_rate(min(args.single, 3000))
        single = appends_single(min(args.single, args.entries))
        batched = appends_batched(args.entries, args.batch, progress=not args.quiet)
        services.checkpoint_create()
        report = verify_log()
        if not report.ok:
            print(f"verification FAILED: {report.summary()}", file=sys.stderr)
            return 1
        verify_rate = report.entries_checked / report.elapsed_seconds
        median, p95 = proof_latency(args.entries, args.proofs)

        rows = [
            (
                "appends, one per transaction",
                f"{single:,.0f}/s",
                "≥ 1,500/s",
                f"DB single-row commit rate {db_commits:,.0f}/s",
            ),
            (
                f"appends, batched ({args.batch:,}/tx)",
                f"{batched:,.0f}/s",
                "≥ 20,000/s",
                f"SHA-256 small messages {sha_rate:,.0f}/s",
            ),
            (
                "full verification",
                f"{verify_rate:,.0f} entries/s",
                "≥ 200,000/s",
                f"SHA-256 small messages {sha_rate:,.0f}/s (≥2 hashes/entry)",
            ),
            (
                f"inclusion proof at {args.entries:,}",
                f"median {median:.2f} ms, p95 {p95:.2f} ms",
                "< 5 ms",
                "one indexed query per proof",
            ),
        ]
        print(f"\nAudit log benchmark — {database}, {args.entries:,} entries\n")
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        header = ("measure", "result", "target", "limit measured in this run")
        widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
        for row in (header, *rows):
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
