"""People: invitations by link (only the token's SHA-256 is stored), accepting them in
the portal, roles, removal and the last-admin rule."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from companies import services
from companies.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from companies.middleware import SESSION_COMPANY_KEY
from companies.models import Invitation, MemberRole, Membership
from tests.companies.helpers import audit_entries_since, next_seq, payload_of, row_counts
from tests.factories import actor_of, add_member, make_company

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "lithium-brine-evaporation-42"


def invite(cast, email="li.wei@acme.example", role="editor"):
    return services.invitation_create(actor=cast.actor("admin"), email=email, role=role)


def link(token: str) -> str:
    return f"/invitations/{token}/"


# --------------------------------------------------------------------------- creating


def test_invitation_stores_only_the_sha256_of_its_token(cast):
    invitation, token = invite(cast)
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert row["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert not [column for column, value in row.items() if token in str(value)]
    assert len(token) >= 43  # 32 random bytes


def test_invitation_is_created_for_the_admins_company_and_audited(cast):
    seq = next_seq()
    invitation, _ = invite(cast, email="  Li.Wei@ACME.example ", role="viewer")
    stored = Invitation.objects.get(pk=invitation.pk)
    assert (stored.company, stored.email, stored.role) == (
        cast.acme,
        "li.wei@acme.example",
        "viewer",
    )
    assert stored.invited_by == cast.admin.user
    assert abs((stored.expires_at - stored.created_at) - timedelta(days=14)) < timedelta(seconds=5)
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject) == (
        "invitation.created",
        "acme",
        f"invitation:{invitation.pk}",
    )
    assert payload_of(entry) == {"email": "li.wei@acme.example", "role": "viewer"}


@pytest.mark.parametrize(
    ("email", "role", "field", "message"),
    [
        ("li.wei@acme.example", "owner", "role", "must be one of admin, editor, viewer"),
        ("not-an-address", "viewer", "email", "must be an e-mail address"),
        (
            "acme_viewer@example.test",
            "viewer",
            "email",
            "acme_viewer@example.test is already a member of Acme Lithium Co., Ltd.",
        ),
    ],
    ids=["unknown role", "not an e-mail", "already a member"],
)
def test_bad_invitations_are_refused_naming_the_field(cast, email, role, field, message):
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        invite(cast, email=email, role=role)
    assert info.value.errors == {field: [message]}
    assert row_counts() == before


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_only_admins_invite(cast, who):
    before = row_counts()
    with pytest.raises(
        PermissionDenied, match=f"only a company admin may invite people; you are {who}"
    ):
        services.invitation_create(actor=cast.actor(who), email="x@example.test", role="viewer")
    assert row_counts() == before


def test_a_company_admin_cannot_invite_into_another_company(cast):
    before = row_counts()
    with pytest.raises(PermissionDenied, match="only the zone operator may invite people into"):
        services.invitation_create(
            actor=cast.actor("admin"), company=cast.other, email="x@example.test", role="admin"
        )
    assert row_counts() == before


def test_the_operator_invites_the_first_admin_of_a_company(cast):
    invitation, _ = services.invitation_create(
        actor=cast.actor("op_admin"), company=cast.pending, email="boss@newco.example", role="admin"
    )
    assert invitation.company == cast.pending


# --------------------------------------------------------------------------- accepting


def test_a_new_person_accepts_by_link_in_the_portal(cast):
    invitation, token = invite(cast)
    client = Client()
    page = client.get(link(token))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Join Acme Lithium Co., Ltd." in text
    assert "li.wei@acme.example" in text
    seq = next_seq()

    response = client.post(link(token), {"username": "li.wei", "password": NEW_PASSWORD})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = User.objects.get(username="li.wei")
    assert user.email == "li.wei@acme.example"
    assert user.check_password(NEW_PASSWORD)
    membership = Membership.objects.get(user=user)
    assert (membership.company, membership.role) == (cast.acme, "editor")
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session[SESSION_COMPANY_KEY] == cast.acme.pk
    stored = Invitation.objects.get(pk=invitation.pk)
    assert stored.accepted_by == user and stored.accepted_at is not None
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject) == (
        "membership.created",
        "acme",
        f"user:{user.pk}",
    )
    assert payload_of(entry)["role"] == "editor"
    home = client.get("/")
    assert home.status_code == 200 and "Acme Lithium Co., Ltd." in home.content.decode()


def test_a_signed_in_person_accepts_by_link(cast):
    _, token = invite(cast, email="other_admin@example.test", role="viewer")
    client = Client()
    client.force_login(cast.outsider.user)
    page = client.get(link(token))
    assert "You are signed in as <strong>other_admin</strong>" in page.content.decode()
    before_users = User.objects.count()

    response = client.post(link(token))

    assert response.status_code == 302
    assert User.objects.count() == before_users
    assert Membership.objects.get(user=cast.outsider.user, company=cast.acme).role == "viewer"
    assert Membership.objects.get(user=cast.outsider.user, company=cast.other).role == "admin"
    assert client.session[SESSION_COMPANY_KEY] == cast.acme.pk


def test_an_invitation_link_works_once(cast):
    _, token = invite(cast)
    first = Client().post(link(token), {"username": "li.wei", "password": NEW_PASSWORD})
    assert first.status_code == 302
    before = row_counts()
    again = Client().post(link(token), {"username": "zhang.san", "password": NEW_PASSWORD})
    assert again.status_code == 404
    assert "this invitation has already been used" in again.content.decode()
    assert not User.objects.filter(username="zhang.san").exists()
    with pytest.raises(NotFound, match="already been used"):
        services.invitation_accept(token=token, user=cast.outsider.user)
    assert row_counts() == before


def test_an_expired_invitation_is_refused(cast):
    invitation, token = invite(cast)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = row_counts()
    response = Client().post(link(token), {"username": "li.wei", "password": NEW_PASSWORD})
    assert response.status_code == 404
    assert "this invitation has expired; ask for a new one" in response.content.decode()
    with pytest.raises(NotFound, match="expired"):
        services.invitation_accept(token=token, user=cast.outsider.user)
    assert not User.objects.filter(username="li.wei").exists()
    assert row_counts() == before


def test_a_withdrawn_invitation_is_refused(cast):
    invitation, token = invite(cast)
    seq = next_seq()
    services.invitation_revoke(actor=cast.actor("admin"), invitation=invitation)
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.subject) == ("invitation.revoked", f"invitation:{invitation.pk}")
    before = row_counts()
    response = Client().get(link(token))
    assert response.status_code == 404
    assert "this invitation was withdrawn" in response.content.decode()
    with pytest.raises(NotFound, match="withdrawn"):
        services.invitation_accept(token=token, user=cast.outsider.user)
    assert row_counts() == before


def test_withdrawing_twice_is_a_conflict(cast):
    invitation, _ = invite(cast)
    services.invitation_revoke(actor=cast.actor("admin"), invitation=invitation)
    with pytest.raises(Conflict, match="no longer open"):
        services.invitation_revoke(
            actor=cast.actor("admin"), invitation=Invitation.objects.get(pk=invitation.pk)
        )


def test_an_unknown_token_is_refused(cast):
    response = Client().get(link("not-a-real-token"))
    assert response.status_code == 404
    assert "this invitation link is not valid" in response.content.decode()


def test_a_weak_password_is_refused_naming_password(cast):
    invitation, token = invite(cast)
    before = row_counts()
    users = User.objects.count()
    response = Client().post(link(token), {"username": "li.wei", "password": "password123"})
    assert response.status_code == 200
    form = response.context["register_form"]
    assert "This password is too common." in form.errors["password"]
    assert "This password is too common." in response.content.decode()
    assert User.objects.count() == users
    assert Invitation.objects.get(pk=invitation.pk).accepted_at is None
    assert row_counts() == before


def test_a_weak_password_is_refused_by_the_service(db):
    with pytest.raises(ValidationFailed) as info:
        services.user_register(username="li.wei", email="li@example.test", password="1234567890")
    assert list(info.value.errors) == ["password"]
    assert "This password is entirely numeric." in info.value.errors["password"]
    assert not User.objects.filter(username="li.wei").exists()


def test_a_taken_user_name_is_refused(cast):
    _, token = invite(cast)
    response = Client().post(link(token), {"username": "ACME_viewer", "password": NEW_PASSWORD})
    assert response.status_code == 200
    assert response.context["register_form"].errors["username"] == [
        "'ACME_viewer' is taken; choose another"
    ]


def test_accepting_into_a_company_one_already_belongs_to_is_refused(cast):
    _, token = invite(cast, email="someone@example.test")
    before = row_counts()
    with pytest.raises(ValidationFailed) as info:
        services.invitation_accept(token=token, user=cast.viewer.user)
    assert info.value.errors == {"user": ["you are already a member of Acme Lithium Co., Ltd."]}
    assert Membership.objects.get(pk=cast.viewer.pk).role == "viewer"
    assert row_counts() == before
    # The refusal rolled the claim back: the link is still usable by the right person.
    assert services.invitation_from_token(token).accepted_at is None


# --------------------------------------------------------------------------- roles


def test_admin_changes_a_role(cast):
    seq = next_seq()
    services.membership_change_role(
        actor=cast.actor("admin"), membership=cast.viewer, role="editor"
    )
    assert Membership.objects.get(pk=cast.viewer.pk).role == "editor"
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.subject) == ("membership.role_changed", f"user:{cast.viewer.user.pk}")
    assert payload_of(entry) == {"old": "viewer", "new": "editor"}


def test_an_unknown_role_is_refused(cast):
    with pytest.raises(ValidationFailed) as info:
        services.membership_change_role(
            actor=cast.actor("admin"), membership=cast.viewer, role="owner"
        )
    assert info.value.errors == {"role": ["must be one of admin, editor, viewer"]}
    assert Membership.objects.get(pk=cast.viewer.pk).role == "viewer"


def test_admin_removes_a_member(cast):
    seq = next_seq()
    services.membership_remove(actor=cast.actor("admin"), membership=cast.viewer)
    assert not Membership.objects.filter(pk=cast.viewer.pk).exists()
    assert User.objects.filter(pk=cast.viewer.user.pk).exists()  # the login stays
    [entry] = audit_entries_since(seq)
    assert (entry.type, entry.company, entry.subject) == (
        "membership.removed",
        "acme",
        f"user:{cast.viewer.user.pk}",
    )


def test_the_last_admin_cannot_be_demoted(cast):
    before = row_counts()
    with pytest.raises(Conflict) as info:
        services.membership_change_role(
            actor=cast.actor("admin"), membership=cast.admin, role="editor"
        )
    assert info.value.field == "role"
    assert info.value.message == "role: a company must keep at least one admin"
    assert Membership.objects.get(pk=cast.admin.pk).role == "admin"
    assert row_counts() == before


def test_the_last_admin_cannot_be_removed(cast):
    before = row_counts()
    with pytest.raises(Conflict) as info:
        services.membership_remove(actor=cast.actor("admin"), membership=cast.admin)
    assert info.value.field == "role"
    assert "a company must keep at least one admin" in info.value.message
    assert Membership.objects.filter(pk=cast.admin.pk).exists()
    assert row_counts() == before


def test_an_admin_may_step_down_when_another_admin_remains(cast):
    services.membership_change_role(actor=cast.actor("admin"), membership=cast.editor, role="admin")
    services.membership_change_role(actor=cast.actor("admin"), membership=cast.admin, role="viewer")
    assert Membership.objects.get(pk=cast.admin.pk).role == "viewer"
    assert Membership.objects.filter(company=cast.acme, role="admin").count() == 1


def test_another_companys_membership_is_not_found(cast):
    before = row_counts()
    with pytest.raises(NotFound, match="no such member"):
        services.membership_change_role(
            actor=cast.actor("outsider"), membership=cast.viewer, role="admin"
        )
    with pytest.raises(NotFound, match="no such member"):
        services.membership_remove(actor=cast.actor("outsider"), membership=cast.viewer)
    assert Membership.objects.get(pk=cast.viewer.pk).role == "viewer"
    assert row_counts() == before


def test_an_editor_cannot_change_roles_or_remove(cast):
    with pytest.raises(PermissionDenied, match="only a company admin may change roles"):
        services.membership_change_role(
            actor=cast.actor("editor"), membership=cast.viewer, role="admin"
        )
    with pytest.raises(PermissionDenied, match="only a company admin may remove members"):
        services.membership_remove(actor=cast.actor("editor"), membership=cast.viewer)
    assert Membership.objects.get(pk=cast.viewer.pk).role == "viewer"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    company = make_company("Race Co")
    first = add_member(company, "race_admin_1", MemberRole.ADMIN)
    second = add_member(company, "race_admin_2", MemberRole.ADMIN)
    first_done = threading.Event()
    outcomes: dict[str, object] = {}

    def demote(name, actor_pk, target_pk, wait_for=None, hold=0.0):
        try:
            if wait_for is not None:
                wait_for.wait(5)
            # Each thread reads its own rows, as two separate requests would.
            actor = actor_of(Membership.objects.select_related("company", "user").get(pk=actor_pk))
            with transaction.atomic():
                services.membership_change_role(
                    actor=actor,
                    membership=Membership.objects.get(pk=target_pk),
                    role=MemberRole.VIEWER,
                )
                if name == "first":
                    first_done.set()
                    time.sleep(hold)  # hold the transaction open while the other admin acts
            outcomes[name] = "demoted"
        except Conflict as exc:
            outcomes[name] = exc
        finally:
            first_done.set()
            connections.close_all()

    threads = [
        threading.Thread(target=demote, args=("first", first.pk, second.pk, None, 1.0)),
        threading.Thread(target=demote, args=("second", second.pk, first.pk, first_done)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    admins = Membership.objects.filter(company=company, role=MemberRole.ADMIN).count()
    assert admins == 1, f"outcomes: {outcomes}"
