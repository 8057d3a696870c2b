"""``carbonx verify-log`` and ``carbonx witness`` against the running platform
(pytest-django's live server), exercising the real CLI code over HTTP."""

from __future__ import annotations

import argparse
import json
import threading

import pytest

from audit import services
from audit.models import Checkpoint, Cosignature, Witness
from cli import log as cli_log
from tests.audit.conftest import append, tampering

pytestmark = pytest.mark.django_db(transaction=True)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="carbonx")
    cli_log.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def rewrite_history(n: int) -> None:
    """What a malicious operator with database and key access could do: replace
    the whole log by another one and sign a fresh checkpoint over it."""
    with tampering() as cursor:
        for table in (
            "audit_cosignature",
            "audit_checkpoint",
            "audit_auditentry",
            "audit_treenode",
        ):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            "UPDATE audit_loghead SET size = 0, last_hash = %s, frontier = %s", [bytes(32), b""]
        )
    append(n, type="forged.history")
    services.checkpoint_create()


@pytest.fixture
def log_key() -> str:
    return services.log_verifier_key()


def test_verify_log_accepts_an_honest_log_and_remembers_it(live_server, log_key, tmp_path, capsys):
    append(23)
    services.checkpoint_create()
    state = tmp_path / "state.json"
    assert (
        run(
            "verify-log",
            live_server.url,
            "--log-key",
            log_key,
            "--state",
            str(state),
            "--page-size",
            "5",
        )
        == 0
    )
    assert json.loads(state.read_text())["size"] == 23
    append(9)
    services.checkpoint_create()
    assert (
        run("verify-log", live_server.url, "--log-key", log_key, "--state", str(state), "--quiet")
        == 0
    )
    out = capsys.readouterr().out
    assert "only grew" in out and "23 -> 32" in out


def test_verify_log_refuses_another_key(live_server, tmp_path, capsys):
    append(2)
    services.checkpoint_create()
    from trust import keys, note

    other = note.NoteSigner("test.carbonx.example/audit-log", keys.generate_private_key())
    assert run("verify-log", live_server.url, "--log-key", other.verifier_key()) == 1
    assert "pinned log key" in capsys.readouterr().err


def test_verify_log_finds_an_edited_entry(live_server, log_key, capsys):
    append(6)
    services.checkpoint_create()
    with tampering() as cursor:
        cursor.execute("SELECT entry_bytes FROM audit_auditentry WHERE seq = 4")
        edited = bytes(cursor.fetchone()[0]).replace(b"user:alice", b"user:mallo")
        cursor.execute("UPDATE audit_auditentry SET entry_bytes = %s WHERE seq = 4", [edited])
    assert run("verify-log", live_server.url, "--log-key", log_key, "--quiet") == 1
    err = capsys.readouterr().err
    assert "seq 4" in err or "checkpoint root" in err


def test_verify_log_with_state_detects_a_rewritten_log(live_server, log_key, tmp_path, capsys):
    append(8)
    services.checkpoint_create()
    state = tmp_path / "state.json"
    assert (
        run("verify-log", live_server.url, "--log-key", log_key, "--state", str(state), "--quiet")
        == 0
    )
    rewrite_history(10)  # longer, validly signed, but not an extension
    assert (
        run("verify-log", live_server.url, "--log-key", log_key, "--quiet") == 0
    )  # alone it looks fine
    assert (
        run("verify-log", live_server.url, "--log-key", log_key, "--state", str(state), "--quiet")
        == 1
    )
    assert "INCONSISTENT LOG" in capsys.readouterr().err
    assert json.loads(state.read_text())["size"] == 8  # the state is not overwritten


def _witness_args(tmp_path, log_key: str, name: str = "witness.example/w1") -> list[str]:
    return [
        "--name",
        name,
        "--key",
        str(tmp_path / "w.pem"),
        "--state",
        str(tmp_path / "w.json"),
        "--log-key",
        log_key,
    ]


def _init_witness(tmp_path, capsys, name: str = "witness.example/w1", url: str = "") -> Witness:
    assert run("witness", "init", "--name", name, "--key", str(tmp_path / "w.pem")) == 0
    vkey = capsys.readouterr().out.strip()
    return services.witness_register(name=name, verifier_key=vkey, url=url)


def test_witness_pull_cosigns_consistent_growth_and_refuses_a_rewrite(
    live_server, log_key, tmp_path, capsys
):
    witness = _init_witness(tmp_path, capsys)
    append(5)
    services.checkpoint_create()
    assert run("witness", "pull", live_server.url, *_witness_args(tmp_path, log_key)) == 0
    append(7)
    services.checkpoint_create()
    assert run("witness", "pull", live_server.url, *_witness_args(tmp_path, log_key)) == 0
    assert sorted(Cosignature.objects.values_list("checkpoint__size", flat=True)) == [5, 12]
    witness.refresh_from_db()
    assert witness.last_cosigned_size == 12
    served = live_server.url + "/api/v1/audit/checkpoint"
    import httpx

    assert "— witness.example/w1 " in httpx.get(served).json()["note"]

    rewrite_history(15)
    capsys.readouterr()
    assert run("witness", "pull", live_server.url, *_witness_args(tmp_path, log_key)) == 1
    assert "INCONSISTENT LOG" in capsys.readouterr().err
    assert Cosignature.objects.count() == 0  # nothing cosigned for the forged log
    assert json.loads((tmp_path / "w.json").read_text())["size"] == 12


def test_witness_refuses_a_shrunken_log(live_server, log_key, tmp_path, capsys):
    _init_witness(tmp_path, capsys)
    append(6)
    services.checkpoint_create()
    assert run("witness", "pull", live_server.url, *_witness_args(tmp_path, log_key)) == 0
    rewrite_history(3)
    assert run("witness", "pull", live_server.url, *_witness_args(tmp_path, log_key)) == 1
    assert "smaller" in capsys.readouterr().err


@pytest.fixture
def witness_server(tmp_path, log_key, capsys):
    """A `carbonx witness serve` instance in a thread; yields (Witness row, server)."""
    run("witness", "init", "--name", "witness.example/push", "--key", str(tmp_path / "w.pem"))
    vkey = capsys.readouterr().out.strip()
    identity = cli_log.Witness(
        name="witness.example/push",
        key_file=tmp_path / "w.pem",
        state_file=tmp_path / "w.json",
        log_key=log_key,
    )
    server = cli_log.make_witness_server(identity, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    row = services.witness_register(
        name="witness.example/push",
        verifier_key=vkey,
        url=f"http://127.0.0.1:{server.server_port}/",
    )
    yield row, server
    server.shutdown()
    server.server_close()


def test_platform_pushes_checkpoints_to_a_witness(witness_server):
    row, _server = witness_server
    append(4)
    services.checkpoint_create()  # on commit: the task posts add-checkpoint (eager Celery)
    append(9)
    services.checkpoint_create()
    row.refresh_from_db()
    assert row.last_cosigned_size == 13, row.last_error
    assert sorted(Cosignature.objects.values_list("checkpoint__size", flat=True)) == [4, 13]


def test_witness_server_answers_the_c2sp_status_codes(witness_server):
    import httpx

    from audit.tasks import add_checkpoint_body

    row, server = witness_server
    append(3)
    services.checkpoint_create()
    append(2)
    checkpoint = services.checkpoint_create()  # pushed: the witness is now at 5
    url = f"http://127.0.0.1:{server.server_port}/add-checkpoint"

    stale = httpx.post(url, content=add_checkpoint_body(old_size=0, proof=[], note=checkpoint.note))
    assert (stale.status_code, stale.headers["content-type"], stale.text) == (
        409,
        "text/x.tlog.size",
        "5\n",
    )
    unsigned = checkpoint.note.replace("\n5\n", "\n6\n")
    assert (
        httpx.post(
            url, content=add_checkpoint_body(old_size=5, proof=[], note=unsigned)
        ).status_code
        == 403
    )
    assert httpx.post(url, content=b"hello").status_code == 400

    rewrite_history(7)  # the platform pushes the forged checkpoint itself: refused
    row.refresh_from_db()
    assert row.last_cosigned_size == 5
    assert "HTTP 422" in row.last_error
    forged = Checkpoint.objects.get()
    body = add_checkpoint_body(old_size=5, proof=[bytes(32)], note=forged.note)
    assert httpx.post(url, content=body).status_code == 422
    assert Cosignature.objects.count() == 0
