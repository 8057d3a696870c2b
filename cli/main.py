"""Entry point of the `carbonx` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from trust.errors import TrustError


def build_parser() -> argparse.ArgumentParser:
    from cli import bundle, credentials, footprints, keys, log

    parser = argparse.ArgumentParser(
        prog="carbonx", description="Tools for the regional carbon-data exchange."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    keys.register(subparsers)
    footprints.register(subparsers)
    log.register(subparsers)
    credentials.register(subparsers)
    bundle.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except TrustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
