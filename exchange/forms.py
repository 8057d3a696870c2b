"""The supplier's footprint form: fields a person understands, mapped to PACT v3."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from .models import Product
from .pact.fields import SPEC_VERSION

UNITS = [
    ("kilogram", "kilogram (kg)"),
    ("ton kilometer", "tonne-kilometre (t·km)"),
    ("liter", "litre (l)"),
    ("cubic meter", "cubic metre (m³)"),
    ("kilowatt hour", "kilowatt hour (kWh)"),
    ("megajoule", "megajoule (MJ)"),
    ("square meter", "square metre (m²)"),
    ("piece", "piece (item)"),
    ("hour", "hour"),
    ("megabit second", "megabit second"),
]
STANDARDS = [
    ("ISO14067", "ISO 14067 (product carbon footprint)"),
    ("GHGP-Product", "GHG Protocol Product Standard"),
    ("ISO14040-44", "ISO 14040/14044 (LCA)"),
    ("PEF", "EU Product Environmental Footprint"),
    ("PAS2050", "PAS 2050"),
    ("ISO14083", "ISO 14083 (transport)"),
    ("PACT-3.0", "PACT Methodology 3.0"),
]
IPCC = [("AR6", "AR6 (IPCC 2021, current)"), ("AR5", "AR5 (IPCC 2013)")]


def _decimal(
    label: str, help_text: str, *, required: bool = True, min_value: Any = None
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=required,
        min_value=min_value,
        max_digits=30,
        decimal_places=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class FootprintForm(forms.Form):
    """One product carbon footprint, as a supplier would describe it."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.none(),
        required=False,
        empty_label="— a new product (fill in below) —",
        help_text="The product this footprint is for.",
    )
    new_product_name = forms.CharField(
        required=False,
        max_length=200,
        label="New product: name",
        help_text="As your customers know it, e.g. 'Battery-grade lithium carbonate 99.5%'.",
    )
    new_product_id = forms.CharField(
        required=False,
        max_length=255,
        label="New product: id (URN)",
        help_text="A URN naming the product, e.g. urn:pact:yourcompany.example:product:li2co3-bg "
        "or a GTIN URN.",
    )
    product_description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the product is, for a reader outside your company.",
    )
    declared_unit = forms.ChoiceField(
        choices=UNITS,
        label="Declared unit",
        help_text="The unit the footprint is given for (e.g. per kilogram of product).",
    )
    declared_unit_amount = _decimal(
        "Amount of the declared unit",
        "Usually 1 (the footprint is per 1 kg, 1 kWh …).",
        min_value=Decimal("0.000000000001"),
    )
    product_mass_per_declared_unit = _decimal(
        "Product mass per declared unit (kg)",
        "For a per-kilogram footprint this is 1.",
        min_value=Decimal(0),
    )
    reference_period_start = forms.DateField(
        help_text="First day of the period your data covers (usually 1 January).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reference_period_end = forms.DateField(
        help_text="The day after the period ends (e.g. 2026-01-01 for the year 2025).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    geography_country = forms.CharField(
        required=False,
        max_length=2,
        label="Country of production (optional)",
        help_text="Two-letter ISO code, e.g. CN. Leave empty for a global average.",
    )
    pcf_excluding_biogenic_uptake = _decimal(
        "Footprint excluding biogenic CO₂ uptake (kg CO₂e per declared unit)",
        "Cradle-to-gate emissions of the declared unit, without counting CO₂ taken up by biomass.",
        min_value=Decimal(0),
    )
    pcf_including_biogenic_uptake = _decimal(
        "Footprint including biogenic CO₂ uptake (kg CO₂e per declared unit)",
        "The same, counting CO₂ taken up by biomass (may be lower, even negative).",
    )
    fossil_ghg_emissions = _decimal(
        "Fossil GHG emissions (kg CO₂e per declared unit)",
        "Emissions from fossil sources only.",
        min_value=Decimal(0),
    )
    fossil_carbon_content = _decimal(
        "Fossil carbon content (kg C per declared unit)",
        "Carbon of fossil origin contained in the product itself (0 for most minerals).",
        min_value=Decimal(0),
    )
    biogenic_carbon_content = _decimal(
        "Biogenic carbon content (kg C per declared unit, optional)",
        "Carbon of biological origin contained in the product.",
        required=False,
        min_value=Decimal(0),
    )
    ipcc_characterization_factors = forms.MultipleChoiceField(
        choices=IPCC,
        initial=["AR6"],
        widget=forms.CheckboxSelectMultiple,
        label="IPCC characterisation factors",
        help_text="Which IPCC assessment report's global-warming potentials you used.",
    )
    cross_sectoral_standards = forms.MultipleChoiceField(
        choices=STANDARDS,
        initial=["ISO14067"],
        widget=forms.CheckboxSelectMultiple,
        label="Standards followed",
    )
    boundary_processes_description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="System boundary (optional)",
        help_text="Which processes are included, e.g. 'mining, refining, packaging; excludes "
        "capital goods'.",
    )
    exempted_emissions_percent = _decimal(
        "Exempted emissions (%)",
        "Share of emissions left out as immaterial, 0 to 5.",
        min_value=Decimal(0),
    )
    primary_data_share = _decimal(
        "Primary data share (%, optional)",
        "Share of the footprint computed from your own measured data rather than databases.",
        required=False,
        min_value=Decimal(0),
    )
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    replaces = forms.CharField(
        required=False,
        label="Replaces footprint (optional)",
        help_text="The id of your earlier footprint for this product that this one replaces; it "
        "becomes Deprecated.",
    )

    def __init__(self, *args: Any, products: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("product"):
            if not data.get("new_product_name"):
                self.add_error("new_product_name", "choose a product or name a new one")
            if not str(data.get("new_product_id", "")).lower().startswith("urn:"):
                self.add_error("new_product_id", "a new product needs an id that is a URN")
        return data

    def document(self, *, company_name: str, company_ids: list[str]) -> dict[str, Any]:
        """The PACT v3 ProductFootprint this form describes (not yet validated)."""
        data = self.cleaned_data
        product: Product | None = data.get("product")
        if product is not None:
            product_ids = [identifier.urn for identifier in product.identifiers.all()]
            name = product.name
        else:
            product_ids = [data["new_product_id"].strip()]
            name = data["new_product_name"].strip()

        def number(value: Decimal) -> str:
            text = format(value.normalize(), "f")
            return text

        def day(value: Any) -> str:
            return datetime.combine(value, time.min, tzinfo=UTC).isoformat().replace("+00:00", "Z")

        pcf: dict[str, Any] = {
            "declaredUnitOfMeasurement": data["declared_unit"],
            "declaredUnitAmount": number(data["declared_unit_amount"]),
            "productMassPerDeclaredUnit": number(data["product_mass_per_declared_unit"]),
            "referencePeriodStart": day(data["reference_period_start"]),
            "referencePeriodEnd": day(data["reference_period_end"]),
            "pcfExcludingBiogenicUptake": number(data["pcf_excluding_biogenic_uptake"]),
            "pcfIncludingBiogenicUptake": number(data["pcf_including_biogenic_uptake"]),
            "fossilGhgEmissions": number(data["fossil_ghg_emissions"]),
            "fossilCarbonContent": number(data["fossil_carbon_content"]),
            "ipccCharacterizationFactors": list(data["ipcc_characterization_factors"]),
            "crossSectoralStandards": list(data["cross_sectoral_standards"]),
            "exemptedEmissionsPercent": number(data["exempted_emissions_percent"]),
        }
        if data.get("geography_country"):
            pcf["geographyCountry"] = data["geography_country"].strip().upper()
        if data.get("biogenic_carbon_content") is not None:
            pcf["biogenicCarbonContent"] = number(data["biogenic_carbon_content"])
        if data.get("primary_data_share") is not None:
            pcf["primaryDataShare"] = number(data["primary_data_share"])
        if data.get("boundary_processes_description"):
            pcf["boundaryProcessesDescription"] = data["boundary_processes_description"].strip()
        document: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "specVersion": SPEC_VERSION,
            "created": timezone.now().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "status": "Active",
            "companyName": company_name,
            "companyIds": company_ids,
            "productDescription": data["product_description"].strip(),
            "productIds": product_ids,
            "productNameCompany": name,
            "pcf": pcf,
        }
        if product is not None and product.classifications:
            document["productClassifications"] = list(product.classifications)
        if data.get("comment"):
            document["comment"] = data["comment"].strip()
        if data.get("replaces"):
            document["precedingPfIds"] = [data["replaces"].strip()]
        return document


def initial_from_document(document: dict[str, Any]) -> dict[str, Any]:
    """The form's values for an earlier footprint, so a new version starts from it."""
    pcf = document.get("pcf", {})
    day = lambda text: text[:10] if isinstance(text, str) else None  # noqa: E731
    values: dict[str, Any] = {
        "product_description": document.get("productDescription", ""),
        "declared_unit": pcf.get("declaredUnitOfMeasurement"),
        "declared_unit_amount": pcf.get("declaredUnitAmount"),
        "product_mass_per_declared_unit": pcf.get("productMassPerDeclaredUnit"),
        "reference_period_start": day(pcf.get("referencePeriodStart")),
        "reference_period_end": day(pcf.get("referencePeriodEnd")),
        "geography_country": pcf.get("geographyCountry", ""),
        "pcf_excluding_biogenic_uptake": pcf.get("pcfExcludingBiogenicUptake"),
        "pcf_including_biogenic_uptake": pcf.get("pcfIncludingBiogenicUptake"),
        "fossil_ghg_emissions": pcf.get("fossilGhgEmissions"),
        "fossil_carbon_content": pcf.get("fossilCarbonContent"),
        "biogenic_carbon_content": pcf.get("biogenicCarbonContent"),
        "ipcc_characterization_factors": pcf.get("ipccCharacterizationFactors"),
        "cross_sectoral_standards": pcf.get("crossSectoralStandards"),
        "boundary_processes_description": pcf.get("boundaryProcessesDescription", ""),
        "exempted_emissions_percent": pcf.get("exemptedEmissionsPercent"),
        "primary_data_share": pcf.get("primaryDataShare"),
        "comment": document.get("comment", ""),
    }
    return {name: value for name, value in values.items() if value is not None}


# Where a PACT rule's JSON Pointer lands in the form, so the message is shown at the field.
POINTER_FIELDS = {
    "/productDescription": "product_description",
    "/productIds/0": "new_product_id",
    "/productNameCompany": "new_product_name",
    "/pcf/declaredUnitOfMeasurement": "declared_unit",
    "/pcf/declaredUnitAmount": "declared_unit_amount",
    "/pcf/productMassPerDeclaredUnit": "product_mass_per_declared_unit",
    "/pcf/referencePeriodStart": "reference_period_start",
    "/pcf/referencePeriodEnd": "reference_period_end",
    "/pcf/geographyCountry": "geography_country",
    "/pcf/pcfExcludingBiogenicUptake": "pcf_excluding_biogenic_uptake",
    "/pcf/pcfIncludingBiogenicUptake": "pcf_including_biogenic_uptake",
    "/pcf/fossilGhgEmissions": "fossil_ghg_emissions",
    "/pcf/fossilCarbonContent": "fossil_carbon_content",
    "/pcf/biogenicCarbonContent": "biogenic_carbon_content",
    "/pcf/ipccCharacterizationFactors": "ipcc_characterization_factors",
    "/pcf/crossSectoralStandards": "cross_sectoral_standards",
    "/pcf/boundaryProcessesDescription": "boundary_processes_description",
    "/pcf/exemptedEmissionsPercent": "exempted_emissions_percent",
    "/pcf/primaryDataShare": "primary_data_share",
    "/comment": "comment",
    "/precedingPfIds/0": "replaces",
}


class DeprecateForm(forms.Form):
    reason = forms.CharField(max_length=500)


class UploadForm(forms.Form):
    file = forms.FileField(
        help_text="The filled-in template (.csv or .xlsx), or a signed .json array."
    )
    all_or_nothing = forms.BooleanField(
        required=False,
        initial=True,
        label="All or nothing",
        help_text="Store nothing if any row has an error (recommended); untick to store "
        "the good rows.",
    )
