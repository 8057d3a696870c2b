"""`carbonx verify-credential`, called in-process: files given on the command line, or
fetched through an httpx.MockTransport (never the network).

Exit codes: 0 valid now, 1 invalid or forged, 2 usage, 3 authentic but revoked,
expired, not yet valid or with an unchecked status.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli import credentials as cli_credentials
from cli.main import main
from tests.trust.test_vc import DIGEST, FOOTPRINT_ID, LIST_URL, PLATFORM, VERIFIER, World
from trust.dataintegrity import ProofOptions, add_proof
from trust.did import did_web
from trust.keys import generate_private_key
from trust.multibase import ed25519_multikey
from trust.statuslist import status_entry


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value, indent=2))
    return str(path)


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def files(world, tmp_path):
    """The credential, both DID documents and the status list as files."""

    def make(credential: dict[str, Any] | None = None) -> dict[str, str]:
        return {
            "credential": write_json(
                tmp_path / "attestation.json", credential or world.credential()
            ),
            "verifier": write_json(tmp_path / "verifier-did.json", world.documents[VERIFIER]),
            "platform": write_json(tmp_path / "platform-did.json", world.documents[PLATFORM]),
            "list": write_json(tmp_path / "status-1.json", world.lists[LIST_URL]),
        }

    return make


def offline_args(paths: dict[str, str], *extra: str) -> list[str]:
    return [
        "verify-credential",
        paths["credential"],
        "--did-document",
        paths["verifier"],
        "--did-document",
        paths["platform"],
        "--status-list",
        paths["list"],
        "--offline",
        "--now",
        "2025-06-01T00:00:00Z",
        *extra,
    ]


@pytest.fixture
def no_network(monkeypatch):
    def refuse() -> httpx.Client:
        raise AssertionError("the command tried to use the network")

    monkeypatch.setattr(cli_credentials, "make_client", refuse)


# --------------------------------------------------------------------------- offline, files


def test_valid_attestation_offline(world, files, capsys, no_network):
    paths = files()
    assert main(offline_args(paths)) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.splitlines() == [
        f"{paths['credential']}: valid now",
        f"  issuer:      {VERIFIER}",
        f"  signed with: {world.verifier.method} (proof created 2025-01-01T00:00:00Z)",
        "  credential:  urn:uuid:0b0c5a1e-32a8-4d4f-8d5c-1f6a3b9e7d21",
        f"  footprint:   {FOOTPRINT_ID}",
        f"  digest:      {DIGEST}",
        "  validity:    from 2025-01-01T00:00:00Z until 2027-01-01T00:00:00Z"
        " (checked at 2025-06-01T00:00:00Z)",
        f"  status:      revocation: not revoked ({LIST_URL}, index 42, list signed by {PLATFORM})",
    ]


def test_revoked_exits_3_and_says_so(world, files, capsys, no_network):
    world.publish_list(LIST_URL, revoked=[42])
    paths = files()
    assert main(offline_args(paths)) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{paths['credential']}: signature valid, but NOT valid now"
    assert out[1] == f"  reason:      revoked: bit 42 of {LIST_URL} is set"
    assert (
        f"  status:      revocation: revoked ({LIST_URL}, index 42, list signed by {PLATFORM})"
        in (out)
    )


def test_expired_exits_3(world, files, capsys, no_network):
    paths = files()
    args = offline_args(paths)
    args[args.index("--now") + 1] = "2027-01-02T00:00:00Z"
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "reason:      expired: validUntil was 2027-01-01T00:00:00Z" in out
    # The list itself expired in 2026: that is reported too, not hidden.
    assert "reason:      status not checked: the status list is expired at" in out


def test_not_yet_valid_exits_3(world, files, capsys, no_network):
    paths = files(world.credential(validFrom="2025-07-01T00:00:00Z"))
    assert main(offline_args(paths)) == 3
    assert "not yet valid: validFrom is 2025-07-01T00:00:00Z" in capsys.readouterr().out


def test_tampered_attestation_exits_1(world, files, capsys, no_network):
    credential = world.credential()
    credential["credentialSubject"]["footprintDigest"] = "sha256:" + "00" * 32
    paths = files(credential)
    assert main(offline_args(paths)) == 1
    out = capsys.readouterr()
    assert out.out == f"{paths['credential']}: INVALID\n"
    assert out.err.startswith("error: proof.proofValue: signature does not verify")


def test_tampered_status_list_exits_1(world, files, capsys, no_network):
    world.lists[LIST_URL]["validUntil"] = "2030-01-01T00:00:00Z"
    assert main(offline_args(files())) == 1
    assert f"error: status list credential {LIST_URL}: proof.proofValue" in capsys.readouterr().err


def test_method_of_another_did_exits_1(world, files, capsys, no_network):
    paths = files(world.platform.sign(world.unsigned()))
    assert main(offline_args(paths)) == 1
    assert f"is not a key of the issuer {VERIFIER}" in capsys.readouterr().err


def test_offline_without_status_list_reports_status_not_checked(world, files, capsys, no_network):
    paths = files()
    args = offline_args(paths)
    del args[args.index("--status-list") : args.index("--status-list") + 2]
    assert main(args) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("signature valid, but NOT valid now")
    assert out[1] == (
        f"  reason:      status not checked: status list {LIST_URL} was not given with"
        " --status-list, and --offline forbids fetching it"
    )


def test_offline_without_did_document_exits_1(world, files, capsys, no_network):
    paths = files()
    args = offline_args(paths)
    del args[args.index("--did-document") : args.index("--did-document") + 2]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        f"error: DID document of {VERIFIER}: not given with --did-document, and --offline"
        " forbids fetching it\n"
    )


def test_did_key_issuer_needs_no_document(capsys, tmp_path, no_network):
    key = generate_private_key()
    did = f"did:key:{ed25519_multikey(key)}"
    credential = add_proof(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "issuer": did,
            "credentialSubject": {"footprintId": FOOTPRINT_ID},
        },
        key,
        ProofOptions(verification_method=f"{did}#{ed25519_multikey(key)}"),
    )
    path = write_json(tmp_path / "c.json", credential)
    assert main(["verify-credential", path, "--offline"]) == 0
    assert "no credentialStatus" in capsys.readouterr().out


# --------------------------------------------------------------------------- --json


def test_json_report_when_valid(world, files, capsys, no_network):
    paths = files()
    assert main(offline_args(paths, "--json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["file"] == paths["credential"]
    assert (report["result"], report["exitCode"], report["validNow"]) == ("valid", 0, True)
    assert report["issuer"] == VERIFIER
    assert report["credentialSubject"]["footprintDigest"] == DIGEST
    assert report["revoked"] is False and report["expired"] is False
    assert report["status"] == [
        {
            "statusPurpose": "revocation",
            "statusListCredential": LIST_URL,
            "statusListIndex": 42,
            "set": False,
            "listIssuer": PLATFORM,
            "note": None,
        }
    ]
    assert report["reasons"] == []


def test_json_report_when_revoked(world, files, capsys, no_network):
    world.publish_list(LIST_URL, revoked=[42])
    assert main(offline_args(files(), "--json")) == 3
    report = json.loads(capsys.readouterr().out)
    assert (report["result"], report["exitCode"], report["revoked"]) == ("not_valid_now", 3, True)
    assert report["reasons"] == [f"revoked: bit 42 of {LIST_URL} is set"]


def test_json_report_when_invalid(world, files, capsys, no_network):
    credential = world.credential()
    credential["issuer"] = "https://verifier.example"
    assert main(offline_args(files(credential), "--json")) == 1
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["result"] == "invalid" and report["exitCode"] == 1
    assert report["error"]["code"] == "credential_issuer"
    assert report["error"]["message"].startswith("issuer: the issuer must be a DID")
    assert out.err.startswith("error: issuer:")


# --------------------------------------------------------------------------- usage


def test_usage_errors_exit_2(files, tmp_path, capsys, no_network):
    paths = files()
    args = offline_args(paths)
    args[args.index("--now") + 1] = "yesterday"
    assert main(args) == 2
    assert "error: --now: 'yesterday' is not an XML Schema dateTimeStamp" in capsys.readouterr().err

    assert main(["verify-credential", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err

    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["verify-credential", paths["credential"], "--did-document", str(broken)]) == 2
    assert f"error: --did-document {broken}: not strict JSON" in capsys.readouterr().err

    assert (
        main(
            [
                "verify-credential",
                paths["credential"],
                "--status-list",
                paths["list"],
                "--status-list",
                write_json(tmp_path / "other.json", {"id": LIST_URL}),
            ]
        )
        == 2
    )
    assert f"a different document for {LIST_URL}" in capsys.readouterr().err

    with pytest.raises(SystemExit) as caught:
        main(["verify-credential"])
    assert caught.value.code == 2


def test_a_file_that_is_not_a_credential_exits_1(tmp_path, capsys, no_network):
    path = tmp_path / "c.json"
    path.write_text('{"a": 1, "a": 2}')
    assert main(["verify-credential", str(path), "--offline"]) == 1
    assert "duplicate" in capsys.readouterr().err.lower()
    path.write_text("[]")
    assert main(["verify-credential", str(path), "--offline"]) == 1
    assert "not a credential object" in capsys.readouterr().err


# --------------------------------------------------------------------------- fetching


class Server:
    """Serves DID documents and status lists through an httpx.MockTransport."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        route = self.routes.get(url)
        if route is None:
            return httpx.Response(404, text="not found")
        if isinstance(route, httpx.Response):
            return route
        return httpx.Response(200, json=route)

    def install(self, monkeypatch) -> None:
        monkeypatch.setattr(
            cli_credentials,
            "make_client",
            lambda: httpx.Client(transport=httpx.MockTransport(self.handler)),
        )


def platform_routes(world: World) -> dict[str, Any]:
    return {
        "https://exchange.example/companies/verifier/did.json": world.documents[VERIFIER],
        "https://exchange.example/.well-known/did.json": world.documents[PLATFORM],
        LIST_URL: world.lists[LIST_URL],
    }


def fetch_args(path: str, *extra: str) -> list[str]:
    return ["verify-credential", path, "--now", "2025-06-01T00:00:00Z", *extra]


def test_fetches_did_documents_and_status_list(world, tmp_path, capsys, monkeypatch):
    server = Server(platform_routes(world))
    server.install(monkeypatch)
    path = write_json(tmp_path / "c.json", world.credential())
    assert main(fetch_args(path)) == 0
    assert "valid now" in capsys.readouterr().out
    assert sorted(server.requests) == sorted(platform_routes(world))


def test_supplied_files_are_used_before_fetching(world, files, capsys, monkeypatch):
    server = Server(platform_routes(world))
    server.install(monkeypatch)
    paths = files()
    assert main(fetch_args(paths["credential"], "--status-list", paths["list"])) == 0
    assert LIST_URL not in server.requests


def test_status_list_not_found_exits_3(world, tmp_path, capsys, monkeypatch):
    routes = platform_routes(world)
    del routes[LIST_URL]
    Server(routes).install(monkeypatch)
    assert main(fetch_args(write_json(tmp_path / "c.json", world.credential()))) == 3
    assert f"status not checked: status list {LIST_URL}: GET {LIST_URL}: HTTP 404" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("response", "fragment"),
    [
        (httpx.Response(500), "HTTP 500"),
        (
            httpx.Response(302, headers={"Location": "https://evil.example/did.json"}),
            "HTTP 302 (redirects are not followed)",
        ),
        (httpx.Response(200, text="<html>"), "did not return strict JSON"),
    ],
)
def test_did_document_fetch_failures_exit_1(
    world, tmp_path, capsys, monkeypatch, response, fragment
):
    routes = platform_routes(world)
    routes["https://exchange.example/companies/verifier/did.json"] = response
    Server(routes).install(monkeypatch)
    assert main(fetch_args(write_json(tmp_path / "c.json", world.credential()))) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: DID document of {VERIFIER}: ")
    assert fragment in err


def test_oversized_documents_are_refused(world, tmp_path, capsys, monkeypatch):
    Server(platform_routes(world)).install(monkeypatch)
    monkeypatch.setattr(cli_credentials, "MAX_DID_DOCUMENT_BYTES", 100)
    assert main(fetch_args(write_json(tmp_path / "c.json", world.credential()))) == 1
    assert "over the 100 limit" in capsys.readouterr().err


def test_network_errors_are_reported(world, tmp_path, capsys, monkeypatch):
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(
        cli_credentials, "make_client", lambda: httpx.Client(transport=httpx.MockTransport(fail))
    )
    assert main(fetch_args(write_json(tmp_path / "c.json", world.credential()))) == 1
    assert "ConnectError: connection refused" in capsys.readouterr().err


def test_http_only_for_loopback_when_allowed(tmp_path, capsys, monkeypatch):
    world = World()
    local_verifier = did_web("127.0.0.1:8000", "companies", "verifier")
    local_platform = did_web("127.0.0.1:8000")
    world.verifier.did, world.platform.did = local_verifier, local_platform
    world.documents = {
        local_verifier: world.verifier.document,
        local_platform: world.platform.document,
    }
    list_url = "http://127.0.0.1:8000/credentials/status/1"
    world.publish_list(list_url, revoked=[])
    credential = world.credential(issuer=local_verifier, credentialStatus=status_entry(list_url, 1))
    server = Server(
        {
            "http://127.0.0.1:8000/companies/verifier/did.json": world.documents[local_verifier],
            "http://127.0.0.1:8000/.well-known/did.json": world.documents[local_platform],
            list_url: world.lists[list_url],
        }
    )
    server.install(monkeypatch)
    path = write_json(tmp_path / "c.json", credential)

    assert main(fetch_args(path, "--allow-http-loopback")) == 0
    assert server.requests == [
        "http://127.0.0.1:8000/companies/verifier/did.json",
        list_url,
        "http://127.0.0.1:8000/.well-known/did.json",
    ]
    capsys.readouterr()

    # Without the flag the DID document is looked for over HTTPS only.
    server.requests.clear()
    assert main(fetch_args(path)) == 1
    assert server.requests == ["https://127.0.0.1:8000/companies/verifier/did.json"]
    assert "HTTP 404" in capsys.readouterr().err


def test_plain_http_status_list_is_not_fetched_for_other_hosts(
    world, tmp_path, capsys, monkeypatch
):
    server = Server(platform_routes(world))
    server.install(monkeypatch)
    url = "http://exchange.example/credentials/status/1"
    credential = world.credential(credentialStatus=status_entry(url, 1))
    path = write_json(tmp_path / "c.json", credential)
    assert main(fetch_args(path, "--allow-http-loopback")) == 3
    assert f"status list {url}: only https:// is fetched" in capsys.readouterr().out
    assert url not in server.requests
