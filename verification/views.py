"""Portal pages of the verification workflow.

Supplier: the verification home, the request form, the engagement page (evidence,
findings, resubmission). Verifier: the inbox, the same engagement page (accept,
review, findings, site visits, decisions) and the attest page (terms → preview of
exactly what will be signed → sign). Both: the credentials issued or received.
Operator: accreditations and the zone's rotation rule.

Pages are thin: they render selectors and call services. A form the services refuse
is shown again with the message on the field it names (status 400: nothing changed);
a step that succeeds redirects (POST-redirect-GET) with a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.access import Actor
from companies.errors import PermissionDenied
from companies.models import KeyCustody, MemberRole, SigningKey
from companies.selectors import signing_keys_of
from companies.views import actor_required, attempt
from exchange.models import Footprint, FootprintStatus
from exchange.selectors import footprints_of

from . import downloads, forms, selectors, services
from .models import (
    SITE_VISIT_STANDARDS,
    Attestation,
    Engagement,
    EngagementState,
    Materiality,
)

S = EngagementState
STATE_LABELS = dict(S.choices)
INVALID = 400  # a form sent back with its errors: nothing was changed

# ---------------------------------------------------------------------------- helpers


def _side(actor: Actor, engagement: Engagement) -> str:
    return services.VERIFIER if actor.company.pk == engagement.verifier_id else services.SUPPLIER


def _can_write(actor: Actor) -> bool:
    return actor.has_role(MemberRole.EDITOR) and not actor.company.is_suspended


def _document(footprint: Footprint) -> dict[str, Any]:
    """The footprint exactly as the supplier signed it (the bytes the digest covers)."""
    return json.loads(bytes(footprint.canonical_bytes))


def _geography(pcf: dict[str, Any]) -> str:
    for name in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion"):
        if pcf.get(name):
            return str(pcf[name])
    return "global"


#: How each step of the engagement is offered: button, note label, note required, danger.
ACTIONS: dict[str, tuple[str, str, bool, bool]] = {
    "accept": ("Accept", "Note to the supplier (optional)", False, False),
    "decline": ("Decline", "Reason", True, True),
    "start_review": ("Start review", "", False, False),
    "request_changes": ("Request changes", "What should be changed", True, False),
    "resubmit": ("Resubmit", "What you changed", True, False),
    "refuse": ("Refuse", "Reason", True, True),
    "revoke": ("Revoke", "Reason", True, True),
}

STEPS: dict[str, Callable[[Actor, Engagement, str], Engagement]] = {
    "accept": lambda a, e, n: services.engagement_accept(actor=a, engagement=e, note=n),
    "decline": lambda a, e, n: services.engagement_decline(actor=a, engagement=e, reason=n),
    "start_review": lambda a, e, n: services.engagement_start_review(actor=a, engagement=e),
    "request_changes": lambda a, e, n: services.engagement_request_changes(
        actor=a, engagement=e, note=n
    ),
    "resubmit": lambda a, e, n: services.engagement_resubmit(actor=a, engagement=e, note=n),
    "refuse": lambda a, e, n: services.engagement_refuse(actor=a, engagement=e, reason=n),
    "revoke": lambda a, e, n: services.engagement_revoke(actor=a, engagement=e, reason=n),
}

DONE = {
    "accept": "You accepted the engagement.",
    "decline": "You declined the engagement.",
    "start_review": "The review has started.",
    "request_changes": "Changes requested from the supplier.",
    "resubmit": "Resubmitted to the verifier.",
    "refuse": "You refused to attest.",
    "revoke": "The credentials are revoked; the status list says so from now on.",
}


def _actions(actor: Actor, engagement: Engagement) -> list[dict[str, Any]]:
    """The steps the acting company may take now (none for a viewer)."""
    if not _can_write(actor):
        return []
    side = _side(actor, engagement)
    offered = []
    for action, (label, note_label, note_required, danger) in ACTIONS.items():
        step = services.TRANSITIONS.get((engagement.state, action))
        if step is not None and step[0] == side:
            offered.append(
                {
                    "action": action,
                    "label": label,
                    "note_label": note_label,
                    "note_required": note_required,
                    "danger": danger,
                }
            )
    return offered


# ---------------------------------------------------------------------- supplier side


@require_GET
@actor_required
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    engagements = selectors.engagements_of(actor=actor, side="supplier")
    context = {
        "engagements": engagements[:200],
        "inbox_open": (
            selectors.engagements_of(actor=actor, side="verifier")
            .filter(state__in=[S.REQUESTED, S.ACCEPTED, S.IN_REVIEW, S.CHANGES_REQUESTED])
            .count()
            if actor.company.is_verifier
            else None
        ),
    }
    return render(request, "verification/home.html", context)


def _footprint_choices(actor: Actor) -> tuple[list[tuple[str, str]], list[str]]:
    """The company's active footprints as choices, and their products' classifications."""
    footprints = (
        footprints_of(actor=actor)
        .filter(status=FootprintStatus.ACTIVE)
        .select_related("product")
        .order_by("product_name", "-submitted_at")
    )
    choices = []
    sectors: set[str] = set()
    for fp in footprints[:500]:
        period = f"{fp.reference_period_start:%Y-%m-%d} to {fp.reference_period_end:%Y-%m-%d}"
        choices.append(
            (
                str(fp.pf_id),
                f"{fp.product_name}: {fp.pcf_excluding_biogenic_uptake} kg CO₂e per "
                f"{fp.declared_unit}, {period} ({fp.pf_id})",
            )
        )
        sectors.update(fp.product.classifications or [])
    return choices, sorted(sectors)


def _registry_rows(standard: str, sector: str) -> list[dict[str, Any]]:
    """Accredited verifiers (filtered) with their accreditations in force."""
    verifiers = list(selectors.verifier_registry(standard=standard, sector=sector))
    by_verifier: dict[int, list[Any]] = {}
    for accreditation in selectors.accreditations_in_force().filter(verifier__in=verifiers):
        if standard and standard not in accreditation.standards:
            continue
        by_verifier.setdefault(accreditation.verifier_id, []).append(accreditation)
    return [{"company": v, "accreditations": by_verifier.get(v.pk, [])} for v in verifiers]


@require_http_methods(["GET", "POST"])
@actor_required
def request_verification(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Choose footprints, standard, assurance, coverage and an accredited verifier."""
    choices, sectors = _footprint_choices(actor)
    filters = forms.RegistryFilterForm(request.GET or None, sectors=sectors)
    standard = sector = ""
    if filters.is_valid():
        standard = filters.cleaned_data["standard"]
        sector = filters.cleaned_data["sector"]
    if request.method == "POST":
        standard = request.POST.get("standard", "") or standard
    everyone = list(selectors.verifier_registry())
    initial: dict[str, Any] = {"standard": standard}
    if request.GET.get("footprint"):
        initial["footprints"] = request.GET.getlist("footprint")
    form = forms.RequestForm(
        request.POST or None, footprints=choices, verifiers=everyone, initial=initial
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            verifier = next(v for v in everyone if v.pk == data["verifier"])
            engagement = attempt(
                request,
                form,
                lambda: services.engagement_request(
                    actor=actor,
                    verifier=verifier,
                    footprint_ids=data["footprints"],
                    standard=data["standard"],
                    assurance_level=data["assurance_level"],
                    coverage=data["coverage"],
                    message=data["message"],
                ),
                rename={"footprint_ids": "footprints"},
            )
            if engagement is not None:
                messages.success(
                    request,
                    f"Verification requested from {verifier.legal_name}. You can add "
                    "evidence files now.",
                )
                return redirect("verification:engagement", engagement_id=engagement.pk)
        status = INVALID
    chosen = str(form["verifier"].value() or "")
    context = {
        "form": form,
        "filters": filters,
        "registry": _registry_rows(standard, sector),
        "standard": standard,
        "sector": sector,
        "chosen_verifier": chosen,
        "has_footprints": bool(choices),
    }
    return render(request, "verification/request.html", context, status=status)


# -------------------------------------------------------------------- engagement page


def _engagement_page(
    request: HttpRequest,
    actor: Actor,
    engagement: Engagement,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The engagement as its two parties see it; ``bound`` replaces a blank form by the
    one that was sent back with errors (keys: evidence, finding, site_visit,
    reply:<n>, resolve:<n>, action:<name>)."""
    bound = bound or {}
    side = _side(actor, engagement)
    can_write = _can_write(actor)
    reviewing = engagement.state in (S.IN_REVIEW, S.CHANGES_REQUESTED)
    footprints = []
    for fp in selectors.engagement_footprints(engagement):
        document = _document(fp)
        pcf = document.get("pcf", {})
        footprints.append(
            {
                "footprint": fp,
                "document": document,
                "pcf": pcf,
                "geography": _geography(pcf),
                "pretty": json.dumps(document, indent=2, ensure_ascii=False),
            }
        )
    findings = []
    for finding in selectors.findings_of(engagement):
        n = finding.number
        findings.append(
            {
                "finding": finding,
                "reply_form": bound.get(f"reply:{n}") or forms.ReplyForm(prefix=f"f{n}"),
                "resolve_form": bound.get(f"resolve:{n}") or forms.ResolveForm(prefix=f"r{n}"),
                "can_reply": can_write and engagement.is_open,
                "can_resolve": can_write
                and side == services.VERIFIER
                and reviewing
                and finding.is_open,
            }
        )
    actions = _actions(actor, engagement)
    for item in actions:
        item["form"] = bound.get(f"action:{item['action']}")
    attestations = [
        {"attestation": a, "state": selectors.attestation_state(a)}
        for a in engagement.attestations.select_related("footprint", "signing_key").defer(
            "credential"
        )
    ]
    context = {
        "engagement": engagement,
        "side": side,
        "other": engagement.supplier if side == services.VERIFIER else engagement.verifier,
        "footprints": footprints,
        "events": [
            {
                "event": event,
                "from": STATE_LABELS.get(event.from_state, event.from_state),
                "to": STATE_LABELS.get(event.to_state, event.to_state),
            }
            for event in engagement.events.select_related("by_company", "by_user")
        ],
        "evidence": selectors.evidence_of(engagement),
        "findings": findings,
        "open_material": engagement.findings.filter(
            materiality=Materiality.MATERIAL, resolved_at__isnull=True
        ).count(),
        "site_visits": engagement.site_visits.all(),
        "site_visit_required": engagement.standard in SITE_VISIT_STANDARDS,
        "attestations": attestations,
        "actions": actions,
        "can_attest": can_write
        and side == services.VERIFIER
        and (engagement.state, "attest") in services.TRANSITIONS,
        "can_upload": can_write and side == services.SUPPLIER and engagement.is_open,
        "can_raise": can_write and side == services.VERIFIER and reviewing,
        "can_visit": can_write
        and side == services.VERIFIER
        and engagement.state in (S.ACCEPTED, S.IN_REVIEW, S.CHANGES_REQUESTED),
        "evidence_form": bound.get("evidence") or forms.EvidenceForm(),
        "finding_form": bound.get("finding") or forms.FindingForm(),
        "site_visit_form": bound.get("site_visit") or forms.SiteVisitForm(),
        "evidence_types": forms.evidence_types_text(),
        "evidence_max": forms.size_text(settings.EVIDENCE_MAX_BYTES),
    }
    return render(request, "verification/engagement.html", context, status=status)


@require_GET
@actor_required
def engagement_detail(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    return _engagement_page(request, actor, engagement)


def _back(engagement: Engagement, anchor: str = "") -> HttpResponse:
    url = reverse("verification:engagement", kwargs={"engagement_id": engagement.pk})
    return redirect(f"{url}#{anchor}" if anchor else url)


@require_POST
@actor_required
def engagement_step(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    """Accept, decline, start review, request changes, resubmit, refuse, revoke."""
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    form = forms.TransitionForm(request.POST)
    action = request.POST.get("action", "")
    step = STEPS.get(action)
    if step is None or not form.is_valid():
        messages.error(request, f"action: {action!r} is not a step of an engagement")
        return _back(engagement)
    note = form.cleaned_data["note"]
    done = attempt(request, form, lambda: step(actor, engagement, note), {"reason": "note"})
    if done is None:
        engagement.refresh_from_db()
        if action in {item["action"] for item in _actions(actor, engagement)}:
            return _engagement_page(
                request, actor, engagement, bound={f"action:{action}": form}, status=INVALID
            )
        # The step is no longer offered (someone else moved the engagement): say why.
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, str(problem))
        return _back(engagement)
    messages.success(request, DONE[action])
    return _back(engagement)


@require_POST
@actor_required
def evidence_upload(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    form = forms.EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        file = form.cleaned_data["file"]
        if file.size > settings.EVIDENCE_MAX_BYTES:  # refused before reading it all
            form.add_error(
                "file",
                f"{file.name}: {file.size:,} bytes is over the limit of "
                f"{settings.EVIDENCE_MAX_BYTES:,} bytes",
            )
        else:
            evidence = attempt(
                request,
                form,
                lambda: services.evidence_add(
                    actor=actor,
                    engagement=engagement,
                    file_name=file.name,
                    data=file.read(),
                    description=form.cleaned_data["description"],
                ),
            )
            if evidence is not None:
                messages.success(request, f"{evidence.file_name} added to the evidence.")
                return _back(engagement, "evidence")
    messages.error(request, "The file was not added: see the evidence form below.")
    return _engagement_page(request, actor, engagement, bound={"evidence": form}, status=INVALID)


@require_GET
@actor_required
def evidence_download(
    request: HttpRequest, actor: Actor, engagement_id: int, evidence_id: int
) -> HttpResponse:
    """An evidence file, to the engagement's parties only (verification.downloads)."""
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    return downloads.evidence_download(actor=actor, engagement=engagement, evidence_id=evidence_id)


@require_POST
@actor_required
def finding_raise(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    form = forms.FindingForm(request.POST)
    if form.is_valid():
        finding = attempt(
            request,
            form,
            lambda: services.finding_raise(actor=actor, engagement=engagement, **form.cleaned_data),
        )
        if finding is not None:
            messages.success(request, f"Finding {finding.number} raised.")
            return _back(engagement, f"finding-{finding.number}")
    return _engagement_page(request, actor, engagement, bound={"finding": form}, status=INVALID)


@require_POST
@actor_required
def finding_reply(
    request: HttpRequest, actor: Actor, engagement_id: int, number: int
) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    finding = selectors.finding_get(engagement=engagement, number=number)
    form = forms.ReplyForm(request.POST, prefix=f"f{number}")
    if form.is_valid():
        sent = attempt(
            request,
            form,
            lambda: services.finding_reply(
                actor=actor, finding=finding, body=form.cleaned_data["body"]
            ),
        )
        if sent is not None:
            messages.success(request, f"Answer to finding {number} sent.")
            return _back(engagement, f"finding-{number}")
    return _engagement_page(
        request, actor, engagement, bound={f"reply:{number}": form}, status=INVALID
    )


@require_POST
@actor_required
def finding_resolve(
    request: HttpRequest, actor: Actor, engagement_id: int, number: int
) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    finding = selectors.finding_get(engagement=engagement, number=number)
    form = forms.ResolveForm(request.POST, prefix=f"r{number}")
    if form.is_valid():
        resolved = attempt(
            request,
            form,
            lambda: services.finding_resolve(
                actor=actor, finding=finding, note=form.cleaned_data["note"]
            ),
        )
        if resolved is not None:
            messages.success(request, f"Finding {number} resolved.")
            return _back(engagement, f"finding-{number}")
    return _engagement_page(
        request, actor, engagement, bound={f"resolve:{number}": form}, status=INVALID
    )


@require_POST
@actor_required
def site_visit_record(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    form = forms.SiteVisitForm(request.POST)
    if form.is_valid():
        visit = attempt(
            request,
            form,
            lambda: services.site_visit_record(
                actor=actor, engagement=engagement, **form.cleaned_data
            ),
        )
        if visit is not None:
            messages.success(request, f"Site visit of {visit.date:%Y-%m-%d} recorded.")
            return _back(engagement, "site-visits")
    return _engagement_page(request, actor, engagement, bound={"site_visit": form}, status=INVALID)


# ---------------------------------------------------------------------- verifier side


@require_GET
@actor_required
def inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    counts = selectors.inbox_counts(actor=actor)
    state = request.GET.get("state", "")
    if state not in counts:
        state = ""
    engagements = selectors.engagements_of(actor=actor, side="verifier")
    if state:
        engagements = engagements.filter(state=state)
    tabs = [{"state": value, "label": label, "count": counts[value]} for value, label in S.choices]
    context = {
        "tabs": tabs,
        "state": state,
        "total": sum(counts.values()),
        "engagements": engagements.prefetch_related("footprints")[:200],
    }
    return render(request, "verification/inbox.html", context)


def _platform_keys(actor: Actor) -> list[SigningKey]:
    return list(
        signing_keys_of(actor=actor)
        .filter(custody=KeyCustody.PLATFORM, revoked_at__isnull=True)
        .order_by("-valid_from")
    )


def _attest_blockers(
    engagement: Engagement, footprints: list[Footprint], keys: list[Any]
) -> list[str]:
    """What stands between the verifier and signing now (the services check it again)."""
    blockers = []
    if (engagement.state, "attest") not in services.TRANSITIONS:
        blockers.append(
            f"state: the engagement is {engagement.get_state_display().lower()}; it can be "
            "attested only while in review"
        )
    open_material = engagement.findings.filter(
        materiality=Materiality.MATERIAL, resolved_at__isnull=True
    ).count()
    if open_material:
        blockers.append(
            f"findings: {open_material} material finding(s) still open; resolve them or "
            "refuse the engagement"
        )
    if engagement.standard in SITE_VISIT_STANDARDS and not engagement.site_visits.exists():
        blockers.append(
            f"site_visits: {engagement.standard} requires a site visit; record it on the "
            "engagement page first"
        )
    if (
        services.accreditation_covering(engagement.verifier, engagement.standard, footprints)
        is None
    ):
        blockers.append(
            f"accreditation: {engagement.verifier.legal_name} holds no accreditation in force "
            f"(not suspended, not expired) for {engagement.standard} in the sector of these "
            "products"
        )
    deprecated = [str(fp.pf_id) for fp in footprints if fp.status != FootprintStatus.ACTIVE]
    if deprecated:
        blockers.append(
            f"footprints: {', '.join(deprecated)} deprecated during the review; a deprecated "
            "footprint cannot be attested"
        )
    if not keys:
        blockers.append(
            "kid: your company has no active platform-held signing key; an admin can create "
            "one under Signing keys"
        )
    return blockers


class _AttestForm(forms.AttestForm):
    def clean_opinion_text(self) -> str:
        # One newline convention, so the preview shows the very text that is signed.
        return str(self.cleaned_data["opinion_text"]).replace("\r\n", "\n").replace("\r", "\n")


@require_http_methods(["GET", "POST"])
@actor_required
def attest(request: HttpRequest, actor: Actor, engagement_id: int) -> HttpResponse:
    """Terms → a preview of each credential exactly as it will be signed → sign."""
    engagement = selectors.engagement_get(actor=actor, engagement_id=engagement_id)
    if actor.company.pk != engagement.verifier_id:
        raise PermissionDenied("only the verifier of the engagement can attest it")
    if request.method == "POST":
        actor.require_role(MemberRole.EDITOR, to="attest engagements")
        actor.require_writable()
    footprints = list(selectors.engagement_footprints(engagement))
    keys = _platform_keys(actor)
    key_choices = [(k.kid, f"{k.kid} ({k.label or 'no label'})") for k in keys]
    step = request.POST.get("step", "")
    form = _AttestForm(request.POST or None, keys=key_choices)
    status = 200
    if step == "sign" and form.is_valid():
        signed = _sign(request, actor, engagement, form)
        if signed is not None:
            return signed
        status = INVALID
    elif step == "preview" and form.is_valid():
        terms = attempt(request, form, lambda: services.clean_terms(form.cleaned_data))
        accreditation = services.accreditation_covering(
            engagement.verifier, engagement.standard, footprints
        )
        if terms is not None and accreditation is None:  # the blockers say so too
            form.add_error(
                None,
                f"accreditation: {engagement.verifier.legal_name} holds no accreditation in "
                f"force for {engagement.standard} in the sector of these products",
            )
        elif terms is not None and accreditation is not None:
            drafts = [
                {
                    "footprint": fp,
                    "json": json.dumps(
                        services.credential_draft(engagement, fp, terms, accreditation),
                        indent=2,
                        ensure_ascii=False,
                    ),
                }
                for fp in footprints
            ]
            context = {
                "engagement": engagement,
                "form": form,
                "drafts": drafts,
                "accreditation": accreditation,
                "blockers": _attest_blockers(engagement, footprints, keys),
            }
            return render(request, "verification/attest_preview.html", context)
        status = INVALID
    elif request.method == "POST" and step != "edit":
        status = INVALID
    if step == "edit":
        form = _AttestForm(initial=_initial_from(request.POST), keys=key_choices)
    context = {
        "engagement": engagement,
        "form": form,
        "footprints": footprints,
        "blockers": _attest_blockers(engagement, footprints, keys),
    }
    return render(request, "verification/attest.html", context, status=status)


def _initial_from(data: Any) -> dict[str, Any]:
    return {
        name: data.get(name, "")
        for name in (
            "boundary",
            "materiality_threshold",
            "opinion",
            "opinion_text",
            "valid_until",
            "kid",
        )
    }


def _sign(
    request: HttpRequest, actor: Actor, engagement: Engagement, form: forms.AttestForm
) -> HttpResponse | None:
    digests = {
        name.removeprefix("digest_"): str(value)
        for name, value in request.POST.items()
        if name.startswith("digest_")
    }
    data = form.cleaned_data

    def sign() -> list[Attestation]:
        return services.engagement_attest(
            actor=actor,
            engagement=engagement,
            terms=services.clean_terms(data),
            footprint_digests=digests,
            kid=data["kid"],
        )

    attestations = attempt(request, form, sign)
    if attestations is None:
        return None
    messages.success(
        request,
        f"Signed {len(attestations)} credential(s) with key {data['kid']}: "
        + ", ".join(a.credential_id for a in attestations),
    )
    return _back(engagement)


# ------------------------------------------------------------------------ credentials


@require_GET
@actor_required
def credentials(request: HttpRequest, actor: Actor) -> HttpResponse:
    company = actor.company
    issued, received = [], []
    for attestation in selectors.attestations_of(actor=actor).defer("credential"):
        item = {"attestation": attestation, "state": selectors.attestation_state(attestation)}
        if attestation.verifier_id == company.pk:
            issued.append(item)
        if attestation.engagement.supplier_id == company.pk:
            received.append(item)
    context = {"issued": issued, "received": received}
    return render(request, "verification/credentials.html", context)


@require_GET
@actor_required
def credential_download(request: HttpRequest, actor: Actor, credential_id: str) -> HttpResponse:
    """The credential's exact signed JSON bytes, for its issuer and its subject company."""
    attestation = selectors.attestation_get(actor=actor, credential_id=credential_id)
    response = HttpResponse(bytes(attestation.credential), content_type="application/json")
    name = credential_id.rsplit(":", 1)[-1]
    response["Content-Disposition"] = content_disposition_header(True, f"credential-{name}.json")
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


# --------------------------------------------------------------------------- operator


@require_http_methods(["GET", "POST"])
@actor_required
def operator_accreditations(request: HttpRequest, actor: Actor) -> HttpResponse:
    accreditations = selectors.accreditations_for_operator(actor=actor)  # operator only
    action = request.POST.get("action", "")
    grant_form = forms.GrantForm(request.POST if action == "grant" else None)
    policy = services.zone_policy()
    policy_form = forms.ZonePolicyForm(
        request.POST if action == "policy" else None,
        initial={"max_consecutive_years": policy.max_consecutive_years},
    )
    status = 200
    if request.method == "POST":
        actor.require_role(MemberRole.ADMIN, to="manage accreditations")
        if action == "grant" and grant_form.is_valid():
            granted = attempt(
                request,
                grant_form,
                lambda: services.accreditation_grant(actor=actor, **grant_form.cleaned_data),
            )
            if granted is not None:
                messages.success(request, f"{granted} recorded for {granted.verifier.legal_name}.")
                return redirect("verification:operator-accreditations")
        elif action == "policy" and policy_form.is_valid():
            years = policy_form.cleaned_data["max_consecutive_years"]
            if attempt(
                request,
                policy_form,
                lambda: services.zone_policy_set(actor=actor, max_consecutive_years=years),
            ):
                messages.success(
                    request,
                    f"Rotation rule: at most {years} consecutive years."
                    if years
                    else "No rotation rule.",
                )
                return redirect("verification:operator-accreditations")
        status = INVALID
    context = {
        "accreditations": accreditations.order_by("verifier__legal_name", "-valid_until"),
        "grant_form": grant_form,
        "policy_form": policy_form,
        "suspend_form": forms.SuspendForm(),
    }
    return render(request, "verification/operator_accreditations.html", context, status=status)


@require_POST
@actor_required
def accreditation_suspend(
    request: HttpRequest, actor: Actor, accreditation_id: int
) -> HttpResponse:
    accreditation = selectors.accreditation_get_for_operator(
        actor=actor, accreditation_id=accreditation_id
    )
    actor.require_role(MemberRole.ADMIN, to="suspend accreditations")
    form = forms.SuspendForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"reason: say why {accreditation} is suspended")
    elif attempt(
        request,
        None,
        lambda: services.accreditation_suspend(
            actor=actor, accreditation=accreditation, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, f"{accreditation} is suspended.")
    return redirect("verification:operator-accreditations")


@require_POST
@actor_required
def accreditation_reinstate(
    request: HttpRequest, actor: Actor, accreditation_id: int
) -> HttpResponse:
    accreditation = selectors.accreditation_get_for_operator(
        actor=actor, accreditation_id=accreditation_id
    )
    actor.require_role(MemberRole.ADMIN, to="reinstate accreditations")
    if attempt(
        request,
        None,
        lambda: services.accreditation_reinstate(actor=actor, accreditation=accreditation),
    ):
        messages.success(request, f"{accreditation} is reinstated.")
    return redirect("verification:operator-accreditations")
