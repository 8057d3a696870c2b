"""Tests for trust.merkle against transparency-dev's test data and a naive
transcription of RFC 9162 §2.1 written independently here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trust.vectors import require_vectors
from trust.encoding import b64_std_decode, sha256
from trust.errors import ProofError, TrustError
from trust.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    Frontier,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# The eight leaves of transparency-dev/merkle proof/verify_test.go; their tree
# is the one in the testdata happy-path files.
TD_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
TD_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"

MAX_N = 300

# --------------------------------------------------------------------------- brute force
# Straight from the RFC 9162 §2.1 text, recursive, on a list of leaf hashes.

LEAVES = tuple(leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_N))


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def mth(start: int, end: int) -> bytes:
    """MTH(D[start:end]) over LEAVES."""
    n = end - start
    if n == 0:
        return sha256(b"")
    if n == 1:
        return LEAVES[start]
    k = _k(n)
    return sha256(b"\x01" + mth(start, start + k) + mth(start + k, end))


def path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end])."""
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, start, start + k), mth(start + k, end)]
    return [*path(m - k, start + k, end), mth(start, start + k)]


def subproof(m: int, start: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b)."""
    n = end - start
    if m == n:
        return [] if b else [mth(start, end)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, start, start + k, b), mth(start + k, end)]
    return [*subproof(m - k, start + k, end, False), mth(start, start + k)]


def path_shape(m: int, n: int) -> list[str]:
    """Which side each PATH sibling is on, leaf first: all the verifier can see."""
    if n == 1:
        return []
    k = _k(n)
    return [*path_shape(m, k), "R"] if m < k else [*path_shape(m - k, n - k), "L"]


def proof_shape(m: int, n: int, b: bool = True) -> list[str]:
    if m == n:
        return [] if b else ["old"]
    k = _k(n)
    return [*proof_shape(m, k, b), "R"] if m <= k else [*proof_shape(m - k, n - k, False), "L"]


# ------------------------------------------------------------------------- the tree


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    t = MemoryTree()
    for h in LEAVES:
        t.append_hash(h)
    return t


class Lookups:
    """A perfect_node that refuses nodes beyond ``size`` and counts lookups."""

    def __init__(self, tree: MemoryTree, size: int) -> None:
        self.tree, self.size, self.count = tree, size, 0

    def __call__(self, level: int, index: int) -> bytes:
        assert (index + 1) << level <= self.size, (
            f"node ({level}, {index}) is past size {self.size}"
        )
        self.count += 1
        return self.tree.perfect_node(level, index)


def _bound(n: int) -> int:
    """O(log n): a generous constant times the tree height."""
    return 3 * n.bit_length() + 3


# ----------------------------------------------------------------- transparency-dev


def test_transparency_dev_tree_root() -> None:
    t = MemoryTree()
    for leaf in TD_LEAVES:
        t.append(leaf)
    assert t.root().hex() == TD_ROOT_8
    assert root_from_leaf_hashes([leaf_hash(x) for x in TD_LEAVES]).hex() == TD_ROOT_8
    assert root(8, t.perfect_node).hex() == TD_ROOT_8


def _b64(value: str) -> bytes:
    # The files hold some deliberately wrong-length values ("don't care"), and
    # empty strings for missing hashes; they are still canonical base64.
    return b64_std_decode(value) if value else b""


def _load(kind: str) -> list[tuple[Path, dict]]:
    base = require_vectors("merkle/testdata") / kind
    files = sorted(base.rglob("*.json"))
    return [(f, json.loads(f.read_text())) for f in files]


def test_inclusion_vectors() -> None:
    td = MemoryTree()
    for leaf in TD_LEAVES:
        td.append(leaf)
    accepted = rejected = compared = 0
    for f, case in _load("inclusion"):
        args: dict[str, Any] = dict(
            leaf_hash=_b64(case["leafHash"]),
            index=case["leafIdx"],
            size=case["treeSize"],
            proof=[_b64(p) for p in case["proof"] or []],
            root=_b64(case["root"]),
        )
        if case["wantErr"]:
            with pytest.raises(ProofError):
                verify_inclusion(**args)
            rejected += 1
        else:
            verify_inclusion(**args)
            accepted += 1
            if 0 < args["size"] <= td.size and td.root(args["size"]) == args["root"]:
                assert td.inclusion_proof(args["index"], args["size"]) == args["proof"], f
                compared += 1
    assert (accepted, rejected) == (6, 92)
    assert compared == 5  # every happy path but the unrelated single-entry tree


def test_consistency_vectors() -> None:
    td = MemoryTree()
    for leaf in TD_LEAVES:
        td.append(leaf)
    accepted = rejected = compared = 0
    for f, case in _load("consistency"):
        args: dict[str, Any] = dict(
            old_size=case["size1"],
            new_size=case["size2"],
            old_root=_b64(case["root1"]),
            new_root=_b64(case["root2"]),
            proof=[_b64(p) for p in case["proof"] or []],
        )
        if case["wantErr"]:
            with pytest.raises(ProofError):
                verify_consistency(**args)
            rejected += 1
        else:
            verify_consistency(**args)
            accepted += 1
            if args["new_size"] <= td.size and td.root(args["new_size"]) == args["new_root"]:
                got = td.consistency_proof(args["old_size"], args["new_size"])
                assert got == args["proof"], f
                compared += 1
    assert (accepted, rejected) == (6, 92)
    assert compared == 5  # every happy path but the "don't care" equal-size one


# ----------------------------------------------------------------- against the RFC


def test_small_trees_exhaustively(tree: MemoryTree) -> None:
    for n in range(1, 41):
        assert root(n, tree.perfect_node) == mth(0, n)
        for m in range(n):
            assert inclusion_proof(m, n, tree.perfect_node) == path(m, 0, n)
        for m in range(1, n + 1):
            assert consistency_proof(m, n, tree.perfect_node) == subproof(m, 0, n, True)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX_N), st.data())
def test_inclusion_matches_rfc_and_verifies(tree: MemoryTree, n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n - 1))
    lookups = Lookups(tree, n)
    proof = inclusion_proof(m, n, lookups)
    assert proof == path(m, 0, n)
    assert lookups.count <= _bound(n)
    lookups.count = 0
    assert root(n, lookups) == mth(0, n)
    assert lookups.count <= n.bit_length()
    verify_inclusion(leaf_hash=LEAVES[m], index=m, size=n, proof=proof, root=mth(0, n))


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX_N), st.data())
def test_consistency_matches_rfc_and_verifies(
    tree: MemoryTree, n: int, data: st.DataObject
) -> None:
    m = data.draw(st.integers(1, n))
    lookups = Lookups(tree, n)
    proof = consistency_proof(m, n, lookups)
    assert proof == subproof(m, 0, n, True)
    assert lookups.count <= _bound(n)
    verify_consistency(old_size=m, new_size=n, old_root=mth(0, m), new_root=mth(0, n), proof=proof)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, MAX_N - 1), st.data())
def test_range_hash_any_range(tree: MemoryTree, start: int, data: st.DataObject) -> None:
    end = data.draw(st.integers(start + 1, MAX_N))
    assert range_hash(start, end, tree.perfect_node) == mth(start, end)


def _flips(proof: list[bytes]):
    for i, element in enumerate(proof):
        for bit in range(HASH_SIZE * 8):
            bad = bytearray(element)
            bad[bit // 8] ^= 1 << (bit % 8)
            yield [*proof[:i], bytes(bad), *proof[i + 1 :]]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, MAX_N), st.data())
def test_inclusion_tampering_rejected(tree: MemoryTree, n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n - 1))
    proof, good_root = path(m, 0, n), mth(0, n)
    for bad in _flips(proof):
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash=LEAVES[m], index=m, size=n, proof=bad, root=good_root)
    for other in range(n):
        if other != m:
            with pytest.raises(ProofError):
                verify_inclusion(
                    leaf_hash=LEAVES[m], index=other, size=n, proof=proof, root=good_root
                )
    # The proof fixes the leaf's position under the root, not the size: another
    # size is accepted exactly when its path has the same shape (leaf 0 of 3 and
    # of 4 leaves, say).  That is why the size must come from the signed checkpoint.
    for size in range(1, MAX_N + 2):
        same_shape = m < size and path_shape(m, size) == path_shape(m, n)
        if same_shape:
            verify_inclusion(leaf_hash=LEAVES[m], index=m, size=size, proof=proof, root=good_root)
        else:
            with pytest.raises(ProofError):
                verify_inclusion(
                    leaf_hash=LEAVES[m], index=m, size=size, proof=proof, root=good_root
                )
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf_hash=LEAVES[(m + 1) % MAX_N], index=m, size=n, proof=proof, root=good_root
        )
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf_hash=LEAVES[m],
            index=m,
            size=n,
            proof=[*proof, proof[0] if proof else LEAVES[0]],
            root=good_root,
        )
    if proof:
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash=LEAVES[m], index=m, size=n, proof=proof[:-1], root=good_root)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, MAX_N), st.data())
def test_consistency_tampering_rejected(tree: MemoryTree, n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(1, n - 1))
    proof, old_root, new_root = subproof(m, 0, n, True), mth(0, m), mth(0, n)
    for bad in _flips(proof):
        with pytest.raises(ProofError):
            verify_consistency(
                old_size=m, new_size=n, old_root=old_root, new_root=new_root, proof=bad
            )
    with pytest.raises(ProofError):
        verify_consistency(
            old_size=m, new_size=n, old_root=new_root, new_root=old_root, proof=proof
        )
    with pytest.raises(ProofError):
        verify_consistency(
            old_size=m, new_size=n, old_root=old_root, new_root=new_root, proof=proof[:-1]
        )
    with pytest.raises(ProofError):
        verify_consistency(
            old_size=m, new_size=n, old_root=old_root, new_root=new_root, proof=[*proof, proof[0]]
        )
    # As with inclusion, other sizes are accepted only when the proof shape is
    # identical (old 1 -> new 3 and old 1 -> new 4 share it).
    for m2 in range(0, n + 2):
        for n2 in (n - 1, n, n + 1):
            if (m2, n2) == (m, n):
                continue
            same_shape = 0 < m2 < n2 and proof_shape(m2, n2) == proof_shape(m, n)
            args: dict[str, Any] = dict(
                old_size=m2, new_size=n2, old_root=old_root, new_root=new_root, proof=proof
            )
            if same_shape:
                verify_consistency(**args)
            else:
                with pytest.raises(ProofError):
                    verify_consistency(**args)


# ----------------------------------------------------------------------- edge cases


def test_verify_inclusion_messages() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes"):
        verify_inclusion(leaf_hash=b"", index=0, size=1, proof=[], root=h)
    with pytest.raises(ProofError, match="root must be 32 bytes"):
        verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=h[:31])
    with pytest.raises(ProofError, match="no leaves"):
        verify_inclusion(leaf_hash=h, index=0, size=0, proof=[], root=EMPTY_ROOT)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(leaf_hash=h, index=1, size=1, proof=[], root=h)
    with pytest.raises(ProofError, match="outside"):
        verify_inclusion(leaf_hash=h, index=-1, size=1, proof=[], root=h)
    with pytest.raises(ProofError, match="proof element 0"):
        verify_inclusion(leaf_hash=h, index=0, size=2, proof=[b"short"], root=h)
    with pytest.raises(ProofError, match="more than any tree"):
        verify_inclusion(leaf_hash=h, index=0, size=2, proof=[h] * 65, root=h)
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(leaf_hash=h, index=0, size=1, proof=[h], root=h)
    with pytest.raises(ProofError, match="shorter"):
        verify_inclusion(leaf_hash=h, index=0, size=2, proof=[], root=h)
    with pytest.raises(ProofError, match="does not lead"):
        verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=leaf_hash(b"y"))
    verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=h)


def test_verify_consistency_messages() -> None:
    a, b = mth(0, 1), mth(0, 2)
    with pytest.raises(ProofError, match="larger than"):
        verify_consistency(old_size=2, new_size=1, old_root=b, new_root=a, proof=[])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(
            old_size=0, new_size=0, old_root=EMPTY_ROOT, new_root=EMPTY_ROOT, proof=[]
        )
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(old_size=0, new_size=1, old_root=EMPTY_ROOT, new_root=a, proof=[])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(old_size=1, new_size=1, old_root=a, new_root=a, proof=[a])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(old_size=1, new_size=1, old_root=a, new_root=b, proof=[])
    verify_consistency(old_size=1, new_size=1, old_root=a, new_root=a, proof=[])
    with pytest.raises(ProofError, match="proof is empty"):
        verify_consistency(old_size=1, new_size=2, old_root=a, new_root=b, proof=[])
    with pytest.raises(ProofError, match="old root must be 32"):
        verify_consistency(old_size=1, new_size=2, old_root=b"x", new_root=b, proof=[LEAVES[1]])
    with pytest.raises(ProofError, match="sizes must be >= 0"):
        verify_consistency(old_size=-1, new_size=2, old_root=a, new_root=b, proof=[LEAVES[1]])
    verify_consistency(old_size=1, new_size=2, old_root=a, new_root=b, proof=[LEAVES[1]])


def test_proof_generation_arguments(tree: MemoryTree) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, 3, tree.perfect_node)
    with pytest.raises(ValueError):
        consistency_proof(0, 3, tree.perfect_node)
    with pytest.raises(ValueError):
        consistency_proof(4, 3, tree.perfect_node)
    with pytest.raises(ValueError):
        range_hash(3, 3, tree.perfect_node)
    assert consistency_proof(5, 5, tree.perfect_node) == []
    assert root(0, tree.perfect_node) == EMPTY_ROOT == sha256(b"")
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_hash_domains() -> None:
    assert leaf_hash(b"abc") == sha256(b"\x00abc")
    assert node_hash(b"l" * 32, b"r" * 32) == sha256(b"\x01" + b"l" * 32 + b"r" * 32)


def test_lookups_stay_logarithmic_at_a_million_leaves() -> None:
    # A fake store: the hashes are meaningless, only the access pattern matters.
    seen: list[tuple[int, int]] = []

    def fake(level: int, index: int) -> bytes:
        assert (index + 1) << level <= n
        seen.append((level, index))
        return sha256(f"{level}/{index}".encode())

    n = 1_000_000 - 1  # many set bits: the worst right edge around that size
    for m in (0, 1, 499_999, 524_287, 524_288, n - 1):
        seen.clear()
        inclusion_proof(m, n, fake)
        assert len(seen) <= _bound(n)
        if m:
            seen.clear()
            consistency_proof(m, n, fake)
            assert len(seen) <= _bound(n)


# ------------------------------------------------------------------------- frontier


@settings(max_examples=50, deadline=None)
@given(st.integers(0, MAX_N))
def test_frontier_tracks_root_and_completed_nodes(n: int) -> None:
    frontier = Frontier()
    for i in range(n):
        completed = frontier.append(LEAVES[i])
        size = i + 1
        assert frontier.size == size
        assert frontier.root() == mth(0, size)
        # Exactly the perfect subtrees whose last leaf is leaf i.
        expected = [
            (level, i >> level, mth(((i >> level) << level), size))
            for level in range(size.bit_length())
            if (size % (1 << level)) == 0
        ]
        assert completed == expected
        assert len(frontier.hashes) == size.bit_count()
        restored = Frontier.from_bytes(size, frontier.to_bytes())
        assert restored.root() == frontier.root() and restored.hashes == frontier.hashes
    assert frontier.root() == (mth(0, n) if n else EMPTY_ROOT)


def test_frontier_continues_after_restore() -> None:
    a = Frontier()
    for h in LEAVES[:77]:
        a.append(h)
    b = Frontier.from_bytes(a.size, a.to_bytes())
    for h in LEAVES[77:150]:
        assert a.append(h) == b.append(h)
    assert b.root() == mth(0, 150)


def test_frontier_rejects_bad_rows() -> None:
    with pytest.raises(TrustError, match="needs 64 bytes"):
        Frontier.from_bytes(3, b"\x00" * 32)
    with pytest.raises(TrustError):
        Frontier.from_bytes(-1, b"")
    with pytest.raises(ProofError):
        Frontier().append(b"short")
    assert Frontier.from_bytes(0, b"").root() == EMPTY_ROOT


def test_memory_tree_nodes_are_the_perfect_subtrees(tree: MemoryTree) -> None:
    for level in range(9):
        width = 1 << level
        for index in range(MAX_N // width):
            assert tree.perfect_node(level, index) == mth(index * width, (index + 1) * width)
    with pytest.raises(KeyError):
        tree.perfect_node(0, MAX_N)
    with pytest.raises(KeyError):
        tree.perfect_node(9, 0)  # 512 leaves: not complete yet
