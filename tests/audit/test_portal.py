"""Portal pages: a company sees only its own entries; the whole log is the operator's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit import services
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _record(company: str, type: str, subject: str) -> AuditEntry:
    with transaction.atomic():
        return services.audit_append(
            type=type, actor="user:test", company=company, subject=subject, payload={"s": subject}
        )


def _client(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def test_company_page_shows_only_own_entries(cast):
    _record("acme", "footprint.submitted", "acme-secret-subject")
    _record("other", "footprint.submitted", "other-secret-subject")
    page = _client(cast.viewer).get(reverse("audit:company")).content.decode()
    assert "acme-secret-subject" in page
    assert "other-secret-subject" not in page
    outsider_page = _client(cast.outsider).get(reverse("audit:company")).content.decode()
    assert "other-secret-subject" in outsider_page
    assert "acme-secret-subject" not in outsider_page


def test_company_page_filters_by_type_and_date(cast):
    _record("acme", "footprint.submitted", "subject-one")
    _record("acme", "access.granted", "subject-two")
    client = _client(cast.admin)
    page = client.get(reverse("audit:company"), {"type": "access.granted"}).content.decode()
    assert "subject-two" in page and "subject-one" not in page
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    page = client.get(reverse("audit:company"), {"date_from": tomorrow}).content.decode()
    assert "subject-one" not in page and "subject-two" not in page


def test_company_page_paginates(cast):
    for i in range(55):
        _record("acme", "bulk.item", f"item-{i:03d}")
    client = _client(cast.admin)
    first = client.get(reverse("audit:company")).content.decode()
    assert "item-054" in first and "item-000" not in first  # newest first
    second = client.get(reverse("audit:company"), {"page": 2}).content.decode()
    assert "item-000" in second


def test_operator_page_shows_the_whole_log_and_witnesses(cast):
    _record("acme", "footprint.submitted", "acme-subject")
    _record("other", "footprint.submitted", "other-subject")
    services.checkpoint_create()
    page = _client(cast.op_admin).get(reverse("audit:operator")).content.decode()
    assert "acme-subject" in page and "other-subject" in page
    assert "Recent checkpoints" in page


def test_operator_page_is_refused_to_others(cast):
    assert _client(cast.admin).get(reverse("audit:operator")).status_code == 403
    response = Client().get(reverse("audit:operator"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_operator_signs_a_checkpoint_now_and_is_told_when_there_is_nothing_new(cast):
    from audit.models import Checkpoint

    _record("acme", "footprint.submitted", "to-be-checkpointed")
    client = _client(cast.op_admin)
    response = client.post(reverse("audit:checkpoint-sign"), follow=True)
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.size == AuditEntry.objects.count()
    page = response.content.decode()
    assert f"Checkpoint signed at tree size {checkpoint.size}." in page
    again = client.post(reverse("audit:checkpoint-sign"), follow=True).content.decode()
    assert "Nothing new to sign" in again
    assert Checkpoint.objects.count() == 1


def test_only_the_operator_may_sign_a_checkpoint(cast):
    from audit.models import Checkpoint

    _record("acme", "footprint.submitted", "not-for-acme")
    assert _client(cast.admin).post(reverse("audit:checkpoint-sign")).status_code == 403
    assert _client(cast.op_admin).get(reverse("audit:checkpoint-sign")).status_code == 405
    response = Client().post(reverse("audit:checkpoint-sign"))
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Checkpoint.objects.exists()
