"""Footprint ingestion benchmark: signed footprints per second through the bulk API.

A real HTTP client (httpx) posts batches of signed PACT v3 footprints to
``POST /api/v1/footprints/batch`` on a gunicorn server over loopback; each footprint
is strictly parsed, canonicalised, validated against every PACT v3 rule, its Ed25519
signature checked, stored with its product and appended to the audit log.

The limit it is compared with is measured in the same run, on one core: the time to
verify one Ed25519 signature over a footprint's canonical bytes plus the time to
canonicalise one footprint (RFC 8785) — the cryptographic floor of accepting one
signed footprint. Target: ingestion at least 30% of that rate.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/ingest_bench.py [--footprints 5000] [--batch 500]

It works in its own database ``carbonx_bench_ingest`` (created, migrated, dropped).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, postgres_admin  # noqa: E402

BENCH_DB = "carbonx_bench_ingest"


def _rate(work: list, step, seconds: float = 1.0) -> float:
    """Operations per second of ``step`` over ``work``, best of three ~1 s runs (the
    best run is the one least disturbed by the rest of the machine)."""
    best = 0.0
    for _ in range(3):
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for item in work:
                step(item)
            done += len(work)
        best = max(best, done / (time.perf_counter() - started))
    return best


def machine_limit(documents: list[dict], payloads: list[bytes]) -> dict[str, float]:
    """Ed25519 verifications/s and JCS canonicalisations/s of footprints, one core."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from trust import jcs

    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    signed = [(key.sign(payload), payload) for payload in payloads[:500]]
    verify_rate = _rate(signed, lambda pair: public.verify(*pair))
    jcs_rate = _rate(documents[:500], jcs.canonicalize)
    combined = 1 / (1 / verify_rate + 1 / jcs_rate)
    return {"verify": verify_rate, "jcs": jcs_rate, "combined": combined}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footprints", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--clients", type=int, default=3, help="concurrent HTTP clients")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("set DATABASE_URL=postgres://… (the bench uses its own database beside it)")
        return 2
    bench_url = urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DB}"))
    postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
    postgres_admin(url, f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["AUDIT_LOG_KEY_FILE"] = str(ROOT / "var" / "bench-audit-log-key.pem")
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import httpx

        from companies import services as company_services
        from companies.access import Actor
        from companies.models import Membership
        from exchange.signing import canonical_bytes, sign_footprint
        from tests.exchange.pact_examples import valid_footprint
        from tests.factories import UserFactory, make_uscc
        from trust import keys

        company = company_services.company_onboard(
            actor=None,
            legal_name="Bench Materials Co., Ltd.",
            identifiers=[make_uscc(4242)],
            roles=["supplier"],
            activate=True,
        )
        user = UserFactory.create(username="bench")
        Membership.objects.create(user=user, company=company, role="admin")
        actor = Actor(company=company, role="admin", user=user)
        private_key = keys.generate_private_key()
        company_services.signing_key_register(actor=actor, jwk=keys.public_jwk(private_key))
        client, secret = company_services.api_client_create(actor=actor, name="bench")
        company_ids = [i.urn for i in company.identifiers.all()]

        print(f"signing {args.footprints} footprints (not timed)…", flush=True)
        documents = [
            valid_footprint(
                id=str(uuid.uuid4()),
                companyName=company.legal_name,
                companyIds=company_ids,
                productIds=[f"urn:pact:bench.example:product:{i % 200}"],
            )
            for i in range(args.footprints)
        ]
        tokens = [sign_footprint(document, private_key) for document in documents]
        limit = machine_limit(documents, [canonical_bytes(d) for d in documents[:500]])

        port = free_port()
        env = {
            **os.environ,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "KEY_ENCRYPTION_KEYS": "bench:" + "A" * 43 + "=",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_COOKIES": "false",
            "API_RATE_LIMIT": "1000000/hour",
            "LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                "300",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(ROOT / "var" / "bench-ingest-server.log", "w"),  # noqa: SIM115
        )
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=300) as http:
            for _ in range(100):
                try:
                    http.get(f"{base}/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = http.post(
                f"{base}/o/token/",
                data={"grant_type": "client_credentials"},
                auth=(client.client_id, secret),
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            batches = [
                [{"jws": t} for t in tokens[offset : offset + args.batch]]
                for offset in range(0, len(tokens), args.batch)
            ]

            def post(batch: list[dict[str, str]]) -> str | None:
                with httpx.Client(timeout=300) as own:
                    response = own.post(
                        f"{base}/api/v1/footprints/batch", json=batch, headers=headers
                    )
                if response.status_code != 200:
                    return f"{response.status_code} {response.text[:500]}"
                return None

            load_before = os.getloadavg()
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                failures = [f for f in pool.map(post, batches) if f]
            elapsed = time.perf_counter() - started
            load_after = os.getloadavg()
            if failures:
                print(f"{len(failures)} batch(es) refused, e.g. {failures[0]}")
                return 1

        from exchange.models import Footprint

        stored = Footprint.objects.filter(company=company).count()
        rate = stored / elapsed
        target = 0.3 * limit["combined"]
        print()
        print(
            f"Footprint ingestion — PostgreSQL, gunicorn {args.workers} worker(s), "
            f"{args.clients} concurrent client(s), loopback HTTP"
        )
        print(f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}")
        print(f"{'measure':<44}{'result':>16}")
        print(f"{'footprints stored':<44}{stored:>16,}")
        print(f"{'batch size':<44}{args.batch:>16,}")
        print(f"{'ingestion through POST /footprints/batch':<44}{rate:>14,.0f}/s")
        print(f"{'limit: Ed25519 verifications (one core)':<44}{limit['verify']:>14,.0f}/s")
        print(f"{'limit: JCS canonicalisations (one core)':<44}{limit['jcs']:>14,.0f}/s")
        print(f"{'limit: both per footprint (one core)':<44}{limit['combined']:>14,.0f}/s")
        print(f"{'target: 30% of that limit':<44}{target:>14,.0f}/s")
        share = rate / limit["combined"]
        verdict = "meets the target" if rate >= target else "BELOW TARGET"
        print(f"ingestion = {share:.0%} of the limit: {verdict}")
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")


if __name__ == "__main__":
    sys.exit(main())
