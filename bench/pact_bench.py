"""PACT host API latency: ListFootprints (limit 100) and GetFootprint.

100,000 footprints in PostgreSQL, of which the benchmark's buyer may see 10,000
(product grants, footprint grants, zone publications; a few revoked grants too), spread
over the key range as real data would be. A real HTTP client (httpx, one connection
at a time, requests one after another) calls a real gunicorn server over loopback:

* ``GET /3/footprints?limit=100``, first pages and every following page (walking the
  ``Link`` headers through all 10,000; the walk also checks that each visible footprint
  comes exactly once);
* ``GET /3/footprints/<id>`` for random visible footprints;
* for information: filtered pages (``geography``: 1 in 8 match; ``productId``; a
  ``classification`` nothing has, which reads every visible document), and an id the
  buyer may not see.

The limit printed beside them is measured in the same run over the same client:
``GET /healthz`` (Django, no authentication, one ``SELECT 1``). Targets: p95 below
50 ms for a page, below 15 ms for one footprint. Figures are printed, not asserted.

Plain HTTP on loopback (``PACT_ALLOW_HTTP=1``) by default; ``--tls`` serves HTTPS with
a throwaway self-signed certificate (gunicorn threads, kept-alive connections).

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/pact_bench.py \\
        [--footprints 100000] [--visible 10000] [--pages 3] [--gets 1000] [--workers 2] \\
        [--tls] [--explain]

It works in its own database ``carbonx_bench_<pid>`` (created, migrated, dropped).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, postgres_admin  # noqa: E402

BENCH_DB = f"carbonx_bench_{os.getpid()}"
SUPPLIERS = 10
VERSIONS = 4  # footprints per product: the newest active, older ones deprecated
COUNTRIES = ("DE", "FR", "CN", "US", "JP", "IT", "PL", "VN")


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile (inclusive method) and maximum, in the samples' unit."""
    if len(samples) < 2:
        return samples[0], samples[0], samples[0]
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
    return statistics.median(samples), p95, max(samples)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------ the data


def make_data(total: int, visible: int) -> dict[str, Any]:
    """Companies, products and footprints (COPY), and the buyer's grants; returns what
    the measurements need. Documents are real PACT v3 documents in canonical form;
    the JWS column holds a placeholder (reads never touch it)."""
    from companies import services as company_services
    from companies.access import Actor
    from companies.models import Membership
    from exchange.copy_insert import copy_insert
    from exchange.models import (
        AccessGrant,
        Footprint,
        FootprintStatus,
        Product,
        ProductIdentifier,
        ZonePublication,
    )
    from exchange.signing import canonical_bytes
    from tests.exchange.pact_examples import OMIT, valid_footprint
    from tests.factories import UserFactory, make_uscc
    from trust import keys

    rng = random.Random(42)
    buyer = company_services.company_onboard(
        actor=None,
        legal_name="Bench Buyer Motors",
        identifiers=[make_uscc(9000)],
        roles=["buyer"],
        activate=True,
    )
    buyer_user = UserFactory.create(username="bench-buyer")
    Membership.objects.create(user=buyer_user, company=buyer, role="admin")
    buyer_actor = Actor(company=buyer, role="admin", user=buyer_user)
    client, secret = company_services.api_client_create(actor=buyer_actor, name="bench")

    products_total = total // VERSIONS
    suppliers = []
    for index in range(SUPPLIERS):
        company = company_services.company_onboard(
            actor=None,
            legal_name=f"Bench Supplier {index} Co., Ltd.",
            identifiers=[make_uscc(9100 + index)],
            roles=["supplier"],
            activate=True,
        )
        user = UserFactory.create(username=f"bench-supplier-{index}")
        Membership.objects.create(user=user, company=company, role="admin")
        actor = Actor(company=company, role="admin", user=user)
        key = company_services.signing_key_register(
            actor=actor, jwk=keys.public_jwk(keys.generate_private_key())
        )
        suppliers.append((company, key, [i.urn for i in company.identifiers.all()]))

    print(f"making {products_total:,} products and {total:,} footprints (not timed)…", flush=True)
    products = [
        Product(company=suppliers[p % SUPPLIERS][0], name=f"Bench product {p}")
        for p in range(products_total)
    ]
    Product.objects.bulk_create(products, batch_size=5000)
    ProductIdentifier.objects.bulk_create(
        [
            ProductIdentifier(
                company=product.company,
                product=product,
                urn=f"urn:pact:bench.example:product:{index}",
            )
            for index, product in enumerate(products)
        ],
        batch_size=5000,
    )
    # Versions of one product are submitted at different times: interleave them so a
    # product's footprints are spread over the key range.
    order = [(p, v) for v in range(VERSIONS) for p in range(products_total)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    footprints: list[Footprint] = []
    by_product: dict[int, list[Footprint]] = {}
    for p, v in order:
        company, key, company_ids = suppliers[p % SUPPLIERS]
        end = start + timedelta(days=365 + v)
        document = valid_footprint(
            id=str(uuid.uuid4()),
            companyName=company.legal_name,
            companyIds=company_ids,
            productIds=[f"urn:pact:bench.example:product:{p}"],
            productNameCompany=f"Bench product {p}",
            status="Deprecated" if v < VERSIONS - 1 else "Active",
            validityPeriodStart=OMIT,
            validityPeriodEnd=OMIT,
            pcf={
                "geographyCountry": COUNTRIES[p % len(COUNTRIES)],
                "referencePeriodStart": _stamp(start),
                "referencePeriodEnd": _stamp(end),
            },
        )
        raw = canonical_bytes(document)
        footprint = Footprint(
            pf_id=uuid.UUID(document["id"]),
            company=company,
            product=products[p],
            canonical_bytes=raw,
            sha256="0" * 64,
            jws="bench-placeholder",
            signing_key=key,
            status=FootprintStatus.DEPRECATED if v < VERSIONS - 1 else FootprintStatus.ACTIVE,
            spec_version=document["specVersion"],
            product_name=document["productNameCompany"],
            declared_unit="kilogram",
            pcf_excluding_biogenic_uptake="11.87",
            reference_period_start=start,
            reference_period_end=end,
            document_created=datetime(2026, 1, 20, tzinfo=UTC),
            channel="api",
        )
        footprints.append(footprint)
        by_product.setdefault(p, []).append(footprint)
    for offset in range(0, len(footprints), 10000):
        copy_insert(footprints[offset : offset + 10000])

    # What the buyer may see: 60% through product grants (all versions), 35% through
    # footprint grants, 5% published to the zone; plus revoked grants it may not use.
    product_ids = list(range(products_total))
    rng.shuffle(product_ids)
    by_product_count = int(visible * 0.60) // VERSIONS
    granted_products = product_ids[:by_product_count]
    rest = product_ids[by_product_count:]
    singles = [by_product[p][rng.randrange(VERSIONS)] for p in rest]
    footprint_grants = singles[: int(visible * 0.35)]
    published = singles[len(footprint_grants) : len(footprint_grants) + int(visible * 0.05)]
    revoked = singles[len(footprint_grants) + len(published) :][:500]
    now = datetime.now(UTC)
    grants = [
        AccessGrant(supplier=products[p].company, buyer=buyer, product=products[p])
        for p in granted_products
    ]
    grants += [
        AccessGrant(supplier=fp.company, buyer=buyer, footprint=fp) for fp in footprint_grants
    ]
    grants += [
        AccessGrant(supplier=fp.company, buyer=buyer, footprint=fp, revoked_at=now)
        for fp in revoked
    ]
    AccessGrant.objects.bulk_create(grants, batch_size=5000)
    ZonePublication.objects.bulk_create(
        [ZonePublication(footprint=fp) for fp in published], batch_size=5000
    )
    visible_ids = {str(fp.pf_id) for p in granted_products for fp in by_product[p]}
    visible_ids |= {str(fp.pf_id) for fp in footprint_grants + published}
    hidden = [str(fp.pf_id) for fp in revoked]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "buyer": buyer,
        "client": (client.client_id, secret),
        "visible": sorted(visible_ids),
        "hidden": hidden,
    }


# ---------------------------------------------------------------------------- measuring


def explain(buyer: Any) -> None:
    """The plans of the two main queries (for profiling)."""
    from django.db import connection

    from exchange.pact_api.pagination import SERVED_FIELDS
    from exchange.selectors import visible_footprints

    page = visible_footprints(buyer).order_by("-pk").only(*SERVED_FIELDS)[:101]
    one = visible_footprints(buyer).filter(pf_id=uuid.uuid4()).only(*SERVED_FIELDS)[:1]
    for title, queryset in (("list page", page), ("one footprint", one)):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            print(f"\n-- plan: {title}")
            for (line,) in cursor.fetchall():
                print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footprints", type=int, default=100_000)
    parser.add_argument("--visible", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=3, help="walks through all pages")
    parser.add_argument("--firsts", type=int, default=200, help="first-page requests")
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a self-signed cert")
    parser.add_argument("--explain", action="store_true", help="print the query plans")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("set DATABASE_URL=postgres://… (the bench uses its own database beside it)")
        return 2
    postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")
    postgres_admin(url, f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DB}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    folder = Path(tempfile.mkdtemp(prefix="carbonx-pact-bench-"))
    os.environ["AUDIT_LOG_KEY_FILE"] = str(folder / "audit-log-key.pem")
    server = None
    try:
        import django

        django.setup()
        import logging

        from django.core.management import call_command

        logging.getLogger("httpx").setLevel(logging.WARNING)

        call_command("migrate", verbosity=0)
        import httpx

        started = time.perf_counter()
        data = make_data(args.footprints, args.visible)
        print(f"data made in {time.perf_counter() - started:.0f} s", flush=True)
        if args.explain:
            explain(data["buyer"])

        port = free_port()
        env = {
            **os.environ,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "KEY_ENCRYPTION_KEYS": "bench:" + "A" * 43 + "=",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_COOKIES": "false",
            "LOG_LEVEL": "WARNING",
            "PACT_ALLOW_HTTP": "false" if args.tls else "true",
            "DATABASE_CONN_MAX_AGE": "600",
        }
        command = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--timeout",
            "300",
            "--no-control-socket",
        ]
        verify: Any = True
        scheme = "http"
        if args.tls:
            sys.path.insert(0, str(ROOT / "scripts"))
            from dev_certificate import main as make_certificate

            make_certificate(str(folder))
            command += [
                "--certfile",
                str(folder / "dev-cert.pem"),
                "--keyfile",
                str(folder / "dev-key.pem"),
                "--worker-class",
                "gthread",
                "--threads",
                "2",
            ]
            import ssl

            verify = ssl.create_default_context(cafile=str(folder / "dev-cert.pem"))
            scheme = "https"
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "server.log", "w"),  # noqa: SIM115
        )
        base = f"{scheme}://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=300, verify=verify) as http:
            for _ in range(150):
                try:
                    http.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = http.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=data["client"]
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            rng = random.Random(7)

            def get(path: str, **params: Any) -> httpx.Response:
                response = http.get(path, params=params or None, headers=auth)
                if response.status_code not in (200, 404):
                    raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
                return response

            for _ in range(20):  # warm up every worker
                get("/3/footprints", limit=100)
                get(f"/3/footprints/{rng.choice(data['visible'])}")
                http.get("/healthz")

            load_before = os.getloadavg()
            health: list[float] = []
            first: list[float] = []
            pages: list[float] = []
            ones: list[float] = []
            filtered: list[float] = []
            by_product: list[float] = []
            no_match: list[float] = []
            hidden: list[float] = []
            seen_ok = True

            def measure(samples: list[float], path: str, **params: Any) -> httpx.Response:
                started = time.perf_counter()
                response = get(path, **params) if path != "/healthz" else http.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                return response

            for round_ in range(max(args.firsts, args.gets, args.pages)):
                if round_ < args.firsts:
                    measure(health, "/healthz")
                    measure(first, "/3/footprints", limit=100)
                    measure(filtered, "/3/footprints", limit=100, geography="DE")
                    if round_ < 20:
                        product = f"urn:pact:bench.example:product:{rng.randrange(1000)}"
                        measure(by_product, "/3/footprints", productId=product)
                        measure(no_match, "/3/footprints", classification="urn:cpc:0")
                    measure(hidden, f"/3/footprints/{rng.choice(data['hidden'])}")
                if round_ < args.gets:
                    pf_id = rng.choice(data["visible"])
                    response = measure(ones, f"/3/footprints/{pf_id}")
                    seen_ok &= response.json()["data"]["id"] == pf_id
                if round_ < args.pages:
                    seen: list[str] = []
                    response = measure(pages, "/3/footprints", limit=100)
                    while True:
                        seen += [d["id"] for d in response.json()["data"]]
                        following = response.links.get("next")
                        if following is None:
                            break
                        response = measure(pages, following["url"])
                    seen_ok &= sorted(seen) == data["visible"]
            load_after = os.getloadavg()

        print()
        print(
            f"PACT host API latency — PostgreSQL, gunicorn {args.workers} worker(s), "
            f"one client, loopback {'HTTPS (self-signed, kept-alive)' if args.tls else 'HTTP'}"
        )
        print(
            f"{args.footprints:,} footprints, {len(data['visible']):,} visible to the client; "
            f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
            f"on {os.cpu_count()} CPU(s)"
        )
        print(f"every visible footprint listed once, gets answered the asked id: {seen_ok}")
        print(f"{'request':<52}{'n':>6}{'median':>10}{'p95':>10}{'max':>10}  target p95")
        rows = [
            ("limit: GET /healthz (no auth, SELECT 1)", health, None),
            ("ListFootprints limit=100, first page", first, 50.0),
            ("ListFootprints limit=100, every page (walks)", pages, 50.0),
            ("GetFootprint, a visible id", ones, 15.0),
            ("(info) ListFootprints limit=100 geography=DE", filtered, None),
            ("(info) ListFootprints productId=<one product>", by_product, None),
            ("(info) ListFootprints classification, no match", no_match, None),
            ("(info) GetFootprint, an id it may not see", hidden, None),
        ]
        for title, samples, target in rows:
            if not samples:
                continue
            median, p95, worst = _percentiles(samples)
            verdict = ""
            if target is not None:
                verdict = f"< {target:.0f} ms " + ("met" if p95 < target else "MISSED")
            print(
                f"{title:<52}{len(samples):>6}{median:>8.1f}ms{p95:>8.1f}ms{worst:>8.1f}ms  "
                f"{verdict}"
            )
        return 0 if seen_ok else 1
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        from django.db import connections

        connections.close_all()
        postgres_admin(url, f"DROP DATABASE IF EXISTS {BENCH_DB}")


if __name__ == "__main__":
    sys.exit(main())
