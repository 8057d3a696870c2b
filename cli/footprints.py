"""`carbonx validate`, `carbonx sign` and `carbonx submit`: footprints from a supplier's
own system, signed with its own key, checked with the same rules as the server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from exchange.pact.validation import validate_product_footprint
from exchange.signing import FOOTPRINT_JWS_TYPE, SignatureProblem, canonical_bytes, sign_footprint
from trust import jcs, keys
from trust.encoding import sha256
from trust.errors import TrustError


def _load_json(path: str) -> Any:
    try:
        return jcs.loads_strict(Path(path).read_bytes())
    except OSError as exc:
        raise SystemExit(f"error: cannot read {path}: {exc.strerror}") from exc
    except TrustError as exc:
        raise SystemExit(f"error: {path}: {exc}") from exc


def _documents(path: str) -> list[Any]:
    """A file holds one footprint or a JSON array of footprints."""
    value = _load_json(path)
    return value if isinstance(value, list) else [value]


def validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        value = _load_json(path)
        documents = value if isinstance(value, list) else [value]
        for index, document in enumerate(documents):
            where = f"{path}[{index}]" if isinstance(value, list) else path
            problems = validate_product_footprint(document)
            if problems:
                failed += 1
                print(f"{where}: INVALID ({len(problems)} problem(s))")
                for problem in problems:
                    print(f"  {problem}")
            else:
                digest = sha256(canonical_bytes(document)).hex()
                print(f"{where}: valid (sha256 of canonical form {digest})")
    return 1 if failed else 0


def sign(args: argparse.Namespace) -> int:
    try:
        private_key = keys.private_key_from_pem(Path(args.key).read_bytes())
    except OSError as exc:
        print(f"error: cannot read key {args.key}: {exc.strerror}", file=sys.stderr)
        return 2
    documents = [doc for path in args.files for doc in _documents(path)]
    tokens = []
    for index, document in enumerate(documents):
        if not args.no_validate:
            problems = validate_product_footprint(document)
            if problems:
                print(
                    f"error: footprint {index} is not valid PACT v3; nothing signed:",
                    file=sys.stderr,
                )
                for problem in problems:
                    print(f"  {problem}", file=sys.stderr)
                return 1
        try:
            tokens.append(sign_footprint(document, private_key))
        except SignatureProblem as exc:
            print(f"error: footprint {index}: {exc}", file=sys.stderr)
            return 1
    if len(tokens) == 1 and not args.array:
        output = tokens[0] + "\n"
    else:
        output = json.dumps([{"jws": token} for token in tokens], indent=1) + "\n"
    if args.out:
        Path(args.out).write_text(output)
        kid = keys.jwk_thumbprint(private_key.public_key())
        print(f"{len(tokens)} footprint(s) signed with {kid} → {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(output)
    return 0


def _signed_items(path: str) -> list[dict[str, Any]]:
    """A .jws file (one compact JWS), or JSON: {"jws": …}, or an array of those."""
    text = Path(path).read_text().strip()
    if text.count(".") == 2 and not text.startswith(("{", "[")):
        return [{"jws": text}]
    value = _load_json(path)
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "jws" not in item:
            raise SystemExit(
                f'error: {path}[{index}] is not {{"jws": …}}: sign it first with carbonx sign'
            )
    return items


def _token(client: httpx.Client, base: str, client_id: str, secret: str) -> str:
    response = client.post(
        f"{base}/o/token/", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    if response.status_code != 200:
        raise SystemExit(
            f"error: token request refused ({response.status_code}): {response.text[:300]}"
        )
    return str(response.json()["access_token"])


def _print_errors(body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("errors"), dict):
        for field, messages in body["errors"].items():
            for message in messages:
                print(f"  {field}: {message}", file=sys.stderr)
    else:
        print(f"  {json.dumps(body)[:1000]}", file=sys.stderr)


def submit(args: argparse.Namespace) -> int:
    if not args.client_secret:
        print("error: give --client-secret or set CARBONX_CLIENT_SECRET", file=sys.stderr)
        return 2
    items = [item for path in args.files for item in _signed_items(path)]
    base = args.url.rstrip("/")
    with httpx.Client(timeout=args.timeout, verify=not args.insecure) as client:
        headers = {
            "Authorization": f"Bearer {_token(client, base, args.client_id, args.client_secret)}"
        }
        if len(items) == 1:
            response = client.post(f"{base}/api/v1/footprints", json=items[0], headers=headers)
        else:
            response = client.post(f"{base}/api/v1/footprints/batch", json=items, headers=headers)
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if response.status_code not in (200, 201):
        print(f"error: refused ({response.status_code}), nothing stored:", file=sys.stderr)
        _print_errors(body)
        return 1
    results = body if isinstance(body, list) else [body]
    for result in results:
        created = result.get("created", response.status_code == 201)
        state = "stored" if created else "already stored"
        print(f"{result['id']}: {state} ({result['status']}, sha256 {result['sha256']})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate", help="check footprint JSON files against the PACT v3 rules, offline"
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.set_defaults(func=validate)

    parser = subparsers.add_parser(
        "sign",
        help="sign footprints with your Ed25519 key (JWS over the RFC 8785 bytes)",
        description=f"Sign footprint JSON files. One footprint prints a compact JWS (typ "
        f'{FOOTPRINT_JWS_TYPE}); several (or --array) print a JSON array of {{"jws": …}} '
        "objects, which `carbonx submit` and the bulk upload accept.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--key", required=True, help="private key PEM (from carbonx keygen)")
    parser.add_argument("--out", help="write to this file instead of standard output")
    parser.add_argument("--array", action="store_true", help="always write a JSON array")
    parser.add_argument("--no-validate", action="store_true", help="sign without checking")
    parser.set_defaults(func=sign)

    parser = subparsers.add_parser(
        "submit", help="submit signed footprints to the exchange with an API client"
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help=".jws or signed .json files")
    parser.add_argument("--url", required=True, help="the exchange, e.g. https://exchange.example")
    parser.add_argument("--client-id", required=True)
    parser.add_argument(
        "--client-secret",
        default=os.environ.get("CARBONX_CLIENT_SECRET"),
        help="or set CARBONX_CLIENT_SECRET (keeps it out of the process list)",
    )
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS (testing only)")
    parser.set_defaults(func=submit)
