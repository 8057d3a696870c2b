"""Portal pages of sharing: who sees which footprint, and the requests that lead there.

Buyer (a purchasing team): the supply-chain coverage dashboard, requests made (new
request, tracking, cancel), the footprints received (list with filters, a readable
detail page, exports as CSV, XLSX and JSON). Supplier (an SME's sustainability
person): the inbox of incoming requests (fulfil with chosen footprints, reject with a
reason), grants per buyer (grant, revoke), part numbers, auto-fulfil rules, and the
zone publication of a footprint.

Pages are thin: reads go through the selectors (every footprint a buyer sees comes
from ``selectors.received_footprints`` / ``visible_footprint_get``), writes through
``exchange.sharing``. A form the services refuse is shown again with the message on
the field it names (status 400: nothing changed); a step that succeeds redirects
(POST-redirect-GET) with a message. Every page or download that shows other
companies' footprints records a pull in the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django import forms as django_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.access import Actor
from companies.errors import PermissionDenied
from companies.models import Company, MemberRole
from companies.views import actor_required, attempt

from . import exports, selectors, sharing
from . import sharing_forms as forms
from .models import (
    AccessGrant,
    DataRequest,
    Footprint,
    FootprintStatus,
    PartNumber,
    ProductIdentifier,
    RequestStatus,
    ZonePublication,
)

INVALID = 400  # a form sent back with its errors: nothing was changed
R = RequestStatus
PORTAL = "portal"
BUNDLE_URL = "verification-api:footprint-bundle"

# ---------------------------------------------------------------------------- helpers


def _can_write(actor: Actor) -> bool:
    return actor.has_role(MemberRole.EDITOR) and not actor.company.is_suspended


def _can_admin(actor: Actor) -> bool:
    return actor.has_role(MemberRole.ADMIN) and not actor.company.is_suspended


#: Where a service's error key lands in a form (criteria.* are fields of their own).
FIELD_OF = {
    "criteria.geography": "geography",
    "criteria.classification": "classification",
    "criteria.validOn": "valid_on",
    "footprint_ids": "footprints",
    "footprint_id": "footprint",
    "product_id": "product",
}


def _attempt(
    request: HttpRequest,
    form: django_forms.Form | None,
    action: Callable[[], Any],
    rename: dict[str, str] | None = None,
) -> Any:
    """``attempt`` with this module's field names (typed product ids are lines)."""
    return attempt(request, form, action, {**FIELD_OF, **(rename or {})}, lines=("product_ids",))


def _sentence(text: str) -> str:
    """A message ending in one full stop (legal names often end in "Ltd.")."""
    return text if text.endswith(".") else text + "."


def _download(content: bytes, file_format: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


def _own_active_footprints(actor: Actor) -> list[Footprint]:
    return list(
        selectors.footprints_of(actor=actor)
        .filter(status=FootprintStatus.ACTIVE)
        .order_by("product_name", "-submitted_at")[:500]
    )


def _status_tabs(queryset: Any, current: str) -> list[dict[str, Any]]:
    counts = dict.fromkeys(R.values, 0)
    for status in queryset.values_list("status", flat=True):
        counts[status] += 1
    tabs = [{"status": "all", "label": "All", "count": sum(counts.values())}]
    tabs += [
        {"status": value, "label": label, "count": counts[value]} for value, label in R.choices
    ]
    for tab in tabs:
        tab["current"] = tab["status"] == current
    return tabs


def _asked(data_request: DataRequest) -> str:
    """What a request asks for, in one line."""
    parts = list(data_request.product_ids)
    if data_request.part_number:
        parts.append(f"part number {data_request.part_number}")
    for key, values in (data_request.criteria or {}).items():
        parts.append(f"{key} {', '.join(values)}")
    return "; ".join(parts) or "—"


def _overdue(data_request: DataRequest) -> bool:
    return (
        data_request.status == R.PENDING
        and data_request.due_date is not None
        and data_request.due_date < timezone.localdate()
    )


def _request_items(requests: Iterable[DataRequest]) -> list[dict[str, Any]]:
    return [{"r": r, "asked": _asked(r), "overdue": _overdue(r)} for r in requests]


# ============================================================================ buyer side


@dataclass
class CoverageRow:
    """One purchased product: what was asked, what is seen, how it is verified."""

    supplier: Company
    key: tuple[str, Any]
    asked: list[str] = field(default_factory=list)
    requests: list[DataRequest] = field(default_factory=list)
    granted: bool = False
    footprint: Footprint | None = None
    verification: exports.Verification | None = None
    primary_data_share: str = ""
    revoked: AccessGrant | None = None

    @property
    def asked_text(self) -> str:
        return "; ".join(dict.fromkeys(a for a in self.asked if a != "—"))

    @property
    def label(self) -> str:
        if self.footprint is not None:
            return self.footprint.product_name
        return self.asked_text or "—"

    @property
    def latest_request(self) -> DataRequest | None:
        return max(self.requests, key=lambda r: (r.created_at, r.pk), default=None)

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.state == exports.VERIFIED


def _coverage(actor: Actor) -> tuple[list[CoverageRow], list[Footprint]]:
    """Each product the buyer requested or was granted, with the newest footprint of it
    the buyer may see. Requests are tied to the supplier's products by product id and
    the buyer's part number; what cannot be tied (an unknown id, criteria only) is a
    row of its own, shown as asked."""
    rows: dict[tuple[int, tuple[str, Any]], CoverageRow] = {}

    def row(supplier: Company, key: tuple[str, Any]) -> CoverageRow:
        found = rows.get((supplier.pk, key))
        if found is None:
            found = rows[(supplier.pk, key)] = CoverageRow(supplier=supplier, key=key)
        return found

    for grant in selectors.grants_received(actor=actor).filter(revoked_at__isnull=True):
        product_id = grant.product_id or (grant.footprint.product_id if grant.footprint else None)
        row(grant.supplier, ("product", product_id)).granted = True

    requests = list(
        selectors.requests_made(actor=actor)
        .exclude(status=R.CANCELLED)
        .prefetch_related("footprints")
        .order_by("created_at", "id")
    )
    suppliers = {r.supplier_id for r in requests}
    by_urn = {
        (company_id, urn): product_id
        for company_id, urn, product_id in ProductIdentifier.objects.filter(
            company_id__in=suppliers, urn__in={u for r in requests for u in r.product_ids}
        ).values_list("company_id", "urn", "product_id")
    }
    by_part = {
        (supplier_id, number): product_id
        for supplier_id, number, product_id in PartNumber.objects.filter(
            buyer=actor.company, supplier_id__in=suppliers
        ).values_list("supplier_id", "part_number", "product_id")
    }
    for data_request in requests:
        targets: list[tuple[tuple[str, Any], str]] = []
        answered = data_request.status == R.FULFILLED
        if answered:
            targets += [
                (("product", fp.product_id), _asked(data_request))
                for fp in data_request.footprints.all()
            ]
        for urn in data_request.product_ids:
            product_id = by_urn.get((data_request.supplier_id, urn))
            if product_id is not None:
                targets.append((("product", product_id), urn))
            elif not answered:
                targets.append((("asked", urn), urn))
        if data_request.part_number:
            asked = f"part number {data_request.part_number}"
            product_id = by_part.get((data_request.supplier_id, data_request.part_number))
            if product_id is not None:
                targets.append((("product", product_id), asked))
            elif not answered:
                targets.append((("asked", asked), asked))
        if not targets:
            targets.append((("request", data_request.pk), _asked(data_request)))
        seen: set[tuple[str, Any]] = set()
        for key, asked in targets:
            item = row(data_request.supplier, key)
            if asked:
                item.asked.append(asked)
            if key not in seen:
                item.requests.append(data_request)
                seen.add(key)

    # The newest footprint of each product the buyer may see (an active one first).
    product_ids = [key[1] for _, key in rows if key[0] == "product"]
    newest: dict[int, Footprint] = {}
    for footprint in selectors.received_footprints(actor=actor).filter(product_id__in=product_ids):
        current = newest.get(footprint.product_id)
        rank = (footprint.status == FootprintStatus.ACTIVE, footprint.submitted_at, footprint.pk)
        if current is None or rank > (
            current.status == FootprintStatus.ACTIVE,
            current.submitted_at,
            current.pk,
        ):
            newest[footprint.product_id] = footprint
    shown = list(newest.values())
    states = exports.verification_of(shown)
    shares = {
        fp.pk: str(selectors.footprint_document(fp).get("pcf", {}).get("primaryDataShare", ""))
        for fp in Footprint.objects.filter(pk__in=[fp.pk for fp in shown]).only(
            "pk", "canonical_bytes", "status", "verification", "verification_until"
        )
    }
    revoked: dict[int | None, AccessGrant] = {}
    for grant in selectors.grants_received(actor=actor).filter(revoked_at__isnull=False):
        product_id = grant.product_id or (grant.footprint.product_id if grant.footprint else None)
        revoked.setdefault(product_id, grant)
    for item in rows.values():
        if item.key[0] != "product":
            continue
        item.footprint = newest.get(item.key[1])
        if item.footprint is not None:
            item.verification = states[item.footprint.pk]
            item.primary_data_share = shares.get(item.footprint.pk, "")
        else:
            item.revoked = revoked.get(item.key[1])
    ordered = sorted(
        rows.values(), key=lambda r: (r.supplier.legal_name.lower(), r.label.lower(), str(r.key))
    )
    return ordered, shown


def _totals(rows: list[CoverageRow]) -> dict[str, Any]:
    total = len(rows)
    received = sum(1 for r in rows if r.footprint is not None)
    verified = sum(1 for r in rows if r.verified)
    pending = sum(1 for r in rows if r.latest_request and r.latest_request.status == R.PENDING)

    def percent(part: int) -> int:
        return round(100 * part / total) if total else 0

    return {
        "products": total,
        "received": received,
        "verified": verified,
        "pending": pending,
        "missing": total - received,
        "received_percent": percent(received),
        "verified_percent": percent(verified),
        "received_only_percent": percent(received) - percent(verified),
    }


@require_GET
@actor_required
def supply_chain(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows, shown = _coverage(actor)
    groups: list[dict[str, Any]] = []
    for item in rows:
        if not groups or groups[-1]["supplier"].pk != item.supplier.pk:
            groups.append({"supplier": item.supplier, "rows": []})
        groups[-1]["rows"].append(item)
    for group in groups:
        group["totals"] = _totals(group["rows"])
    context = {"groups": groups, "totals": _totals(rows)}
    response = render(request, "exchange/sharing/supply_chain.html", context)
    sharing.record_pull(actor=actor, footprints=shown, channel=PORTAL)
    return response


@require_GET
@actor_required
def requests_made(request: HttpRequest, actor: Actor) -> HttpResponse:
    made = selectors.requests_made(actor=actor)
    status = request.GET.get("status", "all")
    if status not in R.values:
        status = "all"
    shown = made if status == "all" else made.filter(status=status)
    items = _request_items(shown.prefetch_related("footprints")[:300])
    # What each request brought that the company still sees (a grant may be revoked since).
    answered = [fp.pk for item in items for fp in item["r"].footprints.all()]
    visible = {
        fp.pk: fp for fp in selectors.received_footprints(actor=actor).filter(pk__in=answered)
    }
    for item in items:
        sent = list(item["r"].footprints.all())
        item["received"] = [visible[fp.pk] for fp in sent if fp.pk in visible]
        item["withdrawn"] = len(sent) - len(item["received"])
    context = {"tabs": _status_tabs(made, status), "status": status, "items": items}
    return render(request, "exchange/sharing/requests_made.html", context)


@require_http_methods(["GET", "POST"])
@actor_required
def request_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    suppliers = forms.zone_companies(role="supplier", exclude=actor.company)
    initial = {"supplier": request.GET.get("supplier", "")}
    form = forms.RequestForm(request.POST or None, suppliers=suppliers, initial=initial)
    status = 200
    if request.method == "POST":
        actor.require_role(MemberRole.EDITOR, to="request footprints")
        actor.require_writable()
        if not actor.company.is_buyer:
            raise PermissionDenied(
                f"company: {actor.company.legal_name} is not a buyer of the zone", field="company"
            )
        if form.is_valid():
            made = _attempt(
                request,
                form,
                lambda: sharing.request_create(actor=actor, **form.service_arguments()),
            )
            if made is not None:
                if made.status == R.FULFILLED:
                    messages.success(
                        request,
                        f"{made.supplier.legal_name} shares these footprints automatically: "
                        "request answered at once.",
                    )
                else:
                    messages.success(
                        request, _sentence(f"Request sent to {made.supplier.legal_name}")
                    )
                return redirect("exchange:request", request_id=made.pk)
        status = INVALID
    context = {"form": form, "has_suppliers": bool(suppliers)}
    return render(request, "exchange/sharing/request_new.html", context, status=status)


def _fulfil_choices(
    actor: Actor, data_request: DataRequest
) -> tuple[list[Footprint], forms.Choices]:
    """The supplier's footprints that answer the request (first, ticked), then its other
    active footprints (it may send another one)."""
    candidates = list(sharing.request_matches(data_request).order_by("product_name"))
    candidate_ids = {fp.pk for fp in candidates}
    others = [fp for fp in _own_active_footprints(actor) if fp.pk not in candidate_ids]
    choices = [
        (str(fp.pf_id), f"{forms.footprint_label(fp)} — matches the request") for fp in candidates
    ]
    return candidates, choices + forms.footprint_choices(others)


def _request_page(
    request: HttpRequest,
    actor: Actor,
    data_request: DataRequest,
    *,
    bound: dict[str, django_forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    side = "supplier" if data_request.supplier_id == actor.company.pk else "buyer"
    pending = data_request.status == R.PENDING
    answer = list(data_request.footprints.all().select_related("product"))
    context: dict[str, Any] = {
        "r": data_request,
        "side": side,
        "asked": _asked(data_request),
        "overdue": _overdue(data_request),
        "can_write": _can_write(actor),
        "pending": pending,
    }
    pulled: list[Footprint] = []
    if side == "buyer":
        visible = {
            fp.pk: fp
            for fp in selectors.received_footprints(actor=actor).filter(
                pk__in=[fp.pk for fp in answer]
            )
        }
        states = exports.verification_of(visible.values())
        context["answer"] = [
            {
                "footprint": visible.get(fp.pk),
                "pf_id": fp.pf_id,
                "verification": states.get(fp.pk),
            }
            for fp in answer
        ]
        pulled = list(visible.values())
    else:
        mapped = None
        if data_request.part_number:
            mapped = (
                PartNumber.objects.filter(
                    supplier=actor.company,
                    buyer=data_request.buyer,
                    part_number=data_request.part_number,
                )
                .select_related("product")
                .first()
            )
        context["mapped"] = mapped
        context["answer"] = [{"footprint": fp, "pf_id": fp.pf_id} for fp in answer]
        if pending:
            candidates, choices = _fulfil_choices(actor, data_request)
            context["candidates"] = candidates
            context["fulfil_form"] = bound.get("fulfil") or forms.FulfilForm(
                footprints=choices, initial={"footprints": [str(fp.pf_id) for fp in candidates]}
            )
            context["reject_form"] = bound.get("reject") or forms.RejectForm()
    response = render(request, "exchange/sharing/request_detail.html", context, status=status)
    if pulled:
        sharing.record_pull(actor=actor, footprints=pulled, channel=PORTAL)
    return response


@require_GET
@actor_required
def request_detail(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    data_request = selectors.request_get(actor=actor, request_id=request_id)
    return _request_page(request, actor, data_request)


@require_POST
@actor_required
def request_cancel(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    data_request = selectors.request_get(actor=actor, request_id=request_id)
    if _attempt(request, None, lambda: sharing.request_cancel(actor=actor, request=data_request)):
        messages.success(request, f"Request {data_request.pk} cancelled.")
    return redirect("exchange:request", request_id=data_request.pk)


@require_GET
@actor_required
def received_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    filters_form, filters = _received_filters(request, actor)
    rows = exports.received_rows(actor, filters, limit=500)
    query = request.GET.urlencode()
    context = {
        "filters": filters_form,
        "rows": rows,
        "query": query,
        "filtered": any(filters.values()),
    }
    response = render(request, "exchange/sharing/received_list.html", context)
    sharing.record_pull(actor=actor, footprints=[r.footprint for r in rows], channel=PORTAL)
    return response


def _received_filters(request: HttpRequest, actor: Actor) -> tuple[Any, dict[str, str]]:
    suppliers = (
        selectors.received_footprints(actor=actor)
        .values_list("company__slug", "company__legal_name")
        .order_by("company__legal_name")
        .distinct()
    )
    form = forms.ReceivedFilterForm(request.GET or None, suppliers=list(suppliers))
    filters = {"supplier": "", "verification": "", "status": "", "q": "", "footprint": ""}
    if form.is_bound:
        form.is_valid()  # cleaned_data keeps the valid filters
        filters.update({k: str(v or "") for k, v in form.cleaned_data.items()})
        if "supplier" in form.errors:  # a supplier none of whose footprints you see
            filters["supplier"] = str(request.GET.get("supplier", ""))
    return form, filters


@require_GET
@actor_required
def received_detail(request: HttpRequest, actor: Actor, pf_id: str) -> HttpResponse:
    footprint = selectors.visible_footprint_get(actor=actor, pf_id=pf_id)
    if footprint.company_id == actor.company.pk:
        return redirect("exchange:footprint", pf_id=footprint.pf_id)
    document = selectors.footprint_document(footprint)
    pcf = document.get("pcf", {})
    verification = exports.verification_of([footprint])[footprint.pk]
    versions = list(
        selectors.received_footprints(actor=actor)
        .filter(product=footprint.product)
        .exclude(pk=footprint.pk)
        .order_by("-submitted_at")
    )
    try:
        # JSON whatever the browser asks for (the API would answer a browser with HTML)
        bundle_url = reverse(BUNDLE_URL, kwargs={"pf_id": footprint.pf_id}) + "?format=json"
    except NoReverseMatch:  # the evidence bundle endpoint is not installed
        bundle_url = ""
    context = {
        "footprint": footprint,
        "document": document,
        "pcf": pcf,
        "geography": exports.geography(pcf),
        "pretty": json.dumps(document, indent=2, ensure_ascii=False),
        "verification": verification,
        "via": exports.access_routes(actor, [footprint])[footprint.pk],
        "versions": versions,
        "bundle_url": bundle_url,
    }
    response = render(request, "exchange/sharing/received_detail.html", context)
    sharing.record_pull(actor=actor, footprints=[footprint], channel=PORTAL)
    return response


@require_GET
@actor_required
def received_export(request: HttpRequest, actor: Actor, file_format: str) -> HttpResponse:
    """The received footprints (as filtered on the list) as CSV, XLSX or JSON."""
    if file_format not in exports.FORMATS:
        raise Http404("exports are available as .csv, .xlsx or .json")
    _, filters = _received_filters(request, actor)
    rows = exports.received_rows(actor, filters, documents=True)
    content = exports.export(file_format, rows)
    name = f"received-footprints-{timezone.localdate():%Y-%m-%d}.{file_format}"
    response = _download(content, file_format, name)
    sharing.record_pull(
        actor=actor, footprints=[r.footprint for r in rows], channel=f"{PORTAL}:{file_format}"
    )
    return response


# ========================================================================= supplier side


@require_GET
@actor_required
def request_inbox(request: HttpRequest, actor: Actor) -> HttpResponse:
    received = selectors.requests_received(actor=actor)
    status = request.GET.get("status", R.PENDING)
    if status not in R.values:
        status = "all"
    shown = received if status == "all" else received.filter(status=status)
    context = {
        "tabs": _status_tabs(received, status),
        "status": status,
        "items": _request_items(shown.order_by("due_date", "-created_at")[:300]),
    }
    return render(request, "exchange/sharing/request_inbox.html", context)


def _supplier_only(actor: Actor, data_request: DataRequest) -> None:
    if data_request.supplier_id != actor.company.pk:
        raise PermissionDenied("only the supplier of the request may answer it", field="status")


@require_POST
@actor_required
def request_fulfil(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    data_request = selectors.request_get(actor=actor, request_id=request_id)
    actor.require_role(MemberRole.EDITOR, to="answer requests")
    actor.require_writable()
    _supplier_only(actor, data_request)
    _, choices = _fulfil_choices(actor, data_request)
    form = forms.FulfilForm(request.POST, footprints=choices)
    if form.is_valid():
        done = _attempt(
            request,
            form,
            lambda: sharing.request_fulfil(
                actor=actor,
                request=data_request,
                footprint_ids=form.cleaned_data["footprints"],
                whole_product=form.cleaned_data["whole_product"],
            ),
        )
        if done is not None:
            count = len(form.cleaned_data["footprints"])
            messages.success(
                request,
                _sentence(
                    f"Sent {count} footprint{'s' if count != 1 else ''} to "
                    f"{data_request.buyer.legal_name}"
                ),
            )
            return redirect("exchange:request", request_id=data_request.pk)
    data_request.refresh_from_db()
    if data_request.status != R.PENDING:
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, str(problem))
        return redirect("exchange:request", request_id=data_request.pk)
    return _request_page(request, actor, data_request, bound={"fulfil": form}, status=INVALID)


@require_POST
@actor_required
def request_reject(request: HttpRequest, actor: Actor, request_id: int) -> HttpResponse:
    data_request = selectors.request_get(actor=actor, request_id=request_id)
    actor.require_role(MemberRole.EDITOR, to="answer requests")
    actor.require_writable()
    _supplier_only(actor, data_request)
    form = forms.RejectForm(request.POST)
    if form.is_valid():
        done = _attempt(
            request,
            form,
            lambda: sharing.request_reject(
                actor=actor, request=data_request, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(request, f"Request {data_request.pk} rejected; the buyer sees why.")
            return redirect("exchange:request", request_id=data_request.pk)
    data_request.refresh_from_db()
    if data_request.status != R.PENDING:
        for problems in form.errors.values():
            for problem in problems:
                messages.error(request, str(problem))
        return redirect("exchange:request", request_id=data_request.pk)
    return _request_page(request, actor, data_request, bound={"reject": form}, status=INVALID)


# ---------------------------------------------------------------------------- grants


def _grant_form(actor: Actor, data: Any = None, initial: dict[str, Any] | None = None) -> Any:
    return forms.GrantForm(
        data,
        buyers=forms.zone_companies(role="buyer", exclude=actor.company),
        footprints=forms.footprint_choices(_own_active_footprints(actor)),
        products=forms.product_choices(selectors.products_of(actor=actor)),
        initial=initial,
    )


def _grants_page(
    request: HttpRequest,
    actor: Actor,
    *,
    form: Any = None,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    bound = bound or {}
    buyers: dict[int, dict[str, Any]] = {}
    for grant in selectors.grants_given(actor=actor).order_by("buyer__legal_name", "-created_at"):
        group = buyers.setdefault(
            grant.buyer_id, {"buyer": grant.buyer, "active": [], "revoked": []}
        )
        if grant.is_active:
            group["active"].append(
                {
                    "grant": grant,
                    "form": bound.get(f"revoke:{grant.pk}")
                    or forms.RevokeForm(prefix=f"g{grant.pk}"),
                }
            )
        else:
            group["revoked"].append(grant)
    if form is None:
        initial = {
            "buyer": request.GET.get("buyer", ""),
            "footprint": request.GET.get("footprint", ""),
            "product": request.GET.get("product", ""),
        }
        form = _grant_form(actor, initial=initial)
    published = (
        ZonePublication.objects.filter(footprint__company=actor.company)
        .select_related("footprint")
        .order_by("-published_at")
    )
    context = {
        "groups": list(buyers.values()),
        "form": form,
        "can_write": _can_write(actor),
        "published": published,
    }
    return render(request, "exchange/sharing/grants.html", context, status=status)


@require_http_methods(["GET", "POST"])
@actor_required
def grants(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method != "POST":
        return _grants_page(request, actor)
    actor.require_role(MemberRole.EDITOR, to="grant access")
    actor.require_writable()
    form = _grant_form(actor, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        grant = _attempt(
            request,
            form,
            lambda: sharing.grant_create(
                actor=actor,
                buyer=data["buyer"],
                footprint_id=data["footprint"] or None,
                product_id=data["product"] or None,
            ),
        )
        if grant is not None:
            target = (
                f"footprint of {grant.footprint.product_name}"
                if grant.footprint
                else f"every version of {grant.product.name if grant.product else ''}"
            )
            messages.success(request, f"{grant.buyer.legal_name} can now see the {target}.")
            return redirect("exchange:grants")
    return _grants_page(request, actor, form=form, status=INVALID)


@require_POST
@actor_required
def grant_revoke(request: HttpRequest, actor: Actor, grant_id: int) -> HttpResponse:
    grant = selectors.grants_given(actor=actor).filter(pk=grant_id).first()
    if grant is None:
        raise Http404("no such grant given by your company")
    actor.require_role(MemberRole.EDITOR, to="revoke access")
    actor.require_writable()
    form = forms.RevokeForm(request.POST, prefix=f"g{grant.pk}")
    if form.is_valid():
        done = _attempt(
            request,
            form,
            lambda: sharing.grant_revoke(
                actor=actor, grant=grant, reason=form.cleaned_data["reason"]
            ),
        )
        if done is not None:
            messages.success(request, f"{grant.buyer.legal_name} no longer has this access.")
            return redirect("exchange:grants")
    grant.refresh_from_db()
    if not grant.is_active:
        messages.error(request, "grant: the grant is already revoked")
        return redirect("exchange:grants")
    return _grants_page(request, actor, bound={f"revoke:{grant.pk}": form}, status=INVALID)


ZONE_STEPS: dict[str, tuple[Callable[[Actor, str], Any], str]] = {
    "publish": (
        lambda actor, pf_id: sharing.footprint_publish(actor=actor, footprint_id=pf_id),
        "Published: every company of the zone can see this footprint now.",
    ),
    "withdraw": (
        lambda actor, pf_id: sharing.footprint_unpublish(actor=actor, footprint_id=pf_id) or True,
        "Withdrawn from the zone: only your grants apply now.",
    ),
}


@require_POST
@actor_required
def footprint_zone(request: HttpRequest, actor: Actor, pf_id: str) -> HttpResponse:
    """Publish one of the company's footprints to the whole zone, or withdraw it."""
    footprint = selectors.footprint_get(actor=actor, pf_id=pf_id)
    actor.require_role(MemberRole.EDITOR, to="publish footprints to the zone")
    step = ZONE_STEPS.get(request.POST.get("action", ""))
    if step is None:
        messages.error(request, "action: choose publish or withdraw")
    else:
        run, done = step
        if _attempt(request, None, lambda: run(actor, str(footprint.pf_id))):
            messages.success(request, done)
    return redirect("exchange:footprint", pf_id=footprint.pf_id)


# ---------------------------------------------------------------------- part numbers


_BuyerProductForm = TypeVar("_BuyerProductForm", forms.PartNumberForm, forms.AutoRuleForm)


def _buyer_product_form(
    form_class: type[_BuyerProductForm], actor: Actor, data: Any = None
) -> _BuyerProductForm:
    """A supplier's form about one of its products for one buyer of the zone."""
    return form_class(
        data,
        buyers=forms.zone_companies(role="buyer", exclude=actor.company),
        products=forms.product_choices(selectors.products_of(actor=actor)),
    )


@require_http_methods(["GET", "POST"])
@actor_required
def part_numbers(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = _buyer_product_form(forms.PartNumberForm, actor, request.POST or None)
    status = 200
    if request.method == "POST":
        actor.require_role(MemberRole.EDITOR, to="map part numbers")
        actor.require_writable()
        if form.is_valid():
            data = form.cleaned_data
            mapping = _attempt(
                request,
                form,
                lambda: sharing.part_number_set(
                    actor=actor,
                    buyer=data["buyer"],
                    part_number=data["part_number"],
                    product_id=data["product"],
                ),
            )
            if mapping is not None:
                messages.success(
                    request,
                    f"{mapping.buyer.legal_name}'s part number {mapping.part_number} is now "
                    f"{mapping.product.name}.",
                )
                return redirect("exchange:part-numbers")
        status = INVALID
    mappings = selectors.part_numbers_of(actor=actor)
    context = {"form": form, "mappings": mappings, "can_write": _can_write(actor)}
    return render(request, "exchange/sharing/part_numbers.html", context, status=status)


# ------------------------------------------------------------------------ auto rules


@require_http_methods(["GET", "POST"])
@actor_required
def auto_rules(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = _buyer_product_form(forms.AutoRuleForm, actor, request.POST or None)
    status = 200
    if request.method == "POST":
        actor.require_role(MemberRole.ADMIN, to="set auto-fulfil rules")
        actor.require_writable()
        if form.is_valid():
            data = form.cleaned_data
            rule = _attempt(
                request,
                form,
                lambda: sharing.auto_rule_create(
                    actor=actor,
                    buyer=data["buyer"],
                    product_ids=data["products"],
                    only_verified=data["only_verified"],
                ),
                rename={"product_ids": "products"},
            )
            if rule is not None:
                messages.success(
                    request,
                    f"Requests from {rule.buyer.legal_name} are now answered automatically.",
                )
                return redirect("exchange:auto-rules")
        status = INVALID
    rules = selectors.auto_rules_of(actor=actor)
    context = {"form": form, "rules": rules, "can_admin": _can_admin(actor)}
    return render(request, "exchange/sharing/auto_rules.html", context, status=status)


@require_POST
@actor_required
def auto_rule_disable(request: HttpRequest, actor: Actor, rule_id: int) -> HttpResponse:
    rule = selectors.auto_rules_of(actor=actor).filter(pk=rule_id).first()
    if rule is None:
        raise Http404("no such rule of your company")
    if _attempt(request, None, lambda: sharing.auto_rule_disable(actor=actor, rule=rule)):
        messages.success(request, f"Rule for {rule.buyer.legal_name} disabled.")
    return redirect("exchange:auto-rules")


@require_GET
@actor_required
def pact_deliveries(request: HttpRequest, actor: Actor) -> HttpResponse:
    """PACT events sent to partner hosts for this company: pending, sent or failed after
    the retries (with the last error), so an unreachable partner does not go unseen."""
    status = request.GET.get("status", "")
    messages_ = selectors.pact_deliveries(actor=actor)
    if status in ("pending", "sent", "failed"):
        messages_ = messages_.filter(status=status)
    return render(
        request,
        "exchange/sharing/pact_deliveries.html",
        {"deliveries": messages_[:200], "status": status},
    )
