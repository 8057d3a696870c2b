"""Tests for trust.did: did:web identifiers and URLs, DID documents, key resolution.

The did:web examples follow the method's own (host, port, path); the resolver
must hand out a key only for a method of this very DID that the document lists
and authorises for assertions, and say what is wrong otherwise.
"""

from __future__ import annotations

import copy

import pytest

from trust.dataintegrity import ProofOptions, add_proof, verify_proof
from trust.did import (
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
    DidWebParts,
    did_document,
    did_web,
    did_web_document_url,
    key_resolver,
    parse_did,
    parse_did_web,
)
from trust.errors import DidError, KeyFormatError, SignatureError, TrustError
from trust.keys import generate_private_key, jwk_thumbprint, public_key_bytes
from trust.multibase import ed25519_multikey

VERIFIER = "did:web:exchange.example:companies:verifier"

# --------------------------------------------------------------------------- did_web


@pytest.mark.parametrize(
    ("host", "path", "did"),
    [
        ("exchange.example", (), "did:web:exchange.example"),
        ("w3c-ccg.github.io", (), "did:web:w3c-ccg.github.io"),
        ("exchange.example", ("companies", "verifier"), VERIFIER),
        ("127.0.0.1:8000", (), "did:web:127.0.0.1%3A8000"),
        ("localhost:8000", ("companies", "acme"), "did:web:localhost%3A8000:companies:acme"),
        ("Exchange.EXAMPLE", (), "did:web:exchange.example"),
        ("[::1]:8443", (), "did:web:%5B%3A%3A1%5D%3A8443"),
        ("exchange.example", ("a b", "é"), "did:web:exchange.example:a%20b:%C3%A9"),
        ("exchange.example", ("v1.2_x-y",), "did:web:exchange.example:v1.2_x-y"),
    ],
)
def test_did_web_builds_the_identifier(host, path, did):
    assert did_web(host, *path) == did


@pytest.mark.parametrize(
    ("host", "path", "fragment"),
    [
        ("", (), "host is empty"),
        ("exchange.example:0", (), "port '0'"),
        ("exchange.example:65536", (), "port '65536'"),
        ("exchange.example:080", (), "leading zeros"),
        ("exchange.example:http", (), "port 'http'"),
        ("exchange.example:80:81", (), "more than one ':'"),
        ("exchange..example", (), "label ''"),
        ("-bad.example", (), "label '-bad'"),
        ("exch_ange.example", (), "label 'exch_ange'"),
        ("ex/ample.com", (), "is not a host name"),
        ("203.0.113.7", (), "not an IP address"),
        ("[2001:db8::1]", (), "not an IP address"),
        ("[::1", (), "missing its ']'"),
        ("999.1", (), "last label is a number"),
        ("exchange.example", ("",), "non-empty"),
        ("exchange.example", ("..",), "leave the DID's directory"),
        ("exchange.example", (".",), "leave the DID's directory"),
        ("exchange.example", ("a/b",), "slash"),
    ],
)
def test_did_web_refuses_what_would_not_resolve(host, path, fragment):
    with pytest.raises(DidError) as caught:
        did_web(host, *path)
    assert fragment in caught.value.message
    assert caught.value.code.startswith("did_web")


def test_did_web_refuses_non_strings():
    with pytest.raises(DidError, match="must be a string"):
        did_web(b"exchange.example")


# --------------------------------------------------------------------------- document URL


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        (
            "did:web:w3c-ccg.github.io:user:alice",
            "https://w3c-ccg.github.io/user/alice/did.json",
        ),
        ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
        ("did:web:example.com%3a3000:u", "https://example.com:3000/u/did.json"),
        (VERIFIER, "https://exchange.example/companies/verifier/did.json"),
        ("did:web:127.0.0.1%3A8000", "https://127.0.0.1:8000/.well-known/did.json"),
        ("did:web:exchange.example:a%20b", "https://exchange.example/a%20b/did.json"),
    ],
)
def test_document_url(did, url):
    assert did_web_document_url(did) == url


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:127.0.0.1%3A8000", "http://127.0.0.1:8000/.well-known/did.json"),
        ("did:web:localhost%3A8000:companies:x", "http://localhost:8000/companies/x/did.json"),
        ("did:web:localhost", "http://localhost/.well-known/did.json"),
        ("did:web:%5B%3A%3A1%5D%3A8000", "http://[::1]:8000/.well-known/did.json"),
        # Only loopback hosts are ever downgraded.
        (VERIFIER, "https://exchange.example/companies/verifier/did.json"),
        ("did:web:localhost.example", "https://localhost.example/.well-known/did.json"),
    ],
)
def test_document_url_http_only_for_loopback(did, url):
    assert did_web_document_url(did, allow_http_loopback=True) == url


@pytest.mark.parametrize(
    ("did", "fragment"),
    [
        ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "not a did:web"),
        ("did:web:", "must not end with ':'"),
        ("did:web:exchange.example:", "must not end with ':'"),
        ("did:web:exchange.example::x", "empty path segment"),
        ("did:web:exchange.example#key-1", "DID URL"),
        ("did:web:exchange.example/x", "DID URL"),
        ("did:web:exchange.example?service=x", "DID URL"),
        ("did:WEB:exchange.example", "method name"),
        ("web:exchange.example", "did:<method>:<id>"),
        ("did:web:exchange example", "character outside"),
        ("did:web:exchange.example%2Fevil.example", "may be percent-encoded"),
        ("did:web:exchange.example:%2E%2E", "leave the DID's directory"),
        ("did:web:exchange.example:a%2Fb", "slash"),
        ("did:web:exchange.example:%FF", "not UTF-8"),
        ("did:web:exchange.example%3A99999", "port '99999'"),
        ("did:web:10.0.0.1", "not an IP address"),
        ("did:web:" + "a" * 3000, "longer than"),
    ],
)
def test_document_url_refuses_malformed(did, fragment):
    with pytest.raises(DidError) as caught:
        did_web_document_url(did)
    assert fragment in caught.value.message


def test_document_url_refuses_non_strings():
    with pytest.raises(DidError, match="must be a string"):
        did_web_document_url(None)


def test_parse_round_trips_what_did_web_makes():
    did = did_web("127.0.0.1:8000", "companies", "verifier")
    assert parse_did_web(did) == DidWebParts("127.0.0.1", 8000, ("companies", "verifier"))
    assert parse_did(did) == ("web", "127.0.0.1%3A8000:companies:verifier")


# --------------------------------------------------------------------------- documents


def _keys(count: int = 2):
    privates = [generate_private_key() for _ in range(count)]
    return privates, [(jwk_thumbprint(p.public_key()), p.public_key()) for p in privates]


def test_did_document_lists_keys_as_multikeys_for_assertions():
    privates, keys = _keys(2)
    document = did_document(VERIFIER, keys)
    assert document == {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": VERIFIER,
        "verificationMethod": [
            {
                "id": f"{VERIFIER}#{fragment}",
                "type": "Multikey",
                "controller": VERIFIER,
                "publicKeyMultibase": ed25519_multikey(key),
            }
            for fragment, key in keys
        ],
        "assertionMethod": [f"{VERIFIER}#{fragment}" for fragment, _ in keys],
    }
    assert all(m["publicKeyMultibase"].startswith("z6Mk") for m in document["verificationMethod"])
    resolve = key_resolver(document, did=VERIFIER)
    for private, (fragment, _) in zip(privates, keys, strict=True):
        resolved = resolve(f"{VERIFIER}#{fragment}")
        assert public_key_bytes(resolved) == public_key_bytes(private)


def test_did_document_without_keys_authorises_nothing():
    document = did_document(VERIFIER, [])
    assert document["verificationMethod"] == [] and document["assertionMethod"] == []


@pytest.mark.parametrize(
    ("keys", "error", "fragment"),
    [
        ([("a#b", None)], DidError, "fragment 'a#b'"),
        ([("", None)], DidError, "fragment ''"),
        ([("k", "z6Mk")], KeyFormatError, "expected an Ed25519 public key"),
        (["k"], DidError, "(fragment, public key) pairs"),
    ],
)
def test_did_document_refuses_bad_keys(keys, error, fragment):
    with pytest.raises(error) as caught:
        did_document(VERIFIER, keys)
    assert fragment in caught.value.message


def test_did_document_refuses_a_private_key_and_duplicate_fragments():
    private = generate_private_key()
    with pytest.raises(KeyFormatError, match="Ed25519PrivateKey"):
        did_document(VERIFIER, [("k", private)])
    with pytest.raises(DidError, match="listed twice"):
        did_document(VERIFIER, [("k", private.public_key()), ("k", private.public_key())])


def test_did_document_refuses_a_malformed_did():
    with pytest.raises(DidError, match="did:<method>:<id>"):
        did_document("exchange.example", [])


# --------------------------------------------------------------------------- resolver


@pytest.fixture
def signed():
    """A document signed by the verifier's first key, its DID document and the method."""
    privates, keys = _keys(2)
    document = did_document(VERIFIER, keys)
    method = f"{VERIFIER}#{keys[0][0]}"
    secured = add_proof(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "claim": "x"},
        privates[0],
        ProofOptions(verification_method=method, created="2025-01-01T00:00:00Z"),
    )
    return secured, document, method, keys


def test_resolver_feeds_verify_proof(signed):
    secured, document, method, _ = signed
    result = verify_proof(secured, key_resolver(document, did=VERIFIER))
    assert result.verification_method == method


def test_resolver_refuses_a_method_of_another_did(signed):
    _, document, method, _ = signed
    other = "did:web:exchange.example:companies:other"
    resolve = key_resolver(document, did=VERIFIER)
    with pytest.raises(DidError) as caught:
        resolve(method.replace(VERIFIER, other))
    assert caught.value.code == "did_method_foreign"
    assert f"is not a key of {VERIFIER}" in caught.value.message
    # Also a DID that merely starts like this one.
    with pytest.raises(DidError, match="not a key of"):
        resolve(method.replace(VERIFIER, VERIFIER + "x"))


def test_resolver_refuses_a_key_not_in_assertion_method(signed):
    secured, document, method, _ = signed
    document["assertionMethod"] = document["assertionMethod"][1:]
    resolve = key_resolver(document, did=VERIFIER)
    with pytest.raises(DidError) as caught:
        resolve(method)
    assert caught.value.code == "did_method_relationship"
    assert "not referenced from assertionMethod" in caught.value.message
    with pytest.raises(DidError, match="assertionMethod"):
        verify_proof(secured, resolve)


def test_resolver_refuses_a_key_embedded_in_assertion_method_only(signed):
    _, document, method, _ = signed
    embedded = document["verificationMethod"].pop(0)
    document["assertionMethod"] = [embedded]
    with pytest.raises(DidError, match="not in the DID document's verificationMethod"):
        key_resolver(document, did=VERIFIER)(method)


@pytest.mark.parametrize(
    ("member", "value", "code", "fragment"),
    [
        ("type", "JsonWebKey2020", "did_method_type", "type must be 'Multikey'"),
        ("type", None, "did_method_type", "type must be 'Multikey'"),
        ("controller", "did:web:evil.example", "did_method_controller", "controller must be"),
    ],
)
def test_resolver_refuses_wrong_type_or_controller(signed, member, value, code, fragment):
    _, document, method, _ = signed
    document["verificationMethod"][0][member] = value
    with pytest.raises(DidError) as caught:
        key_resolver(document, did=VERIFIER)(method)
    assert caught.value.code == code
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (None, "must be a z6Mk… string"),
        ("z3u2" + "a" * 40, "secret key"),
        ("zQ3s" + "a" * 40, "multicodec header"),
        ("uAAAA", "prefix 'u'"),
    ],
)
def test_resolver_refuses_a_bad_public_key(signed, value, fragment):
    _, document, method, _ = signed
    document["verificationMethod"][0]["publicKeyMultibase"] = value
    with pytest.raises(KeyFormatError) as caught:
        key_resolver(document, did=VERIFIER)(method)
    assert "publicKeyMultibase" in caught.value.message
    assert fragment in caught.value.message


def test_resolver_refuses_an_unknown_fragment_and_a_bare_did(signed):
    _, document, _, _ = signed
    resolve = key_resolver(document, did=VERIFIER)
    with pytest.raises(DidError) as caught:
        resolve(f"{VERIFIER}#retired")
    assert caught.value.code == "did_method_unknown"
    with pytest.raises(DidError, match="#<key fragment>"):
        resolve(VERIFIER)
    with pytest.raises(DidError, match="must be a string"):
        resolve(None)


def test_resolver_accepts_relative_references(signed):
    secured, document, method, keys = signed
    fragment = keys[0][0]
    document["verificationMethod"][0]["id"] = f"#{fragment}"
    document["assertionMethod"] = [f"#{fragment}"]
    assert verify_proof(secured, key_resolver(document, did=VERIFIER)).verification_method == (
        method
    )


def test_resolver_with_a_swapped_key_fails_the_signature(signed):
    secured, document, _, keys = signed
    document["verificationMethod"][0]["publicKeyMultibase"] = ed25519_multikey(keys[1][1])
    with pytest.raises(SignatureError):
        verify_proof(secured, key_resolver(document, did=VERIFIER))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.update(id="did:web:evil.example"), "DID document id: is 'did:web:evil"),
        (lambda d: d.pop("id"), "DID document id: is None"),
        (lambda d: d.update(verificationMethod={}), "verificationMethod must be a list"),
        (lambda d: d.update(assertionMethod="x"), "assertionMethod must be a list"),
        (lambda d: d["verificationMethod"].append("x"), "verificationMethod[2]: must be an object"),
        (lambda d: d["verificationMethod"][1].pop("id"), "verificationMethod[1].id"),
        (
            lambda d: d["verificationMethod"].append(copy.deepcopy(d["verificationMethod"][0])),
            "listed twice",
        ),
    ],
)
def test_resolver_checks_the_document_first(signed, change, fragment):
    _, document, _, _ = signed
    change(document)
    with pytest.raises(DidError) as caught:
        key_resolver(document, did=VERIFIER)
    assert fragment in caught.value.message


def test_resolver_refuses_a_document_that_is_not_an_object():
    with pytest.raises(DidError, match="must be a JSON object"):
        key_resolver([], did=VERIFIER)


def test_did_error_is_a_trust_error():
    assert issubclass(DidError, TrustError)
    assert DidError("x").code == "did_invalid"
