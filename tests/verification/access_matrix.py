"""Permission cases for verification: the API (and the public documents) here, the
portal pages in ``PORTAL_CASES`` below.

The matrix's principals are acme's people and client (the supplier side of every
engagement), the outsider, the operator and anonymous callers; the verifier
("verity", made on first use) is not a principal, so every verifier-side action
must be refused for all of them: 403 for acme (the wrong side), 404 for the
outsider and the operator (not a party). Each engagement is brought to the state
in which the action would be legal, so the refusal is about who asks, not when.
"""

from __future__ import annotations

import io
from typing import Any

from tests.access import ACME, ALL, OPERATOR, SIGNED_IN, Case
from tests.verification.helpers import Verifiers, build_verifiers, digests, engagement_in, terms
from verification import services
from verification.models import Engagement, EngagementState

NOBODY: frozenset[str] = frozenset()
ACME_EDITORS = frozenset({"editor", "admin"})
FORM = "form"
BY_VALIDATION = frozenset({400, 401, 403, 404})

SECRET_MESSAGE = "acme-secret-engagement-message"
SECRET_FILE = "acme-secret-evidence.pdf"
SECRET_DESCRIPTION = "acme-secret-evidence-description"
SECRET_CONTENT = "acme-secret-evidence-bytes"
SECRET_FINDING_TITLE = "acme-secret-finding-title"
SECRET_FINDING_BODY = "acme-secret-finding-body"
S = EngagementState


def _store(cast: Any) -> dict[str, Any]:
    return cast.__dict__.setdefault("_verification_matrix", {})


def verifiers(cast: Any) -> Verifiers:
    store = _store(cast)
    if "verifiers" not in store:
        store["verifiers"] = build_verifiers(cast)
    return store["verifiers"]


def engagement(cast: Any, state: str) -> Engagement:
    """acme's engagement with verity in ``state`` (one per test: they share a footprint);
    in review it carries evidence and a material finding."""
    store = _store(cast)
    key = f"engagement:{state}"
    if key not in store:
        found = engagement_in(cast, verifiers(cast), state, message=SECRET_MESSAGE)
        if state == S.IN_REVIEW:
            services.evidence_add(
                actor=cast.actor("editor"),
                engagement=found,
                file_name=SECRET_FILE,
                data=f"%PDF-1.4 {SECRET_CONTENT}".encode(),
                description=SECRET_DESCRIPTION,
            )
            services.finding_raise(
                actor=verifiers(cast).actor(),
                engagement=found,
                title=SECRET_FINDING_TITLE,
                materiality="material",
                body=SECRET_FINDING_BODY,
            )
        store[key] = found
    return store[key]


def in_state(state: str):
    return lambda cast: {"engagement_id": engagement(cast, state).pk}


def engagement_secrets(cast: Any) -> list[str]:
    engagement(cast, S.IN_REVIEW)
    return [
        SECRET_MESSAGE,
        SECRET_FILE,
        SECRET_DESCRIPTION,
        SECRET_CONTENT,
        SECRET_FINDING_TITLE,
        SECRET_FINDING_BODY,
        cast.footprint.sha256,
    ]


def attestation_secrets(cast: Any) -> list[str]:
    attested = engagement(cast, S.ATTESTED)
    return [
        SECRET_MESSAGE,
        cast.footprint.sha256,
        *(a.credential_id for a in attested.attestations.all()),
    ]


def credential_secrets(cast: Any) -> list[str]:
    """The credential's content (its id is in the URL, so a 404 may echo it)."""
    engagement(cast, S.ATTESTED)
    return [cast.footprint.sha256, terms()["opinion_text"]]


def evidence_file(cast: Any) -> dict[str, int]:
    found = engagement(cast, S.IN_REVIEW)
    return {"engagement_id": found.pk, "evidence_id": found.evidence.get().pk}


def finding(cast: Any) -> dict[str, int]:
    return {"engagement_id": engagement(cast, S.IN_REVIEW).pk, "number": 1}


def credential(cast: Any) -> dict[str, str]:
    return {"credential_id": engagement(cast, S.ATTESTED).attestations.get().credential_id}


def status_list(cast: Any) -> dict[str, int]:
    return {"list_id": engagement(cast, S.ATTESTED).attestations.get().status_list_id}


def accreditation(cast: Any) -> dict[str, int]:
    return {"accreditation_id": verifiers(cast).accreditation.pk}


def suspended_accreditation(cast: Any) -> dict[str, int]:
    found = verifiers(cast).accreditation
    services.accreditation_suspend(actor=cast.actor("op_admin"), accreditation=found, reason="x")
    return {"accreditation_id": found.pk}


def new_accreditation(cast: Any) -> dict[str, Any]:
    verifiers(cast)
    return {
        "verifier": "verity",
        "body": "UKAS",
        "reference": "UKAS-0042",
        "standards": ["ISO 14064-3"],
        "sectors": ["urn:pact:cpc:41"],
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    }


def new_request(cast: Any) -> dict[str, Any]:
    verifiers(cast)
    return {
        "verifier": "verity",
        "footprint_ids": [str(cast.footprint.pf_id)],
        "standard": "ISO 14067",
        "assurance_level": "limited",
        "coverage": "product level",
        "message": "please",
    }


def attest_body(cast: Any) -> dict[str, Any]:
    return {**terms(), "footprint_digests": digests(engagement(cast, S.IN_REVIEW))}


def evidence_upload(cast: Any) -> dict[str, Any]:
    engagement(cast, S.IN_REVIEW)
    data = io.BytesIO(b"%PDF-1.4 more evidence")
    data.name = "invoices.pdf"
    return {"file": data, "description": "electricity invoices"}


API = "verification-api"

API_CASES = [
    # the registry and the operator's side
    Case(f"{API}:verifiers", SIGNED_IN, private=engagement_secrets),
    Case(f"{API}:accreditations", OPERATOR),
    Case(f"{API}:accreditations", OPERATOR, method="post", data=new_accreditation),
    Case(f"{API}:accreditation", OPERATOR, kwargs=accreditation),
    Case(
        f"{API}:accreditation-suspend",
        OPERATOR,
        kwargs=accreditation,
        method="post",
        data={"reason": "surveillance audit failed"},
    ),
    Case(f"{API}:accreditation-reinstate", OPERATOR, kwargs=suspended_accreditation, method="post"),
    Case(f"{API}:zone-policy", OPERATOR),
    Case(f"{API}:zone-policy", OPERATOR, method="put", data={"max_consecutive_years": 3}),
    # engagements: acme is the supplier
    Case(f"{API}:engagements", SIGNED_IN, private=engagement_secrets),
    Case(
        f"{API}:engagements",
        ACME_EDITORS,
        method="post",
        data=new_request,
        label="request",
        # another company does not own the footprint: refused by validation
        refused=BY_VALIDATION,
    ),
    Case(f"{API}:engagement", ACME, kwargs=in_state(S.IN_REVIEW), private=engagement_secrets),
    Case(f"{API}:engagement-accept", NOBODY, kwargs=in_state(S.REQUESTED), method="post"),
    Case(
        f"{API}:engagement-decline",
        NOBODY,
        kwargs=in_state(S.REQUESTED),
        method="post",
        data={"reason": "no capacity"},
    ),
    Case(f"{API}:engagement-start-review", NOBODY, kwargs=in_state(S.ACCEPTED), method="post"),
    Case(
        f"{API}:engagement-request-changes",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data={"note": "more invoices"},
    ),
    Case(
        f"{API}:engagement-resubmit",
        ACME_EDITORS,
        kwargs=in_state(S.CHANGES_REQUESTED),
        method="post",
        data={"note": "invoices added"},
    ),
    Case(
        f"{API}:engagement-refuse",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data={"reason": "data unusable"},
    ),
    Case(
        f"{API}:engagement-revoke",
        NOBODY,
        kwargs=in_state(S.ATTESTED),
        method="post",
        data={"reason": "error found"},
    ),
    Case(
        f"{API}:engagement-attestation-draft",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        query=lambda cast: terms(),
        private=engagement_secrets,
    ),
    Case(
        f"{API}:engagement-attest",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data=attest_body,
    ),
    Case(
        f"{API}:engagement-evidence",
        ACME,
        kwargs=in_state(S.IN_REVIEW),
        private=engagement_secrets,
    ),
    Case(
        f"{API}:engagement-evidence",
        ACME_EDITORS,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data=evidence_upload,
        content_type=FORM,
        label="upload",
    ),
    Case(f"{API}:engagement-evidence-file", ACME, kwargs=evidence_file, private=engagement_secrets),
    Case(
        f"{API}:engagement-findings",
        ACME,
        kwargs=in_state(S.IN_REVIEW),
        private=engagement_secrets,
    ),
    Case(
        f"{API}:engagement-findings",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data={"title": "Grid factor", "materiality": "immaterial", "body": "Use 2025 factors"},
        label="raise",
    ),
    Case(
        f"{API}:engagement-finding-replies",
        ACME_EDITORS,
        kwargs=finding,
        method="post",
        data={"body": "Updated the factor"},
        private=engagement_secrets,
    ),
    Case(
        f"{API}:engagement-finding-resolve",
        NOBODY,
        kwargs=finding,
        method="post",
        data={"note": "fixed"},
    ),
    Case(
        f"{API}:engagement-site-visits",
        NOBODY,
        kwargs=in_state(S.ACCEPTED),
        method="post",
        data={"date": "2025-06-01", "mode": "physical", "location": "Plant 1"},
    ),
    # credentials issued to acme
    Case(f"{API}:attestations", SIGNED_IN, private=attestation_secrets),
    Case(f"{API}:attestation", ACME, kwargs=credential, private=credential_secrets),
    # public documents anyone checking a credential needs (no sign-in)
    Case("verification-public:did-document", ALL, kwargs={"slug": "acme"}),
    Case("verification-public:status-list", ALL, kwargs=status_list),
]

PORTAL_CASES: list[Case] = [
    # Portal pages (verification/urls.py): the same rules as the API, with forms. A form
    # another company cannot fill in (acme's footprint is not among its choices) comes
    # back with its errors as 400.
    Case("verification:home", SIGNED_IN, private=engagement_secrets),
    Case("verification:request", SIGNED_IN, private=lambda cast: [str(cast.footprint.pf_id)]),
    Case(
        "verification:request",
        ACME_EDITORS,
        method="post",
        data=lambda cast: {
            "footprints": [str(cast.footprint.pf_id)],
            "standard": "ISO 14067",
            "assurance_level": "limited",
            "coverage": "product level",
            "verifier": verifiers(cast).verity.pk,
            "message": "please",
        },
        content_type=FORM,
        refused=BY_VALIDATION,
    ),
    Case("verification:inbox", SIGNED_IN, private=engagement_secrets),
    Case("verification:engagement", ACME, kwargs=in_state(S.IN_REVIEW), private=engagement_secrets),
    Case(
        "verification:step",
        ACME_EDITORS,
        kwargs=in_state(S.CHANGES_REQUESTED),
        method="post",
        data={"action": "resubmit", "note": "invoices added"},
        content_type=FORM,
        label="resubmit",
    ),
    Case(
        "verification:step",
        NOBODY,
        kwargs=in_state(S.REQUESTED),
        method="post",
        data={"action": "accept", "note": ""},
        content_type=FORM,
        label="accept",
    ),
    Case(
        "verification:step",
        NOBODY,
        kwargs=in_state(S.ATTESTED),
        method="post",
        data={"action": "revoke", "note": "error found"},
        content_type=FORM,
        label="revoke",
    ),
    Case(
        "verification:evidence-upload",
        ACME_EDITORS,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data=evidence_upload,
        content_type=FORM,
    ),
    Case("verification:evidence", ACME, kwargs=evidence_file, private=engagement_secrets),
    Case(
        "verification:finding-raise",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data={"title": "Grid factor", "materiality": "immaterial", "body": "Use 2025 factors"},
        content_type=FORM,
    ),
    Case(
        "verification:finding-reply",
        ACME_EDITORS,
        kwargs=finding,
        method="post",
        data={"f1-body": "Updated the factor"},
        content_type=FORM,
        private=engagement_secrets,
    ),
    Case(
        "verification:finding-resolve",
        NOBODY,
        kwargs=finding,
        method="post",
        data={"r1-note": "fixed"},
        content_type=FORM,
    ),
    Case(
        "verification:site-visit",
        NOBODY,
        kwargs=in_state(S.ACCEPTED),
        method="post",
        data={"date": "2025-06-01", "mode": "physical", "location": "Plant 1"},
        content_type=FORM,
    ),
    Case("verification:attest", NOBODY, kwargs=in_state(S.IN_REVIEW), private=engagement_secrets),
    Case(
        "verification:attest",
        NOBODY,
        kwargs=in_state(S.IN_REVIEW),
        method="post",
        data=lambda cast: {
            **terms(),
            "step": "sign",
            **{f"digest_{k}": v for k, v in digests(engagement(cast, S.IN_REVIEW)).items()},
        },
        content_type=FORM,
    ),
    Case("verification:credentials", SIGNED_IN, private=attestation_secrets),
    Case("verification:credential", ACME, kwargs=credential, private=credential_secrets),
    Case("verification:operator-accreditations", OPERATOR, private=engagement_secrets),
    Case(
        "verification:operator-accreditations",
        OPERATOR,
        method="post",
        data=lambda cast: {
            "action": "grant",
            "verifier": verifiers(cast).verity.pk,
            "body": "UKAS",
            "reference": "UKAS-0042",
            "standards": ["ISO 14064-3"],
            "sectors": "urn:pact:cpc:41",
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        },
        content_type=FORM,
        label="grant",
    ),
    Case(
        "verification:operator-accreditations",
        OPERATOR,
        method="post",
        data={"action": "policy", "max_consecutive_years": "3"},
        content_type=FORM,
        label="policy",
    ),
    Case(
        "verification:accreditation-suspend",
        OPERATOR,
        kwargs=accreditation,
        method="post",
        data={"reason": "surveillance audit failed"},
        content_type=FORM,
    ),
    Case(
        "verification:accreditation-reinstate",
        OPERATOR,
        kwargs=suspended_accreditation,
        method="post",
        data={},
        content_type=FORM,
    ),
]

CASES = API_CASES + PORTAL_CASES
