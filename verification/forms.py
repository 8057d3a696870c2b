"""Portal forms of the verification workflow: what a supplier, a verifier and the zone
operator fill in. They check the shape of the input only; the rules (accreditation,
independence, state, findings…) are the services' and come back naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from companies.models import Company

from .models import AssuranceLevel, Coverage, Materiality, Opinion, Standard, VisitMode
from .services import EVIDENCE_TYPES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def evidence_types_text() -> str:
    """The accepted evidence types, as a person reads them: "PDF (.pdf), …"."""
    by_label: dict[str, list[str]] = {}
    for extension, kind in EVIDENCE_TYPES.items():
        by_label.setdefault(kind.label, []).append(extension)
    return ", ".join(f"{label} ({', '.join(exts)})" for label, exts in by_label.items())


def size_text(size: int) -> str:
    """A byte count as a person reads it (20 MB, 512 KB, 300 bytes)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


class RegistryFilterForm(forms.Form):
    """The GET form that narrows the verifier registry (standard, sector)."""

    standard = forms.ChoiceField(
        choices=[("", "any standard"), *Standard.choices],
        required=False,
        label="Accredited for standard",
    )
    sector = forms.ChoiceField(
        choices=[("", "any sector")],
        required=False,
        label="In the sector of",
        help_text="The classification of your product: only verifiers accredited for its "
        "sector are listed.",
    )

    def __init__(self, *args: Any, sectors: list[str] | None = None, **kwargs: Any):
        kwargs.setdefault("auto_id", "filter_%s")  # beside the request form on one page
        super().__init__(*args, **kwargs)
        choices = [("", "any sector"), *((s, s) for s in sectors or [])]
        self.fields["sector"].choices = choices  # type: ignore[attr-defined]


class RequestForm(forms.Form):
    """The supplier asks a verifier to verify some of its footprints."""

    footprints = forms.MultipleChoiceField(
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        label="Footprints to verify",
        help_text="Your company's active footprints; one engagement can cover several.",
        error_messages={"required": "choose at least one footprint to verify"},
    )
    standard = forms.ChoiceField(
        choices=[("", "— choose —"), *Standard.choices],
        help_text="The standard the verifier checks the footprints against.",
    )
    assurance_level = forms.ChoiceField(
        choices=[("", "— choose —"), *AssuranceLevel.choices],
        help_text="Limited assurance is a lighter review; reasonable assurance is a full audit.",
    )
    coverage = forms.ChoiceField(
        choices=[("", "— choose —"), *Coverage.choices],
        help_text="What the verification statement covers (PACT's verification coverage).",
    )
    verifier = forms.TypedChoiceField(
        choices=[],
        coerce=int,
        widget=forms.RadioSelect,
        help_text="An accredited verifier of the zone.",
        error_messages={"required": "choose a verifier from the list"},
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        label="Message to the verifier",
        help_text="Optional: context, deadlines, who to contact.",
    )

    def __init__(
        self,
        *args: Any,
        footprints: list[tuple[str, str]] | None = None,
        verifiers: list[Company] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["footprints"].choices = footprints or []  # type: ignore[attr-defined]
        self.fields["verifier"].choices = [  # type: ignore[attr-defined]
            (v.pk, v.legal_name) for v in verifiers or []
        ]


class TransitionForm(forms.Form):
    """One step of the engagement (accept, decline, …), with its note or reason."""

    action = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class EvidenceForm(forms.Form):
    file = forms.FileField(
        help_text=f"Accepted: {evidence_types_text()}; at most "
        f"{size_text(settings.EVIDENCE_MAX_BYTES)}. Only you and the verifier can download it."
    )
    description = forms.CharField(
        max_length=500,
        required=False,
        help_text="What the file shows, e.g. 'electricity invoices 2025'.",
    )


class FindingForm(forms.Form):
    title = forms.CharField(max_length=200)
    materiality = forms.ChoiceField(
        choices=[("", "— choose —"), *Materiality.choices],
        help_text="An open material finding blocks the attestation.",
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label="Details"
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=5000, label="Your answer"
    )


class ResolveForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
        label="Closing note (optional)",
    )


class SiteVisitForm(forms.Form):
    date = forms.DateField(widget=DATE, help_text="When the visit took place (not in the future).")
    mode = forms.ChoiceField(choices=[("", "— choose —"), *VisitMode.choices])
    location = forms.CharField(max_length=300, required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class AttestForm(forms.Form):
    """What the verifier states beside what the engagement fixes; checked again by
    ``services.clean_terms``."""

    boundary = forms.CharField(
        max_length=200, help_text="The system boundary reviewed, e.g. cradle-to-gate."
    )
    materiality_threshold = forms.CharField(
        max_length=50, help_text="The threshold applied, e.g. 5% of the total footprint."
    )
    opinion = forms.ChoiceField(choices=[("", "— choose —"), *Opinion.choices])
    opinion_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        label="Opinion statement",
        help_text="The statement as it will appear in the credential.",
    )
    valid_until = forms.DateField(
        widget=DATE, help_text="The last day the credential is valid (at most three years)."
    )
    kid = forms.ChoiceField(
        choices=[],
        label="Signing key",
        help_text="One of your company's active platform-held keys.",
        error_messages={"required": "choose the key that signs the credential"},
    )

    def __init__(self, *args: Any, keys: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kid"].choices = keys or []  # type: ignore[attr-defined]
        if not self.is_bound and "valid_until" not in self.initial:
            self.initial["valid_until"] = timezone.localdate() + timedelta(days=365)


class GrantForm(forms.Form):
    """The operator records a verifier's accreditation."""

    verifier = forms.ModelChoiceField(
        queryset=Company.objects.none(),
        empty_label="— choose —",
        help_text="Companies holding the verifier role in the zone.",
    )
    body = forms.CharField(
        max_length=200, label="Accreditation body", help_text="e.g. DAkkS, UKAS, CNAS."
    )
    reference = forms.CharField(
        max_length=100, help_text="The body's reference of the accreditation certificate."
    )
    standards = forms.MultipleChoiceField(
        choices=Standard.choices, widget=forms.CheckboxSelectMultiple
    )
    sectors = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One classification URN prefix per line, e.g. urn:pact:cpc:41 or "
        "urn:pact:wcoomdd.org:hs-code:28.",
    )
    valid_from = forms.DateField(widget=DATE)
    valid_until = forms.DateField(widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["verifier"].queryset = Company.objects.filter(  # type: ignore[attr-defined]
            is_verifier=True
        ).order_by("legal_name")

    def clean_sectors(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["sectors"].splitlines() if line.strip()]


class SuspendForm(forms.Form):
    reason = forms.CharField(max_length=500)


class ZonePolicyForm(forms.Form):
    max_consecutive_years = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        label="Rotation rule: at most this many consecutive years",
        help_text="A verifier may attest the same supplier in at most this many consecutive "
        "calendar years. Leave empty for no rotation rule.",
    )
