"""Companies: onboarding by the zone operator, status changes, and what a suspended
company may no longer do. Every refusal names the field and the rule, and stores
nothing."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from companies import services
from companies.access import Actor
from companies.errors import CompanySuspended, Conflict, PermissionDenied, ValidationFailed
from companies.models import Company, CompanyIdentifier, CompanyStatus
from tests.companies.helpers import (
    audit_entries_since,
    fresh_actor,
    next_seq,
    payload_of,
    row_counts,
)
from tests.factories import add_member
from trust import keys as trust_keys

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"
LEI = "HWUPKR0MPOU8FGXBT394"


def onboard(actor, **overrides):
    fields = {
        "legal_name": "Ganzhou Rare Earth Co., Ltd.",
        "identifiers": [USCC],
        "roles": ["supplier"],
    }
    fields.update(overrides)
    return services.company_onboard(actor=actor, **fields)


def suspend(cast, company, reason="annual report missing"):
    return services.company_suspend(actor=cast.actor("op_admin"), company=company, reason=reason)


# --------------------------------------------------------------------------- onboarding


def test_operator_onboards_a_pending_company_with_urn_identifiers(cast):
    company = onboard(
        cast.actor("op_admin"),
        identifiers=[USCC, LEI, "urn:epc:id:sgln:0614141.12345.0"],
        roles=["supplier", "buyer"],
    )
    company.refresh_from_db()
    assert company.status == CompanyStatus.PENDING
    assert company.slug == "ganzhou-rare-earth-co-ltd"
    assert company.roles == ["supplier", "buyer"]
    assert list(company.identifiers.values_list("scheme", "urn")) == [
        ("uscc", f"urn:pact:samr.gov.cn:uscc:{USCC}"),
        ("lei", f"urn:pact:gleif.org:lei:{LEI}"),
        ("urn", "urn:epc:id:sgln:0614141.12345.0"),
    ]


def test_onboarding_with_activate_makes_the_company_active(cast):
    company = onboard(cast.actor("op_admin"), activate=True)
    assert Company.objects.get(pk=company.pk).status == CompanyStatus.ACTIVE


def test_onboarding_appends_the_audit_entry(cast):
    seq = next_seq()
    company = onboard(cast.actor("op_admin"), slug="ganzhou")
    [entry] = audit_entries_since(seq)
    assert entry.type == "company.onboarded"
    assert entry.company == "ganzhou"
    assert entry.subject == "company:ganzhou"
    assert entry.actor == f"user:{cast.op_admin.user.pk}"  # pseudonymous, no names
    assert payload_of(entry) == {
        "legal_name": company.legal_name,
        "identifiers": [f"urn:pact:samr.gov.cn:uscc:{USCC}"],
        "roles": ["supplier"],
        "status": "pending",
    }


def test_onboarding_and_its_audit_entry_commit_together(cast, monkeypatch):
    """If the audit append fails, the company is not stored either."""

    def broken_append(**kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(services, "audit_append", broken_append)
    before = row_counts()
    with pytest.raises(RuntimeError, match="audit log unavailable"):
        onboard(cast.actor("op_admin"))
    assert row_counts() == before
    assert not Company.objects.filter(legal_name="Ganzhou Rare Earth Co., Ltd.").exists()


def test_a_supplier_admin_may_not_onboard(cast):
    before = row_counts()
    with pytest.raises(PermissionDenied, match="only the zone operator may onboard companies"):
        onboard(cast.actor("admin"))
    assert row_counts() == before


def test_an_operator_viewer_may_not_onboard(cast):
    viewer = add_member(cast.operator, "op_viewer", "viewer")
    actor = Actor(company=cast.operator, role="viewer", user=viewer.user)
    before = row_counts()
    with pytest.raises(PermissionDenied) as info:
        onboard(actor)
    assert info.value.field == "role"
    assert "only a company admin may onboard companies; you are viewer" in info.value.message
    assert row_counts() == before


def test_a_suspended_operator_may_not_onboard(cast):
    Company.objects.filter(pk=cast.operator.pk).update(status=CompanyStatus.SUSPENDED)
    before = row_counts()
    with pytest.raises(CompanySuspended) as info:
        onboard(fresh_actor(cast.actor("op_admin")))
    assert info.value.field == "company.status"
    assert info.value.message.startswith("company.status: Zone Operator is suspended")
    assert row_counts() == before


def test_the_platform_itself_may_onboard_without_an_actor(db):
    seq = next_seq()
    company = onboard(None, roles=["operator"], activate=True)
    assert company.is_operator
    assert audit_entries_since(seq)[0].actor == "system"


# --------------------------------------------------------------------------- bad input


def refused(cast, **overrides) -> ValidationFailed:
    """Onboard with ``overrides``; assert it is refused and nothing at all is stored."""
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        onboard(cast.actor("op_admin"), **overrides)
    assert row_counts() == before
    return info.value


def test_invalid_uscc_is_refused_naming_identifiers_and_check_character(cast):
    error = refused(cast, identifiers=["91350100M000100Y44"])
    assert list(error.errors) == ["identifiers"]
    [message] = error.errors["identifiers"]
    assert message.startswith("[0] USCC check character is wrong")
    assert "expected '3', got '4'" in message


def test_uscc_with_forbidden_letter_is_refused(cast):
    error = refused(cast, identifiers=["91350100M0001O0Y43"])
    assert error.errors == {
        "identifiers": [
            "[0] USCC may only use 0-9 and A-Y without I, O, S, V, Z; found 'O'",
        ]
    }


def test_invalid_lei_is_refused_naming_its_position_and_check_digits(cast):
    error = refused(cast, identifiers=[USCC, "HWUPKR0MPOU8FGXBT395"])
    assert error.errors == {"identifiers": ["[1] LEI check digits are wrong (ISO 17442 MOD 97-10)"]}


def test_every_bad_identifier_is_reported_at_once(cast):
    error = refused(cast, identifiers=["91350100M000100Y44", LEI, "HWUPKR0MPOU8FGXBT395"])
    messages = error.errors["identifiers"]
    assert [m[:3] for m in messages] == ["[0]", "[2]"]


def test_an_identifier_listed_twice_is_refused(cast):
    error = refused(cast, identifiers=[USCC, f"urn:pact:samr.gov.cn:uscc:{USCC.lower()}"])
    assert error.errors == {
        "identifiers": [f"[1] urn:pact:samr.gov.cn:uscc:{USCC} is listed twice"]
    }


def test_another_companys_identifier_is_refused(cast):
    taken = cast.acme.identifiers.get().urn
    error = refused(cast, identifiers=[taken.rsplit(":", 1)[1]])
    assert error.errors == {
        "identifiers": [f"[0] {taken} already belongs to another company in the zone"]
    }
    assert CompanyIdentifier.objects.get(urn=taken).company == cast.acme


def test_another_companys_urn_in_other_letter_case_is_refused(cast):
    onboard(cast.actor("op_admin"), identifiers=[USCC, "urn:epc:id:sgln:0614141.12345.0"])
    error = refused(
        cast,
        legal_name="Copycat Ltd",
        identifiers=[LEI, "URN:EPC:id:sgln:0614141.12345.0"],
    )
    assert error.errors == {
        "identifiers": [
            "[1] urn:epc:id:sgln:0614141.12345.0 already belongs to another company in the zone"
        ]
    }


def test_duplicate_slug_is_refused(cast):
    error = refused(cast, slug="acme")
    assert error.errors == {"slug": ["'acme' is already used by another company"]}


def test_slug_made_from_a_taken_legal_name_is_refused(cast):
    error = refused(cast, legal_name="ACME")
    assert error.errors == {"slug": ["'acme' is already used by another company"]}


def test_slug_without_letters_or_digits_is_refused(cast):
    error = refused(cast, legal_name="!!!", slug="")
    assert error.errors == {"slug": ["must contain letters or digits"]}


def test_empty_legal_name_is_refused(cast):
    error = refused(cast, legal_name="   ")
    assert error.errors == {"legal_name": ["the legal name is required"]}


@pytest.mark.parametrize(
    "identifiers", [[], ["urn:epc:id:sgln:0614141.12345.0"]], ids=["none", "only-a-urn"]
)
def test_a_uscc_or_lei_is_required(cast, identifiers):
    error = refused(cast, identifiers=identifiers)
    assert error.errors == {
        "identifiers": ["at least one USCC or LEI is required to identify the legal entity"]
    }


def test_unknown_roles_are_refused_naming_them_and_the_choices(cast):
    error = refused(cast, roles=["supplier", "miner", "bank"])
    assert error.errors == {
        "roles": ["unknown role(s) bank, miner; choose from supplier, buyer, verifier, operator"]
    }


def test_no_role_is_refused(cast):
    error = refused(cast, roles=[])
    assert error.errors == {"roles": ["a company needs at least one role"]}


# --------------------------------------------------------------------------- status


def test_operator_activates_a_pending_company(cast):
    seq = next_seq()
    company = services.company_activate(actor=cast.actor("op_admin"), company=cast.pending)
    assert Company.objects.get(pk=company.pk).status == CompanyStatus.ACTIVE
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject) == (
        "company.active",
        "newco",
        "company:newco",
    )


def test_operator_suspends_with_a_reason(cast):
    seq = next_seq()
    suspend(cast, cast.acme, reason="verification body withdrew accreditation")
    stored = Company.objects.get(pk=cast.acme.pk)
    assert stored.status == CompanyStatus.SUSPENDED
    assert stored.suspension_reason == "verification body withdrew accreditation"
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject) == (
        "company.suspended",
        "acme",
        "company:acme",
    )
    assert payload_of(entry) == {
        "status": "suspended",
        "reason": "verification body withdrew accreditation",
    }


def test_suspension_needs_a_reason(cast):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        suspend(cast, cast.acme, reason="  ")
    assert info.value.errors == {"reason": ["say why the company is suspended"]}
    assert Company.objects.get(pk=cast.acme.pk).status == CompanyStatus.ACTIVE
    assert row_counts() == before


def test_reinstating_a_suspended_company_clears_the_reason(cast):
    suspend(cast, cast.acme)
    services.company_activate(actor=cast.actor("op_admin"), company=cast.acme)
    stored = Company.objects.get(pk=cast.acme.pk)
    assert (stored.status, stored.suspension_reason) == (CompanyStatus.ACTIVE, "")


def test_suspending_a_suspended_company_is_a_conflict(cast):
    suspend(cast, cast.acme)
    acme = Company.objects.get(pk=cast.acme.pk)
    before = row_counts()
    with pytest.raises(Conflict) as info:
        suspend(cast, acme, reason="again")
    assert info.value.field == "status"
    assert info.value.message == (
        "status: Acme Lithium Co., Ltd. is suspended; it must be pending or active for this change"
    )
    assert Company.objects.get(pk=acme.pk).suspension_reason == "annual report missing"
    assert row_counts() == before


def test_activating_an_active_company_is_a_conflict(cast):
    before = row_counts()
    with pytest.raises(Conflict, match="is active; it must be pending or suspended"):
        services.company_activate(actor=cast.actor("op_admin"), company=cast.acme)
    assert row_counts() == before


def test_a_status_change_from_a_stale_copy_is_decided_by_the_database(cast):
    """Two operators act on the same company: the second one's copy is stale."""
    stale = Company.objects.get(pk=cast.acme.pk)
    suspend(cast, cast.acme)
    with pytest.raises(Conflict):
        suspend(cast, stale, reason="second operator")
    assert Company.objects.get(pk=cast.acme.pk).suspension_reason == "annual report missing"


def test_a_status_conflict_reports_the_stored_status(cast):
    stale = Company.objects.get(pk=cast.acme.pk)
    suspend(cast, cast.acme)
    with pytest.raises(Conflict, match="is suspended"):
        suspend(cast, stale, reason="second operator")


def test_the_operator_cannot_suspend_itself(cast):
    before = row_counts()
    with pytest.raises(PermissionDenied, match="the zone operator cannot suspend itself"):
        suspend(cast, cast.operator)
    assert Company.objects.get(pk=cast.operator.pk).status == CompanyStatus.ACTIVE
    assert row_counts() == before


@pytest.mark.parametrize("who", ["admin", "outsider"])
def test_only_the_operator_changes_statuses(cast, who):
    before = row_counts()
    with pytest.raises(PermissionDenied, match="only the zone operator may change a company"):
        services.company_suspend(actor=cast.actor(who), company=cast.pending, reason="no")
    with pytest.raises(PermissionDenied, match="only the zone operator may change a company"):
        services.company_activate(actor=cast.actor(who), company=cast.pending)
    assert Company.objects.get(pk=cast.pending.pk).status == CompanyStatus.PENDING
    assert row_counts() == before


def test_a_suspended_operator_cannot_change_statuses(cast):
    Company.objects.filter(pk=cast.operator.pk).update(status=CompanyStatus.SUSPENDED)
    before = row_counts()
    with pytest.raises(CompanySuspended, match=r"company\.status"):
        services.company_suspend(
            actor=fresh_actor(cast.actor("op_admin")), company=cast.acme, reason="x"
        )
    assert row_counts() == before


def test_a_suspended_operator_cannot_reinstate_itself(cast):
    Company.objects.filter(pk=cast.operator.pk).update(status=CompanyStatus.SUSPENDED)
    operator = Company.objects.get(pk=cast.operator.pk)
    with pytest.raises(CompanySuspended):
        services.company_activate(actor=fresh_actor(cast.actor("op_admin")), company=operator)
    assert Company.objects.get(pk=operator.pk).status == CompanyStatus.SUSPENDED


# --------------------------------------------------------------------------- profile


def test_admin_updates_the_contact_details(cast):
    seq = next_seq()
    services.company_update_profile(
        actor=cast.actor("admin"),
        contact_email="carbon@acme.example",
        website="https://acme.example",
        address="1 Lithium Road",
    )
    stored = Company.objects.get(pk=cast.acme.pk)
    assert (stored.contact_email, stored.website, stored.address) == (
        "carbon@acme.example",
        "https://acme.example",
        "1 Lithium Road",
    )
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.subject) == ("company.profile_updated", "company:acme")


def test_an_editor_cannot_update_the_profile(cast):
    with pytest.raises(PermissionDenied, match="only a company admin may edit the company profile"):
        services.company_update_profile(
            actor=cast.actor("editor"), contact_email="", website="", address="x"
        )
    assert Company.objects.get(pk=cast.acme.pk).address == ""


def test_an_invalid_contact_email_is_a_validation_failure_naming_the_field(cast):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        services.company_update_profile(
            actor=cast.actor("admin"), contact_email="not an e-mail", website="", address=""
        )
    assert "contact_email" in info.value.errors
    assert row_counts() == before


# --------------------------------------------------------------------------- suspension


def _register_key(actor):
    jwk = trust_keys.public_jwk(trust_keys.generate_private_key())
    return services.signing_key_register(actor=actor, jwk=jwk)


SUSPENDED_WRITES = {
    "register key": _register_key,
    "create platform key": lambda actor: services.signing_key_create_platform(actor=actor),
    "invite": lambda actor: services.invitation_create(
        actor=actor, email="someone@example.test", role="viewer"
    ),
    "create API client": lambda actor: services.api_client_create(actor=actor, name="SAP"),
    "update profile": lambda actor: services.company_update_profile(
        actor=actor, contact_email="x@acme.example", website="", address="changed"
    ),
}


@pytest.mark.parametrize("write", SUSPENDED_WRITES.values(), ids=SUSPENDED_WRITES.keys())
def test_a_suspended_companys_admin_is_refused_every_write(cast, write):
    suspend(cast, cast.acme)
    actor = fresh_actor(cast.actor("admin"))
    before = row_counts()
    with pytest.raises(CompanySuspended) as info:
        write(actor)
    assert info.value.code == "company_suspended"
    assert info.value.field == "company.status"
    assert info.value.message.startswith(
        "company.status: Acme Lithium Co., Ltd. is suspended; it cannot make changes"
    )
    assert row_counts() == before
    assert Company.objects.get(pk=cast.acme.pk).address == ""


def test_a_suspended_companys_admin_cannot_change_members_or_keys(cast):
    suspend(cast, cast.acme)
    actor = fresh_actor(cast.actor("admin"))
    before = row_counts()
    with pytest.raises(CompanySuspended):
        services.membership_change_role(actor=actor, membership=cast.viewer, role="editor")
    with pytest.raises(CompanySuspended):
        services.membership_remove(actor=actor, membership=cast.viewer)
    with pytest.raises(CompanySuspended):
        services.signing_key_rotate(actor=actor, key=cast.own_key)
    assert row_counts() == before
    assert cast.viewer.__class__.objects.get(pk=cast.viewer.pk).role == "viewer"


def test_a_reinstated_company_may_write_again(cast):
    suspend(cast, cast.acme)
    services.company_activate(actor=cast.actor("op_admin"), company=cast.acme)
    key = services.signing_key_create_platform(actor=fresh_actor(cast.actor("admin")))
    assert key.company_id == cast.acme.pk


def test_audit_types_of_onboarding_and_status_changes(cast):
    seq = next_seq()
    company = onboard(cast.actor("op_admin"))
    services.company_activate(actor=cast.actor("op_admin"), company=company)
    suspend(cast, company)
    services.company_activate(actor=cast.actor("op_admin"), company=company)
    types = [e.type for e in AuditEntry.objects.filter(seq__gte=seq).order_by("seq")]
    assert types == ["company.onboarded", "company.active", "company.suspended", "company.active"]


def test_an_identifier_longer_than_the_column_is_refused_naming_identifiers(cast):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        onboard(cast.actor("op_admin"), identifiers=[USCC, "urn:ab:" + "x" * 300])
    assert info.value.errors["identifiers"][0].startswith("[1] ")
    assert row_counts() == before
