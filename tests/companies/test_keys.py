"""Signing keys: own public keys, platform-held keys (encrypted at rest), revocation,
validity windows, rotation and re-wrapping under a new key-encryption key."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from companies import services
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from companies.models import KeyCustody, RevocationReason, SigningKey
from tests.companies.helpers import audit_entries_since, next_seq, payload_of, row_counts
from tests.factories import actor_of, add_member, make_company
from trust import jws
from trust import keys as trust_keys
from trust.encoding import b64url_encode
from trust.errors import KeyFormatError

pytestmark = pytest.mark.django_db

# RFC 8037 Appendix A.1 public key and its A.3 thumbprint.
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def new_jwk() -> dict[str, str]:
    return trust_keys.public_jwk(trust_keys.generate_private_key())


def rfc7638_thumbprint(jwk: dict[str, str]) -> str:
    members = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def associated_data(key: SigningKey) -> bytes:
    return f"carbonx:signing-key:{key.company.slug}:{key.kid}".encode()


# --------------------------------------------------------------------------- own keys


def test_registering_the_rfc_8037_key_gives_its_published_thumbprint(cast):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}
    key = services.signing_key_register(actor=cast.actor("admin"), jwk=jwk, label="ERP")
    assert key.kid == RFC8037_KID


def test_registered_key_is_own_custody_with_no_private_material(cast):
    jwk = {**new_jwk(), "use": "sig", "kid": "chosen-by-client", "alg": "EdDSA"}
    seq = next_seq()
    key = services.signing_key_register(actor=cast.actor("admin"), jwk=jwk, label=" ERP ")
    stored = SigningKey.objects.get(pk=key.pk)
    assert stored.kid == rfc7638_thumbprint(jwk)
    assert stored.custody == KeyCustody.OWN
    assert stored.public_jwk == {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}
    assert stored.encrypted_private_key is None
    assert stored.wrapping_key_id == ""
    assert stored.label == "ERP"
    assert stored.company == cast.acme
    assert stored.created_by == cast.admin.user
    assert stored.revoked_at is None
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject, entry.actor) == (
        "signing_key.registered",
        "acme",
        f"signing_key:{stored.kid}",
        f"user:{cast.admin.user.pk}",
    )
    assert payload_of(entry)["custody"] == "own"


MALFORMED_JWKS = {
    "not an object": ("OKP Ed25519", "jwk: must be a JSON object, got str"),
    "a list": ([], "jwk: must be a JSON object, got list"),
    "wrong kty": (
        {"kty": "EC", "crv": "Ed25519", "x": RFC8037_X},
        'jwk.kty: must be "OKP", got "EC"',
    ),
    "missing kty": ({"crv": "Ed25519", "x": RFC8037_X}, "jwk.kty: required member missing"),
    "X25519": (
        {"kty": "OKP", "crv": "X25519", "x": RFC8037_X},
        'jwk.crv: must be "Ed25519", got "X25519"',
    ),
    "x of 31 bytes": (
        {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes(31))},
        "jwk.x: must decode to exactly 32 bytes, got 31",
    ),
    "bad base64url": (
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-1] + "+"},
        "jwk.x: must be base64url without padding",
    ),
    "padded base64url": (
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="},
        "jwk.x: must be base64url without padding",
    ),
    "x not a string": ({"kty": "OKP", "crv": "Ed25519", "x": 42}, "jwk.x: must be a base64url"),
    "missing x": ({"kty": "OKP", "crv": "Ed25519"}, "jwk.x: required member missing"),
    "private d": (
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": RFC8037_X,
            "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        },
        "jwk.d: private key material must never be registered",
    ),
}


@pytest.mark.parametrize(
    ("jwk", "expected"), MALFORMED_JWKS.values(), ids=list(MALFORMED_JWKS.keys())
)
def test_malformed_jwk_is_refused_naming_the_member(cast, jwk, expected):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        services.signing_key_register(actor=cast.actor("admin"), jwk=jwk)
    assert list(info.value.errors) == ["jwk"]
    [message] = info.value.errors["jwk"]
    assert message.startswith(expected)
    assert row_counts() == before


# Ed25519 points of order 1, 2, 4 and 8. With the identity as public key, the signature
# R = identity, S = 0 verifies for every message, so anyone could sign as its owner (and
# the owner could disown whatever was signed with it).
SMALL_ORDER_POINTS = {
    "order 1 (identity)": "01" + "00" * 31,
    "order 2": "ec" + "ff" * 30 + "7f",
    "order 4": "00" * 32,
    "order 8": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order 8 (other)": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
}


@pytest.mark.parametrize("point", SMALL_ORDER_POINTS.values(), ids=SMALL_ORDER_POINTS.keys())
def test_a_small_order_public_key_is_refused(cast, point):
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(bytes.fromhex(point))}
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        services.signing_key_register(actor=cast.actor("admin"), jwk=jwk)
    assert info.value.errors["jwk"][0].startswith("jwk.x: ")
    assert row_counts() == before


def test_a_private_jwk_is_not_stored_anywhere(cast):
    private = trust_keys.generate_private_key()
    jwk = trust_keys.private_jwk(private)
    with pytest.raises(ValidationFailed):
        services.signing_key_register(actor=cast.actor("admin"), jwk=jwk)
    assert not SigningKey.objects.filter(kid=trust_keys.jwk_thumbprint(jwk)).exists()


def test_registering_the_same_key_twice_is_a_conflict(cast):
    jwk = cast.own_key.public_jwk
    before = row_counts()
    with pytest.raises(Conflict) as info:
        services.signing_key_register(actor=cast.actor("admin"), jwk=jwk)
    assert info.value.field == "jwk"
    assert info.value.message == f"jwk: the key {cast.own_key.kid} is already registered"
    assert row_counts() == before


def test_another_company_cannot_register_a_key_already_registered(cast):
    before = row_counts()
    with pytest.raises(Conflict, match="already registered"):
        services.signing_key_register(actor=cast.actor("outsider"), jwk=cast.own_key.public_jwk)
    assert SigningKey.objects.get(kid=cast.own_key.kid).company == cast.acme
    assert row_counts() == before


# --------------------------------------------------------------------------- platform keys


def test_platform_key_private_half_is_encrypted_at_rest(cast):
    key = SigningKey.objects.get(pk=cast.platform_key.pk)
    blob = bytes(key.encrypted_private_key)
    private = services.signing_key_private(key)
    raw = private.private_bytes_raw()
    assert key.custody == KeyCustody.PLATFORM
    assert key.wrapping_key_id
    assert raw not in blob
    assert b64url_encode(raw).encode() not in blob
    assert trust_keys.public_jwk(private) == key.public_jwk
    assert key.kid == rfc7638_thumbprint(key.public_jwk)


def test_platform_key_decrypts_only_with_the_configured_key_and_its_associated_data(cast, settings):
    key = SigningKey.objects.get(pk=cast.platform_key.pk)
    blob = bytes(key.encrypted_private_key)
    wrapping_key = settings.KEY_ENCRYPTION_KEYS[key.wrapping_key_id]
    private = trust_keys.decrypt_private_key(
        blob, wrapping_key=wrapping_key, associated_data=associated_data(key)
    )
    assert trust_keys.public_jwk(private) == key.public_jwk
    with pytest.raises(KeyFormatError, match="cannot decrypt"):
        trust_keys.decrypt_private_key(
            blob, wrapping_key=os.urandom(32), associated_data=associated_data(key)
        )
    with pytest.raises(KeyFormatError, match="cannot decrypt"):
        trust_keys.decrypt_private_key(
            blob,
            wrapping_key=wrapping_key,
            associated_data=f"carbonx:signing-key:other:{key.kid}".encode(),
        )


def test_a_blob_copied_into_another_key_row_does_not_decrypt(cast):
    second = services.signing_key_create_platform(actor=cast.actor("admin"))
    SigningKey.objects.filter(pk=second.pk).update(
        encrypted_private_key=bytes(cast.platform_key.encrypted_private_key)
    )
    with pytest.raises(KeyFormatError, match="cannot decrypt"):
        services.signing_key_private(SigningKey.objects.get(pk=second.pk))


def test_platform_key_creation_is_audited_with_the_public_jwk_only(cast):
    seq = next_seq()
    key = services.signing_key_create_platform(actor=cast.actor("admin"), label="portal")
    [entry] = audit_entries_since(seq)
    assert entry.type == "signing_key.registered"
    assert payload_of(entry) == {"jwk": key.public_jwk, "custody": "platform", "label": "portal"}
    raw = services.signing_key_private(key).private_bytes_raw()
    assert b64url_encode(raw).encode() not in bytes(entry.entry_bytes) + bytes(entry.payload)


def test_platform_key_signs_and_its_public_jwk_verifies(cast):
    key = SigningKey.objects.get(pk=cast.platform_key.pk)
    payload = b'{"productFootprint":"lithium carbonate","kgCO2e":"12.5"}'
    token = jws.sign_compact(payload, services.signing_key_private(key), kid=key.kid)
    parsed = jws.verify_compact(token, trust_keys.public_key_from_jwk(key.public_jwk))
    assert parsed.payload == payload
    assert parsed.header["kid"] == key.kid


def test_an_own_key_has_no_private_half_on_the_platform(cast):
    with pytest.raises(PermissionDenied, match="does not hold this key's private half"):
        services.signing_key_private(cast.own_key)


def _api_texts(cast) -> list[str]:
    client = APIClient()
    client.force_login(cast.admin.user)
    listing = client.get("/api/v1/keys")
    one = client.get(f"/api/v1/keys/{cast.platform_key.kid}")
    assert listing.status_code == 200 and one.status_code == 200
    assert cast.platform_key.kid in {k["kid"] for k in listing.json()["results"]}
    assert one.json()["custody"] == "platform"
    for key in [*listing.json()["results"], one.json()]:
        assert set(key["public_jwk"]) == {"kty", "crv", "x"}
        assert "encrypted_private_key" not in key and "wrapping_key_id" not in key
    return [listing.content.decode(), one.content.decode()]


def test_api_output_never_contains_private_material(cast):
    key = SigningKey.objects.get(pk=cast.platform_key.pk)
    blob = bytes(key.encrypted_private_key)
    raw = services.signing_key_private(key).private_bytes_raw()
    forbidden = [
        b64url_encode(raw),
        base64.b64encode(raw).decode(),
        raw.hex(),
        b64url_encode(blob),
        base64.b64encode(blob).decode(),
        blob.hex(),
        '"d"',
    ]
    for text in _api_texts(cast):
        assert not [f for f in forbidden if f in text]


# --------------------------------------------------------------------------- revocation


def test_revoking_needs_a_known_reason(cast):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        services.signing_key_revoke(actor=cast.actor("admin"), key=cast.own_key, reason="")
    assert info.value.errors == {"reason": ["must be one of superseded, compromised, retired"]}
    assert SigningKey.objects.get(pk=cast.own_key.pk).revoked_at is None
    assert row_counts() == before


def test_revoking_a_key_records_when_and_why(cast):
    seq = next_seq()
    key = services.signing_key_revoke(
        actor=cast.actor("admin"), key=cast.platform_key, reason="compromised"
    )
    stored = SigningKey.objects.get(pk=key.pk)
    assert stored.revoked_at is not None
    assert stored.revocation_reason == RevocationReason.COMPROMISED
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.subject) == ("signing_key.revoked", f"signing_key:{key.kid}")
    assert payload_of(entry) == {"reason": "compromised"}


def test_revoking_twice_is_a_conflict(cast):
    services.signing_key_revoke(actor=cast.actor("admin"), key=cast.own_key, reason="retired")
    first = SigningKey.objects.get(pk=cast.own_key.pk)
    before = row_counts()
    with pytest.raises(Conflict) as info:
        services.signing_key_revoke(actor=cast.actor("admin"), key=first, reason="compromised")
    assert info.value.field == "kid"
    assert info.value.message == f"the key {first.kid} is already revoked"
    again = SigningKey.objects.get(pk=first.pk)
    assert (again.revoked_at, again.revocation_reason) == (first.revoked_at, "retired")
    assert row_counts() == before


def test_a_revoked_platform_key_cannot_sign(cast):
    services.signing_key_revoke(actor=cast.actor("admin"), key=cast.platform_key, reason="retired")
    with pytest.raises(PermissionDenied) as info:
        services.signing_key_private(SigningKey.objects.get(pk=cast.platform_key.pk))
    assert info.value.field == "kid"
    assert info.value.message == f"kid: the key {cast.platform_key.kid} is revoked"


def test_validity_window_of_an_active_key(cast):
    key = cast.own_key
    assert not services.signing_key_verifies_at(key, key.valid_from - timedelta(microseconds=1))
    assert services.signing_key_verifies_at(key, key.valid_from)
    assert services.signing_key_verifies_at(key, key.valid_from + timedelta(days=3650))


def test_validity_window_of_a_revoked_key(cast):
    services.signing_key_revoke(actor=cast.actor("admin"), key=cast.own_key, reason="retired")
    key = SigningKey.objects.get(pk=cast.own_key.pk)
    revoked = key.revoked_at
    assert not services.signing_key_verifies_at(key, key.valid_from - timedelta(seconds=1))
    assert services.signing_key_verifies_at(key, key.valid_from)
    assert services.signing_key_verifies_at(key, revoked - timedelta(microseconds=1))
    assert not services.signing_key_verifies_at(key, revoked)
    assert not services.signing_key_verifies_at(key, revoked + timedelta(days=1))


# --------------------------------------------------------------------------- rotation


def test_rotating_to_a_platform_key(cast):
    old = cast.own_key
    seq = next_seq()
    new = services.signing_key_rotate(actor=cast.actor("admin"), key=old)
    new = SigningKey.objects.get(pk=new.pk)
    old = SigningKey.objects.get(pk=old.pk)
    assert new.custody == KeyCustody.PLATFORM
    assert new.revoked_at is None
    assert new.label == "own"  # inherits the old key's label
    assert old.revocation_reason == RevocationReason.SUPERSEDED
    assert old.revoked_at is not None and old.revoked_at >= new.valid_from
    entries = audit_entries_since(seq)
    assert [(e.type, e.subject) for e in entries] == [
        ("signing_key.registered", f"signing_key:{new.kid}"),
        ("signing_key.revoked", f"signing_key:{old.kid}"),
    ]
    assert payload_of(entries[1]) == {"reason": "superseded"}


def test_rotating_to_an_own_key(cast):
    jwk = new_jwk()
    new = services.signing_key_rotate(
        actor=cast.actor("admin"), key=cast.platform_key, new_jwk=jwk, label="HSM"
    )
    assert (new.kid, new.custody, new.label) == (rfc7638_thumbprint(jwk), KeyCustody.OWN, "HSM")
    assert SigningKey.objects.get(pk=cast.platform_key.pk).revocation_reason == "superseded"


def test_rotating_with_a_malformed_jwk_changes_nothing(cast):
    before = row_counts()
    with pytest.raises(ValidationFailed, match=r"jwk\.crv"):
        services.signing_key_rotate(
            actor=cast.actor("admin"),
            key=cast.own_key,
            new_jwk={"kty": "OKP", "crv": "X25519", "x": RFC8037_X},
        )
    assert SigningKey.objects.get(pk=cast.own_key.pk).revoked_at is None
    assert row_counts() == before


def test_rotating_a_revoked_key_stores_no_new_key(cast):
    services.signing_key_revoke(actor=cast.actor("admin"), key=cast.own_key, reason="retired")
    before = row_counts()
    with pytest.raises(Conflict, match="already revoked"):
        services.signing_key_rotate(
            actor=cast.actor("admin"), key=SigningKey.objects.get(pk=cast.own_key.pk)
        )
    assert row_counts() == before


# --------------------------------------------------------------------------- rewrap


def _company_with_admin(name: str):
    company = make_company(name)
    return actor_of(add_member(company, f"{company.slug}-admin", "admin"))


def test_rewrap_moves_platform_keys_to_the_new_key_encryption_key(cast, settings):
    key = SigningKey.objects.get(pk=cast.platform_key.pk)
    old_id = key.wrapping_key_id
    old_key = settings.KEY_ENCRYPTION_KEYS[old_id]
    raw = services.signing_key_private(key).private_bytes_raw()
    old_blob = bytes(key.encrypted_private_key)
    new_key = os.urandom(32)
    settings.KEY_ENCRYPTION_KEYS = {"new": new_key, old_id: old_key}

    out = io.StringIO()
    call_command("rewrap_platform_keys", stdout=out)

    moved = SigningKey.objects.get(pk=key.pk)
    assert "1 platform-held key(s) re-encrypted." in out.getvalue()
    assert moved.wrapping_key_id == "new"
    assert bytes(moved.encrypted_private_key) != old_blob
    assert services.signing_key_private(moved).private_bytes_raw() == raw
    trust_keys.decrypt_private_key(
        bytes(moved.encrypted_private_key),
        wrapping_key=new_key,
        associated_data=associated_data(moved),
    )
    # The old key-encryption key can now be removed.
    settings.KEY_ENCRYPTION_KEYS = {"new": new_key}
    assert (
        services.signing_key_private(SigningKey.objects.get(pk=key.pk)).private_bytes_raw() == raw
    )
    # Own keys are untouched, and a second run has nothing to do.
    assert SigningKey.objects.get(pk=cast.own_key.pk).encrypted_private_key is None
    assert services.platform_keys_rewrap() == 0


def test_rewrap_also_moves_revoked_platform_keys(cast, settings):
    services.signing_key_revoke(actor=cast.actor("admin"), key=cast.platform_key, reason="retired")
    old_id = cast.platform_key.wrapping_key_id
    settings.KEY_ENCRYPTION_KEYS = {
        "new": os.urandom(32),
        old_id: settings.KEY_ENCRYPTION_KEYS[old_id],
    }
    assert services.platform_keys_rewrap() == 1
    assert SigningKey.objects.get(pk=cast.platform_key.pk).wrapping_key_id == "new"


def test_without_the_old_key_encryption_key_a_key_cannot_be_decrypted(cast, settings):
    settings.KEY_ENCRYPTION_KEYS = {"new": os.urandom(32)}
    with pytest.raises(RuntimeError, match=r"key-encryption key '.+' is not configured"):
        services.signing_key_private(SigningKey.objects.get(pk=cast.platform_key.pk))


def test_rewrap_is_all_or_nothing_when_an_old_key_is_missing(db, settings):
    k_old, k_mid, k_new = os.urandom(32), os.urandom(32), os.urandom(32)
    actor = _company_with_admin("Rewrap Test Co")
    settings.KEY_ENCRYPTION_KEYS = {"mid": k_mid, "old": k_old}
    first = services.signing_key_create_platform(actor=actor)
    settings.KEY_ENCRYPTION_KEYS = {"old": k_old, "mid": k_mid}
    second = services.signing_key_create_platform(actor=actor)
    settings.KEY_ENCRYPTION_KEYS = {"new": k_new, "mid": k_mid}  # "old" is gone
    with pytest.raises(RuntimeError, match=f"key {second.kid} is wrapped with 'old'"):
        services.platform_keys_rewrap()
    assert SigningKey.objects.get(pk=first.pk).wrapping_key_id == "mid"
    assert bytes(SigningKey.objects.get(pk=first.pk).encrypted_private_key) == bytes(
        first.encrypted_private_key
    )


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_editors_and_viewers_cannot_manage_keys(cast, who):
    actor = cast.actor(who)
    before = row_counts()
    for attempt in (
        lambda: services.signing_key_register(actor=actor, jwk=new_jwk()),
        lambda: services.signing_key_create_platform(actor=actor),
        lambda: services.signing_key_revoke(actor=actor, key=cast.own_key, reason="retired"),
        lambda: services.signing_key_rotate(actor=actor, key=cast.own_key),
    ):
        with pytest.raises(PermissionDenied) as info:
            attempt()
        assert info.value.field == "role"
        assert info.value.message.startswith("role: only a company admin may")
        assert info.value.message.endswith(f"you are {who}")
    assert row_counts() == before


def test_another_companys_admin_cannot_revoke_or_rotate(cast):
    outsider = cast.actor("outsider")
    before = row_counts()
    with pytest.raises(NotFound, match="no such signing key"):
        services.signing_key_revoke(actor=outsider, key=cast.own_key, reason="compromised")
    with pytest.raises(NotFound, match="no such signing key"):
        services.signing_key_rotate(actor=outsider, key=cast.own_key, new_jwk=new_jwk())
    assert SigningKey.objects.get(pk=cast.own_key.pk).revoked_at is None
    assert row_counts() == before


def test_another_companys_admin_cannot_see_the_key(cast):
    from companies import selectors

    with pytest.raises(NotFound):
        selectors.signing_key_get(actor=cast.actor("outsider"), kid=cast.own_key.kid)
    assert cast.own_key.kid not in {
        k.kid for k in selectors.signing_keys_of(actor=cast.actor("outsider"))
    }


def test_generated_client_secrets_never_start_with_a_dash(monkeypatch):
    # A secret starting with "-" breaks `carbonx submit --client-secret SECRET`.
    from companies import services

    values = iter(["-starts-with-a-dash", "fine-secret-value"])
    monkeypatch.setattr(services.secrets, "token_urlsafe", lambda n: next(values))
    assert services._new_client_secret() == "fine-secret-value"
