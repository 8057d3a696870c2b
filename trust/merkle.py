"""RFC 9162 §2.1 Merkle tree hashing, proofs and proof verification (SHA-256).

The audit log never keeps the whole tree in memory.  Instead it stores every
*perfect* subtree as soon as it completes: node ``(level, index)`` is the hash of
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf
hashes themselves.  Perfect nodes never change once written, so they can live in
an append-only table.

Every range that RFC 9162's MTH/PATH/SUBPROOF recursion ever asks about starts
at a multiple of the power of two just above its length.  Such a range is the
concatenation of at most ``log2(n) + 1`` perfect nodes, so each proof here costs
``O(log n)`` lookups through a caller-supplied ``perfect_node(level, index)``
function, whatever the size of the log.

:class:`Frontier` is the appender's side: the handful of perfect subtrees along
the right edge of the tree, enough to know the root after every append and to
say which perfect nodes each append completed, without rereading the log.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from trust.encoding import sha256
from trust.errors import ProofError, TrustError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "MemoryTree",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"")

#: ``perfect_node(level, index)`` returns the stored hash of the perfect subtree
#: covering leaves ``[index * 2**level, (index + 1) * 2**level)``.
SubtreeHash = Callable[[int, int], bytes]

# A proof never has more elements than the tree has levels; 64 levels already
# cover 2**64 leaves, so anything longer is garbage and is refused before any
# hashing work is done.
_MAX_PROOF_LEN = 64


def leaf_hash(data: bytes) -> bytes:
    """Hash a leaf: SHA-256(0x00 || data).  The prefix keeps leaves and interior
    nodes in separate domains (second-preimage protection)."""
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``): where
    RFC 9162's MTH splits a list of ``n`` leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_perfect(start: int, end: int) -> bool:
    """Whether leaves ``[start, end)`` form one stored perfect node."""
    n = end - start
    return n > 0 and n & (n - 1) == 0 and start % n == 0


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, computed directly from the list.

    Used for small trees and as an independent cross-check; it folds the
    perfect subtrees of each power-of-two block exactly like the RFC's
    recursive definition.
    """
    if not hashes:
        return EMPTY_ROOT
    frontier = Frontier()
    for h in hashes:
        frontier.append(h)
    return frontier.root()


def range_hash(start: int, end: int, perfect_node: SubtreeHash) -> bytes:
    """MTH of leaves ``[start, end)``, i.e. the root of a tree made of just those
    leaves, split the way RFC 9162's MTH splits.

    A perfect range costs one lookup.  A range that starts at a multiple of the
    power of two above its length (every range PATH and SUBPROOF use) is a run
    of perfect nodes and costs one lookup per set bit of its length, merged
    right to left exactly as MTH nests.  Any other range is still answered
    correctly by recursing into smaller nodes, just with more lookups.
    """
    if not 0 <= start < end:
        raise ValueError(f"range_hash needs 0 <= start < end, got [{start}, {end})")
    if _is_perfect(start, end):
        return perfect_node((end - start).bit_length() - 1, start // (end - start))
    # Walk down the right spine: collect the left halves, then merge them onto the
    # last (perfect) piece from right to left.  Iterative to keep the depth flat.
    lefts: list[bytes] = []
    while not _is_perfect(start, end):
        k = _split(end - start)
        lefts.append(range_hash(start, start + k, perfect_node))
        start += k
    acc = range_hash(start, end, perfect_node)
    for left in reversed(lefts):
        acc = node_hash(left, acc)
    return acc


def root(size: int, perfect_node: SubtreeHash) -> bytes:
    """The root hash of the first ``size`` leaves (MTH(D[0:size]))."""
    if size < 0:
        raise ValueError(f"tree size must be >= 0, got {size}")
    if size == 0:
        return EMPTY_ROOT
    return range_hash(0, size, perfect_node)


def inclusion_proof(index: int, size: int, perfect_node: SubtreeHash) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``size`` leaves
    (RFC 9162 §2.1.3.1 PATH), ordered from the leaf's sibling up to the root's
    child.

    Only the first sibling on the right of the path can be a partial range, so
    the cost is ``O(log size)`` lookups.
    """
    if not 0 <= index < size:
        raise ValueError(f"inclusion proof needs 0 <= index < size, got index {index}, size {size}")
    siblings: list[bytes] = []  # collected top-down, returned bottom-up
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            siblings.append(range_hash(start + k, end, perfect_node))
            end = start + k
        else:
            siblings.append(range_hash(start, start + k, perfect_node))
            start += k
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, perfect_node: SubtreeHash) -> list[bytes]:
    """The proof that the tree of ``old_size`` leaves is a prefix of the tree of
    ``new_size`` leaves (RFC 9162 §2.1.4.1 PROOF/SUBPROOF).

    Equal sizes give an empty proof.  ``old_size`` 0 is refused: the RFC defines
    proofs only for ``0 < old_size``, and the empty tree is trivially a prefix
    of everything.
    """
    if not 0 < old_size <= new_size:
        raise ValueError(
            f"consistency proof needs 0 < old_size <= new_size, got {old_size} and {new_size}"
        )
    proof: list[bytes] = []  # collected top-down, returned bottom-up
    start, end = 0, new_size
    m = old_size  # the old tree's size relative to ``start``
    whole = True  # SUBPROOF's flag b: is [start, start + m) the entire old tree?
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(range_hash(start + k, end, perfect_node))
            end = start + k
        else:
            proof.append(range_hash(start, start + k, perfect_node))
            start += k
            m -= k
            whole = False
    if not whole:
        # The old tree's rightmost subtree is a node of the new tree: supply it.
        proof.append(range_hash(start, end, perfect_node))
    proof.reverse()
    return proof


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {got}")


def _check_proof(proof: Sequence[bytes]) -> None:
    if len(proof) > _MAX_PROOF_LEN:
        raise ProofError(f"proof has {len(proof)} elements, more than any tree can need")
    for i, element in enumerate(proof):
        _check_hash(element, f"proof element {i}")


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves
    whose root is ``root`` (RFC 9162 §2.1.3.2).  Returns nothing; raises
    :class:`ProofError` saying what failed.

    The proof binds the leaf to the root; ``size`` only shapes the path.  Some
    sizes share a path shape (leaf 0 of 3 leaves and of 4 leaves, say), so the
    size must come from the same signed checkpoint as the root.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    if size <= 0:
        raise ProofError(f"tree size {size} has no leaves to prove")
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size} leaves")
    _check_proof(proof)

    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    if not hmac.compare_digest(r, root):
        raise ProofError("inclusion proof does not lead to the given root")


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` leaves with ``old_root`` is a prefix of
    the tree of ``new_size`` leaves with ``new_root`` (RFC 9162 §2.1.4.2).
    Returns nothing; raises :class:`ProofError` saying what failed.

    Edge cases, matching transparency-dev's test data:

    * ``old_size > new_size``: refused.
    * equal sizes: the proof must be empty and the roots equal.
    * ``old_size == 0``: refused, even with two empty trees.  The RFC defines
      proofs only for ``0 < old_size``; a client that has seen nothing has
      nothing to check and should simply accept the newer checkpoint.
    """
    if old_size < 0 or new_size < 0:
        raise ProofError(f"tree sizes must be >= 0, got {old_size} and {new_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if old_size == new_size:
        if proof:
            raise ProofError("sizes are equal, so the proof must be empty")
        if not hmac.compare_digest(bytes(old_root), bytes(new_root)):
            raise ProofError("sizes are equal but the roots differ")
        return
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    if not proof:
        raise ProofError("consistency proof is empty but the sizes differ")
    _check_proof(proof)

    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect node of the new one; the proof omits it.
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than needed")
    if not hmac.compare_digest(fr, old_root):
        raise ProofError("consistency proof does not reproduce the old root")
    if not hmac.compare_digest(sr, new_root):
        raise ProofError("consistency proof does not reproduce the new root")


class Frontier:
    """The perfect subtrees along the right edge of a tree of ``size`` leaves:
    one hash per set bit of ``size``, largest (leftmost) first.

    That is all an appender needs to know the root after every append, and it
    fits in one database row (:meth:`to_bytes`).  :meth:`append` reports the
    perfect nodes that each new leaf completes, so the caller can store them.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The right-edge perfect subtree hashes, largest first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf (already hashed with :func:`leaf_hash`) and return the
        perfect nodes ``(level, index, hash)`` it completed, from the leaf
        itself at level 0 upwards."""
        _check_hash(leaf_hash, "leaf hash")
        position = self._size
        h = bytes(leaf_hash)
        completed = [(0, position, h)]
        level = 0
        # Every trailing 1-bit of the old size is a right-edge subtree of the same
        # height as what we are carrying: merge, like binary addition.
        while (position >> level) & 1:
            h = node_hash(self._hashes.pop(), h)
            level += 1
            completed.append((level, position >> level, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of everything appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        acc = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            acc = node_hash(left, acc)
        return acc

    def to_bytes(self) -> bytes:
        """The right-edge hashes concatenated (32 bytes each, largest first)."""
        return b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """Rebuild a frontier from its size and :meth:`to_bytes` output."""
        if size < 0:
            raise TrustError(f"frontier size must be >= 0, got {size}", "frontier_invalid")
        expected = size.bit_count() * HASH_SIZE
        if len(data) != expected:
            raise TrustError(
                f"frontier of size {size} needs {expected} bytes of hashes, got {len(data)}",
                "frontier_invalid",
            )
        frontier = cls()
        frontier._size = size
        frontier._hashes = [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
        return frontier


class MemoryTree:
    """An in-memory log: a :class:`Frontier` plus a dict of every perfect node.

    Meant for tests, the CLI and small tools; the database-backed log does the
    same with a table instead of the dict.
    """

    def __init__(self) -> None:
        self._frontier = Frontier()
        self._nodes: dict[tuple[int, int], bytes] = {}

    @property
    def size(self) -> int:
        return self._frontier.size

    def append(self, data: bytes) -> int:
        """Append a leaf's raw data; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, hashed_leaf: bytes) -> int:
        """Append an already-hashed leaf; returns its index."""
        index = self._frontier.size
        for level, node_index, h in self._frontier.append(hashed_leaf):
            self._nodes[(level, node_index)] = h
        return index

    def perfect_node(self, level: int, index: int) -> bytes:
        """The stored perfect node; :class:`KeyError` if it has not completed."""
        return self._nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        """The root now, or at an earlier ``size``."""
        return self._frontier.root() if size is None else root(size, self.perfect_node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self.size if size is None else size, self.perfect_node)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(
            old_size, self.size if new_size is None else new_size, self.perfect_node
        )
