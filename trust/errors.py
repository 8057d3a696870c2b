"""Exceptions raised by the trust primitives.

Every error carries a stable machine-readable ``code`` so that API layers can
map failures to responses without parsing human-readable messages.
"""

from __future__ import annotations


class TrustError(Exception):
    """Base class for all failures in :mod:`trust`.

    ``code`` is stable and meant for machines; ``message`` is for humans and
    should say what was wrong and where.
    """

    default_code: str = "trust_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message: str = message
        self.code: str = code if code is not None else self.default_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class CanonicalizationError(TrustError):
    """JSON that cannot be canonicalised (RFC 8785) or parsed strictly."""

    default_code = "canonicalization"


class KeyFormatError(TrustError):
    """A key, JWK or wrapped key blob that is malformed or unusable."""

    default_code = "key_format"


class SignatureError(TrustError):
    """A signature or JWS that does not verify or is malformed."""

    default_code = "signature_invalid"


class ProofError(TrustError):
    """An inclusion/consistency proof or signed note that does not verify."""

    default_code = "proof_invalid"


class DidError(TrustError):
    """A DID, DID URL or DID document that is malformed or does not fit its use."""

    default_code = "did_invalid"


class StatusListError(TrustError):
    """A Bitstring Status List (or its credential, or an entry) that is malformed."""

    default_code = "status_list_invalid"


class StatusListUnavailable(StatusListError):
    """A status list credential that could not be obtained (offline, network, HTTP).

    Raised by status-list loaders; a credential check reports it as "status not
    checked" instead of failing, because nothing about the credential is wrong.
    """

    default_code = "status_list_unavailable"


class CredentialError(TrustError):
    """A Verifiable Credential that breaks the VC Data Model 2.0 rules we check."""

    default_code = "credential_invalid"
