"""`carbonx validate`, `carbonx sign` and `carbonx submit`, called in-process; submit
talks over HTTP to the running platform (pytest-django's live server)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from cli.main import main
from companies import services as company_services
from exchange.models import Footprint
from exchange.signing import parse_signed_footprint, verify_signed_footprint
from tests.exchange.helpers import acme_document
from tests.exchange.pact_examples import valid_footprint
from trust import jcs, keys

COUNTRY_PROBLEM = (
    "/pcf/geographyCountry: must be an ISO 3166-1 alpha-2 country code (e.g. 'CN'), got 'XX'"
)


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False))
    return path


@pytest.fixture
def key_file(tmp_path, capsys) -> tuple[Path, dict]:
    """A key pair made by `carbonx keygen`: the PEM file and the printed public JWK."""
    path = tmp_path / "supplier-key.pem"
    assert main(["keygen", "--out", str(path)]) == 0
    jwk = json.loads(capsys.readouterr().out)
    return path, jwk


# --------------------------------------------------------------------------- validate


def test_validate_a_valid_file(tmp_path, capsys):
    document = valid_footprint()
    path = write_json(tmp_path / "footprint.json", document)

    assert main(["validate", str(path)]) == 0

    digest = hashlib.sha256(jcs.canonicalize(document)).hexdigest()
    assert capsys.readouterr().out == f"{path}: valid (sha256 of canonical form {digest})\n"


def test_validate_an_invalid_file_prints_the_pointers(tmp_path, capsys):
    document = valid_footprint(productDescription="", pcf={"geographyCountry": "XX"})
    del document["productDescription"]
    path = write_json(tmp_path / "footprint.json", document)

    assert main(["validate", str(path)]) == 1

    assert capsys.readouterr().out.splitlines() == [
        f"{path}: INVALID (2 problem(s))",
        f"  {COUNTRY_PROBLEM}",
        "  /productDescription: is required (a ProductFootprint property)",
    ]


def test_validate_an_array_names_the_bad_item(tmp_path, capsys):
    path = write_json(
        tmp_path / "many.json", [valid_footprint(), valid_footprint(pcf={"geographyCountry": "XX"})]
    )
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}[0]: valid")
    assert out[1:] == [f"{path}[1]: INVALID (1 problem(s))", f"  {COUNTRY_PROBLEM}"]


def test_validate_refuses_duplicate_keys(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"id": "a", "id": "b"}')
    with pytest.raises(SystemExit) as caught:
        main(["validate", str(path)])
    assert caught.value.code == f'error: {path}: duplicate key "id" at offset 12 (path $)'


def test_validate_a_missing_file(tmp_path):
    with pytest.raises(SystemExit) as caught:
        main(["validate", str(tmp_path / "nowhere.json")])
    assert (
        caught.value.code
        == f"error: cannot read {tmp_path / 'nowhere.json'}: No such file or directory"
    )


# --------------------------------------------------------------------------- sign


def test_sign_prints_a_jws_the_platform_accepts(tmp_path, capsys, key_file):
    key_path, jwk = key_file
    document = valid_footprint()
    path = write_json(tmp_path / "footprint.json", document)

    assert main(["sign", str(path), "--key", str(key_path)]) == 0

    token = capsys.readouterr().out.strip()
    signed = parse_signed_footprint(token)
    verify_signed_footprint(signed, jwk)
    assert signed.canonical == jcs.canonicalize(document)
    assert signed.kid == keys.jwk_thumbprint(jwk)
    assert signed.document == document


def test_sign_several_files_prints_a_json_array(tmp_path, capsys, key_file):
    key_path, jwk = key_file
    documents = [valid_footprint(id=f"3f6d2a8e-5b1c-4e7f-9a0d-2c8b7e41f5a{n}") for n in range(3)]
    paths = [str(write_json(tmp_path / f"fp{n}.json", d)) for n, d in enumerate(documents)]

    assert main(["sign", *paths, "--key", str(key_path)]) == 0

    items = json.loads(capsys.readouterr().out)
    assert [sorted(item) for item in items] == [["jws"]] * 3
    for item, document in zip(items, documents, strict=True):
        signed = parse_signed_footprint(item["jws"])
        verify_signed_footprint(signed, jwk)
        assert signed.document == document


def test_sign_a_file_holding_an_array(tmp_path, capsys, key_file):
    key_path, _ = key_file
    path = write_json(
        tmp_path / "two.json", [valid_footprint(), valid_footprint(id=str(uuid.uuid4()))]
    )
    assert main(["sign", str(path), "--key", str(key_path)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_sign_writes_to_a_file(tmp_path, capsys, key_file):
    key_path, jwk = key_file
    path = write_json(tmp_path / "footprint.json", valid_footprint())
    out = tmp_path / "signed.json"

    assert main(["sign", str(path), "--key", str(key_path), "--out", str(out), "--array"]) == 0

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"1 footprint(s) signed with {keys.jwk_thumbprint(jwk)} → {out}\n"
    [item] = json.loads(out.read_text())
    verify_signed_footprint(parse_signed_footprint(item["jws"]), jwk)


def test_sign_refuses_an_invalid_document_and_writes_nothing(tmp_path, capsys, key_file):
    key_path, _ = key_file
    good = write_json(tmp_path / "good.json", valid_footprint())
    bad = write_json(tmp_path / "bad.json", valid_footprint(pcf={"geographyCountry": "XX"}))
    out = tmp_path / "signed.json"

    code = main(["sign", str(good), str(bad), "--key", str(key_path), "--out", str(out)])

    assert code == 1
    assert not out.exists()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "error: footprint 1 is not valid PACT v3; nothing signed:",
        f"  {COUNTRY_PROBLEM}",
    ]


def test_sign_with_a_missing_key_file(tmp_path, capsys):
    path = write_json(tmp_path / "footprint.json", valid_footprint())
    assert main(["sign", str(path), "--key", str(tmp_path / "none.pem")]) == 2
    assert "error: cannot read key" in capsys.readouterr().err


# --------------------------------------------------------------------------- submit


@pytest.fixture
def live(live_server, cast, key_file):
    """acme with an API client and the CLI's key registered as its own key."""
    key_path, jwk = key_file
    client, secret = company_services.api_client_create(actor=cast.actor("admin"), name="CLI")
    company_services.signing_key_register(actor=cast.actor("admin"), jwk=jwk, label="cli")
    return {
        "url": live_server.url,
        "client": client,
        "secret": secret,
        "key": key_path,
    }


def submit_args(live, *files: str, secret: str | None = None) -> list[str]:
    return [
        "submit",
        *files,
        "--url",
        live["url"],
        "--client-id",
        live["client"].client_id,
        "--client-secret",
        secret if secret is not None else live["secret"],
    ]


def signed_files(tmp_path, live, capsys, *documents, name: str = "signed") -> str:
    paths = [str(write_json(tmp_path / f"{name}-{n}.json", d)) for n, d in enumerate(documents)]
    out = tmp_path / f"{name}.jws"
    assert main(["sign", *paths, "--key", str(live["key"]), "--out", str(out)]) == 0
    capsys.readouterr()
    return str(out)


@pytest.mark.django_db(transaction=True)
def test_submit_one_footprint(tmp_path, capsys, cast, live):
    document = acme_document(cast)
    path = signed_files(tmp_path, live, capsys, document)

    assert main(submit_args(live, path)) == 0

    footprint = Footprint.objects.get(pf_id=document["id"])
    assert footprint.submitted_by_client == live["client"]
    assert footprint.signing_key.label == "cli"
    assert footprint.platform_signed is False
    assert capsys.readouterr().out == (
        f"{document['id']}: stored (Active, sha256 {footprint.sha256})\n"
    )

    assert main(submit_args(live, path)) == 0  # again: idempotent
    assert capsys.readouterr().out == (
        f"{document['id']}: already stored (Active, sha256 {footprint.sha256})\n"
    )
    assert Footprint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_submit_an_array(tmp_path, capsys, cast, live):
    documents = [acme_document(cast) for _ in range(3)]
    path = signed_files(tmp_path, live, capsys, *documents)

    assert main(submit_args(live, path)) == 0

    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [d["id"] for d in documents]
    assert Footprint.objects.filter(pf_id__in=[d["id"] for d in documents]).count() == 3


@pytest.mark.django_db(transaction=True)
def test_submit_a_bad_footprint_prints_the_pointer_and_stores_nothing(tmp_path, capsys, cast, live):
    document = acme_document(cast, pcf={"geographyCountry": "XX"})
    source = write_json(tmp_path / "bad.json", document)
    signed = tmp_path / "bad.jws"
    assert (
        main(
            ["sign", str(source), "--key", str(live["key"]), "--no-validate", "--out", str(signed)]
        )
        == 0
    )
    capsys.readouterr()

    assert main(submit_args(live, str(signed))) == 1

    assert capsys.readouterr().err.splitlines() == [
        "error: refused (400), nothing stored:",
        f"  {COUNTRY_PROBLEM}",
    ]
    assert not Footprint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_submit_an_array_with_one_bad_item_stores_nothing(tmp_path, capsys, cast, live):
    good = acme_document(cast)
    bad = acme_document(cast, companyName="Somebody Else Ltd.")
    path = signed_files(tmp_path, live, capsys, good, bad)

    assert main(submit_args(live, path)) == 1

    assert capsys.readouterr().err.splitlines() == [
        "error: refused (400), nothing stored:",
        "  /1/companyName: must be the submitting company's legal name 'Acme Lithium Co., Ltd.'",
    ]
    assert not Footprint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_submit_with_a_wrong_secret_fails_at_the_token(tmp_path, capsys, cast, live):
    path = signed_files(tmp_path, live, capsys, acme_document(cast))

    with pytest.raises(SystemExit) as caught:
        main(submit_args(live, path, secret="not-the-secret-at-all"))

    assert caught.value.code != 0
    message = str(caught.value.code)
    assert message.startswith("error: token request refused (401): ")
    assert "invalid_client" in message
    assert not Footprint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_submit_reads_the_secret_from_the_environment(tmp_path, capsys, cast, live, monkeypatch):
    document = acme_document(cast)
    path = signed_files(tmp_path, live, capsys, document)
    monkeypatch.setenv("CARBONX_CLIENT_SECRET", live["secret"])
    argv = ["submit", path, "--url", live["url"], "--client-id", live["client"].client_id]

    assert main(argv) == 0

    assert Footprint.objects.filter(pf_id=document["id"]).exists()


def test_submit_without_a_secret(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CARBONX_CLIENT_SECRET", raising=False)
    path = tmp_path / "x.jws"
    path.write_text("a.b.c")
    argv = ["submit", str(path), "--url", "http://127.0.0.1:9", "--client-id", "x"]
    assert main(argv) == 2
    assert capsys.readouterr().err == "error: give --client-secret or set CARBONX_CLIENT_SECRET\n"


def test_submit_refuses_an_unsigned_document(tmp_path):
    path = write_json(tmp_path / "unsigned.json", valid_footprint())
    argv = [
        "submit",
        str(path),
        "--url",
        "http://127.0.0.1:9",
        "--client-id",
        "x",
        "--client-secret",
        "y",
    ]
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == (
        f'error: {path}[0] is not {{"jws": …}}: sign it first with carbonx sign'
    )
