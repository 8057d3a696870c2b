"""Company identifiers as URNs, with the check-character rules of each scheme.

Pure functions, no database: the same rules serve the model validation, the API and
the seed data. Every failure raises ``IdentifierError`` whose message names the rule.

URN forms follow DOMAIN.md's rule for identifiers without a registered namespace,
``urn:pact:<issuer domain>:<type>:<id>`` (see docs/decisions.md):

- USCC (China, GB 32100-2015): ``urn:pact:samr.gov.cn:uscc:<18 characters>``
- LEI (ISO 17442): ``urn:pact:gleif.org:lei:<20 characters>``
- anything else: any syntactically valid URN (RFC 8141), e.g. ``urn:epc:id:sgln:...``
"""

from __future__ import annotations

import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
USCC_URN_PREFIX = "urn:pact:samr.gov.cn:uscc:"
LEI_URN_PREFIX = "urn:pact:gleif.org:lei:"

# RFC 8141: "urn:" NID ":" NSS, NID 2-32 chars of alphanumerics and hyphens.
_URN_RE = re.compile(r"^urn:[a-z0-9][a-z0-9-]{0,30}[a-z0-9]:[^\s]+$", re.IGNORECASE)
_LEI_RE = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")


class IdentifierError(ValueError):
    """An identifier breaks its scheme's rule; the message says which."""


def uscc_check_character(first17: str) -> str:
    """The check character of a USCC from its first 17 characters (GB 32100-2015)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(code: str) -> str:
    """Return the USCC if valid; raise IdentifierError naming the broken rule."""
    if len(code) != 18:
        raise IdentifierError(f"USCC must have 18 characters, got {len(code)}")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        raise IdentifierError(
            f"USCC may only use 0-9 and A-Y without I, O, S, V, Z; found {''.join(bad)!r}"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            f"USCC check character is wrong: expected {expected!r}, got {code[17]!r}"
        )
    return code


def lei_is_valid_checksum(code: str) -> bool:
    """ISO 17442 uses ISO 7064 MOD 97-10: letters become 10..35 and the number mod 97 is 1."""
    digits = "".join(str(int(c, 36)) for c in code)
    return int(digits) % 97 == 1


def validate_lei(code: str) -> str:
    """Return the LEI if valid; raise IdentifierError naming the broken rule."""
    if len(code) != 20:
        raise IdentifierError(f"LEI must have 20 characters, got {len(code)}")
    if not _LEI_RE.match(code):
        raise IdentifierError("LEI must be 18 characters A-Z/0-9 followed by 2 check digits")
    # ISO 7064 MOD 97-10 check digits are 02..98; 00, 01 and 99 can satisfy the modulus
    # by accident (97 ≡ 0) but are never issued.
    if not 2 <= int(code[18:]) <= 98 or not lei_is_valid_checksum(code):
        raise IdentifierError("LEI check digits are wrong (ISO 17442 MOD 97-10)")
    return code


def normalize_identifier(value: str) -> tuple[str, str]:
    """Validate an identifier and return (scheme, urn).

    Accepts a full URN, or a bare USCC / LEI for convenience in forms. Bare codes are
    upper-cased; URN namespace identifiers compare case-insensitively (RFC 8141), so
    the ``urn:`` part is lower-cased and the code upper-cased.
    """
    text = value.strip()
    if not text:
        raise IdentifierError("identifier must not be empty")
    lowered = text.lower()
    if lowered.startswith(USCC_URN_PREFIX):
        return "uscc", USCC_URN_PREFIX + validate_uscc(text[len(USCC_URN_PREFIX) :].upper())
    if lowered.startswith(LEI_URN_PREFIX):
        return "lei", LEI_URN_PREFIX + validate_lei(text[len(LEI_URN_PREFIX) :].upper())
    if lowered.startswith("urn:"):
        if not _URN_RE.match(text):
            raise IdentifierError(f"{text!r} is not a valid URN (RFC 8141: urn:<nid>:<nss>)")
        # RFC 8141: "urn" and the namespace identifier compare case-insensitively, so
        # they are stored lower-cased and URN:EPC:x cannot be registered beside urn:epc:x.
        _, nid, nss = text.split(":", 2)
        return "urn", f"urn:{nid.lower()}:{nss}"
    upper = text.upper()
    if len(upper) == 18:
        return "uscc", USCC_URN_PREFIX + validate_uscc(upper)
    if len(upper) == 20:
        return "lei", LEI_URN_PREFIX + validate_lei(upper)
    raise IdentifierError("identifier must be a URN, an 18-character USCC or a 20-character LEI")
