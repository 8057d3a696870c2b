"""The public audit API: answers verify with trust.merkle, bad parameters get 400s
naming the parameter, and everything is cacheable and in the OpenAPI schema."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from audit import services
from audit.models import Cosignature
from tests.audit.conftest import append
from trust import keys, merkle, note

pytestmark = pytest.mark.django_db
API = "/api/v1/audit"


@pytest.fixture
def client() -> Client:
    return Client()


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_log_key_is_published(client):
    response = client.get(f"{API}/log-key")
    assert response.status_code == 200
    body = response.json()
    assert body["verifier_key"] == services.log_verifier_key()
    assert body["origin"] == "test.carbonx.example/audit-log"
    assert "max-age=3600" in response["Cache-Control"]


def test_latest_checkpoint_404_then_served_with_cosignatures(client):
    assert client.get(f"{API}/checkpoint").status_code == 404
    append(4)
    checkpoint = services.checkpoint_create()
    signer = note.CosignatureSigner("witness.example/w1", keys.generate_private_key())
    services.witness_register(name=signer.name, verifier_key=signer.verifier_key())
    line = signer.cosign(services.checkpoint_text(checkpoint), timestamp=1_700_000_000)
    services.cosignature_submit(size=4, line=line)
    body = client.get(f"{API}/checkpoint").json()
    assert body["size"] == 4
    assert body["note"].endswith(line + "\n")
    assert body["cosignatures"] == [
        {"witness": "witness.example/w1", "signature_line": line, "timestamp": 1_700_000_000}
    ]
    text = note.open_note(
        body["note"], [note.NoteVerifier.from_key_string(services.log_verifier_key())]
    ).text
    assert (
        signer.verifier().verify_line(text, body["cosignatures"][0]["signature_line"])
        == 1_700_000_000
    )


def test_entries_by_range_are_exact_bytes_and_paginated(client):
    entries = append(7)
    response = client.get(f"{API}/entries", {"start": 1, "end": 6, "limit": 2})
    body = response.json()
    assert [e["seq"] for e in body["entries"]] == [1, 2]
    assert _b64(body["entries"][0]["entry"]) == bytes(entries[1].entry_bytes)
    assert body["entries"][0]["entry_hash"] == bytes(entries[1].entry_hash).hex()
    assert "immutable" in response["Cache-Control"]
    seen = [1, 2]
    while body["next"]:
        body = client.get(body["next"]).json()
        seen += [e["seq"] for e in body["entries"]]
    assert seen == [1, 2, 3, 4, 5]
    open_ended = client.get(f"{API}/entries")
    assert [e["seq"] for e in open_ended.json()["entries"]] == list(range(7))
    assert "immutable" not in open_ended["Cache-Control"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"start": -1}, "start"),
        ({"start": "x"}, "start"),
        ({"start": 9}, "start"),
        ({"end": 99}, "end"),
        ({"start": 3, "end": 2}, "end"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
    ],
)
def test_bad_range_parameters_are_named(client, query, param):
    append(3)
    response = client.get(f"{API}/entries", query)
    assert response.status_code == 400
    assert param in response.json()["errors"]
    assert response.json()["message"].startswith(f"{param}:")


def test_inclusion_proofs_verify_against_the_checkpoint_root(client):
    entries = append(13)
    checkpoint = services.checkpoint_create()
    append(3)
    for seq in (0, 5, 12):
        body = client.get(f"{API}/entries/{seq}").json()
        assert body["tree_size"] == 13  # defaults to the latest checkpoint
        assert body["checkpoint"] == checkpoint.note
        merkle.verify_inclusion(
            leaf_hash=merkle.leaf_hash(_b64(body["entry"])),
            index=seq,
            size=13,
            proof=[_b64(p) for p in body["inclusion_proof"]],
            root=bytes(checkpoint.root),
        )
    newer = client.get(f"{API}/entries/14").json()
    assert newer["tree_size"] == 16
    at_size = client.get(f"{API}/entries/2", {"tree_size": 9})
    body = at_size.json()
    assert "immutable" in at_size["Cache-Control"]
    tree = merkle.MemoryTree()
    for entry in entries[:9]:
        tree.append_hash(bytes(entry.entry_hash))
    assert _b64(body["root"]) == tree.root()
    assert [_b64(p) for p in body["inclusion_proof"]] == tree.inclusion_proof(2, 9)


def test_inclusion_proof_parameter_errors(client):
    append(5)
    assert client.get(f"{API}/entries/9").status_code == 404
    response = client.get(f"{API}/entries/3", {"tree_size": 3})
    assert response.status_code == 400 and "tree_size" in response.json()["errors"]
    response = client.get(f"{API}/entries/3", {"tree_size": 6})
    assert response.status_code == 400 and "log size" in response.json()["message"]


def test_consistency_proofs_verify(client):
    append(6)
    old = services.checkpoint_create()
    append(11)
    new = services.checkpoint_create()
    body = client.get(f"{API}/consistency", {"first": 6, "second": 17}).json()
    merkle.verify_consistency(
        old_size=6,
        new_size=17,
        old_root=bytes(old.root),
        new_root=bytes(new.root),
        proof=[_b64(p) for p in body["proof"]],
    )
    for query, param in (
        ({"first": 0, "second": 3}, "first"),
        ({"first": 5, "second": 3}, "first"),
        ({"first": 1, "second": 18}, "second"),
        ({"first": 1}, "second"),
    ):
        response = client.get(f"{API}/consistency", query)
        assert response.status_code == 400 and param in response.json()["errors"], query


def test_cosignature_push_is_verified(client):
    append(2)
    checkpoint = services.checkpoint_create()
    signer = note.CosignatureSigner("witness.example/w2", keys.generate_private_key())
    services.witness_register(name=signer.name, verifier_key=signer.verifier_key())
    text = services.checkpoint_text(checkpoint)
    good = signer.cosign(text, timestamp=1_700_000_001)
    response = client.post(
        f"{API}/cosignatures", {"size": 2, "cosignature": good}, content_type="application/json"
    )
    assert response.status_code == 201
    impostor = note.CosignatureSigner("witness.example/w2", keys.generate_private_key())
    bad = impostor.cosign(text, timestamp=1_700_000_002)
    response = client.post(
        f"{API}/cosignatures", {"size": 2, "cosignature": bad}, content_type="application/json"
    )
    assert response.status_code == 400 and "cosignature" in response.json()["errors"]
    unknown = note.CosignatureSigner("nobody.example/w", keys.generate_private_key()).cosign(
        text, timestamp=1
    )
    response = client.post(
        f"{API}/cosignatures", {"size": 2, "cosignature": unknown}, content_type="application/json"
    )
    assert response.status_code == 400 and "no active witness" in response.json()["message"]
    response = client.post(
        f"{API}/cosignatures", {"size": 9, "cosignature": good}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Cosignature.objects.count() == 1


def test_schema_lists_the_audit_endpoints(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = set(schema["paths"])
    for path in (
        "checkpoint",
        "log-key",
        "entries",
        "entries/{seq}",
        "consistency",
        "cosignatures",
    ):
        assert f"{API}/{path}" in paths, path
    params = {p["name"] for p in schema["paths"][f"{API}/entries"]["get"]["parameters"]}
    assert {"start", "end", "limit"} <= params
