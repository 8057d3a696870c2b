"""Helpers the benchmarks share (run as scripts: ``ROOT`` is on ``sys.path``)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit


def postgres_admin(url: str, sql: str) -> None:
    """Run ``sql`` in autocommit on the server of ``url``, connected to the
    ``postgres`` database (CREATE / DROP DATABASE cannot run inside the target)."""
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
