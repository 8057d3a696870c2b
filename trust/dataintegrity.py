"""W3C Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

Verification attestations are W3C Verifiable Credentials whose proof anyone can
check without trusting the platform, using only the published specs
(VC Data Integrity 1.0 and VC DI EdDSA 1.0, §3.3 eddsa-jcs-2022):

* the *proof configuration* is the proof without ``proofValue``; it carries
  the document's ``@context`` so the proof stays bound to the vocabulary the
  document was signed under, even inside a proof set;
* ``hashData`` = SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(document
  without proof)), 64 bytes, and the signature is pure Ed25519 over it;
* ``proofValue`` is the 64-byte signature as Multibase base58btc (``z…``).

Hashing the options as well as the document means that changing ``created``,
``proofPurpose`` or ``verificationMethod`` breaks the signature as surely as
changing a claim.  Proof sets and chains (a list of proofs, ``previousProof``)
are not used by the platform and are refused rather than half-supported.

Ed25519 is deterministic, so signing the W3C test vector with its key pair
reproduces the published ``proofValue`` exactly; the tests rely on that.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from trust.encoding import sha256
from trust.errors import KeyFormatError, ProofError, SignatureError, TrustError
from trust.jcs import canonicalize
from trust.keys import public_key_bytes, public_point_problem
from trust.multibase import multibase_decode, multibase_encode_base58btc, public_key_from_multikey

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
SIGNATURE_SIZE = 64

#: A base58btc Multibase of 64 bytes is at most 89 characters; longer values are
#: refused before the (quadratic) base conversion runs.
_MAX_PROOF_VALUE_CHARS = 100

#: XML Schema ``dateTimeStamp``: a date-time that always carries a time zone.
#: Values without an offset may be read as UTC by the spec, but a signer that
#: leaves it out is sloppy about time, so they are refused instead.  ASCII digits
#: only: ``\d`` would also take other scripts' digits.
_DATETIME_RE = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True)
class ProofOptions:
    """What the signer chooses about a proof (VC Data Integrity §2.1).

    ``created`` and ``expires`` are XML Schema ``dateTimeStamp`` strings
    (RFC 3339 with a zone); ``created`` defaults to now in UTC, to the second,
    written with ``Z`` as the spec's examples do.  ``context`` is the proof's
    ``@context``: leave it ``None`` to copy the document's, as the cryptosuite
    asks; a value given here must be a prefix of the document's ``@context``
    or verifiers would refuse the proof.
    """

    verification_method: str
    proof_purpose: str = "assertionMethod"
    created: str | None = None
    expires: str | None = None
    challenge: str | None = None
    domain: str | list[str] | None = None
    context: list[Any] | str | None = None


@dataclass(frozen=True)
class VerifiedProof:
    """What a successful :func:`verify_proof` established.

    ``document`` is the verified document without its proof (with the proof's
    ``@context``, as the algorithm's ``verifiedDocument``); only claims read
    from it are covered by the signature.
    """

    verification_method: str
    created: str | None
    purpose: str
    expires: str | None = None
    domain: str | list[str] | None = None
    challenge: str | None = None
    document: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- time


def parse_datetime_stamp(value: Any, where: str) -> datetime:
    """Parse an XML Schema ``dateTimeStamp`` into an aware :class:`datetime`.

    ``where`` names the member in error messages (e.g. ``"proof.created"``).
    Refuses a missing time zone, impossible dates (February 30th) and offsets
    beyond ±14:00.
    """
    if not isinstance(value, str):
        raise ProofError(
            f"{where}: must be a date-time string, got {type(value).__name__}", "proof_datetime"
        )
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        raise ProofError(
            f"{where}: {value!r} is not an XML Schema dateTimeStamp"
            " (YYYY-MM-DDThh:mm:ss[.fff] followed by Z or ±hh:mm)",
            "proof_datetime",
        )
    zone = match["zone"]
    if zone != "Z" and (
        int(zone[1:3]) > 14 or int(zone[4:6]) > 59 or (zone[1:3] == "14" and zone[4:6] != "00")
    ):
        raise ProofError(f"{where}: time zone offset {zone} is out of range", "proof_datetime")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    iso = f"{match['date']}T{match['time']}.{fraction}{'+00:00' if zone == 'Z' else zone}"
    try:
        return datetime.fromisoformat(iso)
    except ValueError as exc:
        raise ProofError(
            f"{where}: {value!r} is not a real date-time ({exc})", "proof_datetime"
        ) from exc


def _now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- algorithm


def _context_values(context: Any) -> list[Any]:
    """A JSON-LD ``@context`` as a list: a single value counts as a list of one."""
    return list(context) if isinstance(context, list) else [context]


def _context_is_prefix(proof_context: Any, document_context: Any) -> bool:
    """The cryptosuite's rule: the document's ``@context`` starts with the proof's.

    The document may have gained further contexts after signing (other proofs of
    a set add theirs), but it must not have lost or reordered the signed ones.
    """
    wanted = _context_values(proof_context)
    present = _context_values(document_context)
    return present[: len(wanted)] == wanted


def _check_proof_config(proof_config: Any) -> None:
    """The checks of the cryptosuite's "Proof Configuration" algorithm."""
    if not isinstance(proof_config, dict):
        raise ProofError(
            f"proof: must be a JSON object, got {type(proof_config).__name__}", "proof_malformed"
        )
    if proof_config.get("type") != PROOF_TYPE:
        raise ProofError(
            f'proof.type: must be "{PROOF_TYPE}", got {proof_config.get("type")!r}',
            "proof_type",
        )
    if proof_config.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f'proof.cryptosuite: must be "{CRYPTOSUITE}", got {proof_config.get("cryptosuite")!r}'
            " (no other cryptosuite is accepted)",
            "proof_cryptosuite",
        )
    if "proofValue" in proof_config:
        raise ProofError(
            "proof configuration: must not contain proofValue (the signature cannot sign itself)",
            "proof_malformed",
        )
    if "created" in proof_config:
        parse_datetime_stamp(proof_config["created"], "proof.created")


def canonical_document(document: dict[str, Any]) -> bytes:
    """The cryptosuite's "Transformation": the JCS bytes of the unsecured document."""
    if not isinstance(document, dict):
        raise ProofError(
            f"document: must be a JSON object, got {type(document).__name__}", "proof_malformed"
        )
    if "proof" in document:
        raise ProofError(
            "document: already has a proof; proof sets and chains are not supported",
            "proof_malformed",
        )
    return canonicalize(document)


def canonical_proof_config(proof_config: dict[str, Any]) -> bytes:
    """The cryptosuite's "Proof Configuration": checks, then the JCS bytes."""
    _check_proof_config(proof_config)
    return canonicalize(proof_config)


def hash_data(document_without_proof: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """The 64 bytes that are signed: SHA-256(JCS(proof config)) ‖ SHA-256(JCS(document)).

    The proof configuration's hash comes first, as the cryptosuite's "Hashing"
    algorithm and the W3C vector ``combinedHashJCS.txt`` have it.
    """
    config_bytes = canonical_proof_config(proof_config)
    document_bytes = canonical_document(document_without_proof)
    return sha256(config_bytes) + sha256(document_bytes)


def _nonempty_string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ProofError(f"{where}: must be a non-empty string, got {value!r}", "proof_malformed")
    return value


def _check_domain(value: Any, where: str) -> None:
    if isinstance(value, str) and value:
        return
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return
    raise ProofError(
        f"{where}: must be a non-empty string or a non-empty list of them, got {value!r}",
        "proof_malformed",
    )


def _proof_from_options(document: dict[str, Any], options: ProofOptions) -> dict[str, Any]:
    """The proof configuration for ``options`` (the proof minus its value)."""
    if not isinstance(options, ProofOptions):
        raise ProofError(
            f"options: expected ProofOptions, got {type(options).__name__}", "proof_malformed"
        )
    created = options.created if options.created is not None else _now_stamp()
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": _nonempty_string(
            options.verification_method, "options.verification_method"
        ),
        "proofPurpose": _nonempty_string(options.proof_purpose, "options.proof_purpose"),
    }
    created_at = parse_datetime_stamp(created, "options.created")
    if options.expires is not None:
        if parse_datetime_stamp(options.expires, "options.expires") <= created_at:
            raise ProofError(
                f"options.expires: {options.expires} is not after created {created}",
                "proof_malformed",
            )
        proof["expires"] = options.expires
    if options.domain is not None:
        _check_domain(options.domain, "options.domain")
        proof["domain"] = copy.deepcopy(options.domain)
    if options.challenge is not None:
        proof["challenge"] = _nonempty_string(options.challenge, "options.challenge")
    if options.context is not None:
        if "@context" not in document or not _context_is_prefix(
            options.context, document["@context"]
        ):
            raise ProofError(
                "options.context: must be a prefix of the document's @context,"
                " or verifiers will refuse the proof",
                "proof_context",
            )
        proof["@context"] = copy.deepcopy(options.context)
    elif "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])
    return proof


def add_proof(
    document: dict[str, Any], private_key: Ed25519PrivateKey, options: ProofOptions
) -> dict[str, Any]:
    """Return a new dict: ``document`` plus an eddsa-jcs-2022 ``proof``.

    ``document`` itself is left untouched (the result is a deep copy), and must
    not already carry a proof.  Raises :class:`ProofError` for invalid options
    and :class:`~trust.errors.CanonicalizationError` for values JCS cannot
    represent.
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyFormatError(f"expected an Ed25519 private key, got {type(private_key).__name__}")
    canonical_document(document)  # refuses non-objects and documents with a proof, early
    proof = _proof_from_options(document, options)
    signature = private_key.sign(hash_data(document, proof))
    proof["proofValue"] = multibase_encode_base58btc(signature)
    secured = copy.deepcopy(document)
    secured["proof"] = proof
    return secured


def _signature_bytes(proof: dict[str, Any]) -> bytes:
    if "proofValue" not in proof:
        raise ProofError("proof.proofValue: required member missing", "proof_value")
    value = proof["proofValue"]
    if not isinstance(value, str):
        raise ProofError(
            f"proof.proofValue: must be a Multibase string, got {type(value).__name__}",
            "proof_value",
        )
    if len(value) > _MAX_PROOF_VALUE_CHARS:
        raise ProofError(
            f"proof.proofValue: {len(value)} characters is far too long for a 64-byte signature",
            "proof_value",
        )
    try:
        signature = multibase_decode(value)
    except TrustError as exc:
        raise ProofError(f"proof.proofValue: {exc.message}", "proof_value") from exc
    if len(signature) != SIGNATURE_SIZE:
        raise ProofError(
            f"proof.proofValue: must decode to a {SIGNATURE_SIZE}-byte Ed25519 signature,"
            f" got {len(signature)} bytes",
            "proof_value",
        )
    return signature


def _resolved_key(
    resolve_key: Callable[[str], Ed25519PublicKey], verification_method: str
) -> Ed25519PublicKey:
    try:
        key = resolve_key(verification_method)
    except LookupError as exc:
        raise ProofError(
            f"proof.verificationMethod: {verification_method!r} cannot be resolved ({exc})",
            "proof_key_unknown",
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFormatError(
            f"proof.verificationMethod: {verification_method!r} resolved to"
            f" {type(key).__name__}, not an Ed25519 public key"
        )
    problem = public_point_problem(public_key_bytes(key))
    if problem:
        raise KeyFormatError(f"proof.verificationMethod: the resolved key {problem}")
    return key


def verify_proof(
    secured: dict[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey],
    *,
    expected_purpose: str | None = "assertionMethod",
    expected_domain: str | list[str] | None = None,
    expected_challenge: str | None = None,
    now: datetime | None = None,
) -> VerifiedProof:
    """Verify the eddsa-jcs-2022 proof of ``secured``; return what it proves or raise.

    Follows VC Data Integrity "Verify Proof" and the cryptosuite's algorithm:
    proof shape, type and cryptosuite; the expected purpose (``None`` skips the
    check), domain and challenge; ``created``/``expires`` formats and expiry at
    ``now`` (default: the current time); the ``@context`` prefix rule; then the
    signature over the rebuilt ``hashData`` with the key ``resolve_key`` returns
    for ``proof.verificationMethod`` (it should raise a :class:`TrustError` or
    :class:`LookupError` for a method it does not know).

    Raises :class:`ProofError` for a malformed or unacceptable proof and
    :class:`SignatureError` when the signature does not verify.  A bad
    signature cannot say *what* changed: the document, the proof options and
    the key are all inputs to the one signature.
    """
    if not isinstance(secured, dict):
        raise ProofError(
            f"document: must be a JSON object, got {type(secured).__name__}", "proof_malformed"
        )
    if "proof" not in secured:
        raise ProofError("document: has no proof", "proof_missing")
    proof = secured["proof"]
    if isinstance(proof, list):
        raise ProofError(
            "proof: proof sets (a list of proofs) are not supported, expected one proof object",
            "proof_malformed",
        )
    if not isinstance(proof, dict):
        raise ProofError(
            f"proof: must be a JSON object, got {type(proof).__name__}", "proof_malformed"
        )
    for member in ("type", "cryptosuite", "verificationMethod", "proofPurpose"):
        if member not in proof:
            raise ProofError(f"proof.{member}: required member missing", "proof_malformed")
    proof_options = {key: value for key, value in proof.items() if key != "proofValue"}
    _check_proof_config(proof_options)
    if "previousProof" in proof:
        raise ProofError("proof.previousProof: proof chains are not supported", "proof_malformed")
    signature = _signature_bytes(proof)
    verification_method = _nonempty_string(proof["verificationMethod"], "proof.verificationMethod")
    purpose = _nonempty_string(proof["proofPurpose"], "proof.proofPurpose")
    if expected_purpose is not None and purpose != expected_purpose:
        raise ProofError(
            f"proof.proofPurpose: is {purpose!r}, but this proof is being checked for"
            f" {expected_purpose!r}",
            "proof_purpose",
        )
    if "domain" in proof:
        _check_domain(proof["domain"], "proof.domain")
    if expected_domain is not None:
        wanted = {expected_domain} if isinstance(expected_domain, str) else set(expected_domain)
        found = proof.get("domain")
        have = {found} if isinstance(found, str) else set(found or ())
        if have != wanted:
            raise ProofError(
                f"proof.domain: {found!r} does not match the expected domain {expected_domain!r}",
                "proof_domain",
            )
    if expected_challenge is not None and proof.get("challenge") != expected_challenge:
        raise ProofError(
            f"proof.challenge: {proof.get('challenge')!r} does not match the expected challenge",
            "proof_challenge",
        )
    created = proof.get("created")
    expires = proof.get("expires")
    if expires is not None:
        expires_at = parse_datetime_stamp(expires, "proof.expires")
        moment = now if now is not None else datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("verify_proof: now must be timezone-aware (use datetime.now(UTC))")
        if moment >= expires_at:
            raise ProofError(f"proof.expires: the proof expired at {expires}", "proof_expired")

    unsecured = {key: value for key, value in secured.items() if key != "proof"}
    if "@context" in proof:
        if "@context" not in secured or not _context_is_prefix(
            proof["@context"], secured["@context"]
        ):
            raise ProofError(
                "proof.@context: the document's @context does not start with the proof's"
                " @context; the document was changed after signing",
                "proof_context",
            )
        unsecured["@context"] = proof["@context"]

    data = hash_data(unsecured, proof_options)
    key = _resolved_key(resolve_key, verification_method)
    try:
        key.verify(signature, data)
    except InvalidSignature as exc:
        raise SignatureError(
            "proof.proofValue: signature does not verify: the document or its proof options"
            f" were changed after signing, or {verification_method!r} is not the signing key"
        ) from exc
    return VerifiedProof(
        verification_method=verification_method,
        created=created,
        purpose=purpose,
        expires=expires,
        domain=copy.deepcopy(proof.get("domain")),
        challenge=proof.get("challenge"),
        document=copy.deepcopy(unsecured),
    )


def resolve_did_key(verification_method: str) -> Ed25519PublicKey:
    """Resolve a ``did:key`` Ed25519 verification method offline.

    A did:key DID *is* its public key, so ``did:key:z6Mk…#z6Mk…`` needs no
    network; the fragment must repeat the identifier, as the did:key method
    defines.  Used for the W3C vectors and for checking credentials offline.
    """
    if not isinstance(verification_method, str) or not verification_method.startswith("did:key:"):
        raise KeyFormatError(f"verificationMethod {verification_method!r} is not a did:key URL")
    did, _, fragment = verification_method.partition("#")
    identifier = did[len("did:key:") :]
    if fragment != identifier:
        raise KeyFormatError(
            f"verificationMethod {verification_method!r}: the fragment must repeat the key"
            f" identifier {identifier!r}"
        )
    return public_key_from_multikey(identifier)
