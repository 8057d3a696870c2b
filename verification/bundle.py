"""Evidence bundles: one JSON document with everything needed to check a footprint
offline, trusting nothing but the audit log's public key.

A bundle holds the footprint's exact canonical bytes and the supplier's JWS with the
signing key; every attestation (the credential bytes exactly as stored) with its
verifier's DID document, the status list credentials as signed now and the
status-list signer's DID document; and the audit entries that tie all of it
together, each with an RFC 9162 inclusion proof to one signed checkpoint:

* ``footprint:<id>`` entries the supplier wrote about the footprint (submitted,
  deprecated, published to / withdrawn from the zone): the digest and key id the
  platform accepted, and when.  Grants and pulls are left out: their payloads
  name other buyers, and they say nothing about the footprint itself.
* ``signing_key:<kid>`` entries (registration, revocation) of the supplier's key,
  of each credential's verifier key and of the status-list key: their payloads
  carry the public JWK and the entry the company, so a holder of the log key
  alone can tie each key to its company and its validity window.
* ``engagement:<id>`` state changes of each attestation's engagement (the
  ``engagement.attested`` payload carries the SHA-256 of every credential).

``carbonx verify-bundle`` (cli/bundle.py) checks it.  The format is versioned by
``format``; a change that a verifier must understand gets a new version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from audit import selectors as audit_selectors
from audit.models import AuditEntry, Checkpoint
from audit.services import checkpoint_create, checkpoint_note_with_cosignatures
from companies.access import Actor
from companies.models import SigningKey
from exchange.models import Footprint
from exchange.selectors import visible_footprint_get
from exchange.sharing import record_pull
from trust.encoding import b64_std_encode

from . import services
from .models import Attestation, EngagementState, StatusList
from .selectors import attestation_state

#: The ``format`` of the bundles made here.
BUNDLE_FORMAT = "carbonx-evidence-bundle/1"
#: The ``record_pull`` channel of a bundle download.
PULL_CHANNEL = "bundle"
#: Entries about a key: its registration (with the JWK) and its revocation.
KEY_EVENTS = ("signing_key.registered", "signing_key.revoked")
#: An engagement's state changes (``engagement.attested`` lists the credentials'
#: digests); its evidence and findings stay between its parties.
ENGAGEMENT_EVENTS = tuple(f"engagement.{state}" for state in EngagementState.values)


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class BundleSources:
    """What a bundle is made of, before the log part is read.

    ``status_lists`` are the list credentials as signed now (one per list the
    attestations use); ``status_key`` is the key that signed them.
    """

    footprint: Footprint
    attestations: list[Attestation]
    status_lists: list[dict[str, Any]]
    status_key: SigningKey | None


# ------------------------------------------------------------------------- selectors


def bundle_attestations(footprint: Footprint) -> list[Attestation]:
    """Every attestation of the footprint, revoked and expired ones too, oldest first."""
    return list(
        Attestation.objects.filter(footprint=footprint)
        .select_related("engagement", "verifier", "signing_key", "status_list")
        .order_by("issued_at", "id")
    )


def bundle_entries(sources: BundleSources) -> list[AuditEntry]:
    """The audit entries a bundle carries, in log order (see the module docstring).

    Three reads, each narrowed by an indexed column first (``audit_entry_company_seq``
    for the supplier's statements, ``audit_entry_type_seq`` for the few key and
    engagement events), since ``subject`` has no index of its own.
    """
    footprint = sources.footprint
    kids = {footprint.signing_key.kid}
    kids.update(a.signing_key.kid for a in sources.attestations)
    if sources.status_key is not None:
        kids.add(sources.status_key.kid)
    engagements = {f"engagement:{a.engagement_id}" for a in sources.attestations}
    statements = AuditEntry.objects.filter(
        company=footprint.company.slug,
        subject=f"footprint:{footprint.pf_id}",
        type__startswith="footprint.",
    )
    keys = AuditEntry.objects.filter(
        type__in=KEY_EVENTS, subject__in=[f"signing_key:{kid}" for kid in sorted(kids)]
    )
    found = [*statements, *keys]
    if engagements:
        found.extend(
            AuditEntry.objects.filter(type__in=ENGAGEMENT_EVENTS, subject__in=sorted(engagements))
        )
    return sorted(found, key=lambda entry: entry.seq)


def bundle_document(
    sources: BundleSources, entries: Sequence[AuditEntry], checkpoint: Checkpoint | None
) -> dict[str, Any]:
    """The bundle as served: plain JSON (bytes as standard base64, hashes as hex)."""
    footprint = sources.footprint
    canonical = bytes(footprint.canonical_bytes)
    key, supplier = footprint.signing_key, footprint.company
    did_documents: dict[str, dict[str, Any]] = {}
    companies = [a.verifier for a in sources.attestations]
    if sources.status_key is not None:
        companies.append(sources.status_key.company)
    for company in companies:
        document = services.company_did_document(company)
        did_documents.setdefault(document["id"], document)
    log: dict[str, Any] = {"origin": settings.AUDIT_LOG_ORIGIN, "checkpoint": None, "entries": []}
    if checkpoint is not None:
        root = bytes(checkpoint.root)
        log["checkpoint"] = {
            "size": checkpoint.size,
            "root": b64_std_encode(root),
            "note": checkpoint_note_with_cosignatures(checkpoint),
        }
        log["entries"] = [
            {
                "seq": entry.seq,
                "entry_hash": bytes(entry.entry_hash).hex(),
                "entry": b64_std_encode(bytes(entry.entry_bytes)),
                "payload": b64_std_encode(bytes(entry.payload)),
                "inclusion_proof": [
                    b64_std_encode(node)
                    for node in audit_selectors.inclusion_proof(
                        seq=entry.seq, tree_size=checkpoint.size
                    )
                ],
            }
            for entry in entries
            if entry.seq < checkpoint.size
        ]
    return {
        "format": BUNDLE_FORMAT,
        "created_at": _stamp(timezone.now()),
        "footprint": {
            "id": str(footprint.pf_id),
            "status": footprint.status,
            "supplier": {"slug": supplier.slug, "legal_name": supplier.legal_name},
            "sha256": footprint.sha256,
            "canonical_bytes": b64_std_encode(canonical),
            "document": json.loads(canonical),
        },
        "signature": {
            "jws": footprint.jws,
            "kid": key.kid,
            "jwk": key.public_jwk,
            "valid_from": _stamp(key.valid_from),
            "revoked_at": _stamp(key.revoked_at),
        },
        "attestations": [
            {
                "credential_id": a.credential_id,
                "engagement": a.engagement_id,
                "verifier": a.verifier.slug,
                "kid": a.signing_key.kid,
                "state": attestation_state(a),
                "credential": b64_std_encode(bytes(a.credential)),
            }
            for a in sources.attestations
        ],
        "did_documents": list(did_documents.values()),
        "status_lists": sources.status_lists,
        "log": log,
    }


# --------------------------------------------------------------------------- service


def _checkpoint_covering(last_seq: int | None) -> Checkpoint | None:
    """The latest checkpoint, signed afresh when it does not cover ``last_seq`` yet."""
    latest = audit_selectors.checkpoint_latest()
    if latest is None or (last_seq is not None and latest.size <= last_seq):
        checkpoint_create()  # None if another process signed the head meanwhile
        latest = audit_selectors.checkpoint_latest()
    if latest is not None and last_seq is not None and latest.size <= last_seq:
        raise RuntimeError(f"no checkpoint covers audit entry {last_seq}")  # pragma: no cover
    return latest


def bundle_create(*, actor: Actor, pf_id: Any) -> dict[str, Any]:
    """The evidence bundle of a footprint the actor's company may see ("not found"
    otherwise), recorded as a pull when the footprint is another company's.

    Writes only what serving it needs: the status-list key on first use (through
    ``status_list_credential``) and a checkpoint when the newest entry is not yet
    covered by one; both happen before the entries are read, so they are included.
    """
    footprint = visible_footprint_get(actor=actor, pf_id=pf_id)
    attestations = bundle_attestations(footprint)
    status_key: SigningKey | None = None
    status_lists: list[dict[str, Any]] = []
    if attestations:
        lists: dict[int, StatusList] = {a.status_list_id: a.status_list for a in attestations}
        status_lists = [services.status_list_credential(lists[pk]) for pk in sorted(lists)]
        status_key = services.status_signing_key()
    sources = BundleSources(footprint, attestations, status_lists, status_key)
    entries = bundle_entries(sources)
    checkpoint = _checkpoint_covering(entries[-1].seq if entries else None)
    document = bundle_document(sources, entries, checkpoint)
    record_pull(actor=actor, footprints=[footprint], channel=PULL_CHANNEL)
    return document
