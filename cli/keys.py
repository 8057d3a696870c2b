"""`carbonx keygen`: make an Ed25519 key pair for signing footprints."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from trust import keys as trust_keys


def keygen(args: argparse.Namespace) -> int:
    path = Path(args.out)
    if os.path.lexists(path) and not args.force:
        print(f"error: {path} exists; choose another --out or pass --force", file=sys.stderr)
        return 2
    private_key = trust_keys.generate_private_key()
    pem = trust_keys.private_key_to_pem(private_key)
    # A new file created 0600 (O_EXCL): the private key is never in a readable file, even
    # when --force replaces one that had looser permissions.
    if os.path.lexists(path):  # also a dangling symlink: replace the link, not its target
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    public = trust_keys.public_jwk(private_key)
    kid = trust_keys.jwk_thumbprint(public)
    if args.json:
        print(json.dumps({"kid": kid, "jwk": public, "private_key_file": str(path)}))
    else:
        print(f"Private key written to {path} (keep it secret, mode 0600).", file=sys.stderr)
        print(f"Key id (RFC 7638 thumbprint): {kid}", file=sys.stderr)
        print("Public JWK to register with the exchange:", file=sys.stderr)
        print(json.dumps(public))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="create an Ed25519 private key file and print the public JWK",
        description="Create an Ed25519 key pair. The private key is written as PKCS#8 PEM "
        "(mode 0600); the public JWK is printed for registration in the portal or API.",
    )
    parser.add_argument("--out", default="carbonx-signing-key.pem", help="private key file")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--json", action="store_true", help="print kid, JWK and path as JSON")
    parser.set_defaults(func=keygen)
