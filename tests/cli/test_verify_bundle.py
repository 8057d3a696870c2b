"""`carbonx verify-bundle`, called in-process on real bundles from the API: a bundle as
served verifies; every part tampered with (footprint bytes, JWS, credential, audit
entry, payload, proof, checkpoint, DID document key, status list) is caught and said;
keys swapped and re-signed are caught by the log; revoked, expired or missing
attestations exit 3; witness cosignatures are checked when pinned.

Exit codes: 0 all good, 1 forged or broken, 2 usage, 3 genuine but no attestation
in force.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from audit.models import Checkpoint
from audit.services import checkpoint_text, cosignature_record, log_verifier_key, witness_register
from cli.main import main
from exchange import sharing
from exchange.signing import sign_footprint
from tests.sharing.helpers import attested, bundle_of, session, verifiers_of, write_bundle
from trust import jcs, keys, note
from trust.dataintegrity import ProofOptions, add_proof
from trust.encoding import b64_std_decode, b64_std_encode
from trust.multibase import ed25519_multikey
from verification import services
from verification.models import Attestation, EngagementState

pytestmark = pytest.mark.django_db

Bundle = dict[str, Any]


@pytest.fixture(autouse=True)
def log_key_file(settings, tmp_path):
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")
    settings.AUDIT_LOG_ORIGIN = "test.carbonx.example/audit-log"


def buyers_bundle(cast) -> Bundle:
    """The bundle as the granted buyer downloads it."""
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", footprint_id=str(cast.footprint.pf_id)
    )
    return bundle_of(session(cast.outsider), cast.footprint.pf_id)


@pytest.fixture
def bundle(cast) -> Bundle:
    attested(cast)
    return buyers_bundle(cast)


@pytest.fixture
def verify(tmp_path, capsys):
    """Run the command on a bundle; returns (exit code, stdout, stderr)."""

    def run(bundle: Bundle, *extra: str, log_key: str | None = None) -> tuple[int, str, str]:
        path = write_bundle(tmp_path / "bundle.json", bundle)
        code = main(["verify-bundle", path, "--log-key", log_key or log_verifier_key(), *extra])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def fail_lines(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("FAIL")]


def problems(out: str) -> str:
    """The FAIL lines as "section: message", one a line."""
    section, said = "", []
    for line in out.splitlines()[1:]:
        if not line.startswith("  "):
            section = line
        elif line.strip().startswith("FAIL"):
            said.append(f"{section}: {line.strip().removeprefix('FAIL').strip()}")
    return "\n".join(said)


# ------------------------------------------------------------------------- good bundle


def test_a_bundle_from_the_api_verifies(cast, bundle, verify):
    code, out, err = verify(bundle)
    assert code == 0, out
    assert err == ""
    lines = out.splitlines()
    assert lines[0].endswith(
        f"evidence bundle (carbonx-evidence-bundle/1) of footprint {cast.footprint.pf_id}"
    )
    sections = [line for line in lines[1:-1] if not line.startswith("  ")]
    attestation = Attestation.objects.get()
    assert sections == [
        "checkpoint",
        "log entries",
        "footprint",
        "supplier signature",
        f"attestation {attestation.credential_id}",
    ]
    assert not fail_lines(out)
    kid = cast.footprint.signing_key.kid
    verity = verifiers_of(cast)
    assert f"  ok    the JWS verifies over the footprint bytes with key {kid}" in lines
    assert any(f"key {kid} is registered for acme in #" in line for line in lines)
    assert any(f"verifier key {verity.key.kid} is registered for verity" in line for line in lines)
    assert any("is registered for zone-operator" in line for line in lines)
    assert any("it names this footprint's id and SHA-256" in line for line in lines)
    assert "  note  no witness cosignatures" in lines
    assert lines[-1] == (
        f"OK: the footprint is genuine and verified ({attestation.credential_id} by "
        f"{services.company_did(verity.verity)})"
    )


def test_json_report(cast, bundle, verify):
    code, out, _ = verify(bundle, "--json")
    report = json.loads(out)
    assert code == 0
    assert report["result"] == "valid" and report["exitCode"] == 0
    assert report["problems"] == []
    assert report["footprint"] == {"id": str(cast.footprint.pf_id), "sha256": cast.footprint.sha256}
    assert report["checkpoint"]["origin"] == "test.carbonx.example/audit-log"
    (attestation,) = report["attestations"]
    assert attestation["inForce"] is True and attestation["check"]["revoked"] is False
    assert {line["status"] for line in report["checks"]} <= {"ok", "note"}


def test_the_command_needs_neither_django_nor_the_network():
    code = (
        "import sys, cli.bundle; "
        "bad = [m for m in ('django', 'httpx') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# ------------------------------------------------------------------------ not in force


def test_a_revoked_attestation_exits_3(cast, verify):
    attested(cast, EngagementState.REVOKED)
    code, out, _ = verify(buyers_bundle(cast))
    assert code == 3, out
    assert not fail_lines(out)
    assert any("not in force  revoked: bit" in line for line in out.splitlines())
    assert out.splitlines()[-1].startswith("GENUINE, but no attestation in force: urn:uuid:")
    assert "revoked" in out.splitlines()[-1]


def test_an_expired_attestation_exits_3(cast, bundle, verify):
    until = Attestation.objects.get().valid_until + timedelta(days=1)
    code, out, _ = verify(bundle, "--now", until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert code == 3, out
    assert "expired: validUntil was" in out
    assert not fail_lines(out)


def test_a_bundle_without_attestation_exits_3(cast, verify):
    code, out, _ = verify(buyers_bundle(cast))
    assert code == 3, out
    assert "the bundle carries no attestation of this footprint" in out
    assert out.splitlines()[-1] == "GENUINE, but NOT VERIFIED: the bundle carries no attestation"


def test_one_attestation_in_force_is_enough(cast, verify):
    attested(cast, EngagementState.REVOKED)
    attested(cast)
    code, out, _ = verify(buyers_bundle(cast))
    assert code == 0, out
    assert "revoked: bit" in out


# --------------------------------------------------------------------------- tampering


def _entry(bundle: Bundle, subject_prefix: str) -> dict[str, Any]:
    for item in bundle["log"]["entries"]:
        if json.loads(b64_std_decode(item["entry"]))["subject"].startswith(subject_prefix):
            return item
    raise AssertionError(subject_prefix)


def _credential(bundle: Bundle) -> dict[str, Any]:
    return json.loads(b64_std_decode(bundle["attestations"][0]["credential"]))


def _set_credential(bundle: Bundle, credential: dict[str, Any]) -> None:
    bundle["attestations"][0]["credential"] = b64_std_encode(json.dumps(credential).encode())


def footprint_bytes(bundle: Bundle) -> None:
    data = bytearray(b64_std_decode(bundle["footprint"]["canonical_bytes"]))
    data[data.index(b"11.87")] = ord("9")
    bundle["footprint"]["canonical_bytes"] = b64_std_encode(bytes(data))


def footprint_document(bundle: Bundle) -> None:
    """Another value, with consistent bytes and digest: the log and the JWS disagree."""
    document = bundle["footprint"]["document"]
    document["pcf"]["pcfExcludingBiogenicUptake"] = "1.87"
    data = jcs.canonicalize(document)
    bundle["footprint"]["canonical_bytes"] = b64_std_encode(data)
    bundle["footprint"]["sha256"] = hashlib.sha256(data).hexdigest()


def jws_signature(bundle: Bundle) -> None:
    token = bundle["signature"]["jws"]
    last = "A" if token[-2] != "A" else "B"
    bundle["signature"]["jws"] = token[:-2] + last + token[-1]


def credential_field(bundle: Bundle) -> None:
    credential = _credential(bundle)
    credential["credentialSubject"]["opinion"] = "qualified"
    _set_credential(bundle, credential)


def entry_bytes(bundle: Bundle) -> None:
    item = _entry(bundle, "footprint:")
    entry = json.loads(b64_std_decode(item["entry"]))
    entry["company"] = "evil"
    item["entry"] = b64_std_encode(jcs.canonicalize(entry))
    del item["entry_hash"]


def entry_hash(bundle: Bundle) -> None:
    _entry(bundle, "footprint:")["entry_hash"] = "00" * 32


def entry_payload(bundle: Bundle) -> None:
    item = _entry(bundle, "signing_key:")
    payload = json.loads(b64_std_decode(item["payload"]))
    payload["label"] = "evil"
    item["payload"] = b64_std_encode(jcs.canonicalize(payload))


def proof_hash(bundle: Bundle) -> None:
    item = _entry(bundle, "engagement:")
    item["inclusion_proof"][0] = b64_std_encode(bytes(32))


def checkpoint_note(bundle: Bundle) -> None:
    signed = bundle["log"]["checkpoint"]["note"]
    origin, size, rest = signed.split("\n", 2)
    bundle["log"]["checkpoint"]["note"] = f"{origin}\n{int(size) + 1}\n{rest}"


def did_document_key(bundle: Bundle) -> None:
    document = next(d for d in bundle["did_documents"] if d["id"].endswith(":verity"))
    forged = ed25519_multikey(keys.generate_private_key().public_key())
    for method in document["verificationMethod"]:
        method["publicKeyMultibase"] = forged


def status_list_bits(bundle: Bundle) -> None:
    subject = bundle["status_lists"][0]["credentialSubject"]
    subject["encodedList"] = subject["encodedList"][:-4] + (
        "BBBB" if subject["encodedList"].endswith("AAAA") else "AAAA"
    )


def dropped_key_entry(bundle: Bundle) -> None:
    item = _entry(bundle, f"signing_key:{bundle['signature']['kid']}")
    bundle["log"]["entries"].remove(item)


def dropped_checkpoint(bundle: Bundle) -> None:
    bundle["log"]["checkpoint"] = None


TAMPERS: list[tuple[Callable[[Bundle], None], list[str]]] = [
    (footprint_bytes, ["footprint: the bytes are not the RFC 8785 (JCS) form of the document"]),
    (
        footprint_document,
        [
            "records the SHA-256",
            "supplier signature: the JWS does not verify",
            "attestation urn:uuid:",  # the credential names the old digest
        ],
    ),
    (jws_signature, ["supplier signature: the JWS does not verify over the bytes"]),
    (credential_field, ["the credential does not verify: proof.proofValue"]),
    (entry_bytes, ["log entries: #", "not in the signed tree"]),
    (entry_hash, ["log entries: #", "stated entry_hash is not SHA-256(0x00 || entry bytes)"]),
    (entry_payload, ["payload does not hash to the entry's payload_sha256"]),
    (proof_hash, ["not in the signed tree", "inclusion proof does not lead to the given root"]),
    (checkpoint_note, ["checkpoint: does not verify with the pinned log key"]),
    (did_document_key, ["the credential does not verify"]),
    (status_list_bits, ["the credential does not verify: status list credential"]),
    (dropped_key_entry, ["no signing_key.registered entry for"]),
    (dropped_checkpoint, ["the bundle has no signed checkpoint", "no verified checkpoint"]),
]


@pytest.mark.parametrize(("tamper", "expected"), TAMPERS, ids=[t.__name__ for t, _ in TAMPERS])
def test_tampering_is_caught_and_said(bundle, verify, tamper, expected):
    forged = copy.deepcopy(bundle)
    tamper(forged)
    code, out, _ = verify(forged)
    assert code == 1, out
    said = problems(out)
    for phrase in expected:
        assert phrase in said, f"{phrase!r} not in:\n{out}"
    assert out.splitlines()[-1].startswith("FAILED: ")


def test_a_wrong_log_key_trusts_nothing(bundle, verify):
    other = note.NoteSigner("test.carbonx.example/audit-log", keys.generate_private_key())
    code, out, _ = verify(bundle, log_key=other.verifier_key())
    assert code == 1
    assert "checkpoint: does not verify with the pinned log key" in problems(out)
    assert "no verified checkpoint to prove its inclusion against" in out
    assert "no footprint.submitted entry" in out


def test_a_supplier_key_swapped_and_resigned_is_caught_by_the_log(bundle, verify):
    forger = keys.generate_private_key()
    forged = copy.deepcopy(bundle)
    token = sign_footprint(forged["footprint"]["document"], forger)
    forged["signature"].update(
        jws=token, kid=keys.jwk_thumbprint(forger.public_key()), jwk=keys.public_jwk(forger)
    )
    code, out, _ = verify(forged)
    assert code == 1
    assert "  ok    the JWS verifies over the footprint bytes" in out  # the math holds…
    assert "records key" in "\n".join(fail_lines(out))  # …but not the log


def test_a_verifier_key_swapped_and_resigned_is_caught_by_the_log(bundle, verify):
    forger = keys.generate_private_key()
    forged = copy.deepcopy(bundle)
    document = next(d for d in forged["did_documents"] if d["id"].endswith(":verity"))
    for method in document["verificationMethod"]:
        method["publicKeyMultibase"] = ed25519_multikey(forger.public_key())
    credential = _credential(forged)
    proof = credential.pop("proof")
    credential["credentialSubject"]["opinionText"] = "All perfect."
    signed = add_proof(
        credential,
        forger,
        ProofOptions(verification_method=proof["verificationMethod"], created=proof["created"]),
    )
    _set_credential(forged, signed)
    code, out, _ = verify(forged)
    assert code == 1
    assert "  ok    the credential's proof verifies" in out
    assert "is not the one registered as" in "\n".join(fail_lines(out))


def test_a_stale_status_list_hiding_a_revocation_is_caught(cast, verify):
    engagement = attested(cast)
    before = buyers_bundle(cast)
    services.engagement_revoke(
        actor=verifiers_of(cast).actor(), engagement=engagement, reason="Error found"
    )
    after = bundle_of(session(cast.outsider), cast.footprint.pf_id)
    assert verify(after)[0] == 3
    spliced = copy.deepcopy(after)
    spliced["status_lists"] = before["status_lists"]  # genuine, signed, but older
    code, out, _ = verify(spliced)
    assert code == 1, out
    assert "records the revocation of engagement:" in out
    assert "but the status list says not revoked" in out


def test_a_credential_of_another_footprint_is_refused(cast, verify):
    from tests.sharing.helpers import submit

    attested(cast)
    other_bundle = buyers_bundle(cast)
    second = submit(cast, productIds=["urn:pact:acme.example:product:naso4"])
    sharing.grant_create(actor=cast.actor("editor"), buyer="other", footprint_id=str(second.pf_id))
    forged = bundle_of(session(cast.outsider), second.pf_id)
    for part in ("attestations", "did_documents", "status_lists"):
        forged[part] = other_bundle[part]
    code, out, _ = verify(forged)
    assert code == 1
    assert "the credential is about footprint" in out and "not this one" in out


# ---------------------------------------------------------------------------- witnesses


def _cosigned(cast) -> tuple[Bundle, note.CosignatureSigner]:
    attested(cast)
    buyers_bundle(cast)  # signs the checkpoint
    signer = note.CosignatureSigner("witness.example/w1", keys.generate_private_key())
    witness = witness_register(name=signer.name, verifier_key=signer.verifier_key())
    checkpoint = Checkpoint.objects.get()
    line = signer.cosign(checkpoint_text(checkpoint), timestamp=int(timezone.now().timestamp()))
    cosignature_record(checkpoint=checkpoint, witness=witness, line=line)
    return bundle_of(session(cast.outsider), cast.footprint.pf_id), signer


def test_a_pinned_witness_cosignature_is_checked(cast, verify):
    bundle, signer = _cosigned(cast)
    code, out, _ = verify(bundle, "--witness-key", signer.verifier_key())
    assert code == 0, out
    assert "  ok    cosigned by the pinned witness witness.example/w1 at" in out
    code, out, _ = verify(bundle)
    assert code == 0
    assert (
        "other signatures present, not checked (no --witness-key for them): witness.example/w1"
        in out
    )


def test_a_missing_or_forged_cosignature_fails(cast, verify):
    bundle, signer = _cosigned(cast)
    stranger = note.CosignatureSigner("witness.example/w2", keys.generate_private_key())
    code, out, _ = verify(bundle, "--witness-key", stranger.verifier_key())
    assert code == 1
    assert "no cosignature by the pinned witness witness.example/w2" in out
    forged = copy.deepcopy(bundle)
    signed = forged["log"]["checkpoint"]["note"]
    cosignature = next(line for line in note.parse_note(signed)[1] if line.name == signer.name)
    tampered = note.NoteSignature(
        cosignature.name, cosignature.key_id, cosignature.signature[:8] + bytes(64)
    ).line()
    forged["log"]["checkpoint"]["note"] = signed.replace(cosignature.line(), tampered)
    code, out, _ = verify(forged, "--witness-key", signer.verifier_key())
    assert code == 1
    assert "cosignature by witness.example/w1 does not verify" in out


# -------------------------------------------------------------------------------- usage


def test_usage_errors_exit_2(tmp_path, capsys, bundle):
    path = write_bundle(tmp_path / "b.json", bundle)
    assert (
        main(["verify-bundle", str(tmp_path / "missing.json"), "--log-key", log_verifier_key()])
        == 2
    )
    assert "cannot read" in capsys.readouterr().err
    assert main(["verify-bundle", path, "--log-key", "not-a-key"]) == 2
    assert "--log-key" in capsys.readouterr().err
    assert main(["verify-bundle", path, "--log-key", log_verifier_key(), "--now", "soon"]) == 2
    assert "--now" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("{not json")
    assert (
        main(["verify-bundle", str(tmp_path / "junk.json"), "--log-key", log_verifier_key()]) == 2
    )
    assert "not strict JSON" in capsys.readouterr().err


def test_another_format_is_refused(bundle, verify):
    code, out, _ = verify({**bundle, "format": "carbonx-evidence-bundle/99"})
    assert code == 1
    assert "format 'carbonx-evidence-bundle/99' is not 'carbonx-evidence-bundle/1'" in out
