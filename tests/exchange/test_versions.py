"""Versions of a footprint: immutability, idempotent repeats, conflicts, successors that
deprecate their predecessor, deprecation without a successor, and (PostgreSQL) two
successors of one footprint racing each other."""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection, connections

from audit.models import AuditEntry
from companies import services as company_services
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from exchange import services
from exchange.models import Footprint, Product, ProductIdentifier
from exchange.selectors import footprint_document
from exchange.signing import parse_signed_footprint, sign_footprint, verify_signed_footprint
from tests.exchange.helpers import acme_document
from trust import jcs, keys

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Footprint, Product, ProductIdentifier, AuditEntry)
    }


@contextmanager
def refused(exc_type=ValidationFailed):
    before = counts()
    with pytest.raises(exc_type) as caught:
        yield caught
    assert counts() == before


def submit(cast, document, who: str = "editor"):
    token = sign_footprint(document, cast.own_private_key)
    return services.footprint_submit(actor=cast.actor(who), jws=token)


def successor_of(cast, *predecessors: Footprint, **overrides) -> dict:
    return acme_document(cast, precedingPfIds=[str(p.pf_id) for p in predecessors], **overrides)


def audit_payloads(type: str, subject: str) -> list[dict]:
    return [
        json.loads(bytes(entry.payload))
        for entry in AuditEntry.objects.filter(type=type, subject=subject).order_by("seq")
    ]


def other_company_footprint(cast) -> Footprint:
    """A footprint of the other company, signed with its own registered key."""
    private_key = keys.generate_private_key()
    company_services.signing_key_register(
        actor=cast.actor("outsider"), jwk=keys.public_jwk(private_key), label="own"
    )
    document = acme_document(
        cast,
        companyName=cast.other.legal_name,
        companyIds=[cast.other.identifiers.get().urn],
        productIds=["urn:pact:other.example:product:motor"],
    )
    token = sign_footprint(document, private_key)
    return services.footprint_submit(actor=cast.actor("outsider"), jws=token).footprint


# --------------------------------------------------------------------------- immutability


def test_a_stored_footprint_keeps_its_bytes_and_signature_when_deprecated(cast):
    footprint = cast.footprint
    canonical, digest, token = bytes(footprint.canonical_bytes), footprint.sha256, footprint.jws

    services.footprint_deprecate(actor=cast.actor("editor"), footprint=footprint, reason="recalled")

    stored = Footprint.objects.get(pk=footprint.pk)
    assert bytes(stored.canonical_bytes) == canonical
    assert stored.sha256 == digest
    assert stored.jws == token
    assert json.loads(canonical)["status"] == "Active"  # the signed document is untouched
    signed = parse_signed_footprint(stored.jws)
    verify_signed_footprint(signed, cast.own_key.public_jwk)  # still verifies
    assert signed.canonical == canonical


def test_the_served_document_differs_from_the_signed_one_only_in_status(cast):
    footprint = cast.footprint
    services.footprint_deprecate(actor=cast.actor("editor"), footprint=footprint, reason="recalled")

    served = footprint_document(Footprint.objects.get(pk=footprint.pk))

    signed = json.loads(bytes(footprint.canonical_bytes))
    assert served["status"] == "Deprecated"
    assert {k: v for k, v in served.items() if k != "status"} == {
        k: v for k, v in signed.items() if k != "status"
    }


# --------------------------------------------------------------------------- idempotency


def test_the_same_id_with_the_same_bytes_is_idempotent(cast):
    document = acme_document(cast)
    first = submit(cast, document)
    before = counts()

    again = submit(cast, document)

    assert again.created is False
    assert again.footprint.pk == first.footprint.pk
    assert counts() == before  # no new footprint, product or audit entry


def test_the_same_bytes_signed_with_another_acme_key_answer_with_the_stored_footprint(cast):
    document = acme_document(cast)
    first = submit(cast, document)
    before = counts()
    token = services.footprint_sign_with_platform_key(actor=cast.actor("editor"), document=document)

    again = services.footprint_submit(actor=cast.actor("editor"), jws=token)

    assert again.created is False
    assert again.footprint.jws == first.footprint.jws  # the first signature is kept
    assert again.footprint.signing_key == cast.own_key
    assert counts() == before


def test_an_idempotent_repeat_of_a_successor_does_not_deprecate_twice(cast):
    predecessor = cast.footprint
    document = successor_of(cast, predecessor)
    submit(cast, document)
    before = counts()

    again = submit(cast, document)

    assert again.created is False
    assert counts() == before
    assert len(audit_payloads("footprint.deprecated", f"footprint:{predecessor.pf_id}")) == 1


def test_the_same_id_with_other_bytes_is_a_conflict_naming_id(cast):
    document = acme_document(cast)
    submit(cast, document)
    changed = dict(document, comment="A corrected comment.")

    with refused(Conflict) as caught:
        submit(cast, changed)

    assert caught.value.field == "/id"
    assert caught.value.message == (
        f"/id: footprint {document['id']} already exists with other content; a change needs "
        "a new id that lists the old one in precedingPfIds"
    )
    stored = Footprint.objects.get(pf_id=document["id"])
    assert bytes(stored.canonical_bytes) == jcs.canonicalize(document)


def test_an_id_used_by_another_company_is_a_conflict(cast):
    theirs = other_company_footprint(cast)
    with refused(Conflict) as caught:
        submit(cast, acme_document(cast, id=str(theirs.pf_id)))
    assert caught.value.field == "/id"
    assert Footprint.objects.get(pf_id=theirs.pf_id).company == cast.other


# --------------------------------------------------------------------------- successors


def test_a_successor_deprecates_its_predecessor(cast):
    predecessor = cast.footprint
    document = successor_of(cast, predecessor, productIds=["urn:pact:acme.example:product:li2co3"])

    successor = submit(cast, document).footprint

    old = Footprint.objects.get(pk=predecessor.pk)
    assert old.status == "Deprecated"
    assert old.deprecated_at is not None
    assert old.deprecation_reason == f"superseded by {successor.pf_id}"
    assert footprint_document(old)["status"] == "Deprecated"
    assert footprint_document(successor)["status"] == "Active"
    assert list(successor.preceding.all()) == [old]
    assert list(old.successors.all()) == [successor]
    assert successor.product == old.product


def test_the_deprecation_by_a_successor_is_audited(cast):
    predecessor = cast.footprint
    successor = submit(cast, successor_of(cast, predecessor)).footprint

    assert audit_payloads("footprint.deprecated", f"footprint:{predecessor.pf_id}") == [
        {"reason": f"superseded by {successor.pf_id}", "successor": str(successor.pf_id)}
    ]
    submitted = audit_payloads("footprint.submitted", f"footprint:{successor.pf_id}")
    assert submitted[0]["preceding"] == [str(predecessor.pf_id)]


def test_a_successor_may_replace_several_footprints(cast):
    first = cast.footprint
    second = submit(cast, acme_document(cast)).footprint

    successor = submit(cast, successor_of(cast, first, second)).footprint

    assert set(successor.preceding.all()) == {first, second}
    assert set(Footprint.objects.filter(status="Deprecated")) == {first, second}


def test_an_unknown_predecessor_is_refused(cast):
    unknown = str(uuid.uuid4())
    with refused() as caught:
        submit(cast, acme_document(cast, precedingPfIds=[unknown]))
    assert caught.value.errors == {"/precedingPfIds/0": [f"{unknown} is not a footprint of yours"]}


def test_another_companys_footprint_cannot_be_a_predecessor(cast):
    theirs = other_company_footprint(cast)
    with refused() as caught:
        submit(cast, successor_of(cast, theirs))
    assert caught.value.errors == {
        "/precedingPfIds/0": [f"{theirs.pf_id} is not a footprint of yours"]
    }
    assert Footprint.objects.get(pk=theirs.pk).status == "Active"


def test_the_bad_predecessor_is_named_by_its_position(cast):
    unknown = str(uuid.uuid4())
    known = cast.footprint
    with refused() as caught:
        submit(cast, acme_document(cast, precedingPfIds=[str(known.pf_id), unknown]))
    assert caught.value.errors == {"/precedingPfIds/1": [f"{unknown} is not a footprint of yours"]}
    assert Footprint.objects.get(pk=known.pk).status == "Active"


def test_an_already_deprecated_predecessor_is_refused(cast):
    predecessor = cast.footprint
    submit(cast, successor_of(cast, predecessor))

    with refused() as caught:
        submit(cast, successor_of(cast, predecessor))

    assert caught.value.errors == {
        "/precedingPfIds/0": [
            f"{predecessor.pf_id} is already deprecated; name the footprint that replaced it"
        ]
    }


def test_a_footprint_deprecated_without_successor_cannot_be_replaced(cast):
    predecessor = cast.footprint
    services.footprint_deprecate(actor=cast.actor("editor"), footprint=predecessor, reason="gone")
    with refused() as caught:
        submit(cast, successor_of(cast, predecessor))
    assert list(caught.value.errors) == ["/precedingPfIds/0"]


def test_a_batch_may_hold_a_footprint_and_its_successor(cast):
    first = acme_document(cast)
    second = acme_document(cast, precedingPfIds=[first["id"]])
    items = [{"jws": sign_footprint(d, cast.own_private_key)} for d in (first, second)]

    results = services.footprint_submit_many(actor=cast.actor("editor"), items=items)

    assert [r.created for r in results] == [True, True]
    assert Footprint.objects.get(pf_id=first["id"]).status == "Deprecated"


def test_two_successors_of_one_footprint_in_a_batch_are_refused(cast):
    predecessor = cast.footprint
    items = [
        {"jws": sign_footprint(successor_of(cast, predecessor), cast.own_private_key)}
        for _ in range(2)
    ]
    with refused() as caught:
        services.footprint_submit_many(actor=cast.actor("editor"), items=items)
    assert list(caught.value.errors) == ["/1/precedingPfIds/0"]
    [message] = caught.value.errors["/1/precedingPfIds/0"]
    assert message.endswith(f"{predecessor.pf_id} is already replaced by item 0 of this batch")
    assert Footprint.objects.get(pk=predecessor.pk).status == "Active"


def test_a_batch_refusal_met_while_storing_does_not_repeat_the_pointer(cast):
    predecessor = cast.footprint
    items = [
        {"jws": sign_footprint(successor_of(cast, predecessor), cast.own_private_key)}
        for _ in range(2)
    ]
    with refused() as caught:
        services.footprint_submit_many(actor=cast.actor("editor"), items=items)
    assert caught.value.errors == {
        "/1/precedingPfIds/0": [f"{predecessor.pf_id} is already replaced by item 0 of this batch"]
    }


# --------------------------------------------------------------------------- deprecation


def test_deprecating_without_a_successor_needs_a_reason_and_records_it(cast):
    footprint = cast.footprint

    services.footprint_deprecate(
        actor=cast.actor("editor"), footprint=footprint, reason="  product discontinued  "
    )

    stored = Footprint.objects.get(pk=footprint.pk)
    assert stored.status == "Deprecated"
    assert stored.deprecated_at is not None
    assert stored.deprecation_reason == "product discontinued"
    assert footprint_document(stored)["status"] == "Deprecated"
    assert audit_payloads("footprint.deprecated", f"footprint:{footprint.pf_id}") == [
        {"reason": "product discontinued", "successor": None}
    ]
    entry = AuditEntry.objects.get(type="footprint.deprecated")
    assert entry.actor == f"user:{cast.editor.user.pk}"
    assert entry.company == "acme"


@pytest.mark.parametrize("reason", ["", "   "])
def test_deprecating_without_a_reason_is_refused(cast, reason):
    footprint = cast.footprint
    with refused() as caught:
        services.footprint_deprecate(actor=cast.actor("editor"), footprint=footprint, reason=reason)
    assert caught.value.errors == {"reason": ["say why the footprint is deprecated"]}
    assert Footprint.objects.get(pk=footprint.pk).status == "Active"


def test_deprecating_twice_is_a_conflict(cast):
    footprint = cast.footprint
    services.footprint_deprecate(actor=cast.actor("editor"), footprint=footprint, reason="gone")
    stale = Footprint.objects.get(pk=footprint.pk)
    stale.status = "Active"  # a copy read before the first deprecation

    with refused(Conflict) as caught:
        services.footprint_deprecate(actor=cast.actor("editor"), footprint=stale, reason="again")

    assert caught.value.message == f"footprint {footprint.pf_id} is already deprecated"
    assert caught.value.field == "status"
    assert Footprint.objects.get(pk=footprint.pk).deprecation_reason == "gone"


def test_a_viewer_may_not_deprecate(cast):
    footprint = cast.footprint
    with refused(PermissionDenied) as caught:
        services.footprint_deprecate(actor=cast.actor("viewer"), footprint=footprint, reason="x")
    assert caught.value.message == (
        "role: only a company editor may deprecate footprints; you are viewer"
    )


def test_another_company_may_not_deprecate_acmes_footprint(cast):
    footprint = cast.footprint
    with refused(NotFound):
        services.footprint_deprecate(actor=cast.actor("outsider"), footprint=footprint, reason="x")
    assert Footprint.objects.get(pk=footprint.pk).status == "Active"


# --------------------------------------------------------------------------- concurrency


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_successors_submitted_at_once_only_one_wins(cast, monkeypatch):
    predecessor = cast.footprint
    tokens = [
        sign_footprint(successor_of(cast, predecessor), cast.own_private_key) for _ in range(2)
    ]
    # Hold the predecessor's row lock a moment so that the other thread surely meets it
    # (the outcome must be the same without the pause; it only makes the race certain).
    original = getattr(services.Submitter, "_lock_predecessors", None)
    if original is not None:

        def slow_lock(self, items):
            rows = original(self, items)
            time.sleep(0.3)
            return rows

        monkeypatch.setattr(services.Submitter, "_lock_predecessors", slow_lock)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcomes[index] = services.footprint_submit(
                actor=cast.actor("editor"), jws=tokens[index]
            )
        except Exception as exc:  # recorded, checked below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    winners = [o for o in outcomes if isinstance(o, services.SubmissionResult)]
    losers = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].errors == {
        "/precedingPfIds/0": [
            f"{predecessor.pf_id} is already deprecated; name the footprint that replaced it"
        ]
    }
    assert Footprint.objects.filter(company=cast.acme).count() == 2
    old = Footprint.objects.get(pk=predecessor.pk)
    assert old.status == "Deprecated"
    assert list(old.successors.all()) == [winners[0].footprint]
    assert AuditEntry.objects.filter(type="footprint.deprecated").count() == 1
