"""`carbonx keygen`: a private key file only its owner can read, and the public JWK."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main
from trust import keys as trust_keys

CARBONX = Path(sys.executable).parent / "carbonx"


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keygen_writes_a_0600_pem_and_prints_its_public_jwk(tmp_path, capsys):
    path = tmp_path / "signing-key.pem"
    assert main(["keygen", "--out", str(path)]) == 0
    out, err = capsys.readouterr()
    assert file_mode(path) == 0o600
    private = trust_keys.private_key_from_pem(path.read_bytes())
    jwk = json.loads(out)
    assert jwk == trust_keys.public_jwk(private)
    assert "d" not in jwk
    kid = trust_keys.jwk_thumbprint(private)
    assert f"Key id (RFC 7638 thumbprint): {kid}" in err
    assert str(path) in err


def test_keygen_is_0600_even_with_a_permissive_umask(tmp_path, capsys):
    path = tmp_path / "signing-key.pem"
    old = os.umask(0)
    try:
        assert main(["keygen", "--out", str(path)]) == 0
    finally:
        os.umask(old)
    assert file_mode(path) == 0o600


def test_keygen_refuses_to_overwrite_without_force(tmp_path, capsys):
    path = tmp_path / "signing-key.pem"
    path.write_bytes(b"precious")
    assert main(["keygen", "--out", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"error: {path} exists; choose another --out or pass --force" in err
    assert path.read_bytes() == b"precious"


def test_keygen_overwrites_with_force_and_tightens_the_mode(tmp_path, capsys):
    path = tmp_path / "signing-key.pem"
    path.write_bytes(b"old")
    path.chmod(0o644)
    assert main(["keygen", "--out", str(path), "--force"]) == 0
    out, _ = capsys.readouterr()
    private = trust_keys.private_key_from_pem(path.read_bytes())
    assert json.loads(out) == trust_keys.public_jwk(private)
    assert file_mode(path) == 0o600


def test_keygen_json_output(tmp_path, capsys):
    path = tmp_path / "k.pem"
    assert main(["keygen", "--json", "--out", str(path)]) == 0
    out, err = capsys.readouterr()
    body = json.loads(out)
    private = trust_keys.private_key_from_pem(path.read_bytes())
    assert body == {
        "kid": trust_keys.jwk_thumbprint(private),
        "jwk": trust_keys.public_jwk(private),
        "private_key_file": str(path),
    }
    assert err == ""


def test_two_keygens_make_different_keys(tmp_path, capsys):
    main(["keygen", "--json", "--out", str(tmp_path / "a.pem")])
    main(["keygen", "--json", "--out", str(tmp_path / "b.pem")])
    first, second = capsys.readouterr().out.splitlines()
    assert json.loads(first)["kid"] != json.loads(second)["kid"]


def test_carbonx_without_a_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


@pytest.mark.skipif(not CARBONX.exists(), reason="the carbonx console script is not installed")
def test_the_installed_console_script(tmp_path):
    path = tmp_path / "script-key.pem"
    result = subprocess.run(
        [str(CARBONX), "keygen", "--json", "--out", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    private = trust_keys.private_key_from_pem(path.read_bytes())
    assert (
        body["kid"] == trust_keys.jwk_thumbprint(body["jwk"]) == trust_keys.jwk_thumbprint(private)
    )
    assert file_mode(path) == 0o600
    again = subprocess.run(
        [str(CARBONX), "keygen", "--out", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 2
    assert "exists" in again.stderr


def test_force_never_writes_the_key_into_a_readable_file(tmp_path, capsys, monkeypatch):
    path = tmp_path / "signing-key.pem"
    path.write_bytes(b"old")
    path.chmod(0o644)
    real_fdopen = os.fdopen
    modes_when_writing: list[int] = []

    def spying_fdopen(fd, *args, **kwargs):
        modes_when_writing.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", spying_fdopen)
    assert main(["keygen", "--out", str(path), "--force"]) == 0
    assert modes_when_writing == [0o600]
