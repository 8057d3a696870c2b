"""C2SP signed notes, tlog checkpoints and tlog cosignatures (Ed25519 only).

A signed note (c2sp.org/signed-note) is UTF-8 text ending in a newline, a blank
line, then one line per signature::

    <text, ending in \\n>
    <blank line>
    — <key name> <base64(4-byte key ID || signature)>

The audit log publishes its tree heads as checkpoints (c2sp.org/tlog-checkpoint),
which are notes whose text is ``origin\\nsize\\nbase64(root)\\n`` plus optional
extension lines, and witnesses add cosignature lines (c2sp.org/tlog-cosignature,
``cosignature/v1``) to the same note.  Everything is parsed strictly: one
canonical byte string per meaning, because a lenient parser is exactly where two
verifiers start to disagree about what was signed.

Key strings follow golang.org/x/mod/sumdb/note: a verifier key is
``<name>+<hex key ID>+<base64(type byte || public key)>`` and a signer key is
``PRIVATE+KEY+<name>+<hex key ID>+<base64(type byte || Ed25519 seed)>``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from trust.encoding import b64_std_decode, b64_std_encode, sha256
from trust.errors import KeyFormatError, ProofError, SignatureError, TrustError

__all__ = [
    "EM_DASH",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Checkpoint",
    "CosignatureSigner",
    "CosignatureVerifier",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "OpenedNote",
    "add_cosignature",
    "add_signature",
    "cosigned_message",
    "format_checkpoint",
    "key_id",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "parse_signature_line",
]

EM_DASH: Final = "\u2014"
#: Signature type bytes from c2sp.org/signed-note, "Signature types".
SIG_ED25519: Final = 0x01
SIG_COSIGNATURE_V1: Final = 0x04

#: Upper bound on a whole note (text and signatures), in UTF-8 bytes.  Checkpoints
#: are a few hundred bytes; the bound only stops abuse.
MAX_NOTE_SIZE: Final = 1 << 20
#: The spec says verifiers MUST accept at least 16 signatures; golang.org/x/mod
#: stops at 100, and so do we.
MAX_SIGNATURES: Final = 100

_SIG_PREFIX: Final = EM_DASH + " "
_COSIGNATURE_HEADER: Final = "cosignature/v1\n"
_ED25519_KEY_SIZE: Final = 32
_ED25519_SIG_SIZE: Final = 64
_KEY_ID_SIZE: Final = 4
_MAX_TIMESTAMP: Final = (1 << 63) - 1
_MAX_TREE_SIZE: Final = (1 << 64) - 1

# ASCII control characters other than newline are forbidden anywhere in a note.
_CONTROL_RE: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")
# The spec fixes the key ID encoding as 8 lowercase hex digits.
_HEX_ID_RE: Final = re.compile(r"[0-9a-f]{8}")
_DECIMAL_RE: Final = re.compile(r"0|[1-9][0-9]{0,19}")

_MALFORMED: Final = "note_malformed"
_CHECKPOINT_MALFORMED: Final = "checkpoint_malformed"


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type byte || public key)[:4].

    The type byte makes the same key under the same name a different identity
    per signature type, so a note signature can never pass as a cosignature.
    """
    return sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key)[:_KEY_ID_SIZE]


def _is_valid_name(name: str) -> bool:
    """Key names are non-empty UTF-8 without Unicode spaces or '+' (they are
    separated from the rest of a key string by '+' and of a line by spaces)."""
    if not name or "+" in name or _CONTROL_RE.search(name):
        return False
    if any(ch.isspace() for ch in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_key_name(name: str) -> None:
    if not isinstance(name, str) or not _is_valid_name(name):
        raise KeyFormatError(f"invalid key name {name!r}: must be non-empty, no spaces, no '+'")


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes_raw()


def _encode_key_string(name: str, sig_type: int, kid: bytes, material: bytes) -> str:
    return f"{name}+{kid.hex()}+{b64_std_encode(bytes([sig_type]) + material)}"


def _parse_key_string(text: str, sig_type: int, what: str) -> tuple[str, str, bytes]:
    """Split ``<name>+<hex id>+<base64(type || material)>`` and check its shape.

    Returns (name, hex id, key material); the caller checks the ID once it has
    the public key.  The name cannot contain '+', so the first two '+' are the
    separators even though base64 may contain more.
    """
    if not isinstance(text, str):
        raise KeyFormatError(f"{what} must be a string")
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"{what} must look like <name>+<hex key id>+<base64 key>")
    name, hex_id, b64 = parts
    if not _is_valid_name(name):
        raise KeyFormatError(f"{what} has an invalid key name {name!r}")
    if _HEX_ID_RE.fullmatch(hex_id) is None:
        raise KeyFormatError(f"{what} id must be 8 lowercase hex digits, got {hex_id!r}")
    try:
        raw = b64_std_decode(b64)
    except TrustError as exc:
        raise KeyFormatError(f"{what} is not valid base64 ({exc.message})") from exc
    if not raw:
        raise KeyFormatError(f"{what} has no key material")
    if raw[0] != sig_type:
        raise KeyFormatError(f"{what} has signature type 0x{raw[0]:02x}, expected 0x{sig_type:02x}")
    material = raw[1:]
    if len(material) != _ED25519_KEY_SIZE:
        raise KeyFormatError(
            f"{what} material must be {_ED25519_KEY_SIZE} bytes, got {len(material)}"
        )
    return name, hex_id, material


def _public_key(material: bytes, what: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(material)
    except ValueError as exc:
        raise KeyFormatError(f"{what} is not a usable Ed25519 public key") from exc


def _check_key_id(hex_id: str, computed: bytes, what: str) -> None:
    if computed.hex() != hex_id:
        raise KeyFormatError(
            f"{what} id {hex_id} does not match the key (expected {computed.hex()})"
        )


def _check_note_text(text: str, code: str = _MALFORMED) -> bytes:
    """Validate a note text (what gets signed) and return its UTF-8 bytes."""
    if not isinstance(text, str):
        raise TrustError("note text must be a string", code)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TrustError("note text is not valid UTF-8", code) from exc
    if len(data) > MAX_NOTE_SIZE:
        raise TrustError(f"note text is {len(data)} bytes, over the {MAX_NOTE_SIZE} limit", code)
    if not text.endswith("\n"):
        raise TrustError("note text must end with a newline", code)
    if _CONTROL_RE.search(text):
        raise TrustError("note text contains a control character other than newline", code)
    return data


# --------------------------------------------------------------------------- notes


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line: key name, 4-byte key ID and the signature
    bytes that follow the ID (their format depends on the key's type)."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        """The line as it appears in a note, without the trailing newline."""
        return f"{_SIG_PREFIX}{self.name} {b64_std_encode(self.key_id + self.signature)}"


def parse_signature_line(line: str) -> NoteSignature:
    """Parse ``— <name> <base64(key ID || signature)>`` (one trailing newline is
    tolerated).  Raises :class:`TrustError` (code ``note_malformed``)."""
    if not isinstance(line, str):
        raise TrustError("signature line must be a string", _MALFORMED)
    if line.endswith("\n"):
        line = line[:-1]
    if not line.startswith(_SIG_PREFIX):
        raise TrustError(
            f"signature line must start with an em dash and a space: {line!r}", _MALFORMED
        )
    parts = line[len(_SIG_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise TrustError(f"signature line must be '— <name> <base64>': {line!r}", _MALFORMED)
    name, b64 = parts
    if not _is_valid_name(name):
        raise TrustError(f"signature line has an invalid key name {name!r}", _MALFORMED)
    try:
        raw = b64_std_decode(b64)
    except TrustError as exc:
        raise TrustError(
            f"signature of {name!r} is not valid base64: {exc.message}", _MALFORMED
        ) from exc
    if len(raw) <= _KEY_ID_SIZE:
        raise TrustError(f"signature of {name!r} is too short to hold a key id", _MALFORMED)
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines, without verifying.

    The text ends at the *last* blank line, so the text itself may contain blank
    lines.  Raises :class:`TrustError` (code ``note_malformed``).
    """
    if isinstance(note, bytes | bytearray):
        if len(note) > MAX_NOTE_SIZE:
            raise TrustError(
                f"note is {len(note)} bytes, over the {MAX_NOTE_SIZE} limit", _MALFORMED
            )
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrustError("note is not valid UTF-8", _MALFORMED) from exc
    if not isinstance(note, str):
        raise TrustError("note must be text", _MALFORMED)
    try:
        size = len(note.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise TrustError("note is not valid UTF-8", _MALFORMED) from exc
    if size > MAX_NOTE_SIZE:
        raise TrustError(f"note is {size} bytes, over the {MAX_NOTE_SIZE} limit", _MALFORMED)
    if _CONTROL_RE.search(note):
        raise TrustError("note contains a control character other than newline", _MALFORMED)
    split = note.rfind("\n\n")
    if split < 0:
        raise TrustError("note has no blank line between text and signatures", _MALFORMED)
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise TrustError("note has no signature lines", _MALFORMED)
    if not block.endswith("\n"):
        raise TrustError("note must end with a newline", _MALFORMED)
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise TrustError(
            f"note has {len(lines)} signatures, over the {MAX_SIGNATURES} limit", _MALFORMED
        )
    return text, [parse_signature_line(line) for line in lines]


class NoteVerifier:
    """A trusted Ed25519 note key (signature type 0x01)."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        _check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, SIG_ED25519, _public_bytes(public_key))

    @classmethod
    def from_key_string(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``; the key ID
        must match the key.  Raises :class:`KeyFormatError`."""
        name, hex_id, material = _parse_key_string(vkey, SIG_ED25519, "verifier key")
        verifier = cls(name, _public_key(material, "verifier key"))
        _check_key_id(hex_id, verifier.key_id, "verifier key")
        return verifier

    def key_string(self) -> str:
        """This key as a verifier key string."""
        return _encode_key_string(
            self.name, SIG_ED25519, self.key_id, _public_bytes(self.public_key)
        )

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (without key ID) is this key's over ``text``."""
        try:
            self.public_key.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"NoteVerifier({self.name!r}, key_id={self.key_id.hex()})"


class NoteSigner:
    """An Ed25519 note signing key (signature type 0x01)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(name, SIG_ED25519, _public_bytes(self.public_key))

    @classmethod
    def from_key_string(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>``.
        Raises :class:`KeyFormatError`."""
        prefix = "PRIVATE+KEY+"
        if not isinstance(skey, str) or not skey.startswith(prefix):
            raise KeyFormatError("signer key must start with 'PRIVATE+KEY+'")
        name, hex_id, seed = _parse_key_string(skey[len(prefix) :], SIG_ED25519, "signer key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        _check_key_id(hex_id, signer.key_id, "signer key")
        return signer

    def signer_key(self) -> str:
        """This key as a ``PRIVATE+KEY+...`` string.  Secret: keep it out of logs."""
        seed = self._private_key.private_bytes_raw()
        return "PRIVATE+KEY+" + _encode_key_string(self.name, SIG_ED25519, self.key_id, seed)

    def verifier_key(self) -> str:
        """The matching public verifier key string."""
        return self.verifier().key_string()

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, self.public_key)

    def signature_line(self, text: str) -> str:
        """This key's signature line over ``text`` (no trailing newline)."""
        data = _check_note_text(text)
        return NoteSignature(self.name, self.key_id, self._private_key.sign(data)).line()

    def sign(self, text: str) -> str:
        """A complete signed note carrying this key's signature over ``text``."""
        return f"{text}\n{self.signature_line(text)}\n"

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id.hex()})"


@dataclass(frozen=True)
class OpenedNote:
    """A note that passed :func:`open_note`.

    ``verified_by`` lists the trusted key names whose signatures verified, in
    note order; ``other_lines`` keeps the signature lines of keys the caller
    did not pass (witness cosignatures, rotated keys...) for separate checks.
    """

    text: str
    verified_by: list[str] = field(default_factory=list)
    other_lines: list[str] = field(default_factory=list)


def open_note(note: str | bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse ``note`` and verify it against trusted ``verifiers``.

    As c2sp.org/signed-note requires, lines from unknown keys (name and key ID
    not both matching a trusted key) are ignored, every line from a trusted key
    is verified, and a bad signature from a trusted key rejects the whole note.

    Raises :class:`TrustError` (``note_malformed``) if the note does not parse,
    :class:`KeyFormatError` if two different trusted keys share a name and ID,
    :class:`SignatureError` if a trusted key's signature is wrong, and
    :class:`ProofError` (``note_unverified``) if no trusted key signed it.
    """
    text, signatures = parse_note(note)
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        other = known.setdefault((v.name, v.key_id), v)
        if _public_bytes(other.public_key) != _public_bytes(v.public_key):
            raise KeyFormatError(
                f"two trusted keys share the name and id {v.name}+{v.key_id.hex()}"
            )
    verified_by: list[str] = []
    other_lines: list[str] = []
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            other_lines.append(sig.line())
            continue
        if not verifier.verify(text, sig.signature):
            raise SignatureError(f"invalid signature for key {sig.name}+{sig.key_id.hex()}")
        if sig.name not in verified_by:
            verified_by.append(sig.name)
    if not verified_by:
        raise ProofError("note has no signature from a trusted key", "note_unverified")
    return OpenedNote(text=text, verified_by=verified_by, other_lines=other_lines)


def _with_line(note: str, name: str, kid: bytes, line: str) -> str:
    """Rebuild ``note`` with ``line`` replacing any line from the same key."""
    text, signatures = parse_note(note)
    kept = [s.line() for s in signatures if (s.name, s.key_id) != (name, kid)]
    if len(kept) + 1 > MAX_SIGNATURES:
        raise TrustError(f"note would exceed {MAX_SIGNATURES} signatures", _MALFORMED)
    return text + "\n" + "".join(f"{x}\n" for x in [*kept, line])


def add_signature(note: str, signer: NoteSigner) -> str:
    """Add ``signer``'s signature to an existing note (replacing an older one
    from the same key).  Existing signatures are kept but not verified."""
    text, _ = parse_note(note)
    return _with_line(note, signer.name, signer.key_id, signer.signature_line(text))


# ---------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """The body of a c2sp.org/tlog-checkpoint note."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def to_text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root, self.extensions)


def format_checkpoint(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """The checkpoint note text ``origin\\nsize\\nbase64(root)\\n[extensions\\n]``.

    Refuses anything :func:`parse_checkpoint` would refuse, so a checkpoint we
    sign is always one we (and other implementations) can read back.
    """
    code = _CHECKPOINT_MALFORMED
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise TrustError("checkpoint origin must be a non-empty single line", code)
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
        raise TrustError(f"checkpoint size must be an integer in [0, 2**64), got {size!r}", code)
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise TrustError("checkpoint root must be 32 bytes", code)
    if isinstance(extensions, str):
        raise TrustError("checkpoint extensions must be a sequence of lines, not a string", code)
    for ext in extensions:
        if not isinstance(ext, str) or not ext or "\n" in ext:
            raise TrustError("checkpoint extension lines must be non-empty single lines", code)
    text = "".join(
        f"{line}\n" for line in [origin, str(size), b64_std_encode(bytes(root)), *extensions]
    )
    _check_note_text(text, code)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly: non-empty origin, decimal size
    without leading zeros, canonical base64 of a 32-byte root, non-empty
    extension lines.  Raises :class:`TrustError` (code ``checkpoint_malformed``)."""
    code = _CHECKPOINT_MALFORMED
    _check_note_text(text, code)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise TrustError(f"checkpoint needs at least 3 lines, got {len(lines)}", code)
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise TrustError("checkpoint origin is empty", code)
    if _DECIMAL_RE.fullmatch(size_text) is None:
        raise TrustError(
            f"checkpoint size {size_text!r} is not a decimal without leading zeros", code
        )
    size = int(size_text)
    if size > _MAX_TREE_SIZE:
        raise TrustError(f"checkpoint size {size} does not fit in 64 bits", code)
    try:
        root = b64_std_decode(root_text)
    except TrustError as exc:
        raise TrustError(f"checkpoint root is not valid base64: {exc.message}", code) from exc
    if len(root) != 32:
        raise TrustError(f"checkpoint root must be 32 bytes, got {len(root)}", code)
    for i, ext in enumerate(extensions):
        if not ext:
            raise TrustError(f"checkpoint extension line {i + 1} is empty", code)
    return Checkpoint(origin=origin, size=size, root=root, extensions=tuple(extensions))


# --------------------------------------------------------------------- cosignatures


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: a header line, a time line, then the whole
    checkpoint body (c2sp.org/tlog-cosignature, "Ed25519 signed message").

    Only checkpoints are cosigned, so the text must parse as one.
    """
    parse_checkpoint(checkpoint_text)
    _check_timestamp(timestamp)
    return f"{_COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def _check_timestamp(timestamp: int) -> None:
    if (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, int)
        or not 0 <= timestamp <= _MAX_TIMESTAMP
    ):
        raise SignatureError(f"cosignature timestamp must be in [0, 2**63), got {timestamp!r}")


class CosignatureVerifier:
    """A witness's Ed25519 cosignature/v1 key (signature type 0x04).

    The v1 message does not include the cosigner's name, which is why the spec
    requires a separate key per cosigner.
    """

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        _check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, SIG_COSIGNATURE_V1, _public_bytes(public_key))

    @classmethod
    def from_key_string(cls, vkey: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x04 || public key)>``.  Plain
        note keys (type 0x01) are refused.  Raises :class:`KeyFormatError`."""
        name, hex_id, material = _parse_key_string(vkey, SIG_COSIGNATURE_V1, "cosigner key")
        verifier = cls(name, _public_key(material, "cosigner key"))
        _check_key_id(hex_id, verifier.key_id, "cosigner key")
        return verifier

    def key_string(self) -> str:
        return _encode_key_string(
            self.name, SIG_COSIGNATURE_V1, self.key_id, _public_bytes(self.public_key)
        )

    def verify_line(self, checkpoint_text: str, line: str) -> int:
        """Verify a cosignature line over ``checkpoint_text`` and return its
        timestamp (POSIX seconds).  Raises :class:`SignatureError` if the line is
        not this key's, is malformed, or does not verify; :class:`TrustError` if
        ``checkpoint_text`` is not a checkpoint."""
        try:
            sig = parse_signature_line(line)
        except TrustError as exc:
            raise SignatureError(f"malformed cosignature line: {exc.message}") from exc
        if (sig.name, sig.key_id) != (self.name, self.key_id):
            raise SignatureError(
                f"cosignature is from {sig.name}+{sig.key_id.hex()}, "
                f"not {self.name}+{self.key_id.hex()}"
            )
        if len(sig.signature) != 8 + _ED25519_SIG_SIZE:
            raise SignatureError(
                f"cosignature must be 8 + {_ED25519_SIG_SIZE} bytes after the key id, "
                f"got {len(sig.signature)}"
            )
        timestamp = int.from_bytes(sig.signature[:8], "big")
        _check_timestamp(timestamp)
        message = cosigned_message(checkpoint_text, timestamp)
        try:
            self.public_key.verify(sig.signature[8:], message)
        except InvalidSignature as exc:
            raise SignatureError(
                f"invalid cosignature from {self.name}+{self.key_id.hex()}"
            ) from exc
        return timestamp

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.name!r}, key_id={self.key_id.hex()})"


class CosignatureSigner:
    """A witness's Ed25519 cosignature/v1 signing key (signature type 0x04)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_key_name(name)
        self.name = name
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(name, SIG_COSIGNATURE_V1, _public_bytes(self.public_key))

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def verifier_key(self) -> str:
        """The public key as a type-0x04 verifier key string."""
        return self.verifier().key_string()

    def cosign(self, checkpoint_text: str, *, timestamp: int) -> str:
        """The cosignature line (no trailing newline) over ``checkpoint_text`` at
        ``timestamp``: base64(key ID || u64 big-endian timestamp || signature)."""
        _check_timestamp(timestamp)
        signature = self._private_key.sign(cosigned_message(checkpoint_text, timestamp))
        return NoteSignature(
            self.name, self.key_id, timestamp.to_bytes(8, "big") + signature
        ).line()

    def __repr__(self) -> str:
        return f"CosignatureSigner({self.name!r}, key_id={self.key_id.hex()})"


def add_cosignature(note: str, cosigner: CosignatureSigner, *, timestamp: int) -> str:
    """Add ``cosigner``'s cosignature to a signed checkpoint note (replacing an
    older one from the same key).  Existing signatures are not verified: a
    witness must check the log's signature and consistency itself first."""
    text, _ = parse_note(note)
    return _with_line(
        note, cosigner.name, cosigner.key_id, cosigner.cosign(text, timestamp=timestamp)
    )
