"""Forms of the sharing pages: a buyer's requests, a supplier's answers, grants, part
numbers and auto-fulfil rules.

The forms only shape what a person types into what the services take; every rule
(who may, which company, which footprint) is the services' (exchange.sharing), and
their refusals are shown on the field they name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from django import forms

from companies.models import Company, CompanyStatus

from .models import Footprint, Product

Choices = list[tuple[str, str]]


def zone_companies(*, role: str, exclude: Company | None = None) -> Choices:
    """Active companies of the zone holding ``role`` ("supplier" or "buyer"), by name."""
    companies = Company.objects.filter(status=CompanyStatus.ACTIVE, **{f"is_{role}": True})
    if exclude is not None:
        companies = companies.exclude(pk=exclude.pk)
    return [(c.slug, c.legal_name) for c in companies.order_by("legal_name")]


def footprint_label(footprint: Footprint) -> str:
    period = (
        f"{footprint.reference_period_start:%Y-%m-%d} to {footprint.reference_period_end:%Y-%m-%d}"
    )
    return (
        f"{footprint.product_name}: {footprint.pcf_excluding_biogenic_uptake} kg CO₂e per "
        f"{footprint.declared_unit}, {period}"
    )


def footprint_choices(footprints: Iterable[Footprint]) -> Choices:
    return [(str(fp.pf_id), footprint_label(fp)) for fp in footprints]


def product_choices(products: Iterable[Product]) -> Choices:
    return [(str(p.pk), p.name) for p in products]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _stamp(day: date) -> str:
    return datetime.combine(day, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")


class RequestForm(forms.Form):
    """What a buyer asks a supplier for."""

    supplier = forms.ChoiceField(
        label="Supplier", help_text="The company of the zone you buy the product from."
    )
    product_ids = forms.CharField(
        required=False,
        label="Product ids",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "urn:pact:…:product:…"}),
        help_text="The supplier's product ids (URNs, GTINs…), one per line.",
    )
    part_number = forms.CharField(
        required=False,
        max_length=100,
        label="Your part number",
        help_text="Your own part number for the product, if the supplier has it on file.",
    )
    geography = forms.CharField(
        required=False,
        label="Geography (optional)",
        help_text="Countries or regions of production, e.g. CN or CN, DE.",
    )
    classification = forms.CharField(
        required=False,
        label="Product classification (optional)",
        help_text="Classification URNs, e.g. urn:pact:cpc:34290, one per line.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    valid_on = forms.DateField(
        required=False,
        label="Valid on (optional)",
        help_text="Only footprints whose validity covers this day.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    comment = forms.CharField(
        required=False,
        label="Message to the supplier",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you need the footprint for, which volumes, who to contact.",
    )
    due_date = forms.DateField(
        required=False,
        label="Needed by (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, suppliers: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supplier"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "— choose a supplier —"), *suppliers]

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        criteria: dict[str, list[str]] = {}
        if data.get("geography"):
            criteria["geography"] = [g.upper() for g in _lines(data["geography"])]
        if data.get("classification"):
            criteria["classification"] = _lines(data["classification"])
        if data.get("valid_on"):
            criteria["validOn"] = [_stamp(data["valid_on"])]
        return {
            "supplier": data["supplier"],
            "product_ids": [
                line.strip() for line in data["product_ids"].splitlines() if line.strip()
            ],
            "part_number": data["part_number"],
            "criteria": criteria,
            "comment": data["comment"],
            "due_date": data.get("due_date"),
        }


class FulfilForm(forms.Form):
    footprints = forms.MultipleChoiceField(
        label="Footprints to send",
        widget=forms.CheckboxSelectMultiple,
        help_text="The buyer gets access to these footprints (and nothing else).",
    )
    whole_product = forms.BooleanField(
        required=False,
        label="Also future versions of these products",
        help_text="The buyer will see the new versions you publish later, without asking again.",
    )

    def __init__(self, *args: Any, footprints: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["footprints"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = footprints


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the buyer",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The buyer sees this, e.g. 'the 2025 footprint is being re-verified'.",
    )


class GrantForm(forms.Form):
    """Let a buyer see one footprint, or every version of a product."""

    buyer = forms.ChoiceField(label="Buyer")
    footprint = forms.ChoiceField(
        required=False,
        label="One footprint",
        help_text="The buyer sees this footprint only.",
    )
    product = forms.ChoiceField(
        required=False,
        label="… or a whole product",
        help_text="The buyer sees every version of the product, including future ones.",
    )

    def __init__(
        self,
        *args: Any,
        buyers: Choices,
        footprints: Choices,
        products: Choices,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._choices("buyer", [("", "— choose a buyer —"), *buyers])
        self._choices("footprint", [("", "—"), *footprints])
        self._choices("product", [("", "—"), *products])

    def _choices(self, name: str, choices: Choices) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("footprint")) == bool(data.get("product")):
            self.add_error("footprint", "choose either one footprint or a whole product")
        return data


class RevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        help_text="Recorded in the audit log, e.g. 'contract ended'.",
    )


class PartNumberForm(forms.Form):
    buyer = forms.ChoiceField(label="Buyer")
    part_number = forms.CharField(
        max_length=100, label="Buyer's part number", help_text="As it appears on their orders."
    )
    product = forms.ChoiceField(label="Your product")

    def __init__(self, *args: Any, buyers: Choices, products: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buyer = self.fields["buyer"]
        product = self.fields["product"]
        assert isinstance(buyer, forms.ChoiceField) and isinstance(product, forms.ChoiceField)
        buyer.choices = [("", "— choose a buyer —"), *buyers]
        product.choices = [("", "— choose a product —"), *products]


class AutoRuleForm(forms.Form):
    buyer = forms.ChoiceField(label="Buyer")
    products = forms.MultipleChoiceField(
        required=False,
        label="Products",
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all your products.",
    )
    only_verified = forms.BooleanField(
        required=False,
        initial=True,
        label="Only verified footprints",
        help_text="Send only footprints with a verifier's attestation in force; other "
        "requests wait for a person.",
    )

    def __init__(self, *args: Any, buyers: Choices, products: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        buyer = self.fields["buyer"]
        chosen = self.fields["products"]
        assert isinstance(buyer, forms.ChoiceField)
        assert isinstance(chosen, forms.MultipleChoiceField)
        buyer.choices = [("", "— choose a buyer —"), *buyers]
        chosen.choices = products


class ReceivedFilterForm(forms.Form):
    """Filters of the received footprints (and of their exports)."""

    supplier = forms.ChoiceField(required=False, label="Supplier")
    verification = forms.ChoiceField(
        required=False,
        label="Verification",
        choices=[
            ("", "any"),
            ("verified", "verified"),
            ("not_verified", "not verified"),
            ("expired", "expired"),
            ("revoked", "revoked"),
        ],
    )
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "any"), ("Active", "Active"), ("Deprecated", "Deprecated")],
    )
    q = forms.CharField(required=False, max_length=200, label="Product")
    footprint = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, suppliers: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supplier"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "all"), *suppliers]
