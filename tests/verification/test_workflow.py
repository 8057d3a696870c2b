"""The engagement state machine and its guards, through the services."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from companies import services as company_services
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from companies.models import Membership
from exchange import services as exchange_services
from exchange.selectors import footprint_document
from tests.exchange.helpers import signed_footprint
from tests.factories import actor_of, add_member, make_company
from tests.verification.helpers import (
    HS_SECTOR,
    build_verifiers,
    digests,
    engagement_in,
    request_engagement,
    terms,
)
from verification import services
from verification.models import Attestation, Engagement, EngagementState, Evidence, Finding
from verification.services import TRANSITIONS

S = EngagementState
pytestmark = pytest.mark.django_db


@pytest.fixture
def verifiers(cast):
    return build_verifiers(cast)


def act(action, cast, verifiers, engagement, *, who=None):
    """Run ``action`` on the engagement as the side that may take it (or ``who``)."""
    side = TRANSITIONS.get((engagement.state, action), ("verifier", None))[0]
    actor = who or (cast.actor("editor") if side == "supplier" else verifiers.actor())
    if action == "accept":
        return services.engagement_accept(actor=actor, engagement=engagement)
    if action == "decline":
        return services.engagement_decline(actor=actor, engagement=engagement, reason="busy")
    if action == "start_review":
        return services.engagement_start_review(actor=actor, engagement=engagement)
    if action == "request_changes":
        return services.engagement_request_changes(actor=actor, engagement=engagement, note="x")
    if action == "resubmit":
        return services.engagement_resubmit(actor=actor, engagement=engagement, note="done")
    if action == "refuse":
        return services.engagement_refuse(actor=actor, engagement=engagement, reason="no")
    if action == "revoke":
        return services.engagement_revoke(actor=actor, engagement=engagement, reason="error")
    if action == "attest":
        return services.engagement_attest(
            actor=actor,
            engagement=engagement,
            terms=services.clean_terms(terms()),
            footprint_digests=digests(engagement),
        )
    raise AssertionError(action)


ACTIONS = sorted({action for (_, action) in TRANSITIONS if action != "expire"})
LEGAL = sorted((state, action) for (state, action) in TRANSITIONS if action != "expire")
ILLEGAL = sorted(
    (state, action)
    for state in S.values
    for action in ACTIONS
    if (state, action) not in TRANSITIONS
)


@pytest.mark.parametrize(("state", "action"), LEGAL)
def test_every_legal_transition(cast, verifiers, state, action):
    engagement = engagement_in(cast, verifiers, state)
    before = AuditEntry.objects.count()
    act(action, cast, verifiers, engagement)
    engagement.refresh_from_db()
    assert engagement.state == TRANSITIONS[(state, action)][1]
    assert engagement.events.last().to_state == engagement.state
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.type == f"engagement.{engagement.state}"
    assert entry.subject == f"engagement:{engagement.pk}"
    assert AuditEntry.objects.count() > before


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(cast, verifiers, state, action):
    engagement = engagement_in(cast, verifiers, state)
    before = (AuditEntry.objects.count(), engagement.events.count(), Attestation.objects.count())
    with pytest.raises(Conflict) as caught:
        act(action, cast, verifiers, engagement)
    assert caught.value.field == "state"
    engagement.refresh_from_db()
    assert engagement.state == state
    assert (
        AuditEntry.objects.count(),
        engagement.events.count(),
        Attestation.objects.count(),
    ) == before


@pytest.mark.parametrize(("state", "action"), LEGAL)
def test_the_other_side_may_not_take_a_step(cast, verifiers, state, action):
    engagement = engagement_in(cast, verifiers, state)
    side = TRANSITIONS[(state, action)][0]
    wrong = verifiers.actor() if side == "supplier" else cast.actor("editor")
    with pytest.raises(PermissionDenied):
        act(action, cast, verifiers, engagement, who=wrong)
    with pytest.raises(NotFound):
        act(action, cast, verifiers, engagement, who=cast.actor("outsider"))
    viewer = cast.actor("viewer") if side == "supplier" else verifiers.actor("verity_viewer")
    with pytest.raises(PermissionDenied):
        act(action, cast, verifiers, engagement, who=viewer)
    engagement.refresh_from_db()
    assert engagement.state == state


def test_expiry_moves_attested_to_expired_and_drops_the_served_verification(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ATTESTED)
    footprint = cast.footprint
    footprint.refresh_from_db()
    assert (
        footprint_document(footprint)["pcf"]["verification"]["providerName"]
        == "Verity Assurance GmbH"
    )
    assert services.engagements_expire(now=engagement.valid_until - timedelta(seconds=1)) == 0
    assert services.engagements_expire(now=engagement.valid_until + timedelta(seconds=1)) == 1
    engagement.refresh_from_db()
    assert engagement.state == S.EXPIRED
    footprint.refresh_from_db()
    assert footprint.verification is None
    assert "verification" not in footprint_document(footprint)["pcf"]


# ---------------------------------------------------------------- accreditation


def test_an_unaccredited_standard_is_refused(cast, verifiers):
    with pytest.raises(ValidationFailed) as caught:
        request_engagement(cast, verifiers, standard="ISAE 3410")
    assert "verifier" in caught.value.errors
    assert "ISAE 3410" in caught.value.message
    assert not Engagement.objects.exists()


def test_a_product_outside_the_accredited_sectors_is_refused(cast, verifiers):
    verifiers.accreditation.sectors = ["urn:pact:wcoomdd.org:hs-code:72"]  # iron and steel
    verifiers.accreditation.save()
    with pytest.raises(ValidationFailed):
        request_engagement(cast, verifiers)
    assert not Engagement.objects.exists()


def test_a_suspended_accreditation_stops_attestation_at_once(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    services.accreditation_suspend(
        actor=cast.actor("op_admin"), accreditation=verifiers.accreditation, reason="audit"
    )
    with pytest.raises(ValidationFailed) as caught:
        act("attest", cast, verifiers, engagement)
    assert "accreditation" in caught.value.errors
    assert not Attestation.objects.exists()
    services.accreditation_reinstate(
        actor=cast.actor("op_admin"), accreditation=verifiers.accreditation
    )
    act("attest", cast, verifiers, engagement)
    assert Attestation.objects.count() == 1


def test_an_expired_accreditation_stops_new_engagements(cast, verifiers):
    verifiers.accreditation.valid_until = timezone.localdate() - timedelta(days=1)
    verifiers.accreditation.save()
    with pytest.raises(ValidationFailed):
        request_engagement(cast, verifiers)


def test_only_the_operator_accredits(cast, verifiers):
    with pytest.raises(PermissionDenied):
        services.accreditation_grant(
            actor=cast.actor("admin"),
            verifier=verifiers.verity,
            body="X",
            reference="1",
            standards=["ISO 14067"],
            sectors=[HS_SECTOR],
            valid_from=date.today(),
            valid_until=date.today(),
        )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("standards", ["ISO 9001"], "standards[0]"),
        ("sectors", ["metals"], "sectors[0]"),
        ("sectors", [], "sectors"),
        ("body", " ", "body"),
    ],
)
def test_accreditation_input_is_checked(cast, verifiers, field, value, error):
    fields = {
        "verifier": verifiers.verity,
        "body": "CNAS",
        "reference": "CNAS-V-0042",
        "standards": ["ISO 14067"],
        "sectors": [HS_SECTOR],
        "valid_from": date.today(),
        "valid_until": date.today() + timedelta(days=10),
        field: value,
    }
    with pytest.raises(ValidationFailed) as caught:
        services.accreditation_grant(actor=cast.actor("op_admin"), **fields)
    assert error in caught.value.errors


# ----------------------------------------------------------------- independence


def test_a_verifier_sharing_a_member_with_the_supplier_is_not_independent(cast, verifiers):
    Membership.objects.create(user=cast.editor.user, company=verifiers.verity, role="viewer")
    with pytest.raises(ValidationFailed) as caught:
        request_engagement(cast, verifiers)
    assert "share members" in caught.value.message


def test_independence_is_checked_again_on_accept(cast, verifiers):
    engagement = request_engagement(cast, verifiers)
    Membership.objects.create(user=verifiers.verity_editor.user, company=cast.acme, role="viewer")
    with pytest.raises(ValidationFailed):
        act("accept", cast, verifiers, engagement)
    engagement.refresh_from_db()
    assert engagement.state == S.REQUESTED


def test_a_company_cannot_verify_itself(cast):
    both = make_company("Self Check Ltd", roles=("supplier", "verifier"), slug="selfcheck")
    member = add_member(both, "selfcheck_admin", "admin")
    with pytest.raises(ValidationFailed) as caught:
        services.engagement_request(
            actor=actor_of(member),
            verifier=both,
            footprint_ids=["00000000-0000-4000-8000-000000000000"],
            standard="ISO 14067",
            assurance_level="limited",
            coverage="product level",
        )
    assert caught.value.errors == {"verifier": ["a company cannot verify its own footprints"]}


def test_the_rotation_rule_limits_consecutive_years(cast, verifiers):
    services.zone_policy_set(actor=cast.actor("op_admin"), max_consecutive_years=2)
    year = timezone.now().year
    engagement_in(cast, verifiers, S.ATTESTED)  # this year
    old = engagement_in(cast, verifiers, S.ATTESTED, footprints=[_second_footprint(cast)])
    Engagement.objects.filter(pk=old.pk).update(
        attested_at=timezone.now().replace(year=year - 1, month=6, day=1)
    )
    # Two consecutive years (last and this): another one this year stays within 2.
    request_engagement(cast, verifiers, footprints=[_second_footprint(cast)])
    Engagement.objects.filter(pk=old.pk).update(
        attested_at=timezone.now().replace(year=year - 2, month=6, day=1)
    )
    third = engagement_in(cast, verifiers, S.ATTESTED, footprints=[_second_footprint(cast)])
    Engagement.objects.filter(pk=third.pk).update(
        attested_at=timezone.now().replace(year=year - 1, month=6, day=1)
    )
    with pytest.raises(ValidationFailed) as caught:
        request_engagement(cast, verifiers, footprints=[_second_footprint(cast)])
    assert "rotation rule" in caught.value.message
    services.zone_policy_set(actor=cast.actor("op_admin"), max_consecutive_years=None)
    request_engagement(cast, verifiers, footprints=[_second_footprint(cast)])


def _second_footprint(cast):
    return exchange_services.footprint_submit(
        actor=cast.actor("editor"), jws=signed_footprint(cast)
    ).footprint


# ---------------------------------------------------------------------- request


def test_a_deprecated_footprint_cannot_be_verified(cast, verifiers):
    exchange_services.footprint_deprecate(
        actor=cast.actor("editor"), footprint=cast.footprint, reason="old"
    )
    with pytest.raises(ValidationFailed) as caught:
        request_engagement(cast, verifiers)
    assert "deprecated" in caught.value.message


def test_a_footprint_deprecated_during_review_cannot_be_attested(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    exchange_services.footprint_deprecate(
        actor=cast.actor("editor"), footprint=cast.footprint, reason="superseded"
    )
    with pytest.raises(ValidationFailed) as caught:
        act("attest", cast, verifiers, engagement)
    assert "deprecated" in caught.value.message
    assert not Attestation.objects.exists()


def test_another_companys_footprint_cannot_be_put_in_an_engagement(cast, verifiers):
    with pytest.raises(ValidationFailed) as caught:
        services.engagement_request(
            actor=cast.actor("outsider"),
            verifier=verifiers.verity,
            footprint_ids=[str(cast.footprint.pf_id)],
            standard="ISO 14067",
            assurance_level="limited",
            coverage="product level",
        )
    assert "footprint_ids[0]" in caught.value.errors


def test_an_open_engagement_for_the_same_footprint_is_a_conflict(cast, verifiers):
    request_engagement(cast, verifiers)
    with pytest.raises(Conflict):
        request_engagement(cast, verifiers)


@pytest.mark.parametrize(
    ("field", "value"),
    [("standard", "ISO 9001"), ("assurance_level", "high"), ("coverage", "everything")],
)
def test_request_choices_are_checked(cast, verifiers, field, value):
    with pytest.raises(ValidationFailed) as caught:
        request_engagement(cast, verifiers, **{field: value})
    assert field in caught.value.errors


# ------------------------------------------------------------------ attestation


def test_attesting_with_a_digest_that_does_not_match_is_refused(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    wrong = {pf_id: "0" * 64 for pf_id in digests(engagement)}
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.engagement_attest(
            actor=verifiers.actor(),
            engagement=engagement,
            terms=services.clean_terms(terms()),
            footprint_digests=wrong,
        )
    assert "does not match" in caught.value.message
    assert not Attestation.objects.exists()
    assert AuditEntry.objects.count() == before
    engagement.refresh_from_db()
    assert engagement.state == S.IN_REVIEW


def test_attesting_needs_every_footprint_digest(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    with pytest.raises(ValidationFailed) as caught:
        services.engagement_attest(
            actor=verifiers.actor(),
            engagement=engagement,
            terms=services.clean_terms(terms()),
            footprint_digests={},
        )
    assert "footprint_digests" in caught.value.errors


@pytest.mark.parametrize("which", ["other company", "revoked", "own custody"])
def test_attesting_with_a_wrong_key_is_refused(cast, verifiers, which):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    if which == "other company":
        kid = cast.platform_key.kid
    elif which == "revoked":
        key = company_services.signing_key_create_platform(actor=verifiers.actor("verity_admin"))
        company_services.signing_key_revoke(
            actor=verifiers.actor("verity_admin"), key=key, reason="compromised"
        )
        kid = key.kid
    else:
        from trust import keys

        key = company_services.signing_key_register(
            actor=verifiers.actor("verity_admin"),
            jwk=keys.public_jwk(keys.generate_private_key()),
        )
        kid = key.kid
    with pytest.raises(ValidationFailed) as caught:
        services.engagement_attest(
            actor=verifiers.actor(),
            engagement=engagement,
            terms=services.clean_terms(terms()),
            footprint_digests=digests(engagement),
            kid=kid,
        )
    assert "kid" in caught.value.errors
    assert not Attestation.objects.exists()


def test_open_material_findings_block_attestation_immaterial_ones_do_not(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    material = services.finding_raise(
        actor=verifiers.actor(),
        engagement=engagement,
        title="Electricity factor",
        materiality="material",
        body="The grid factor is from 2015.",
    )
    services.finding_raise(
        actor=verifiers.actor(),
        engagement=engagement,
        title="Typo",
        materiality="immaterial",
        body="Product name misspelt.",
    )
    with pytest.raises(Conflict) as caught:
        act("attest", cast, verifiers, engagement)
    assert caught.value.field == "findings"
    services.finding_reply(actor=cast.actor("editor"), finding=material, body="Updated to 2024.")
    services.finding_resolve(actor=verifiers.actor(), finding=material, note="Accepted")
    act("attest", cast, verifiers, engagement)
    assert Attestation.objects.count() == 1


def test_cbam_verification_needs_a_site_visit(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW, standard="CBAM verification")
    with pytest.raises(Conflict) as caught:
        act("attest", cast, verifiers, engagement)
    assert caught.value.field == "site_visits"
    services.site_visit_record(
        actor=verifiers.actor(), engagement=engagement, date=date.today(), mode="virtual"
    )
    act("attest", cast, verifiers, engagement)
    credential = json.loads(Attestation.objects.get().credential)
    assert credential["credentialSubject"]["siteVisits"] == [
        {"date": date.today().isoformat(), "mode": "virtual"}
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("opinion", "maybe"),
        ("valid_until", "2020-01-01"),
        ("valid_until", "tomorrow"),
        ("boundary", ""),
        ("opinion_text", ""),
    ],
)
def test_attestation_terms_are_checked(field, value):
    with pytest.raises(ValidationFailed) as caught:
        services.clean_terms(terms(**{field: value}))
    assert field in caught.value.errors


def test_the_attestation_names_the_footprint_and_its_digest(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ATTESTED)
    attestation = Attestation.objects.get(engagement=engagement)
    credential = json.loads(attestation.credential)
    subject = credential["credentialSubject"]
    assert subject["footprintId"] == str(cast.footprint.pf_id)
    assert subject["footprintDigest"] == cast.footprint.sha256
    assert subject["standard"] == "ISO 14067"
    assert subject["assuranceLevel"] == "limited"
    assert credential["issuer"]["id"] == "did:web:127.0.0.1%3A8000:companies:verity"
    assert credential["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert credential["proof"]["verificationMethod"].endswith(f"#{verifiers.key.kid}")
    assert credential["credentialStatus"]["statusListIndex"] == str(attestation.status_index)
    served = footprint_document(engagement.footprints.get())
    assert served["pcf"]["verification"]["coverage"] == "product level"
    assert served["pcf"]["verification"]["standardName"] == "ISO 14067"


def test_revocation_drops_the_served_verification(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.REVOKED)
    attestation = Attestation.objects.get(engagement=engagement)
    assert attestation.revoked_at is not None
    assert attestation.revocation_reason == "error found".capitalize()
    assert "verification" not in footprint_document(engagement.footprints.get())["pcf"]


# -------------------------------------------------------------------- evidence


def test_evidence_is_stored_with_its_digest(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    data = b"%PDF-1.7\n%evidence\n"
    evidence = services.evidence_add(
        actor=cast.actor("editor"),
        engagement=engagement,
        file_name="C:\\docs\\meter.pdf",
        data=data,
    )
    assert evidence.file_name == "meter.pdf"
    assert evidence.content_type == "application/pdf"
    import hashlib

    assert evidence.sha256 == hashlib.sha256(data).hexdigest()
    assert AuditEntry.objects.filter(type="evidence.added").count() == 1


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("run.exe", b"MZ...", "not accepted"),
        ("fake.pdf", b"MZ\x90\x00", "content is not a PDF"),
        ("sheet.xlsx", b"%PDF-1.4", "not a Excel workbook"),
        ("data.csv", b"a,b\x00c", "not a CSV"),
        ("empty.pdf", b"", "empty"),
    ],
)
def test_bad_evidence_is_refused_and_nothing_is_stored(cast, verifiers, name, data, message):
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    with pytest.raises(ValidationFailed) as caught:
        services.evidence_add(
            actor=cast.actor("editor"), engagement=engagement, file_name=name, data=data
        )
    assert "file" in caught.value.errors
    assert message in caught.value.message
    assert not Evidence.objects.exists()


def test_evidence_over_the_size_limit_is_refused(cast, verifiers, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    engagement = engagement_in(cast, verifiers, S.REQUESTED)
    with pytest.raises(ValidationFailed) as caught:
        services.evidence_add(
            actor=cast.actor("editor"),
            engagement=engagement,
            file_name="big.pdf",
            data=b"%PDF-" + b"x" * 1000,
        )
    assert "over the limit of 1,000 bytes" in caught.value.message
    assert not Evidence.objects.exists()


def test_only_the_supplier_adds_evidence_and_only_while_open(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    with pytest.raises(PermissionDenied):
        services.evidence_add(
            actor=verifiers.actor(), engagement=engagement, file_name="a.pdf", data=b"%PDF-1"
        )
    declined = engagement_in(cast, verifiers, S.DECLINED, footprints=[_second_footprint(cast)])
    with pytest.raises(Conflict):
        services.evidence_add(
            actor=cast.actor("editor"), engagement=declined, file_name="a.pdf", data=b"%PDF-1"
        )


# -------------------------------------------------------------------- findings


def test_findings_are_numbered_and_threaded(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    first = services.finding_raise(
        actor=verifiers.actor(), engagement=engagement, title="A", materiality="material", body="a"
    )
    second = services.finding_raise(
        actor=verifiers.actor(),
        engagement=engagement,
        title="B",
        materiality="immaterial",
        body="b",
    )
    assert (first.number, second.number) == (1, 2)
    services.finding_reply(actor=cast.actor("editor"), finding=first, body="answer")
    services.finding_reply(actor=verifiers.actor(), finding=first, body="thanks")
    assert [m.body for m in first.messages.all()] == ["a", "answer", "thanks"]
    with pytest.raises(PermissionDenied):
        services.finding_resolve(actor=cast.actor("editor"), finding=first)
    services.finding_resolve(actor=verifiers.actor(), finding=first)
    with pytest.raises(Conflict):
        services.finding_resolve(actor=verifiers.actor(), finding=first)


def test_findings_need_a_review_in_progress(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    with pytest.raises(Conflict):
        services.finding_raise(
            actor=verifiers.actor(),
            engagement=engagement,
            title="A",
            materiality="material",
            body="a",
        )
    assert not Finding.objects.exists()


def test_a_site_visit_cannot_be_in_the_future(cast, verifiers):
    engagement = engagement_in(cast, verifiers, S.IN_REVIEW)
    with pytest.raises(ValidationFailed) as caught:
        services.site_visit_record(
            actor=verifiers.actor(),
            engagement=engagement,
            date=date.today() + timedelta(days=2),
            mode="physical",
        )
    assert "date" in caught.value.errors


def test_the_scheduled_task_expires_engagements(cast, verifiers):
    from verification.tasks import expire_engagements

    engagement = engagement_in(cast, verifiers, S.ATTESTED)
    Engagement.objects.filter(pk=engagement.pk).update(
        valid_until=timezone.now() - timedelta(minutes=1)
    )
    assert expire_engagements.delay().get() == 1
    engagement.refresh_from_db()
    assert engagement.state == S.EXPIRED
    assert AuditEntry.objects.order_by("-seq").first().actor == "system"


def test_operator_steps_need_an_operator_admin(cast, verifiers):
    editor = actor_of(add_member(cast.operator, "op_editor", "editor"))
    with pytest.raises(PermissionDenied):
        services.accreditation_suspend(
            actor=editor, accreditation=verifiers.accreditation, reason="x"
        )
    with pytest.raises(PermissionDenied):
        services.zone_policy_set(actor=editor, max_consecutive_years=3)


def test_every_evidence_download_is_audited_and_only_for_the_parties(cast, verifiers):
    from verification.downloads import evidence_download

    engagement = engagement_in(cast, verifiers, S.ACCEPTED)
    evidence = services.evidence_add(
        actor=cast.actor("editor"), engagement=engagement, file_name="m.pdf", data=b"%PDF-1.7"
    )
    response = evidence_download(
        actor=verifiers.actor(), engagement=engagement, evidence_id=evidence.pk
    )
    assert response.content == b"%PDF-1.7"
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.type, entry.company, entry.subject) == (
        "evidence.downloaded",
        "verity",
        f"engagement:{engagement.pk}",
    )
    with pytest.raises(NotFound):
        evidence_download(
            actor=cast.actor("outsider"), engagement=engagement, evidence_id=evidence.pk
        )
