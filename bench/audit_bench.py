"""Audit-log benchmark: append rates, verification speed and proof latency.

Each figure is printed beside the limit measured on the same machine in the same
run, and against its target; a missed target is printed as "BELOW TARGET", never
hidden.  The limits:

* the database's single-row commit rate (autocommit INSERT: one round trip and
  one WAL flush), and the same INSERT inside ``transaction.atomic()`` (what any
  one-row business transaction costs through Django: BEGIN is one more round
  trip).  ``audit_record`` (the entry is the whole transaction: one autocommit
  statement) cannot beat the first.  A business change committed with its entry
  (``audit_append``) is timed beside the same transaction without the entry; the
  difference is what auditing adds to a change;
* the SHA-256 rate for small messages (the floor of the hashing work per entry).

Single appends and their limits run interleaved in blocks of 100, so that all of
them see the same machine even when its speed drifts.  The load average is
printed at the start and the end: on a shared machine, read the figures with it.
Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/audit_bench.py \
        [--entries 1000000] [--single 3000] [--batch 5000] [--proofs 1000]

It works in its own database ``carbonx_bench_<pid>`` (created, migrated and
dropped; with SQLite a temporary file), never in the one DATABASE_URL names.
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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import postgres_admin  # noqa: E402

# One database per run (pid in the name): two benches at once must not drop each other's.
BENCH_DB = f"carbonx_bench_{os.getpid()}"
BLOCK = 100  # single appends and their limits run interleaved in blocks of this many


def prepare_database() -> tuple[str, Callable[[], None]]:
    """Point DATABASE_URL at a fresh bench database; return (description, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        bench_url = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        postgres_admin(url, f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = bench_url

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")

        return f"PostgreSQL ({parts.hostname}:{parts.port or 5432}/{BENCH_DB})", cleanup
    folder = tempfile.mkdtemp(prefix="carbonx-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"

    def cleanup_sqlite() -> None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)

    return "SQLite (temporary file)", cleanup_sqlite


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min, {os.cpu_count()} cores)"


def sha256_rate(seconds: float = 1.0) -> float:
    """Small-message SHA-256 operations per second (an entry is ~300 bytes)."""
    message = b"\x00" + b"x" * 300
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(10000):
            hashlib.sha256(message).digest()
        count += 10000
    return count / (time.perf_counter() - started)


# ------------------------------------------------------------- single appends


def _bench_table(create: bool) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if create:
            kind = "bytea" if connection.vendor == "postgresql" else "blob"
            cursor.execute(f"CREATE TABLE bench_commit (id integer PRIMARY KEY, v {kind})")
        else:
            cursor.execute("DROP TABLE bench_commit")


def bare_commits(n: int, offset: int) -> float:
    """Seconds for ``n`` single-row INSERT + COMMIT (autocommit: one round trip each)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for i in range(offset, offset + n):
            cursor.execute("INSERT INTO bench_commit (id, v) VALUES (%s, %s)", [i, b"x" * 32])
    return time.perf_counter() - started


def business_changes(n: int, offset: int) -> float:
    """The same INSERT, one per ``transaction.atomic()``: BEGIN, INSERT, COMMIT."""
    from django.db import connection, transaction

    started = time.perf_counter()
    for i in range(offset, offset + n):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO bench_commit (id, v) VALUES (%s, %s)", [i, b"x" * 32])
    return time.perf_counter() - started


def round_trip_us(n: int = 2000) -> float:
    """Median microseconds of ``SELECT 1`` (autocommit): one round trip, no work."""
    from django.db import connection

    timings = []
    with connection.cursor() as cursor:
        for _ in range(n):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


def _item(i: int) -> dict:
    return {
        "type": "footprint.submitted",
        "actor": "user:bench",
        "company": f"company-{i % 50}",
        "subject": f"footprint:urn:uuid:{i:032x}",
        "payload": {"pf": f"{i:032x}", "sha256": "ab" * 32, "version": 1},
    }


def business_changes_audited(n: int, offset: int) -> float:
    """The business change of :func:`business_changes` with its entry:
    the one-row INSERT and ``audit_append`` in one ``transaction.atomic()``."""
    from django.db import connection, transaction

    from audit.services import audit_append

    started = time.perf_counter()
    for i in range(offset, offset + n):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO bench_commit (id, v) VALUES (%s, %s)", [i, b"x" * 32])
            audit_append(**_item(i))
    return time.perf_counter() - started


def records(n: int, offset: int) -> float:
    """``audit_record``: an event that is its whole transaction (autocommit)."""
    from audit.services import audit_record

    started = time.perf_counter()
    for i in range(offset, offset + n):
        audit_record(**_item(i))
    return time.perf_counter() - started


@dataclass
class SingleFigures:
    records: float  # audit_record: the entry is the transaction
    commits: float  # bare one-row INSERT + COMMIT (autocommit)
    business: float  # one-row INSERT + audit_append in one atomic()
    atomic_inserts: float  # the same transaction without the entry
    round_trip_us: float

    @property
    def entry_cost_us(self) -> float:
        """What the entry adds to a business transaction, in microseconds."""
        return (1 / self.business - 1 / self.atomic_inserts) * 1e6


def single_appends(total: int) -> SingleFigures:
    """Single records, business changes with and without their entry, and the
    bare commit: ``total`` of each, interleaved in blocks of ``BLOCK`` (the
    order rotating from block to block), so that all four see the same machine
    even when its speed drifts."""
    measures = (records, bare_commits, business_changes_audited, business_changes)
    seconds = dict.fromkeys(measures, 0.0)
    blocks = max(1, total // BLOCK)
    _bench_table(create=True)
    for block in range(blocks):
        for k in range(len(measures)):
            measure = measures[(block + k) % len(measures)]
            # bench_commit ids: each measure has its own range.
            seconds[measure] += measure(BLOCK, (measures.index(measure) * blocks + block) * BLOCK)
    _bench_table(create=False)
    done = blocks * BLOCK
    return SingleFigures(
        records=done / seconds[records],
        commits=done / seconds[bare_commits],
        business=done / seconds[business_changes_audited],
        atomic_inserts=done / seconds[business_changes],
        round_trip_us=round_trip_us(),
    )


# --------------------------------------------------------------------- batches


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


def settle_log() -> str:
    """VACUUM and ANALYZE the log's tables, then CHECKPOINT (PostgreSQL).

    A million entries written a moment ago are not what a verifier meets in a
    live log: until a vacuum has run, the first read of every row also checks
    the commit log and writes its hint bits (dirtying every page again), and the
    planner has no statistics.  Autovacuum would have done this long before; the
    bench does it explicitly (whether or not autovacuum is on here) and says so.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return "not needed (SQLite)"
    from audit.models import AuditEntry, LogHead, TreeNode

    tables = ", ".join(m._meta.db_table for m in (AuditEntry, TreeNode, LogHead))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute(f"VACUUM (ANALYZE) {tables}")
        cursor.execute("CHECKPOINT")
    return (
        f"VACUUM (ANALYZE) + CHECKPOINT before the walk, {time.perf_counter() - started:.1f}s "
        f"(autovacuum is {autovacuum} on this server)"
    )


def _status(met: bool) -> str:
    return "met" if met else "BELOW TARGET"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size to fill to")
    parser.add_argument(
        "--single", type=int, default=3000, help="one-per-transaction appends (and as many records)"
    )
    parser.add_argument("--batch", type=int, default=5000, help="entries per batched append")
    parser.add_argument("--proofs", type=int, default=1000, help="inclusion proofs to time")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()

    load_at_start = load_average()
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
        call_command("migrate", verbosity=0, skip_checks=True)
        print(f"database: {database}; log size target {args.entries:,}", file=sys.stderr)
        print(f"load average at start: {load_at_start}", file=sys.stderr)
        sha_rate = sha256_rate()
        single = single_appends(min(args.single, args.entries // 2))
        batched = appends_batched(args.entries, args.batch, progress=not args.quiet)
        services.checkpoint_create()
        settled = settle_log()
        report = verify_log()
        if not report.ok:
            print(f"verification FAILED: {report.summary()}", file=sys.stderr)
            return 1
        verify_rate = report.entries_checked / report.elapsed_seconds
        median, p95 = proof_latency(args.entries, args.proofs)
        load_at_end = load_average()

        # Per entry the walk hashes the entry, its payload and (on average) one tree node.
        hash_ceiling = sha_rate / 3 * report.processes
        rows = [
            (
                "one entry per transaction (audit_record)",
                f"{single.records:,.0f}/s",
                "≥ 1,500/s",
                _status(single.records >= 1500),
                f"bare one-row INSERT+COMMIT (autocommit) {single.commits:,.0f}/s "
                f"({single.records / single.commits:.0%} of it); "
                f"round trip {single.round_trip_us:.0f} µs",
            ),
            (
                "a business change with its entry (audit_append)",
                f"{single.business:,.0f}/s",
                "-",
                "-",
                f"the same one-row transaction without the entry {single.atomic_inserts:,.0f}/s: "
                f"the entry adds {single.entry_cost_us:,.0f} µs",
            ),
            (
                f"appends, batched ({args.batch:,}/tx)",
                f"{batched:,.0f}/s",
                "≥ 20,000/s",
                _status(batched >= 20000),
                f"SHA-256 small messages {sha_rate:,.0f}/s",
            ),
            (
                "full verification",
                f"{verify_rate:,.0f} entries/s",
                "≥ 200,000/s",
                _status(verify_rate >= 200000),
                f"SHA-256 {sha_rate:,.0f}/s per core: hashing alone ≤ {hash_ceiling:,.0f} "
                f"entries/s with {report.processes} process(es)",
            ),
            (
                f"inclusion proof at {args.entries:,}",
                f"median {median:.2f} ms, p95 {p95:.2f} ms",
                "< 5 ms",
                _status(p95 < 5),
                "one indexed query per proof",
            ),
        ]
        print(f"\nAudit log benchmark — {database}, {args.entries:,} entries\n")
        header = ("measure", "result", "target", "status", "limit measured in this run")
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, *rows):
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        print(
            "\naudit_record is one autocommit statement (entry, tree nodes and head row); "
            "audit_append is that statement inside the caller's transaction, which already "
            "pays BEGIN and COMMIT for its own change."
        )
        print(f"\nload average at start: {load_at_start}")
        print(f"load average at end:   {load_at_end}")
        print(f"verification: {report.summary()}")
        print(f"log settled: {settled}")
        return 0
    finally:
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
