"""Company identifiers: USCC (GB 32100-2015), LEI (ISO 17442) and URNs.

The check characters are recomputed here from the published rules (not with the code
under test), so a wrong weight or alphabet in ``companies.identifiers`` fails.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companies.identifiers import (
    IdentifierError,
    normalize_identifier,
    validate_lei,
    validate_uscc,
)

# GB 32100-2015 §4: the code alphabet (no I, O, S, V, Z) and the weights of the 17 positions.
GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def gb32100_check(first17: str) -> str:
    total = sum(
        GB32100_ALPHABET.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True)
    )
    return GB32100_ALPHABET[(31 - total % 31) % 31]


def iso7064_check_digits(first18: str) -> str:
    """ISO 17442 / ISO 7064 MOD 97-10: 98 - (number(body + "00") mod 97)."""
    number = int("".join(str(int(c, 36)) for c in first18 + "00"))
    return f"{98 - number % 97:02d}"


# Published USCCs of real companies (the first one is the standard's own example).
REAL_USCCS = [
    "91350100M000100Y43",
    "91330100716105852F",
    "9144030071526726XG",
    "914403001922038216",
    "91440300192317458F",
    "91350900587527783P",
    "91110108551385082Q",
    "91110000100006485K",
]

# Real LEIs from the GLEIF register.
REAL_LEIS = [
    "5493001KJTIIGC8Y1R12",
    "HWUPKR0MPOU8FGXBT394",
    "7LTWFZYICNSX8D621K86",
    "529900T8BM49AURSDO55",
    "549300GKFG0RYRRQ1414",
    "INR2EJN1ERAN0W5ZP974",
    "213800WSGIIZCXF1P572",
]


def _other_check_chars(code: str) -> list[str]:
    return [c for c in GB32100_ALPHABET if c != code[17]]


WRONG_CHECK_USCCS = [
    code[:17] + other for code in REAL_USCCS for other in _other_check_chars(code)[:4]
]


# --------------------------------------------------------------------------- USCC


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_uscc_is_valid(code):
    assert gb32100_check(code[:17]) == code[17]  # the table itself is right
    assert validate_uscc(code) == code


@pytest.mark.parametrize("code", WRONG_CHECK_USCCS)
def test_uscc_with_changed_check_character_fails_naming_check_character(code):
    with pytest.raises(IdentifierError) as info:
        validate_uscc(code)
    message = str(info.value)
    assert "check character" in message
    assert repr(gb32100_check(code[:17])) in message  # tells what it should be
    assert repr(code[17]) in message


@pytest.mark.parametrize("position", [2, 9, 16])
def test_uscc_with_changed_body_character_fails(position):
    code = REAL_USCCS[0]
    replacement = "1" if code[position] != "1" else "2"
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(IdentifierError, match="check character"):
        validate_uscc(changed)


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_uscc_forbidden_letters_are_refused(letter):
    code = REAL_USCCS[0][:10] + letter + REAL_USCCS[0][11:]
    with pytest.raises(IdentifierError) as info:
        validate_uscc(code)
    message = str(info.value)
    assert "without I, O, S, V, Z" in message
    assert repr(letter) in message


def test_uscc_lowercase_letters_are_refused_by_the_strict_validator():
    with pytest.raises(IdentifierError, match="may only use"):
        validate_uscc(REAL_USCCS[0].lower())


@pytest.mark.parametrize("length", [0, 1, 17, 19, 30])
def test_uscc_length_must_be_18(length):
    code = (REAL_USCCS[0] * 2)[:length]
    with pytest.raises(IdentifierError, match=f"USCC must have 18 characters, got {length}"):
        validate_uscc(code)


@given(body=st.text(alphabet=GB32100_ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_computed_check_character_validates(body):
    code = body + gb32100_check(body)
    assert validate_uscc(code) == code


@given(
    body=st.text(alphabet=GB32100_ALPHABET, min_size=17, max_size=17),
    last=st.sampled_from(GB32100_ALPHABET),
)
def test_any_other_check_character_fails(body, last):
    if last == gb32100_check(body):
        last = GB32100_ALPHABET[(GB32100_ALPHABET.index(last) + 1) % 31]
    with pytest.raises(IdentifierError, match="check character"):
        validate_uscc(body + last)


@given(
    body=st.text(alphabet=GB32100_ALPHABET, min_size=17, max_size=17),
    last=st.characters(codec="ascii").filter(lambda c: c not in GB32100_ALPHABET),
)
def test_a_check_character_outside_the_alphabet_fails(body, last):
    with pytest.raises(IdentifierError, match="may only use"):
        validate_uscc(body + last)


# --------------------------------------------------------------------------- LEI


@pytest.mark.parametrize("code", REAL_LEIS)
def test_real_lei_is_valid(code):
    assert iso7064_check_digits(code[:18]) == code[18:]
    assert validate_lei(code) == code


@pytest.mark.parametrize("code", REAL_LEIS)
@pytest.mark.parametrize("position", [0, 7, 17, 18, 19])
def test_lei_with_a_changed_character_fails_naming_check_digits(code, position):
    # Same character class, so the digit expansion keeps its length (ISO 7064 then
    # detects every single substitution).
    original = code[position]
    if original.isdigit():
        replacement = "7" if original != "7" else "3"
    else:
        replacement = "Q" if original != "Q" else "R"
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(IdentifierError, match="check digits"):
        validate_lei(changed)


def test_lei_swapped_adjacent_digits_fail():
    code = "5493001KJTIIGC8Y1R12"
    swapped = code[:2] + code[3] + code[2] + code[4:]
    assert swapped != code
    with pytest.raises(IdentifierError, match="check digits"):
        validate_lei(swapped)


@pytest.mark.parametrize("length", [0, 19, 21])
def test_lei_length_must_be_20(length):
    with pytest.raises(IdentifierError, match=f"LEI must have 20 characters, got {length}"):
        validate_lei(("5493001KJTIIGC8Y1R12" * 2)[:length])


@pytest.mark.parametrize(
    "code", ["5493001KJTIIGC8Y1R1A", "5493001KJTIIGC8Y1r12", "5493001KJTIIGC8Y1-12"]
)
def test_lei_shape_is_checked(code):
    with pytest.raises(IdentifierError, match="18 characters A-Z/0-9 followed by 2 check digits"):
        validate_lei(code)


@given(body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18))
def test_any_lei_body_with_its_check_digits_validates(body):
    code = body + iso7064_check_digits(body)
    assert validate_lei(code) == code


@given(
    body=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18),
    digits=st.integers(min_value=2, max_value=98),
)
def test_any_other_lei_check_digits_fail(body, digits):
    check = f"{digits:02d}"
    if check == iso7064_check_digits(body):
        check = f"{digits % 97 + 2:02d}"  # another value in the range 02-98
    with pytest.raises(IdentifierError, match="check digits"):
        validate_lei(body + check)


# Bodies whose check digits are 97, 98 and 02: "00", "01" and "99" satisfy the same
# mod-97 test but are never issued (ISO 7064 MOD 97-10 check digits are 02-98).
OUT_OF_RANGE_CHECK_DIGITS = [
    ("549300000000000033", "97", "00"),
    ("549300000000000065", "98", "01"),
    ("549300000000000000", "02", "99"),
]


@pytest.mark.parametrize(("body", "right", "wrong"), OUT_OF_RANGE_CHECK_DIGITS)
def test_out_of_range_check_digits_table_is_right(body, right, wrong):
    assert iso7064_check_digits(body) == right
    assert validate_lei(body + right) == body + right


@pytest.mark.parametrize(("body", "right", "wrong"), OUT_OF_RANGE_CHECK_DIGITS)
def test_check_digits_outside_02_to_98_fail(body, right, wrong):
    with pytest.raises(IdentifierError, match="check digits"):
        validate_lei(body + wrong)


# --------------------------------------------------------------------------- URNs


def test_bare_uscc_becomes_its_urn():
    assert normalize_identifier("91350100M000100Y43") == (
        "uscc",
        "urn:pact:samr.gov.cn:uscc:91350100M000100Y43",
    )


def test_bare_uscc_is_trimmed_and_upper_cased():
    assert normalize_identifier("  91350100m000100y43\n") == (
        "uscc",
        "urn:pact:samr.gov.cn:uscc:91350100M000100Y43",
    )


def test_bare_lei_becomes_its_urn():
    assert normalize_identifier("hwupkr0mpou8fgxbt394") == (
        "lei",
        "urn:pact:gleif.org:lei:HWUPKR0MPOU8FGXBT394",
    )


def test_uscc_urn_is_validated_and_normalised():
    assert normalize_identifier("URN:PACT:SAMR.GOV.CN:USCC:91350100m000100y43") == (
        "uscc",
        "urn:pact:samr.gov.cn:uscc:91350100M000100Y43",
    )


def test_uscc_urn_with_wrong_check_character_fails():
    with pytest.raises(IdentifierError, match="check character"):
        normalize_identifier("urn:pact:samr.gov.cn:uscc:91350100M000100Y44")


def test_lei_urn_with_wrong_check_digits_fails():
    with pytest.raises(IdentifierError, match="check digits"):
        normalize_identifier("urn:pact:gleif.org:lei:HWUPKR0MPOU8FGXBT395")


def test_lei_urn_with_wrong_length_names_the_length():
    with pytest.raises(IdentifierError, match="LEI must have 20 characters, got 19"):
        normalize_identifier("urn:pact:gleif.org:lei:HWUPKR0MPOU8FGXBT39")


@pytest.mark.parametrize(
    "urn",
    [
        "urn:epc:id:sgln:0614141.12345.0",
        "urn:gtin:04012345123456",
        "urn:pact:example.com:duns:123456789",
        "urn:ab:x",
    ],
)
def test_other_urns_are_accepted(urn):
    assert normalize_identifier(urn) == ("urn", urn)


@pytest.mark.parametrize(
    "urn",
    [
        "urn:",
        "urn:epc",
        "urn:a:x",  # NID shorter than 2 characters
        "urn:-ab:x",  # NID may not start with a hyphen
        "urn:ab-:x",  # nor end with one
        "urn:" + "n" * 33 + ":x",  # NID longer than 32 characters
        "urn:ab:with space",
        "urn:a_b:x",
    ],
)
def test_malformed_urns_are_refused_naming_rfc_8141(urn):
    with pytest.raises(IdentifierError, match="RFC 8141"):
        normalize_identifier(urn)


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_identifier_is_refused(value):
    with pytest.raises(IdentifierError, match="must not be empty"):
        normalize_identifier(value)


@pytest.mark.parametrize("value", ["12345", "9135010M000100Y43", "5493001KJTIIGC8Y1R1"])
def test_bare_code_of_unknown_length_is_refused(value):
    with pytest.raises(IdentifierError, match="18-character USCC or a 20-character LEI"):
        normalize_identifier(value)


def test_other_urn_scheme_and_nid_are_lower_cased_and_the_nss_kept():
    assert normalize_identifier("URN:EPC:id:SGLN:0614141.12345.0") == (
        "urn",
        "urn:epc:id:SGLN:0614141.12345.0",
    )
