"""Supplier portal pages: products, footprints (form → preview → sign), uploads."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from companies.access import Actor
from companies.errors import NotFound, ValidationFailed
from companies.views import actor_required, attempt
from trust import jcs
from trust.encoding import sha256
from trust.errors import TrustError

from . import forms, selectors, services
from .api.views import template_response, upload_errors_response
from .models import SubmissionChannel
from .signing import canonical_bytes


@require_GET
@actor_required
def footprint_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    footprints = selectors.footprints_of(actor=actor)
    status = request.GET.get("status", "")
    if status in ("Active", "Deprecated"):
        footprints = footprints.filter(status=status)
    return render(
        request,
        "exchange/footprint_list.html",
        {"footprints": footprints[:200], "status_filter": status},
    )


@require_GET
@actor_required
def product_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request, "exchange/product_list.html", {"products": selectors.products_of(actor=actor)}
    )


@require_GET
@actor_required
def product_detail(request: HttpRequest, actor: Actor, product_id: int) -> HttpResponse:
    product = selectors.product_get(actor=actor, product_id=product_id)
    versions = selectors.footprint_versions(actor=actor, product=product)
    return render(
        request, "exchange/product_detail.html", {"product": product, "versions": versions}
    )


@require_GET
@actor_required
def footprint_detail(request: HttpRequest, actor: Actor, pf_id: str) -> HttpResponse:
    footprint = selectors.footprint_get(actor=actor, pf_id=pf_id)
    document = selectors.footprint_document(footprint)
    context = {
        "footprint": footprint,
        "document": document,
        "pcf": document.get("pcf", {}),
        "geography": _geography(document.get("pcf", {})),
        "document_json": json.dumps(document, indent=2, ensure_ascii=False),
        "audit_entries": selectors.footprint_audit_entries(actor=actor, footprint=footprint),
        "deprecate_form": forms.DeprecateForm(),
        "versions": selectors.footprint_versions(actor=actor, product=footprint.product),
    }
    return render(request, "exchange/footprint_detail.html", context)


def _geography(pcf: dict[str, Any]) -> str:
    for name in ("geographyCountrySubdivision", "geographyCountry", "geographyRegionOrSubregion"):
        if pcf.get(name):
            return str(pcf[name])
    return "global"


@require_POST
@actor_required
def footprint_deprecate(request: HttpRequest, actor: Actor, pf_id: str) -> HttpResponse:
    footprint = selectors.footprint_get(actor=actor, pf_id=pf_id)
    form = forms.DeprecateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "reason: say why the footprint is deprecated")
    elif attempt(
        request,
        None,
        lambda: services.footprint_deprecate(
            actor=actor, footprint=footprint, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, "The footprint is now Deprecated.")
    return redirect("exchange:footprint", pf_id=pf_id)


def _document_from_post(request: HttpRequest) -> Any:
    try:
        return jcs.loads_strict(request.POST.get("document", ""))
    except TrustError as exc:
        raise ValidationFailed.single(
            "document", f"the previewed document is damaged: {exc}"
        ) from exc


@require_http_methods(["GET", "POST"])
@actor_required
def footprint_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Fill in → preview the canonical document and its digest → sign and submit."""
    products = selectors.products_of(actor=actor)
    action = request.POST.get("action", "")
    if action == "sign":
        return _sign_and_submit(request, actor)
    initial: dict[str, Any] = {}
    if request.GET.get("product", "").isdigit():
        initial["product"] = int(request.GET["product"])
    if request.GET.get("replaces"):
        initial["replaces"] = request.GET["replaces"]
        try:  # a new version starts from the one it replaces (the company's own only)
            old = selectors.footprint_get(actor=actor, pf_id=request.GET["replaces"])
        except NotFound:
            old = None
        if old is not None:
            initial.update(forms.initial_from_document(selectors.footprint_document(old)))
            initial["product"] = old.product_id
    form = forms.FootprintForm(request.POST or None, products=products, initial=initial)
    if action == "preview" and form.is_valid():
        company = actor.company
        document = form.document(
            company_name=company.legal_name,
            company_ids=list(company.identifiers.values_list("urn", flat=True)),
        )
        problems = services.validate_document(document)
        if not problems:
            canonical = canonical_bytes(document)
            context = {
                "document": document,
                "canonical": canonical.decode(),
                "pretty": json.dumps(document, indent=2, ensure_ascii=False),
                "digest": sha256(canonical).hex(),
                "key": _platform_key_or_none(actor),
            }
            return render(request, "exchange/footprint_preview.html", context)
        for problem in problems:
            field = forms.POINTER_FIELDS.get(problem.pointer)
            form.add_error(field, problem.message if field else str(problem))
    return render(request, "exchange/footprint_form.html", {"form": form})


def _platform_key_or_none(actor: Actor) -> Any:
    try:
        return services.platform_signing_key(actor)
    except ValidationFailed:
        return None


def _sign_and_submit(request: HttpRequest, actor: Actor) -> HttpResponse:
    document = _document_from_post(request)
    digest = sha256(canonical_bytes(document)).hex()
    if digest != request.POST.get("digest"):
        messages.error(request, "The document changed after the preview; nothing was signed.")
        return redirect("exchange:footprint-new")

    def submit() -> Any:
        token = services.footprint_sign_with_platform_key(actor=actor, document=document)
        return services.footprint_submit(actor=actor, jws=token, channel=SubmissionChannel.PORTAL)

    result = attempt(request, None, submit)
    if result is None:
        return redirect("exchange:footprint-new")
    messages.success(request, "Footprint signed with your platform-held key and submitted.")
    return redirect("exchange:footprint", pf_id=result.footprint.pf_id)


@require_http_methods(["GET", "POST"])
@actor_required
def uploads(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = forms.UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        upload = attempt(
            request,
            form,
            lambda: services.upload_create(
                actor=actor,
                file_name=file.name,
                data=file.read(),
                all_or_nothing=form.cleaned_data["all_or_nothing"],
            ),
        )
        if upload:
            return redirect("exchange:upload", upload_id=upload.pk)
    context = {"form": form, "uploads": selectors.uploads_of(actor=actor)[:50]}
    return render(request, "exchange/uploads.html", context)


@require_GET
@actor_required
def upload_detail(request: HttpRequest, actor: Actor, upload_id: int) -> HttpResponse:
    upload = selectors.upload_get(actor=actor, upload_id=upload_id)
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(_progress(upload))
    return render(
        request, "exchange/upload_detail.html", {"upload": upload, "progress": _progress(upload)}
    )


def _progress(upload: Any) -> dict[str, Any]:
    return {
        "status": upload.status,
        "phase": upload.phase,
        "rows_done": upload.rows_done,
        "rows_total": upload.rows_total,
        "percent": upload.percent,
        "message": upload.message,
        "error_count": len(upload.errors),
    }


@require_GET
@actor_required
def upload_errors(request: HttpRequest, actor: Actor, upload_id: int) -> HttpResponse:
    return upload_errors_response(selectors.upload_get(actor=actor, upload_id=upload_id))


@require_GET
@actor_required
def upload_template(request: HttpRequest, actor: Actor, file_format: str) -> HttpResponse:
    if file_format not in ("csv", "xlsx"):
        raise Http404("the template is available as .csv or .xlsx")
    return template_response(file_format)
