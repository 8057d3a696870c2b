"""The rules of sharing (exchange.sharing over exchange.selectors): who sees which
footprint, grants and their revocation, zone publication, requests and their states,
auto-fulfil rules, and the audit entry of every grant, revocation and pull.

acme supplies; "other" (the outsider's company) buys; "third" is a second buyer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from exchange import selectors, sharing
from exchange.models import AccessGrant, DataRequest, RequestStatus, ZonePublication
from tests.factories import actor_of
from tests.sharing.helpers import (
    OTHER_PRODUCT_URN,
    PRODUCT_URN,
    attested,
    audit_payloads,
    new_version,
    submit,
    third_buyer,
)
from verification.bundle import bundle_create
from verification.models import EngagementState

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def log_key_file(settings, tmp_path):
    settings.AUDIT_LOG_KEY_FILE = str(tmp_path / "audit-log-key.pem")


def visible_to(cast, who: str = "outsider") -> set[str]:
    return {str(fp.pf_id) for fp in selectors.received_footprints(actor=cast.actor(who))}


def grant_footprint(cast, footprint=None, buyer=None):
    return sharing.grant_create(
        actor=cast.actor("editor"),
        buyer=buyer or cast.other,
        footprint_id=str((footprint or cast.footprint).pf_id),
    )


def ask(cast, **fields):
    fields.setdefault("product_ids", [PRODUCT_URN])
    return sharing.request_create(actor=cast.actor("outsider"), supplier=cast.acme, **fields)


# ----------------------------------------------------------------------- who sees what


def test_a_buyer_sees_no_footprint_without_a_grant(cast):
    footprint = cast.footprint
    assert visible_to(cast) == set()
    with pytest.raises(NotFound):
        selectors.visible_footprint_get(actor=cast.actor("outsider"), pf_id=footprint.pf_id)
    with pytest.raises(NotFound):
        bundle_create(actor=cast.actor("outsider"), pf_id=footprint.pf_id)


def test_a_footprint_grant_shows_that_footprint_to_that_buyer_only(cast):
    _, third_admin = third_buyer(cast)
    grant_footprint(cast)
    assert visible_to(cast) == {str(cast.footprint.pf_id)}
    assert selectors.received_footprints(actor=actor_of(third_admin)).count() == 0
    # acme's own footprints are not "received"
    assert visible_to(cast, "admin") == set()


def test_a_footprint_grant_does_not_cover_the_next_version(cast):
    grant_footprint(cast)
    successor = new_version(cast, cast.footprint)
    assert visible_to(cast) == {str(cast.footprint.pf_id)}
    assert str(successor.pf_id) not in visible_to(cast)


def test_a_product_grant_covers_later_versions(cast):
    sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", product_id=cast.footprint.product_id
    )
    successor = new_version(cast, cast.footprint)
    elsewhere = submit(cast, productIds=[OTHER_PRODUCT_URN])
    assert visible_to(cast) == {str(cast.footprint.pf_id), str(successor.pf_id)}
    assert str(elsewhere.pf_id) not in visible_to(cast)


def test_revoking_a_grant_ends_access_everywhere(cast):
    grant = grant_footprint(cast)
    assert bundle_create(actor=cast.actor("outsider"), pf_id=cast.footprint.pf_id)
    sharing.grant_revoke(actor=cast.actor("editor"), grant=grant, reason="contract ended")
    assert visible_to(cast) == set()
    with pytest.raises(NotFound):
        bundle_create(actor=cast.actor("outsider"), pf_id=cast.footprint.pf_id)
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revocation_reason == "contract ended"


def test_revoking_a_product_grant_ends_access_to_every_version(cast):
    grant = sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", product_id=cast.footprint.product_id
    )
    new_version(cast, cast.footprint)
    sharing.grant_revoke(actor=cast.actor("editor"), grant=grant)
    assert visible_to(cast) == set()


def test_zone_publication_shows_a_footprint_to_every_company(cast):
    _, third_admin = third_buyer(cast)
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    assert visible_to(cast) == {str(cast.footprint.pf_id)}
    assert visible_to(cast, "op_admin") == {str(cast.footprint.pf_id)}
    assert selectors.received_footprints(actor=actor_of(third_admin)).count() == 1
    sharing.footprint_unpublish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    assert visible_to(cast) == set()


def test_a_grant_survives_withdrawal_from_the_zone(cast):
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    grant_footprint(cast)
    sharing.footprint_unpublish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    assert visible_to(cast) == {str(cast.footprint.pf_id)}


# ------------------------------------------------------------------------------ grants


def test_granting_twice_gives_the_same_grant_and_one_entry(cast):
    first = grant_footprint(cast)
    second = grant_footprint(cast)
    assert first.pk == second.pk
    assert AccessGrant.objects.count() == 1
    payloads = audit_payloads("grant.created", f"footprint:{cast.footprint.pf_id}")
    assert payloads == [
        {"buyer": "other", "footprint": str(cast.footprint.pf_id), "product": None, "request": None}
    ]


def test_a_revoked_grant_can_be_given_again(cast):
    first = grant_footprint(cast)
    sharing.grant_revoke(actor=cast.actor("editor"), grant=first)
    second = grant_footprint(cast)
    assert second.pk != first.pk and second.is_active
    assert visible_to(cast) == {str(cast.footprint.pf_id)}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"buyer": "nobody", "footprint_id": "PF"}, "buyer"),
        ({"buyer": "acme", "footprint_id": "PF"}, "buyer"),  # acme is not a buyer
        ({"buyer": "newco", "footprint_id": "PF"}, "buyer"),  # not active
        ({"buyer": "other"}, "footprint_id"),
        ({"buyer": "other", "footprint_id": "PF", "product_id": 1}, "footprint_id"),
        ({"buyer": "other", "footprint_id": "not-a-uuid"}, "footprint_id"),
        ({"buyer": "other", "product_id": 999999}, "product_id"),
        ({"buyer": "other", "product_id": "x"}, "product_id"),
    ],
)
def test_grant_refusals_name_the_field_and_change_nothing(cast, fields, field):
    fields = {k: (str(cast.footprint.pf_id) if v == "PF" else v) for k, v in fields.items()}
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        sharing.grant_create(actor=cast.actor("editor"), **fields)
    assert field in caught.value.errors
    assert AccessGrant.objects.count() == 0
    assert AuditEntry.objects.count() == before


def test_a_supplier_cannot_grant_another_companys_footprint(cast):
    footprint = cast.footprint
    with pytest.raises(ValidationFailed) as caught:
        sharing.grant_create(
            actor=cast.actor("op_admin"), buyer="other", footprint_id=str(footprint.pf_id)
        )
    assert "footprint_id" in caught.value.errors


def test_a_viewer_may_not_grant_or_revoke(cast):
    with pytest.raises(PermissionDenied):
        sharing.grant_create(
            actor=cast.actor("viewer"), buyer="other", footprint_id=str(cast.footprint.pf_id)
        )
    grant = grant_footprint(cast)
    with pytest.raises(PermissionDenied):
        sharing.grant_revoke(actor=cast.actor("viewer"), grant=grant)


def test_only_the_supplier_revokes_and_only_once(cast):
    grant = grant_footprint(cast)
    with pytest.raises(NotFound):
        sharing.grant_revoke(actor=cast.actor("outsider"), grant=grant)
    sharing.grant_revoke(actor=cast.actor("editor"), grant=grant, reason="ended")
    with pytest.raises(Conflict):
        sharing.grant_revoke(actor=cast.actor("editor"), grant=grant)
    payloads = audit_payloads("grant.revoked", f"footprint:{cast.footprint.pf_id}")
    assert payloads == [
        {
            "buyer": "other",
            "footprint": str(cast.footprint.pf_id),
            "product": None,
            "request": None,
            "reason": "ended",
        }
    ]


def test_product_grants_are_audited_under_the_product(cast):
    grant = sharing.grant_create(
        actor=cast.actor("editor"), buyer="other", product_id=cast.footprint.product_id
    )
    sharing.grant_revoke(actor=cast.actor("editor"), grant=grant)
    subject = f"product:{cast.footprint.product_id}"
    assert len(audit_payloads("grant.created", subject)) == 1
    assert len(audit_payloads("grant.revoked", subject)) == 1


# ---------------------------------------------------------------------- publication


def test_publishing_is_audited_and_idempotent(cast):
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    subject = f"footprint:{cast.footprint.pf_id}"
    assert len(audit_payloads("footprint.published_to_zone", subject)) == 1
    sharing.footprint_unpublish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)
    assert len(audit_payloads("footprint.withdrawn_from_zone", subject)) == 1
    with pytest.raises(Conflict):
        sharing.footprint_unpublish(actor=cast.actor("editor"), footprint_id=cast.footprint.pf_id)


def test_a_deprecated_footprint_cannot_be_published(cast):
    old = cast.footprint
    new_version(cast, old)
    with pytest.raises(ValidationFailed):
        sharing.footprint_publish(actor=cast.actor("editor"), footprint_id=old.pf_id)
    assert not ZonePublication.objects.exists()


# ----------------------------------------------------------------------------- pulls


def test_every_pull_of_another_companys_footprint_is_audited(cast):
    grant_footprint(cast)
    footprint = selectors.visible_footprint_get(
        actor=cast.actor("outsider"), pf_id=cast.footprint.pf_id
    )
    sharing.record_pull(actor=cast.actor("outsider"), footprints=[footprint], channel="api")
    entry = AuditEntry.objects.get(type="footprint.pulled")
    assert entry.company == "other"
    assert entry.subject == f"footprint:{footprint.pf_id}"
    assert audit_payloads("footprint.pulled") == [
        {"channel": "api", "footprints": [str(footprint.pf_id)]}
    ]


def test_the_owners_own_reads_are_not_pulls(cast):
    sharing.record_pull(actor=cast.actor("admin"), footprints=[cast.footprint], channel="api")
    assert not AuditEntry.objects.filter(type="footprint.pulled").exists()


def test_a_bundle_download_is_a_pull(cast):
    grant_footprint(cast)
    bundle_create(actor=cast.actor("outsider"), pf_id=cast.footprint.pf_id)
    assert audit_payloads("footprint.pulled") == [
        {"channel": "bundle", "footprints": [str(cast.footprint.pf_id)]}
    ]


# -------------------------------------------------------------------------- requests


def test_a_request_waits_for_the_supplier(cast):
    cast.footprint
    request = ask(cast, comment="for our 2026 LCA", due_date=timezone.localdate())
    assert request.status == RequestStatus.PENDING
    assert [fp.pf_id for fp in sharing.request_matches(request)] == [cast.footprint.pf_id]
    payload = audit_payloads("request.created", f"request:{request.pk}")[0]
    assert payload["supplier"] == "acme" and payload["product_ids"] == [PRODUCT_URN]


def test_matches_are_the_newest_active_version_of_each_product(cast):
    old = cast.footprint
    successor = new_version(cast, old)
    submit(cast, productIds=[OTHER_PRODUCT_URN])
    request = ask(cast)
    assert [fp.pf_id for fp in sharing.request_matches(request)] == [successor.pf_id]


def test_a_part_number_request_matches_the_mapped_product(cast):
    cast.footprint
    elsewhere = submit(cast, productIds=[OTHER_PRODUCT_URN])
    sharing.part_number_set(
        actor=cast.actor("editor"),
        buyer="other",
        part_number="OM-1",
        product_id=elsewhere.product_id,
    )
    request = ask(cast, product_ids=[], part_number="OM-1")
    assert [fp.pf_id for fp in sharing.request_matches(request)] == [elsewhere.pf_id]
    unmapped = ask(cast, product_ids=[], part_number="OM-2")
    assert list(sharing.request_matches(unmapped)) == []


def test_fulfilling_grants_the_footprints(cast):
    request = ask(cast)
    sharing.request_fulfil(
        actor=cast.actor("editor"), request=request, footprint_ids=[str(cast.footprint.pf_id)]
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.FULFILLED
    assert visible_to(cast) == {str(cast.footprint.pf_id)}
    grant = AccessGrant.objects.get()
    assert grant.request_id == request.pk and grant.footprint_id == cast.footprint.pk
    assert audit_payloads("request.fulfilled", f"request:{request.pk}")[0]["footprints"] == [
        str(cast.footprint.pf_id)
    ]


def test_fulfilling_the_whole_product_lets_later_versions_follow(cast):
    request = ask(cast)
    sharing.request_fulfil(
        actor=cast.actor("editor"),
        request=request,
        footprint_ids=[str(cast.footprint.pf_id)],
        whole_product=True,
    )
    successor = new_version(cast, cast.footprint)
    assert str(successor.pf_id) in visible_to(cast)


def test_a_request_needs_something_to_look_for(cast):
    with pytest.raises(ValidationFailed) as caught:
        ask(cast, product_ids=[])
    assert "product_ids" in caught.value.errors


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"supplier": "nobody"}, "supplier"),
        ({"supplier": "other"}, "supplier"),  # not a supplier (and itself)
        ({"product_ids": ["not a urn"]}, "product_ids[0]"),
        ({"criteria": {"colour": ["red"]}}, "criteria.colour"),
        ({"criteria": {"geography": [3]}}, "criteria.geography"),
        ({"comment": "x" * 5001}, "comment"),
        ({"part_number": "x" * 101}, "part_number"),
        ({"due_date": "yesterday"}, "due_date"),
    ],
)
def test_request_refusals_name_the_field(cast, fields, field):
    if fields.get("due_date") == "yesterday":
        fields["due_date"] = timezone.localdate() - timedelta(days=1)
    supplier = fields.pop("supplier", "acme")
    with pytest.raises(ValidationFailed) as caught:
        sharing.request_create(
            actor=cast.actor("outsider"),
            supplier=supplier,
            **{"product_ids": [PRODUCT_URN], **fields},
        )
    assert field in caught.value.errors
    assert not DataRequest.objects.exists()


def test_only_a_buyer_company_may_request(cast):
    with pytest.raises(PermissionDenied) as caught:
        sharing.request_create(
            actor=cast.actor("op_admin"), supplier="acme", product_ids=[PRODUCT_URN]
        )
    assert caught.value.field == "company"
    assert not DataRequest.objects.exists()


def test_state_conflicts(cast):
    editor, buyer = cast.actor("editor"), cast.actor("outsider")
    pf = [str(cast.footprint.pf_id)]
    cancelled = ask(cast)
    sharing.request_cancel(actor=buyer, request=cancelled)
    with pytest.raises(Conflict, match="already cancelled"):
        sharing.request_fulfil(actor=editor, request=cancelled, footprint_ids=pf)
    with pytest.raises(Conflict):
        sharing.request_reject(actor=editor, request=cancelled, reason="no")
    with pytest.raises(Conflict):
        sharing.request_cancel(actor=buyer, request=cancelled)
    fulfilled = ask(cast)
    sharing.request_fulfil(actor=editor, request=fulfilled, footprint_ids=pf)
    with pytest.raises(Conflict, match="already fulfilled"):
        sharing.request_cancel(actor=buyer, request=fulfilled)
    with pytest.raises(Conflict):
        sharing.request_reject(actor=editor, request=fulfilled, reason="no")
    rejected = ask(cast)
    sharing.request_reject(actor=editor, request=rejected, reason="not for sale")
    with pytest.raises(Conflict, match="already rejected"):
        sharing.request_fulfil(actor=editor, request=rejected, footprint_ids=pf)
    assert AccessGrant.objects.count() == 1  # the fulfilled one's only


def test_each_side_does_only_its_own_steps(cast):
    request = ask(cast)
    _, third_admin = third_buyer(cast)
    pf = [str(cast.footprint.pf_id)]
    with pytest.raises(PermissionDenied):
        sharing.request_fulfil(actor=cast.actor("outsider"), request=request, footprint_ids=pf)
    with pytest.raises(PermissionDenied):
        sharing.request_cancel(actor=cast.actor("editor"), request=request)
    with pytest.raises(PermissionDenied):
        sharing.request_reject(actor=cast.actor("viewer"), request=request, reason="no")
    with pytest.raises(NotFound):
        sharing.request_reject(actor=actor_of(third_admin), request=request, reason="no")
    with pytest.raises(NotFound):
        selectors.request_get(actor=actor_of(third_admin), request_id=request.pk)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING


def test_fulfil_and_reject_refusals(cast):
    request = ask(cast)
    old = cast.footprint
    new_version(cast, old)
    with pytest.raises(ValidationFailed) as caught:
        sharing.request_fulfil(actor=cast.actor("editor"), request=request, footprint_ids=[])
    assert "footprint_ids" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        sharing.request_fulfil(
            actor=cast.actor("editor"), request=request, footprint_ids=[str(old.pf_id)]
        )
    assert "footprint_ids[0]" in caught.value.errors  # deprecated
    with pytest.raises(ValidationFailed) as caught:
        sharing.request_reject(actor=cast.actor("editor"), request=request, reason="  ")
    assert "reason" in caught.value.errors
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING and not AccessGrant.objects.exists()


# ------------------------------------------------------------------------ auto rules


def test_an_only_verified_rule_waits_for_an_unverified_footprint(cast):
    cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=True)
    request = ask(cast)
    assert request.status == RequestStatus.PENDING
    assert not AccessGrant.objects.exists()


def test_an_only_verified_rule_fulfils_at_once_with_a_verified_footprint(cast):
    attested(cast)
    rule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=True)
    request = ask(cast)
    assert request.status == RequestStatus.FULFILLED  # the returned request is up to date
    assert request.answered_by_rule_id == rule.pk
    assert visible_to(cast) == {str(cast.footprint.pf_id)}
    assert audit_payloads("request.fulfilled", f"request:{request.pk}")[0]["rule"] == rule.pk


def test_a_revoked_attestation_no_longer_counts_as_verified(cast):
    attested(cast, EngagementState.REVOKED)
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=True)
    assert ask(cast).status == RequestStatus.PENDING


def test_a_rule_without_only_verified_fulfils_any_match(cast):
    cast.footprint
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=False)
    request = ask(cast)
    assert request.status == RequestStatus.FULFILLED


def test_a_rule_for_other_products_or_another_buyer_does_not_answer(cast):
    cast.footprint
    elsewhere = submit(cast, productIds=[OTHER_PRODUCT_URN])
    third, _ = third_buyer(cast)
    sharing.auto_rule_create(
        actor=cast.actor("admin"),
        buyer="other",
        product_ids=[elsewhere.product_id],
        only_verified=False,
    )
    sharing.auto_rule_create(actor=cast.actor("admin"), buyer=third, only_verified=False)
    assert ask(cast).status == RequestStatus.PENDING


def test_a_disabled_rule_does_not_answer(cast):
    cast.footprint
    rule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", only_verified=False)
    sharing.auto_rule_disable(actor=cast.actor("admin"), rule=rule)
    assert ask(cast).status == RequestStatus.PENDING
    with pytest.raises(Conflict):
        sharing.auto_rule_disable(actor=cast.actor("admin"), rule=rule)
    assert len(audit_payloads("auto_rule.disabled", f"auto_rule:{rule.pk}")) == 1


def test_auto_rule_refusals(cast):
    with pytest.raises(PermissionDenied):
        sharing.auto_rule_create(actor=cast.actor("editor"), buyer="other")
    with pytest.raises(ValidationFailed) as caught:
        sharing.auto_rule_create(actor=cast.actor("admin"), buyer="acme")
    assert "buyer" in caught.value.errors
    with pytest.raises(PermissionDenied):  # a buyer-only company has nothing to give
        sharing.auto_rule_create(actor=cast.actor("outsider"), buyer="other")
    with pytest.raises(ValidationFailed) as caught:
        sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other", product_ids=[999999])
    assert "product_ids[0]" in caught.value.errors
    rule = sharing.auto_rule_create(actor=cast.actor("admin"), buyer="other")
    with pytest.raises(NotFound):
        sharing.auto_rule_disable(actor=cast.actor("outsider"), rule=rule)
    with pytest.raises(PermissionDenied):
        sharing.auto_rule_disable(actor=cast.actor("editor"), rule=rule)
    payload = audit_payloads("auto_rule.created", f"auto_rule:{rule.pk}")[0]
    assert payload == {"buyer": "other", "products": [], "only_verified": True}
