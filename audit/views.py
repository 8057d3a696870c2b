"""Portal pages: a company's own audit entries, and the whole log for the operator.

Reads go through selectors that take the acting company, so a company never sees
another's entries; the whole-log page refuses anyone but the zone operator.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services

PAGE_SIZE = 50


class EntryFilterForm(forms.Form):
    """Filters of both audit pages (GET, all optional)."""

    type = forms.ChoiceField(required=False)
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    company = forms.SlugField(required=False, max_length=100)

    def __init__(self, *args: Any, types: list[str], with_company: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ChoiceField)
        type_field.choices = [("", "all types"), *((t, t) for t in types)]
        if not with_company:
            del self.fields["company"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "must not be before the start date")
        return data

    def filters(self) -> selectors.EntryFilters:
        if not self.is_valid():
            return selectors.EntryFilters()
        data = self.cleaned_data
        return selectors.EntryFilters(
            type=data.get("type") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            company=data.get("company") or "",
        )


def _actor(request: HttpRequest) -> Any:
    actor = getattr(request, "actor", None)
    if actor is None:
        raise PermissionDenied("choose a company to act for first")
    return actor


def _page(request: HttpRequest, queryset: Any) -> Any:
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.payload_data = selectors.payload_display(entry)
    return page


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def company_log(request: HttpRequest) -> HttpResponse:
    """The acting company's own entries, filterable by type and date."""
    actor = _actor(request)
    form = EntryFilterForm(
        request.GET or None, types=selectors.entry_types_of_company(actor=actor), with_company=False
    )
    filters = form.filters() if request.GET else selectors.EntryFilters()
    page = _page(request, selectors.entries_of_company(actor=actor, filters=filters))
    return render(
        request,
        "audit/company_log.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
    )


@login_required
def operator_log(request: HttpRequest) -> HttpResponse:
    """The whole log with checkpoints and witness status: zone operator only."""
    actor = getattr(request, "actor", None)
    types = selectors.entry_types_all(actor=actor)  # raises PermissionDenied
    form = EntryFilterForm(request.GET or None, types=types, with_company=True)
    filters = form.filters() if request.GET else selectors.EntryFilters()
    page = _page(request, selectors.entries_whole_log(actor=actor, filters=filters))
    return render(
        request,
        "audit/operator_log.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "log_size": selectors.log_size(),
            "checkpoints": selectors.checkpoints_recent(),
            "checkpoint_interval": settings.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
            "witnesses": selectors.witnesses_all(),
        },
    )


@require_POST
@login_required
def checkpoint_sign(request: HttpRequest) -> HttpResponse:
    """Sign a checkpoint of the log as it is now (zone operator only)."""
    checkpoint = services.checkpoint_on_demand(actor=getattr(request, "actor", None))
    if checkpoint is None:
        messages.info(
            request, "Nothing new to sign: the log has not grown since the last checkpoint."
        )
    else:
        messages.success(request, f"Checkpoint signed at tree size {checkpoint.size}.")
    return redirect("audit:operator")
