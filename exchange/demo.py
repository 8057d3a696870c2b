"""Demo footprints for the demo zone, and who shares them with whom (called by
``manage.py seed_demo``).

Values are of the right order of magnitude for 2025 production (kg CO2e per declared
unit, cradle to gate); they are illustrative, not data of any real company. Ids are
derived from names (uuid5), so seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from companies.access import Actor
from companies.models import Company, Membership

from . import services, sharing
from .models import DataRequest, Footprint, ProductIdentifier, SubmissionChannel
from .pact.fields import SPEC_VERSION

NAMESPACE = uuid.UUID("6f1c1b1e-6d43-4f0e-9a51-5a3c0c9b7d10")


@dataclass(frozen=True)
class DemoFootprint:
    company: str
    key: str  # stable name of this version
    product: str
    product_urn: str
    description: str
    unit: str
    mass: str
    pcf: str
    pcf_incl: str
    fossil: str
    country: str
    cpc: str
    replaces: str | None = None
    period: tuple[str, str] = ("2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    primary_share: str = "62.5"
    extra: dict[str, Any] = field(default_factory=dict)


DEMO = (
    DemoFootprint(
        "li-refinery",
        "li2co3-v1",
        "Battery-grade lithium carbonate (Li2CO3 ≥ 99.5%)",
        "urn:pact:li-refinery.example:product:li2co3-bg",
        "Lithium carbonate refined from lepidolite concentrate, battery grade.",
        "kilogram",
        "1",
        "14.8",
        "14.8",
        "14.6",
        "CN",
        "urn:pact:cpc:34290",
        period=("2024-07-01T00:00:00Z", "2025-07-01T00:00:00Z"),
        primary_share="40",
    ),
    DemoFootprint(
        "li-refinery",
        "li2co3-v2",
        "Battery-grade lithium carbonate (Li2CO3 ≥ 99.5%)",
        "urn:pact:li-refinery.example:product:li2co3-bg",
        "Lithium carbonate refined from lepidolite concentrate, battery grade.",
        "kilogram",
        "1",
        "12.9",
        "12.9",
        "12.7",
        "CN",
        "urn:pact:cpc:34290",
        replaces="li2co3-v1",
        primary_share="71",
    ),
    DemoFootprint(
        "cathode-maker",
        "ncm811-v1",
        "NCM811 cathode active material",
        "urn:pact:cathode-maker.example:product:ncm811",
        "LiNi0.8Co0.1Mn0.1O2 cathode active material for EV cells.",
        "kilogram",
        "1",
        "26.4",
        "26.4",
        "26.1",
        "CN",
        "urn:pact:cpc:34250",
    ),
    DemoFootprint(
        "cell-maker",
        "cell-v1",
        "Prismatic NCM cell 3.7 V 150 Ah",
        "urn:pact:cell-maker.example:product:pn150",
        "Prismatic lithium-ion cell for EV battery packs, 0.555 kWh.",
        "kilowatt hour",
        "1.86",
        "71.2",
        "71.2",
        "70.4",
        "CN",
        "urn:pact:cpc:46410",
    ),
    DemoFootprint(
        "pack-maker",
        "pack-v1",
        "EV battery pack 75 kWh",
        "urn:pact:pack-maker.example:product:pack75",
        "Liquid-cooled EV battery pack, 75 kWh, NCM cells.",
        "kilowatt hour",
        "6.1",
        "84.0",
        "83.7",
        "82.9",
        "CN",
        "urn:pact:cpc:46410",
    ),
    DemoFootprint(
        "al-smelter",
        "al-v1",
        "Primary aluminium ingot (hydro-powered share 35%)",
        "urn:pact:al-smelter.example:product:al-ingot",
        "P1020 primary aluminium ingot, grid and captive power mix.",
        "kilogram",
        "1",
        "13.6",
        "13.6",
        "13.5",
        "CN",
        "urn:pact:cpc:41431",
        period=("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ),
    DemoFootprint(
        "al-smelter",
        "al-v2",
        "Primary aluminium ingot (hydro-powered share 35%)",
        "urn:pact:al-smelter.example:product:al-ingot",
        "P1020 primary aluminium ingot, grid and captive power mix.",
        "kilogram",
        "1",
        "11.2",
        "11.2",
        "11.1",
        "CN",
        "urn:pact:cpc:41431",
        replaces="al-v1",
    ),
    DemoFootprint(
        "steel-mill",
        "hrc-v1",
        "Hot-rolled coil, EAF route",
        "urn:pact:steel-mill.example:product:hrc-eaf",
        "Hot-rolled steel coil from scrap-based electric arc furnace.",
        "kilogram",
        "1",
        "0.74",
        "0.74",
        "0.73",
        "CN",
        "urn:pact:cpc:41231",
        primary_share="85",
    ),
)


def demo_pf_id(key: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, key)


def demo_document(spec: DemoFootprint, company: Company) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": str(demo_pf_id(spec.key)),
        "specVersion": SPEC_VERSION,
        "created": "2026-02-15T08:00:00Z",
        "status": "Active",
        "companyName": company.legal_name,
        "companyIds": list(company.identifiers.values_list("urn", flat=True)),
        "productDescription": spec.description,
        "productIds": [spec.product_urn],
        "productClassifications": [spec.cpc],
        "productNameCompany": spec.product,
        "pcf": {
            "declaredUnitOfMeasurement": spec.unit,
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": spec.mass,
            "referencePeriodStart": spec.period[0],
            "referencePeriodEnd": spec.period[1],
            "geographyCountry": spec.country,
            "pcfExcludingBiogenicUptake": spec.pcf,
            "pcfIncludingBiogenicUptake": spec.pcf_incl,
            "fossilGhgEmissions": spec.fossil,
            "fossilCarbonContent": "0",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067", "PACT-3.0"],
            "boundaryProcessesDescription": "Cradle to gate: raw materials, energy, processing, "
            "internal transport and packaging; capital goods excluded.",
            "exemptedEmissionsPercent": "0.8",
            "primaryDataShare": spec.primary_share,
            **spec.extra,
        },
    }
    if spec.replaces:
        document["precedingPfIds"] = [str(demo_pf_id(spec.replaces))]
    return document


@transaction.atomic
def seed(stdout: Any = None) -> int:
    """Sign (with each supplier's platform-held key) and submit the demo footprints."""
    created = 0
    for spec in DEMO:
        if Footprint.objects.filter(pf_id=demo_pf_id(spec.key)).exists():
            continue
        company = Company.objects.get(slug=spec.company)
        admin = (
            Membership.objects.filter(company=company, role="admin").select_related("user").first()
        )
        actor = Actor(company=company, role="admin", user=admin.user if admin else None)
        document = demo_document(spec, company)
        token = services.footprint_sign_with_platform_key(actor=actor, document=document)
        services.footprint_submit(actor=actor, jws=token, channel=SubmissionChannel.PORTAL)
        created += 1
    if stdout is not None and created:
        stdout.write(f"{created} demo footprint(s) signed and submitted.")
    seed_sharing(stdout)
    return created


# --------------------------------------------------------------------------- sharing

BUYER = "europa-auto"
#: europa-auto's own part number for the NCM811 cathode (on file at cathode-maker).
CATHODE_PART_NUMBER = "EA-NCM811-2026"
REJECTION = (
    "Our 2025 aluminium PCF is being re-verified after the verifier's finding on the power "
    "purchase agreement; we will share the corrected footprint once it is attested."
)


def _actor(slug: str) -> Actor:
    company = Company.objects.get(slug=slug)
    admin = Membership.objects.filter(company=company, role="admin").select_related("user").first()
    return Actor(company=company, role="admin", user=admin.user if admin else None)


def _product_id(supplier: str, urn: str) -> int:
    return ProductIdentifier.objects.get(company__slug=supplier, urn=urn).product_id


def _urn(key: str) -> str:
    return next(spec.product_urn for spec in DEMO if spec.key == key)


def seed_sharing(stdout: Any = None) -> int:
    """The zone's sharing, through the services: europa-auto's partly covered supply
    chain (li-refinery fulfilled with the footprint, steel-mill fulfilled with the whole
    product, cell-maker answered by an auto-fulfil rule, cathode-maker pending by
    europa-auto's part number, al-smelter rejected with a reason), pack-maker's pack
    published to the zone, and cathode-maker's own pending request to li-refinery.
    Returns how many requests were made (0 when the zone has them already)."""
    if DataRequest.objects.filter(buyer__slug=BUYER, supplier__slug="li-refinery").exists():
        return 0
    today = timezone.localdate()
    buyer = _actor(BUYER)

    # What the suppliers set up beforehand.
    sharing.part_number_set(
        actor=_actor("cathode-maker"),
        buyer=BUYER,
        part_number=CATHODE_PART_NUMBER,
        product_id=_product_id("cathode-maker", _urn("ncm811-v1")),
    )
    sharing.auto_rule_create(
        actor=_actor("cell-maker"),
        buyer=BUYER,
        product_ids=[_product_id("cell-maker", _urn("cell-v1"))],
        only_verified=False,
    )
    sharing.footprint_publish(actor=_actor("pack-maker"), footprint_id=str(demo_pf_id("pack-v1")))

    # europa-auto asks its suppliers for their footprints.
    def ask(supplier: str, **what: Any) -> DataRequest:
        return sharing.request_create(actor=buyer, supplier=supplier, **what)

    lithium = ask(
        "li-refinery",
        product_ids=[_urn("li2co3-v2")],
        comment="For the battery passport of the 2027 EV platform.",
        due_date=today + timedelta(days=30),
    )
    sharing.request_fulfil(
        actor=_actor("li-refinery"), request=lithium, footprint_ids=[str(demo_pf_id("li2co3-v2"))]
    )
    steel = ask(
        "steel-mill",
        product_ids=[_urn("hrc-v1")],
        comment="Hot-rolled coil for the battery housing; please keep us updated.",
    )
    sharing.request_fulfil(
        actor=_actor("steel-mill"),
        request=steel,
        footprint_ids=[str(demo_pf_id("hrc-v1"))],
        whole_product=True,
    )
    ask("cell-maker", product_ids=[_urn("cell-v1")])  # answered by cell-maker's rule
    ask(
        "cathode-maker",
        part_number=CATHODE_PART_NUMBER,
        comment="Needed for the supplier review in two weeks.",
        due_date=today + timedelta(days=10),
    )
    aluminium = ask("al-smelter", product_ids=[_urn("al-v2")])
    sharing.request_reject(actor=_actor("al-smelter"), request=aluminium, reason=REJECTION)

    # A supplier is a buyer too: cathode-maker asks li-refinery (waiting in its inbox).
    sharing.request_create(
        actor=_actor("cathode-maker"),
        supplier="li-refinery",
        product_ids=[_urn("li2co3-v2")],
        comment="Precursor lithium for our NCM811 line.",
        due_date=today + timedelta(days=21),
    )
    if stdout is not None:
        stdout.write(
            "Sharing: europa-auto's supply chain: 3 suppliers answered (one by an auto-fulfil "
            "rule), 1 pending, 1 rejected; pack-maker's pack published to the zone."
        )
    return 6
