"""``carbonx verify-log`` and ``carbonx witness``: checking the audit log from outside.

Both trust nothing but a pinned log verifier key (C2SP vkey) and talk to the
platform's public endpoints over HTTP; they use ``trust`` and ``httpx`` only, never
Django.  ``verify-log`` downloads every entry, recomputes the chain and the Merkle
root and compares it with the signed checkpoint; with ``--state`` it also proves the
log only grew since the last run.  ``witness`` keeps the last checkpoint it cosigned
in a local JSON file and cosigns a new one only if a consistency proof shows it
extends that one (pull mode), or answers C2SP tlog-witness ``add-checkpoint``
pushes (serve mode).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from trust import jcs, keys, merkle, note
from trust.encoding import b64_std_decode, b64_std_encode
from trust.errors import TrustError

API_PREFIX = "/api/v1/audit"
ENTRY_FIELDS = ("actor", "company", "payload_sha256", "prev", "seq", "subject", "time", "type")
EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
HTTP_TIMEOUT = 30.0


class LogCheckFailed(Exception):
    """The log (or a checkpoint) does not verify: the exit code is 1."""


class UsageError(Exception):
    """Bad arguments, unreadable files, unreachable server: the exit code is 2."""


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True)
class LogState:
    """The last checkpoint a verifier or witness accepted for one log."""

    origin: str
    size: int
    root: bytes

    @classmethod
    def load(cls, path: Path) -> LogState | None:
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(str(data["origin"]), int(data["size"]), b64_std_decode(data["root"]))
        except (ValueError, KeyError, TypeError, TrustError) as exc:
            raise UsageError(f"state file {path}: unreadable ({exc})") from exc

    def save(self, path: Path, *, checkpoint: str = "") -> None:
        """Write atomically, so a crash never leaves a half-written state."""
        data = {
            "origin": self.origin,
            "size": self.size,
            "root": b64_std_encode(self.root),
            "checkpoint": checkpoint,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)


# ------------------------------------------------------------------------ http helpers


def _get(client: httpx.Client, url: str, **params: Any) -> Any:
    try:
        response = client.get(url, params=params or None)
    except httpx.HTTPError as exc:
        raise UsageError(f"GET {url}: {exc}") from exc
    if response.status_code != 200:
        raise LogCheckFailed(
            f"GET {response.url}: HTTP {response.status_code} {response.text[:300]}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise LogCheckFailed(f"GET {response.url}: not JSON") from exc


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise LogCheckFailed(f"{what}: expected a base64 string")
    try:
        return b64_std_decode(value)
    except TrustError as exc:
        raise LogCheckFailed(f"{what}: {exc.message}") from exc


def fetch_checkpoint(
    client: httpx.Client, base: str, verifier: note.NoteVerifier
) -> tuple[note.Checkpoint, str]:
    """The latest checkpoint, verified against the pinned key (signature, origin)."""
    data = _get(client, f"{base}{API_PREFIX}/checkpoint")
    signed = data.get("note") if isinstance(data, dict) else None
    if not isinstance(signed, str):
        raise LogCheckFailed("checkpoint response has no signed note")
    try:
        text = note.open_note(signed, [verifier]).text
        checkpoint = note.parse_checkpoint(text)
    except TrustError as exc:
        raise LogCheckFailed(
            f"checkpoint does not verify with the pinned log key: {exc.message}"
        ) from exc
    if checkpoint.origin != verifier.name:
        raise LogCheckFailed(
            f"checkpoint origin {checkpoint.origin!r} is not the pinned key's {verifier.name!r}"
        )
    return checkpoint, signed


def fetch_consistency(client: httpx.Client, base: str, first: int, second: int) -> list[bytes]:
    data = _get(client, f"{base}{API_PREFIX}/consistency", first=first, second=second)
    proof = data.get("proof") if isinstance(data, dict) else None
    if not isinstance(proof, list):
        raise LogCheckFailed("consistency response has no proof list")
    return [_b64(p, f"consistency proof element {i}") for i, p in enumerate(proof)]


def check_extends(*, old: LogState | None, new: note.Checkpoint, proof: list[bytes] | None) -> None:
    """Refuse a checkpoint that does not extend ``old``: smaller, same size with
    another root, or a consistency proof that does not verify."""
    if old is None or old.size == 0:
        return
    if old.origin != new.origin:
        raise LogCheckFailed(
            f"checkpoint is for origin {new.origin!r}, state is for {old.origin!r}"
        )
    if new.size < old.size:
        raise LogCheckFailed(
            f"INCONSISTENT LOG: checkpoint size {new.size} is smaller than the {old.size} "
            "already seen (the log was truncated or rolled back)"
        )
    if new.size == old.size:
        if new.root != old.root:
            raise LogCheckFailed(
                f"INCONSISTENT LOG: two different roots for size {new.size} (the log was rewritten)"
            )
        return
    try:
        merkle.verify_consistency(
            old_size=old.size,
            new_size=new.size,
            old_root=old.root,
            new_root=new.root,
            proof=proof or [],
        )
    except TrustError as exc:
        raise LogCheckFailed(
            f"INCONSISTENT LOG: size {new.size} does not extend the size {old.size} seen before "
            f"({exc.message}); the log was rewritten"
        ) from exc


# -------------------------------------------------------------------------- verify-log


def _check_entry(data: bytes, seq: int, prev: bytes) -> None:
    """Strict shape, canonical form, seq and chain link of one entry's bytes."""
    try:
        value = jcs.loads_strict(data)
    except TrustError as exc:
        raise LogCheckFailed(f"seq {seq}: entry is not strict JSON ({exc.message})") from exc
    if not isinstance(value, dict) or tuple(sorted(value)) != ENTRY_FIELDS:
        raise LogCheckFailed(
            f"seq {seq}: entry does not have exactly the fields {list(ENTRY_FIELDS)}"
        )
    if jcs.canonicalize(value) != data:
        raise LogCheckFailed(f"seq {seq}: entry bytes are not RFC 8785 canonical")
    if value["seq"] != seq or isinstance(value["seq"], bool):
        raise LogCheckFailed(f"seq {seq}: entry carries seq {value['seq']!r}")
    if value["prev"] != prev.hex():
        raise LogCheckFailed(f"seq {seq}: prev is not the hash of seq {seq - 1} (chain broken)")


def verify_log_remote(
    client: httpx.Client,
    base: str,
    verifier: note.NoteVerifier,
    old: LogState | None,
    *,
    page_size: int = 1000,
    progress: Callable[[str], None] | None = None,
) -> tuple[LogState, str]:
    """Download and check the whole log against its latest signed checkpoint (and
    ``old``, if given).  Returns the new state and the checkpoint note."""
    checkpoint, signed = fetch_checkpoint(client, base, verifier)
    if old is not None and checkpoint.size < old.size:
        check_extends(old=old, new=checkpoint, proof=None)  # raises
    frontier = merkle.Frontier()
    prev = bytes(32)
    root_at_old: bytes | None = None
    url: str | None = f"{base}{API_PREFIX}/entries"
    params: dict[str, Any] | None = {"start": 0, "end": checkpoint.size, "limit": page_size}
    while frontier.size < checkpoint.size and url:
        page = _get(client, url, **(params or {}))
        entries = page.get("entries") if isinstance(page, dict) else None
        if not isinstance(entries, list) or not entries:
            raise LogCheckFailed(f"seq {frontier.size}: the server returned no entries")
        for item in entries:
            seq = frontier.size
            if not isinstance(item, dict) or item.get("seq") != seq:
                raise LogCheckFailed(f"seq {seq}: missing (got {item.get('seq')!r} instead)")
            data = _b64(item.get("entry"), f"seq {seq}: entry")
            _check_entry(data, seq, prev)
            entry_hash = merkle.leaf_hash(data)
            if item.get("entry_hash") != entry_hash.hex():
                raise LogCheckFailed(f"seq {seq}: served entry_hash is not SHA-256(0x00 || bytes)")
            frontier.append(entry_hash)
            prev = entry_hash
            if old is not None and frontier.size == old.size:
                root_at_old = frontier.root()
            if frontier.size == checkpoint.size:
                break
        url, params = page.get("next"), None
        if progress is not None:
            progress(f"{frontier.size}/{checkpoint.size} entries checked")
    if frontier.size != checkpoint.size:
        raise LogCheckFailed(
            f"seq {frontier.size}: log ends before the checkpoint's {checkpoint.size}"
        )
    if frontier.root() != checkpoint.root:
        raise LogCheckFailed(
            f"the {checkpoint.size} entries served do not hash to the signed checkpoint root"
        )
    if old is not None and old.size > 0:
        if root_at_old != old.root:
            raise LogCheckFailed(
                f"INCONSISTENT LOG: the entries now served give another root at size {old.size} "
                "than the checkpoint seen before (the log was rewritten)"
            )
        proof = fetch_consistency(client, base, old.size, checkpoint.size)
        check_extends(old=old, new=checkpoint, proof=proof)
    return LogState(checkpoint.origin, checkpoint.size, checkpoint.root), signed


def _load_verifier(vkey: str) -> note.NoteVerifier:
    try:
        return note.NoteVerifier.from_key_string(vkey)
    except TrustError as exc:
        raise UsageError(f"--log-key: {exc.message}") from exc


def cmd_verify_log(args: argparse.Namespace) -> int:
    verifier = _load_verifier(args.log_key)
    base = args.url.rstrip("/")
    state_path = Path(args.state) if args.state else None
    old = LogState.load(state_path) if state_path else None
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        new, signed = verify_log_remote(
            client,
            base,
            verifier,
            old,
            page_size=args.page_size,
            progress=None if args.quiet else lambda m: print(m, file=sys.stderr),
        )
    if state_path is not None:
        new.save(state_path, checkpoint=signed)
    print(f"OK: {new.size} entries verified; root {b64_std_encode(new.root)}")
    if old is not None:
        print(f"the log only grew since the last run (size {old.size} -> {new.size})")
    return EXIT_OK


# ----------------------------------------------------------------------------- witness


class Witness:
    """One witness identity watching one log, with its state file.

    ``cosign_if_consistent`` is the whole decision; it holds a lock so that checking
    against the stored state and saving the new one happen as one step (the race
    the C2SP witness protocol warns about).
    """

    def __init__(self, *, name: str, key_file: Path, state_file: Path, log_key: str) -> None:
        try:
            private = keys.private_key_from_pem(key_file.read_bytes())
        except OSError as exc:
            raise UsageError(f"--key {key_file}: {exc}") from exc
        except TrustError as exc:
            raise UsageError(f"--key {key_file}: {exc.message}") from exc
        try:
            self.signer = note.CosignatureSigner(name, private)
        except TrustError as exc:
            raise UsageError(f"--name: {exc.message}") from exc
        self.log_verifier = _load_verifier(log_key)
        self.state_file = state_file
        self._lock = threading.Lock()

    def state(self) -> LogState | None:
        return LogState.load(self.state_file)

    def cosign_if_consistent(
        self,
        checkpoint: note.Checkpoint,
        text: str,
        signed: str,
        proof: list[bytes] | None,
        *,
        old_size: int | None = None,
    ) -> str:
        """Check and cosign; returns the cosignature line.  ``old_size`` (push mode)
        must equal the size this witness last cosigned."""
        with self._lock:
            old = self.state()
            if old_size is not None and old_size != (old.size if old else 0):
                raise WitnessConflict(old.size if old else 0)
            check_extends(old=old, new=checkpoint, proof=proof)
            line = self.signer.cosign(text, timestamp=int(time.time()))
            LogState(checkpoint.origin, checkpoint.size, checkpoint.root).save(
                self.state_file, checkpoint=signed
            )
            return line

    def open_checkpoint(self, signed: str) -> tuple[note.Checkpoint, str]:
        text = note.open_note(signed, [self.log_verifier]).text
        checkpoint = note.parse_checkpoint(text)
        if checkpoint.origin != self.log_verifier.name:
            raise LogCheckFailed(f"unknown origin {checkpoint.origin!r}")
        return checkpoint, text


class WitnessConflict(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(f"old size does not match the last cosigned size {size}")
        self.size = size


def witness_pull(witness: Witness, client: httpx.Client, base: str) -> tuple[int, str]:
    """Fetch the latest checkpoint (and a proof from our last size), cosign it if it
    extends what we saw, and submit the cosignature.  Returns (size, line)."""
    checkpoint, signed = fetch_checkpoint(client, base, witness.log_verifier)
    old = witness.state()
    proof = None
    if old is not None and 0 < old.size < checkpoint.size:
        proof = fetch_consistency(client, base, old.size, checkpoint.size)
    text = note.parse_note(signed)[0]
    line = witness.cosign_if_consistent(checkpoint, text, signed, proof)
    try:
        response = client.post(
            f"{base}{API_PREFIX}/cosignatures", json={"size": checkpoint.size, "cosignature": line}
        )
    except httpx.HTTPError as exc:
        raise UsageError(f"submitting the cosignature: {exc}") from exc
    if response.status_code not in (200, 201):
        raise UsageError(
            "the platform refused the cosignature: "
            f"HTTP {response.status_code} {response.text[:300]}"
        )
    return checkpoint.size, line


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """Split a C2SP add-checkpoint body into old size, proof and signed note.
    Raises ValueError for a malformed body."""
    text = body.decode("utf-8")
    head, sep, signed = text.partition("\n\n")
    if not sep:
        raise ValueError("body has no blank line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    if (
        not first.startswith("old ")
        or not first[4:].isdigit()
        or (first[4:] != "0" and first[4:].startswith("0"))
    ):
        raise ValueError("first line must be 'old <size>'")
    if len(lines) - 1 > 63:
        raise ValueError("more than 63 proof lines")
    proof = [b64_std_decode(line) for line in lines[1:]]
    return int(first[4:]), proof, signed


def add_checkpoint(witness: Witness, body: bytes) -> tuple[int, str, str]:
    """Answer one add-checkpoint request: (HTTP status, content type, body)."""
    try:
        old_size, proof, signed = parse_add_checkpoint(body)
    except (ValueError, UnicodeDecodeError, TrustError) as exc:
        return 400, "text/plain", f"malformed request: {exc}\n"
    try:
        checkpoint, text = witness.open_checkpoint(signed)
    except LogCheckFailed as exc:
        return 404, "text/plain", f"{exc}\n"
    except TrustError as exc:
        return 403, "text/plain", f"checkpoint not signed by the known log key: {exc.message}\n"
    if old_size > checkpoint.size:
        return 400, "text/plain", "old size is larger than the checkpoint size\n"
    if old_size == 0 and proof:
        return 400, "text/plain", "the proof must be empty when old size is 0\n"
    try:
        line = witness.cosign_if_consistent(
            checkpoint, text, signed, proof if old_size else None, old_size=old_size
        )
    except WitnessConflict as exc:
        return 409, "text/x.tlog.size", f"{exc.size}\n"
    except LogCheckFailed as exc:
        status = 409 if checkpoint.size == old_size else 422
        return status, "text/plain", f"{exc}\n"
    return 200, "text/plain", f"{line}\n"


def make_witness_server(witness: Witness, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering ``POST <anything>/add-checkpoint``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if not self.path.rstrip("/").endswith("/add-checkpoint"):
                self._reply(404, "text/plain", "not found\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > 64 * 1024:
                self._reply(413, "text/plain", "request too large\n")
                return
            self._reply(*add_checkpoint(witness, self.rfile.read(length)))

        def _reply(self, status: int, content_type: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"witness: {format % args}\n")

    return ThreadingHTTPServer((host, port), Handler)


def _witness_from(args: argparse.Namespace) -> Witness:
    return Witness(
        name=args.name, key_file=Path(args.key), state_file=Path(args.state), log_key=args.log_key
    )


def cmd_witness_init(args: argparse.Namespace) -> int:
    path = Path(args.key)
    if path.exists():
        private = keys.private_key_from_pem(path.read_bytes())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        private = keys.generate_private_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(keys.private_key_to_pem(private))
    try:
        print(note.CosignatureSigner(args.name, private).verifier_key())
    except TrustError as exc:
        raise UsageError(f"--name: {exc.message}") from exc
    return EXIT_OK


def cmd_witness_pull(args: argparse.Namespace) -> int:
    witness = _witness_from(args)
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        size, line = witness_pull(witness, client, args.url.rstrip("/"))
    print(f"cosigned checkpoint of size {size}")
    print(line)
    return EXIT_OK


def cmd_witness_serve(args: argparse.Namespace) -> int:
    witness = _witness_from(args)
    host, _, port = args.listen.rpartition(":")
    server = make_witness_server(witness, host or "127.0.0.1", int(port))
    print(f"witness {witness.signer.name} listening on {args.listen}", file=sys.stderr)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


# ---------------------------------------------------------------------------- wiring


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Map failures to exit codes with a one-line message on stderr."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except LogCheckFailed as exc:
            print(f"FAILED: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``verify-log`` and ``witness`` to the ``carbonx`` command."""
    verify = subparsers.add_parser(
        "verify-log",
        help="verify the platform's audit log over HTTP against a pinned log key",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("url", help="platform base URL, e.g. https://exchange.example")
    verify.add_argument("--log-key", required=True, help="the log's verifier key (C2SP vkey)")
    verify.add_argument(
        "--state",
        help="JSON file remembering the last verified checkpoint; proves the log only grew",
    )
    verify.add_argument("--page-size", type=int, default=1000, help="entries per request")
    verify.add_argument("--quiet", action="store_true", help="no progress lines")
    verify.set_defaults(func=_guarded(cmd_verify_log))

    witness = subparsers.add_parser("witness", help="cosign audit checkpoints as a witness")
    actions = witness.add_subparsers(dest="witness_action", required=True)

    init = actions.add_parser("init", help="create a witness key and print its verifier key")
    init.add_argument("--name", required=True, help="witness key name, e.g. witness.example/w1")
    init.add_argument("--key", required=True, help="private key file (PEM, created 0600)")
    init.set_defaults(func=_guarded(cmd_witness_init))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", required=True, help="witness key name")
        p.add_argument("--key", required=True, help="witness private key file (PEM)")
        p.add_argument("--state", required=True, help="JSON file with the last cosigned checkpoint")
        p.add_argument("--log-key", required=True, help="the log's verifier key (C2SP vkey)")

    pull = actions.add_parser("pull", help="fetch, check, cosign and submit the latest checkpoint")
    pull.add_argument("url", help="platform base URL")
    common(pull)
    pull.set_defaults(func=_guarded(cmd_witness_pull))

    serve = actions.add_parser("serve", help="answer C2SP tlog-witness add-checkpoint pushes")
    serve.add_argument("--listen", default="127.0.0.1:7380", help="host:port")
    common(serve)
    serve.set_defaults(func=_guarded(cmd_witness_serve))
