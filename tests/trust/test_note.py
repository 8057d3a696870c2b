"""Tests for trust.note: signed notes, checkpoints and cosignature/v1."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.encoding import b64_std_decode, b64_std_encode, sha256
from trust.errors import KeyFormatError, ProofError, SignatureError, TrustError
from trust.note import (
    EM_DASH,
    MAX_NOTE_SIZE,
    MAX_SIGNATURES,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    NoteSigner,
    NoteVerifier,
    add_cosignature,
    add_signature,
    cosigned_message,
    format_checkpoint,
    key_id,
    open_note,
    parse_checkpoint,
    parse_note,
    parse_signature_line,
)

# ------------------------------------------------------------------ reference vectors

# golang.org/x/mod, sumdb/note/note.go package documentation and note_test.go
# (TestSign, TestOpen) at commit 02c991387e35f9e4c0a9b7ce137717055f8d716d.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
    "qdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwn"
    "WLox33WWd1RvMc+QQ=\n"
)

# C2SP signed-note.md, "Verifier keys" / "Example" (C2SP/C2SP commit 5ba5ee83).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfX"
    "ppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# C2SP signed-note.md opening example: a text containing a blank line.
SPEC_POEM = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    "\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKO"
    "NrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# C2SP tlog-cosignature.md: the example checkpoint, its witness line, and the
# example signed message for time 1679315147.
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_WITNESS_LINE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
SPEC_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_CHECKPOINT

# transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier):
# a real witness's type-0x04 verifier key.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def _signer(name: str = "log.example/test", seed: int = 1) -> NoteSigner:
    return NoteSigner(name, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


def _cosigner(name: str = "witness.example/w1", seed: int = 7) -> CosignatureSigner:
    return CosignatureSigner(name, Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32))


# ------------------------------------------------------------------------- KATs


def test_go_example_signs_byte_for_byte() -> None:
    signer = NoteSigner.from_key_string(PETER_SKEY)
    assert signer.key_id.hex() == "c74f20a3"
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + PETER_SIG
    assert signer.verifier_key() == PETER_VKEY
    assert signer.signer_key() == PETER_SKEY


def test_go_example_opens() -> None:
    peter = NoteVerifier.from_key_string(PETER_VKEY)
    enoch = NoteVerifier.from_key_string(ENOCH_VKEY)
    assert (peter.name, peter.key_id.hex(), enoch.key_id.hex()) == (
        "PeterNeumann",
        "c74f20a3",
        "af0cfe78",
    )
    assert peter.key_string() == PETER_VKEY
    both = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG

    opened = open_note(both, [peter])
    assert opened.text == GO_TEXT
    assert opened.verified_by == ["PeterNeumann"]
    assert opened.other_lines == [ENOCH_SIG[:-1]]

    opened = open_note(both.encode(), [peter, enoch])
    assert opened.verified_by == ["PeterNeumann", "EnochRoot"]
    assert opened.other_lines == []

    with pytest.raises(ProofError, match="no signature from a trusted key") as info:
        open_note(both, [])
    assert info.value.code == "note_unverified"

    # Duplicated lines from a trusted key are fine; the name is listed once.
    assert open_note(GO_TEXT + "\n" + PETER_SIG * 2, [peter]).verified_by == ["PeterNeumann"]


def test_go_example_invalid_signature() -> None:
    peter = NoteVerifier.from_key_string(PETER_VKEY)
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(GO_TEXT + "\n" + bad, [peter])


@pytest.mark.parametrize(
    "msg",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + "— Bad Name " + PETER_SIG.split(" ")[2],
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_go_example_malformed_notes(msg: str) -> None:
    peter = NoteVerifier.from_key_string(PETER_VKEY)
    with pytest.raises(TrustError) as info:
        open_note(msg, [peter])
    assert info.value.code == "note_malformed"


def test_invalid_utf8_is_malformed() -> None:
    peter = NoteVerifier.from_key_string(PETER_VKEY)
    with pytest.raises(TrustError, match="UTF-8"):
        open_note(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), [peter])
    with pytest.raises(TrustError, match="UTF-8"):
        open_note("\ud800" + GO_TEXT + "\n" + PETER_SIG, [peter])


def test_go_key_manglings_are_refused() -> None:
    NoteVerifier.from_key_string(PETER_VKEY)
    NoteSigner.from_key_string(PETER_SKEY)
    for key, parse in (
        (PETER_VKEY, NoteVerifier.from_key_string),
        (PETER_SKEY, NoteSigner.from_key_string),
    ):
        for i in range(len(key) + 1):
            for j in range(i + 1, len(key) + 1):
                if (i, j) != (0, len(key)):
                    with pytest.raises(KeyFormatError):
                        parse(key[i:j])
        for i in range(len(key)):
            with pytest.raises(KeyFormatError):
                parse(key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :])
    # From note_test.go: wrong key length and unknown algorithm, each with a
    # key hash adjusted to match.
    # (Our stricter base64 already refuses its non-zero trailing bits.)
    with pytest.raises(KeyFormatError, match=r"32 bytes|base64"):
        NoteVerifier.from_key_string(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(KeyFormatError, match="signature type 0x65"):
        NoteVerifier.from_key_string(
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )


def test_spec_example() -> None:
    verifier = NoteVerifier.from_key_string(SPEC_VKEY)
    assert verifier.key_string() == SPEC_VKEY
    opened = open_note(SPEC_NOTE, [verifier])
    assert (opened.text, opened.verified_by) == (
        "This is an example message.\n",
        ["example.com/foo"],
    )


def test_spec_text_may_contain_blank_lines() -> None:
    text, sigs = parse_note(SPEC_POEM)
    assert text.endswith("sole:\n\ned è subito sera.\n")
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    assert sigs[0].line() + "\n" == SPEC_POEM.rsplit("\n\n", 1)[1]


def test_key_id_definition() -> None:
    verifier = NoteVerifier.from_key_string(PETER_VKEY)
    pub = b64_std_decode(PETER_VKEY.split("+", 2)[2])[1:]
    assert verifier.key_id == sha256(b"PeterNeumann\n\x01" + pub)[:4]
    assert key_id("PeterNeumann", 0x01, pub) == verifier.key_id
    assert key_id("PeterNeumann", 0x04, pub) != verifier.key_id


def test_uppercase_key_id_refused() -> None:
    # signed-note: "the fixed length lowercase Base 16 encoding".
    with pytest.raises(KeyFormatError, match="lowercase"):
        NoteVerifier.from_key_string(PETER_VKEY.replace("c74f20a3", "C74F20A3"))


# ------------------------------------------------------------------- own keys


def test_round_trip_and_add_signature() -> None:
    a, b = _signer("a.example/log", 1), _signer("b.example/log", 2)
    note = a.sign("hello\nworld\n")
    assert open_note(note, [a.verifier()]).verified_by == ["a.example/log"]
    both = add_signature(note, b)
    opened = open_note(both, [a.verifier(), b.verifier()])
    assert opened.verified_by == ["a.example/log", "b.example/log"]
    # Re-signing replaces rather than duplicates.
    assert add_signature(both, b) == both
    assert add_signature(both, a).count(EM_DASH) == 2
    # The verifier key string round-trips.
    assert open_note(both, [NoteVerifier.from_key_string(b.verifier_key())]).verified_by == [
        "b.example/log"
    ]
    assert NoteSigner.from_key_string(a.signer_key()).sign("x\n") == a.sign("x\n")


def test_tampered_text_refused() -> None:
    signer = _signer()
    note = signer.sign("size 10\n")
    with pytest.raises(SignatureError):
        open_note(note.replace("10", "11"), [signer.verifier()])


def test_wrong_key_same_name_is_unknown() -> None:
    # Same name, different key: the key IDs differ, so the line is ignored.
    signer, impostor = _signer("log.example", 1), _signer("log.example", 2)
    note = impostor.sign("text\n")
    with pytest.raises(ProofError, match="no signature from a trusted key"):
        open_note(note, [signer.verifier()])


def test_bad_signature_from_known_key_rejects_whole_note() -> None:
    a, b = _signer("a.example", 1), _signer("b.example", 2)
    note = add_signature(a.sign("text\n"), b)
    line_b = note.splitlines()[-1]
    forged = parse_signature_line(line_b)
    forged_line = type(forged)(forged.name, forged.key_id, bytes(64)).line()
    with pytest.raises(SignatureError):
        open_note(note.replace(line_b, forged_line), [a.verifier(), b.verifier()])
    # Wrong-length signature from a known key.
    short_line = type(forged)(forged.name, forged.key_id, b"\x01" * 10).line()
    with pytest.raises(SignatureError):
        open_note(note.replace(line_b, short_line), [a.verifier(), b.verifier()])


def test_ambiguous_trusted_keys_refused() -> None:
    a, b = _signer("same.example", 1).verifier(), _signer("same.example", 2).verifier()
    b.key_id = a.key_id  # a (name, key ID) collision, as an attacker could grind
    with pytest.raises(KeyFormatError, match="share the name and id"):
        open_note(_signer("same.example", 1).sign("t\n"), [a, b])


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("text\n— a AAAAAAAA\n", "no blank line"),
        ("text\n\n", "no signature lines"),
        ("text\n\n— a AAAAAAAA", "must end with a newline"),
        ("text\n\n- a AAAAAAAA\n", "em dash"),
        ("text\n\n—a AAAAAAAA\n", "em dash"),
        ("text\n\n— a  AAAAAAAA\n", "'— <name> <base64>'"),
        ("text\n\n— a AAAAAAAA \n", "'— <name> <base64>'"),
        ("text\n\n— a\n", "'— <name> <base64>'"),
        ("text\n\n— a+b AAAAAAAA\n", "invalid key name"),
        ("text\n\n—  AAAAAAAA\n", "invalid key name ''"),
        ("text\n\n— a AAAA\n", "too short"),
        ("text\n\n— a AAAAAAA\n", "base64"),  # missing padding
        ("text\n\n— a AAAAAA_A\n", "base64"),
        ("text\n\n— a AAAAAAB=\n", "base64"),  # non-canonical trailing bits
        ("te\txt\n\n— a AAAAAAAA\n", "control character"),
        ("text\r\n\n— a AAAAAAAA\n", "control character"),
        ("text\n\n— a AAAAAAAA\n\n", "no signature lines"),
        ("text\n\n" + "— a AAAAAAAA\n" * (MAX_SIGNATURES + 1), "over the 100 limit"),
        ("x" * MAX_NOTE_SIZE + "\n\n— a AAAAAAAA\n", "over the"),
    ],
)
def test_malformed_notes(note: str, message: str) -> None:
    with pytest.raises(TrustError, match=message) as info:
        parse_note(note)
    assert info.value.code == "note_malformed"


def test_unicode_space_in_name_refused() -> None:
    with pytest.raises(TrustError, match=r"invalid key name|'— <name> <base64>'"):
        parse_note("text\n\n— a\u00a0b AAAAAAAA\n")
    with pytest.raises(KeyFormatError):
        _signer("a\u2003b")
    with pytest.raises(KeyFormatError):
        _signer("")
    with pytest.raises(KeyFormatError):
        _signer("a+b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no newline", "end with a newline"),
        ("", "end with a newline"),
        ("bell\x07\n", "control character"),
        ("x" * MAX_NOTE_SIZE + "\n", "over the"),
    ],
)
def test_sign_refuses_bad_text(text: str, message: str) -> None:
    with pytest.raises(TrustError, match=message):
        _signer().sign(text)


def test_max_signatures_accepted() -> None:
    signers = [_signer(f"s{i}.example", i + 1) for i in range(16)]
    note = signers[0].sign("text\n")
    for s in signers[1:]:
        note = add_signature(note, s)
    opened = open_note(note, [s.verifier() for s in signers])
    assert len(opened.verified_by) == 16


_names = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="+"
    ),
    min_size=1,
    max_size=20,
).filter(lambda s: not any(c.isspace() for c in s))
_lines = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(
    name=_names,
    lines=st.lists(_lines, min_size=1, max_size=6),
    seed=st.binary(min_size=32, max_size=32),
)
def test_round_trip_property(name: str, lines: list[str], seed: bytes) -> None:
    text = "".join(f"{line}\n" for line in lines)
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(seed))
    note = signer.sign(text)
    opened = open_note(note, [NoteVerifier.from_key_string(signer.verifier_key())])
    assert opened.text == text
    assert opened.verified_by == [name]
    assert NoteSigner.from_key_string(signer.signer_key()).key_id == signer.key_id


# ------------------------------------------------------------------ checkpoints

ROOT = sha256(b"root")


def test_checkpoint_round_trip() -> None:
    text = format_checkpoint("log.example/a", 42, ROOT)
    assert text == f"log.example/a\n42\n{b64_std_encode(ROOT)}\n"
    assert parse_checkpoint(text) == Checkpoint("log.example/a", 42, ROOT, ())
    with_ext = format_checkpoint("log.example/a", 0, ROOT, ["ext one", "ext two"])
    parsed = parse_checkpoint(with_ext)
    assert parsed.extensions == ("ext one", "ext two")
    assert parsed.to_text() == with_ext
    assert parse_checkpoint(SPEC_CHECKPOINT).size == 20852163


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("log\n42\n", "at least 3 lines"),
        ("\n42\n" + b64_std_encode(ROOT) + "\n", "origin is empty"),
        ("log\n042\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),
        ("log\n+42\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),
        ("log\n-1\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),
        ("log\n\uff14\uff12\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),  # full-width digits
        ("log\n 42\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),
        ("log\n\n" + b64_std_encode(ROOT) + "\n", "leading zeros"),
        ("log\n18446744073709551616\n" + b64_std_encode(ROOT) + "\n", "64 bits"),
        ("log\n42\n" + b64_std_encode(ROOT[:31]) + "\n", "32 bytes"),
        ("log\n42\n" + b64_std_encode(ROOT).rstrip("=") + "\n", "base64"),
        ("log\n42\n" + b64_std_encode(ROOT) + "\n\n", "extension line 1 is empty"),
        ("log\n42\n" + b64_std_encode(ROOT), "end with a newline"),
        ("log\n42\n" + b64_std_encode(ROOT) + "\nex\x00t\n", "control character"),
    ],
)
def test_checkpoint_malformed(text: str, message: str) -> None:
    with pytest.raises(TrustError, match=message) as info:
        parse_checkpoint(text)
    assert info.value.code == "checkpoint_malformed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", 1, ROOT), "origin"),
        (("a\nb", 1, ROOT), "origin"),
        (("log", -1, ROOT), "size"),
        (("log", 1 << 64, ROOT), "size"),
        (("log", True, ROOT), "size"),
        (("log", 1, ROOT[:31]), "32 bytes"),
        (("log", 1, ROOT, [""]), "extension"),
        (("log", 1, ROOT, ["a\nb"]), "extension"),
        (("log", 1, ROOT, "ext"), "not a string"),
        (("l\x01g", 1, ROOT), "control character"),
    ],
)
def test_format_checkpoint_refuses(args: tuple, message: str) -> None:
    with pytest.raises(TrustError, match=message):
        format_checkpoint(*args)


@settings(max_examples=100, deadline=None)
@given(
    origin=_lines.filter(bool),
    size=st.integers(0, (1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(_lines.filter(bool), max_size=3),
)
def test_checkpoint_property(origin: str, size: int, root: bytes, extensions: list[str]) -> None:
    text = format_checkpoint(origin, size, root, extensions)
    assert parse_checkpoint(text) == Checkpoint(origin, size, root, tuple(extensions))


def test_signed_checkpoint_end_to_end() -> None:
    log = _signer("log.example/audit", 3)
    note = log.sign(format_checkpoint("log.example/audit", 7, ROOT))
    opened = open_note(note, [log.verifier()])
    assert parse_checkpoint(opened.text).size == 7


# ----------------------------------------------------------------- cosignatures


def test_spec_cosignature_message_and_line() -> None:
    assert cosigned_message(SPEC_CHECKPOINT, 1679315147) == SPEC_COSIGNED_MESSAGE.encode()
    # The spec's witness line carries the spec's example timestamp.
    sig = parse_signature_line(SPEC_WITNESS_LINE)
    assert len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147


def test_real_witness_key_parses() -> None:
    verifier = CosignatureVerifier.from_key_string(REMORA_VKEY)
    assert (verifier.name, verifier.key_id.hex()) == ("remora.n621.de", "da77ade7")
    assert verifier.key_string() == REMORA_VKEY
    pub = verifier.public_key.public_bytes_raw()
    assert verifier.key_id == sha256(b"remora.n621.de\n\x04" + pub)[:4]
    # The same material as a type-0x01 note key is refused, and vice versa.
    with pytest.raises(KeyFormatError, match="signature type 0x04"):
        NoteVerifier.from_key_string(REMORA_VKEY)
    with pytest.raises(KeyFormatError, match="signature type 0x01"):
        CosignatureVerifier.from_key_string(PETER_VKEY)


def test_cosign_and_verify() -> None:
    witness = _cosigner()
    checkpoint = format_checkpoint("log.example/audit", 7, ROOT)
    line = witness.cosign(checkpoint, timestamp=1_700_000_000)
    sig = parse_signature_line(line)
    assert sig.key_id == key_id(witness.name, 0x04, witness.public_key.public_bytes_raw())
    assert sig.signature[:8] == (1_700_000_000).to_bytes(8, "big")
    # The signature is plain Ed25519 over the cosignature/v1 message.
    witness.public_key.verify(sig.signature[8:], cosigned_message(checkpoint, 1_700_000_000))

    verifier = CosignatureVerifier.from_key_string(witness.verifier_key())
    assert verifier.verify_line(checkpoint, line) == 1_700_000_000
    assert verifier.verify_line(checkpoint, line + "\n") == 1_700_000_000


def test_cosignature_refusals() -> None:
    witness = _cosigner()
    verifier = witness.verifier()
    checkpoint = format_checkpoint("log.example/audit", 7, ROOT)
    line = witness.cosign(checkpoint, timestamp=1_700_000_000)
    sig = parse_signature_line(line)
    fake = type(sig)

    # Wrong timestamp: same signature, different time field.
    moved = fake(sig.name, sig.key_id, (1_700_000_001).to_bytes(8, "big") + sig.signature[8:])
    with pytest.raises(SignatureError, match="invalid cosignature"):
        verifier.verify_line(checkpoint, moved.line())
    # Wrong checkpoint.
    other = format_checkpoint("log.example/audit", 8, ROOT)
    with pytest.raises(SignatureError, match="invalid cosignature"):
        verifier.verify_line(other, line)
    # Extension lines are covered.
    with pytest.raises(SignatureError, match="invalid cosignature"):
        verifier.verify_line(format_checkpoint("log.example/audit", 7, ROOT, ["x"]), line)
    # Another witness's line, or the same key under another name.
    with pytest.raises(SignatureError, match=r"not witness\.example/w1"):
        verifier.verify_line(checkpoint, _cosigner(seed=8).cosign(checkpoint, timestamp=1))
    renamed = CosignatureSigner(
        "witness.example/w2", Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    )
    with pytest.raises(SignatureError, match=r"not witness\.example/w1"):
        verifier.verify_line(checkpoint, renamed.cosign(checkpoint, timestamp=1))
    # A plain note signature by the same key is not a cosignature.
    note_line = NoteSigner(
        witness.name, Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    ).signature_line(checkpoint)
    with pytest.raises(SignatureError, match=r"not witness\.example/w1"):
        verifier.verify_line(checkpoint, note_line)
    # Wrong length, malformed line, out-of-range timestamp.
    with pytest.raises(SignatureError, match="8 \\+ 64 bytes"):
        verifier.verify_line(checkpoint, fake(sig.name, sig.key_id, sig.signature[:-1]).line())
    with pytest.raises(SignatureError, match="malformed"):
        verifier.verify_line(checkpoint, line.replace(EM_DASH, "-"))
    huge = fake(sig.name, sig.key_id, (1 << 63).to_bytes(8, "big") + sig.signature[8:])
    with pytest.raises(SignatureError, match="timestamp"):
        verifier.verify_line(checkpoint, huge.line())
    with pytest.raises(SignatureError, match="timestamp"):
        witness.cosign(checkpoint, timestamp=-1)
    with pytest.raises(TrustError, match="at least 3 lines"):
        witness.cosign("not a checkpoint\n", timestamp=1)


def test_cosigned_checkpoint_note() -> None:
    log, witness = _signer("log.example/audit", 3), _cosigner()
    checkpoint = format_checkpoint("log.example/audit", 7, ROOT)
    note = add_cosignature(log.sign(checkpoint), witness, timestamp=1_700_000_000)
    assert add_cosignature(note, witness, timestamp=1_700_000_000) == note
    opened = open_note(note, [log.verifier()])
    assert opened.verified_by == ["log.example/audit"]
    [line] = opened.other_lines
    assert witness.verifier().verify_line(opened.text, line) == 1_700_000_000
    # A cosigner key passed as a note verifier does not match the line's key ID.
    with pytest.raises(ProofError):
        open_note(note, [NoteVerifier(witness.name, witness.public_key)])


@settings(max_examples=50, deadline=None)
@given(
    size=st.integers(0, (1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    timestamp=st.integers(0, (1 << 63) - 1),
)
def test_cosignature_property(size: int, root: bytes, timestamp: int) -> None:
    witness = _cosigner()
    checkpoint = format_checkpoint("log.example/audit", size, root)
    line = witness.cosign(checkpoint, timestamp=timestamp)
    assert witness.verifier().verify_line(checkpoint, line) == timestamp
