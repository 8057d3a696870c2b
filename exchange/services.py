"""Writes for products and footprints: submission, versions, deprecation, bulk jobs.

Every submission runs the same steps whatever the channel (API, portal form, bulk
upload, CLI): size limit → strict JSON → canonical bytes → PACT v3 rules → key and
signature → company match → idempotency → store with its audit entry, in one
transaction. A refusal names the field (JSON Pointer for the document) and the rule,
and stores nothing.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_append, audit_append_many
from companies.access import Actor
from companies.errors import Conflict, DomainError, NotFound, ValidationFailed
from companies.identifiers import IdentifierError, normalize_identifier
from companies.models import Company, KeyCustody, MemberRole, SigningKey
from companies.services import signing_key_private, signing_key_verifies_at

from .copy_insert import copy_insert
from .models import (
    BulkUpload,
    Footprint,
    FootprintStatus,
    Product,
    ProductIdentifier,
    SubmissionChannel,
)
from .pact.validation import Problem, validate_product_footprint
from .signing import (
    SignatureProblem,
    SignedFootprint,
    parse_signed_footprint,
    sign_footprint,
    verify_signed_footprint,
)

# PACT events (exchange.pact_events, registered in ExchangeConfig.ready()): called with
# (deprecated footprint, its successor) inside the storing transaction, so that buyers
# with a grant of the old version are told (a PublishedEvent through the outbox).
FOOTPRINT_REPLACED_HOOKS: list[Callable[[Footprint, Footprint], None]] = []

# Limits of the exchange's columns (PACT itself sets none).
MAX_PRODUCT_ID_LENGTH = 255
MAX_PRODUCT_NAME_LENGTH = 500
MAX_DECIMAL_LENGTH = 64


@transaction.atomic
def product_create(
    *,
    actor: Actor,
    name: str,
    product_ids: Sequence[str],
    description: str = "",
    classifications: Sequence[str] = (),
) -> Product:
    """Register a product with its ids (URNs, unique within the company)."""
    actor.require_role(MemberRole.EDITOR, to="add products")
    actor.require_writable()
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = ["the product name is required"]
    cleaned: list[str] = []
    for index, raw in enumerate(product_ids):
        try:
            _, urn = (
                normalize_identifier(raw) if raw.strip().lower().startswith("urn:") else ("", "")
            )
        except IdentifierError as exc:
            errors[f"product_ids[{index}]"] = [str(exc)]
            continue
        if not urn:
            errors[f"product_ids[{index}]"] = [f"must be a URN (urn:<namespace>:<id>), got {raw!r}"]
        elif urn in cleaned:
            errors[f"product_ids[{index}]"] = [f"{urn} is listed twice"]
        elif ProductIdentifier.objects.filter(company=actor.company, urn=urn).exists():
            errors[f"product_ids[{index}]"] = [f"{urn} already names another of your products"]
        else:
            cleaned.append(urn)
    if not product_ids:
        errors["product_ids"] = ["at least one product id (URN) is required"]
    for index, urn in enumerate(classifications):
        if not urn.strip().lower().startswith("urn:"):
            errors[f"classifications[{index}]"] = [f"must be a URN, got {urn!r}"]
    if errors:
        raise ValidationFailed(errors)
    product = Product.objects.create(
        company=actor.company,
        name=name,
        description=description.strip(),
        classifications=[c.strip() for c in classifications],
    )
    ProductIdentifier.objects.bulk_create(
        ProductIdentifier(company=actor.company, product=product, urn=urn) for urn in cleaned
    )
    _audit(actor, "product.created", f"product:{product.pk}", name=name, product_ids=cleaned)
    return product


@dataclass(frozen=True)
class SubmissionResult:
    """A stored footprint and whether this call created it (False: idempotent repeat)."""

    footprint: Footprint
    created: bool


class ItemRefused(Exception):
    """Item ``index`` of a submission was refused; ``error`` says why."""

    def __init__(self, index: int, error: DomainError):
        super().__init__(error.message)
        self.index = index
        self.error = error


def _audit(actor: Actor, type: str, subject: str, **payload: Any) -> None:
    audit_append(**_audit_item(actor, type, subject, **payload))


def _audit_item(actor: Actor, type: str, subject: str, **payload: Any) -> dict[str, Any]:
    return {
        "type": type,
        "actor": actor.audit_ref,
        "company": actor.company.slug,
        "subject": subject,
        "payload": payload,
    }


def _problem(exc: SignatureProblem) -> ValidationFailed:
    return ValidationFailed.single(exc.field, exc.message)


def validate_document(document: Any) -> list[Problem]:
    """The PACT v3 rules, for previews before signing (the same rules submission uses)."""
    return validate_product_footprint(document)


def _when(text: str, pointer: str) -> datetime:
    """An RFC 3339 date-time the validator has accepted (lower-case t/z included), in
    UTC: PostgreSQL refuses offsets beyond ±15:59, which RFC 3339 allows."""
    if len(text) > 10 and text[10] in "tT":
        text = f"{text[:10]}T{text[11:]}"
    if text[-1:] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationFailed.single(
            pointer, f"{text!r} is outside the range the exchange stores"
        ) from exc


class Submitter:
    """Checks and stores signed footprints for one actor.

    One submission or a batch of thousands go through the same code: ``prepare`` runs
    every check that needs no lock on each item; ``store`` writes a list of prepared
    items with a fixed number of queries (idempotency, predecessors, products,
    footprints, audit entries), whatever the batch size. What all items share (the
    company's identifiers, its keys) is read once.
    """

    def __init__(self, actor: Actor):
        actor.require_role(MemberRole.EDITOR, to="submit footprints")
        actor.require_writable()
        self.actor = actor
        self.company = actor.company
        self._company_ids: set[str] | None = None
        self._keys: dict[str, SigningKey | None] = {}

    # --- checks without locks --------------------------------------------------------

    def prepare(self, *, jws: Any, document: Any = None) -> SignedFootprint:
        """Parse, canonical bytes, PACT rules, key, signature, company; raises
        ValidationFailed naming the field (a JSON Pointer for the document)."""
        limit = settings.FOOTPRINT_MAX_BYTES
        if isinstance(jws, str) and len(jws) > limit * 2:  # base64url adds a third
            raise ValidationFailed.single(
                "jws", f"is {len(jws)} characters; a signed footprint may be at most {limit} bytes"
            )
        try:
            signed = parse_signed_footprint(jws, document)
        except SignatureProblem as exc:
            raise _problem(exc) from exc
        if len(signed.canonical) > limit:
            raise ValidationFailed.single(
                "footprint", f"is {len(signed.canonical)} bytes; the limit is {limit}"
            )
        self._check_pact(signed.document)
        key = self.key(signed.kid)
        try:
            verify_signed_footprint(signed, key.public_jwk)
        except SignatureProblem as exc:
            raise _problem(exc) from exc
        self._check_ours(signed.document)
        return signed

    def check_document(self, doc: Any) -> None:
        """The document rules, signature aside: PACT v3, Active, this company's, and
        within the exchange's column limits. Run before the platform signs."""
        self._check_pact(doc)
        self._check_ours(doc)

    def _check_pact(self, doc: Any) -> None:
        problems = validate_product_footprint(doc)
        if problems:
            errors: dict[str, list[str]] = {}
            for problem in problems:
                errors.setdefault(problem.pointer or "/", []).append(problem.message)
            raise ValidationFailed(errors)
        if doc["status"] != FootprintStatus.ACTIVE:
            raise ValidationFailed.single("/status", "a new footprint must be Active")

    def _check_ours(self, doc: dict[str, Any]) -> None:
        self._check_company(doc)
        self._check_lengths(doc)
        for pointer, text in (
            ("/created", doc["created"]),
            ("/pcf/referencePeriodStart", doc["pcf"]["referencePeriodStart"]),
            ("/pcf/referencePeriodEnd", doc["pcf"]["referencePeriodEnd"]),
        ):
            _when(text, pointer)

    def _check_lengths(self, doc: dict[str, Any]) -> None:
        # PACT sets no lengths; the exchange stores these in indexed columns.
        errors: dict[str, list[str]] = {}
        for index, urn in enumerate(doc["productIds"]):
            if len(urn) > MAX_PRODUCT_ID_LENGTH:
                errors[f"/productIds/{index}"] = [
                    f"is {len(urn)} characters; the exchange accepts product ids of at most "
                    f"{MAX_PRODUCT_ID_LENGTH}"
                ]
        if len(doc["productNameCompany"]) > MAX_PRODUCT_NAME_LENGTH:
            errors["/productNameCompany"] = [
                f"is {len(doc['productNameCompany'])} characters; at most "
                f"{MAX_PRODUCT_NAME_LENGTH} are accepted"
            ]
        if len(doc["pcf"]["pcfExcludingBiogenicUptake"]) > MAX_DECIMAL_LENGTH:
            errors["/pcf/pcfExcludingBiogenicUptake"] = [
                f"has more than {MAX_DECIMAL_LENGTH} characters"
            ]
        if errors:
            raise ValidationFailed(errors)

    def key(self, kid: str) -> SigningKey:
        """The company's key ``kid``, usable now; refused naming jws.header.kid."""
        if kid not in self._keys:
            self._keys[kid] = SigningKey.objects.filter(kid=kid, company=self.company).first()
        key = self._keys[kid]
        if key is None:
            raise ValidationFailed.single(
                "jws.header.kid", f"{kid} is not a signing key of {self.company.legal_name}"
            )
        if not signing_key_verifies_at(key, timezone.now()):
            state = f"revoked ({key.revocation_reason})" if key.is_revoked else "not yet valid"
            raise ValidationFailed.single("jws.header.kid", f"the key {kid} is {state}")
        return key

    def _check_company(self, doc: dict[str, Any]) -> None:
        if doc["companyName"].strip() != self.company.legal_name:
            raise ValidationFailed.single(
                "/companyName",
                f"must be the submitting company's legal name {self.company.legal_name!r}",
            )
        if self._company_ids is None:
            self._company_ids = set(self.company.identifiers.values_list("urn", flat=True))
        errors = {
            f"/companyIds/{index}": [f"{urn} is not an identifier of {self.company.legal_name}"]
            for index, urn in enumerate(doc["companyIds"])
            if urn not in self._company_ids
        }
        if errors:
            raise ValidationFailed(errors)

    # --- storing (the caller holds the transaction) ------------------------------------

    def store(self, items: Sequence[SignedFootprint], *, channel: str) -> list[SubmissionResult]:
        """Store prepared items in order; raises ItemRefused for the first bad one."""
        # One company's submissions are stored one after another (their checks above
        # still run in parallel): two batches naming the same new product must not both
        # create it, and a predecessor must not be replaced twice.
        Company.objects.select_for_update().filter(pk=self.company.pk).values_list("pk").first()
        ids = [uuid.UUID(item.document["id"]) for item in items]
        existing = {
            fp.pf_id: fp
            for fp in Footprint.objects.filter(pf_id__in=ids).select_related(
                "product", "signing_key"
            )
        }
        results: list[SubmissionResult | None] = [None] * len(items)
        new: list[int] = []
        for index, (pf_id, item) in enumerate(zip(ids, items, strict=True)):
            found = existing.get(pf_id)
            if found is None:
                new.append(index)
            elif (
                found.company_id == self.company.pk
                and bytes(found.canonical_bytes) == item.canonical
            ):
                results[index] = SubmissionResult(found, created=False)
            else:
                raise ItemRefused(
                    index,
                    Conflict(
                        f"/id: footprint {pf_id} already exists with other content; a change "
                        "needs a new id that lists the old one in precedingPfIds",
                        field="/id",
                    ),
                )
        named = self._lock_predecessors([(i, items[i]) for i in new])
        products = self._products([(i, items[i]) for i in new])
        footprints = [self._footprint(items[i], ids[i], products[i], channel) for i in new]
        copy_insert(footprints)
        # A batch may hold a footprint and its successor: resolve those links now that
        # the earlier item has a row.
        by_index = dict(zip(new, footprints, strict=True))
        predecessors = {
            index: [old if isinstance(old, Footprint) else by_index[old] for old in olds]
            for index, olds in named.items()
        }
        links = [
            Footprint.preceding.through(from_footprint_id=footprint.pk, to_footprint_id=old.pk)
            for index, footprint in zip(new, footprints, strict=True)
            for old in predecessors.get(index, [])
        ]
        Footprint.preceding.through.objects.bulk_create(links)
        entries = []
        for index, footprint in zip(new, footprints, strict=True):
            doc = items[index].document
            entries.append(
                _audit_item(
                    self.actor,
                    "footprint.submitted",
                    f"footprint:{footprint.pf_id}",
                    sha256=footprint.sha256,
                    kid=footprint.signing_key.kid,
                    platform_signed=footprint.platform_signed,
                    product_ids=list(doc["productIds"]),
                    preceding=[str(old.pf_id) for old in predecessors.get(index, [])],
                )
            )
            for old in predecessors.get(index, []):
                _mark_deprecated(old, reason=f"superseded by {footprint.pf_id}")
                for hook in FOOTPRINT_REPLACED_HOOKS:  # PACT events: see the list's comment
                    hook(old, footprint)
                entries.append(
                    _audit_item(
                        self.actor,
                        "footprint.deprecated",
                        f"footprint:{old.pf_id}",
                        reason=old.deprecation_reason,
                        successor=str(footprint.pf_id),
                    )
                )
            results[index] = SubmissionResult(footprint, created=True)
        audit_append_many(entries)
        return [result for result in results if result is not None]

    def _footprint(
        self, item: SignedFootprint, pf_id: uuid.UUID, product: Product, channel: str
    ) -> Footprint:
        doc, key = item.document, self.key(item.kid)
        pcf = doc["pcf"]
        return Footprint(
            pf_id=pf_id,
            company=self.company,
            product=product,
            canonical_bytes=item.canonical,
            sha256=item.sha256_hex,
            jws=item.token,
            signing_key=key,
            platform_signed=key.custody == KeyCustody.PLATFORM,
            spec_version=doc["specVersion"],
            product_name=doc["productNameCompany"],
            declared_unit=pcf["declaredUnitOfMeasurement"],
            pcf_excluding_biogenic_uptake=pcf["pcfExcludingBiogenicUptake"],
            reference_period_start=_when(pcf["referencePeriodStart"], "/pcf/referencePeriodStart"),
            reference_period_end=_when(pcf["referencePeriodEnd"], "/pcf/referencePeriodEnd"),
            document_created=_when(doc["created"], "/created"),
            channel=channel,
            submitted_by=self.actor.user,
            submitted_by_client=self.actor.client,
        )

    def _lock_predecessors(
        self, items: list[tuple[int, SignedFootprint]]
    ) -> dict[int, list[Footprint | int]]:
        """Each item's predecessors: a stored footprint (locked), or the index of an
        earlier item of the same batch."""
        wanted = {
            index: [uuid.UUID(pf_id) for pf_id in item.document.get("precedingPfIds") or []]
            for index, item in items
        }
        all_ids = {pf_id for ids in wanted.values() for pf_id in ids}
        if not all_ids:
            return {}
        in_batch = {uuid.UUID(item.document["id"]): index for index, item in items}
        # Locked in primary-key order so two successors of one footprint serialise.
        rows = {
            row.pf_id: row
            for row in Footprint.objects.select_for_update()
            .filter(company=self.company, pf_id__in=all_ids)
            .order_by("pk")
        }
        claimed: dict[uuid.UUID, int] = {}
        result: dict[int, list[Footprint | int]] = {}
        for index, ids in wanted.items():
            for position, pf_id in enumerate(ids):
                row = rows.get(pf_id)
                earlier = in_batch.get(pf_id)
                pointer = f"/precedingPfIds/{position}"
                if row is None and (earlier is None or earlier >= index):
                    refusal = f"{pf_id} is not a footprint of yours"
                    if earlier is not None:
                        refusal += " (it comes later in this batch: put it before its successor)"
                elif row is not None and row.status == FootprintStatus.DEPRECATED:
                    refusal = f"{pf_id} is already deprecated; name the footprint that replaced it"
                elif pf_id in claimed:
                    refusal = f"{pf_id} is already replaced by item {claimed[pf_id]} of this batch"
                else:
                    claimed[pf_id] = index
                    result.setdefault(index, []).append(row if row is not None else earlier)  # type: ignore[arg-type]
                    continue
                raise ItemRefused(index, ValidationFailed.single(pointer, refusal))
        return result

    def _products(self, items: list[tuple[int, SignedFootprint]]) -> dict[int, Product]:
        """Each item's product, found by its productIds or created; new ids recorded."""
        urns = {urn for _, item in items for urn in item.document["productIds"]}
        by_urn: dict[str, Product] = {
            identifier.urn: identifier.product
            for identifier in ProductIdentifier.objects.filter(
                company=self.company, urn__in=urns
            ).select_related("product")
        }
        known_urns = set(by_urn)
        new_products: list[Product] = []
        chosen: dict[int, Product] = {}
        for index, item in items:
            doc = item.document
            # By identity: products created earlier in this batch have no pk yet.
            matches = list(
                {id(by_urn[u]): by_urn[u] for u in doc["productIds"] if u in by_urn}.values()
            )
            if len(matches) > 1:
                raise ItemRefused(
                    index,
                    ValidationFailed.single(
                        "/productIds",
                        "names more than one of your products; a footprint is for one product",
                    ),
                )
            product = matches.pop() if matches else None
            if product is None:
                product = Product(
                    company=self.company,
                    name=doc["productNameCompany"],
                    description=doc["productDescription"],
                    classifications=list(doc.get("productClassifications") or []),
                )
                new_products.append(product)
            for urn in doc["productIds"]:
                by_urn.setdefault(urn, product)
            chosen[index] = product
        Product.objects.bulk_create(new_products)
        ProductIdentifier.objects.bulk_create(
            ProductIdentifier(company=self.company, product=product, urn=urn)
            for urn, product in by_urn.items()
            if urn not in known_urns
        )
        return chosen


def _mark_deprecated(footprint: Footprint, *, reason: str) -> None:
    """The one change a stored footprint may undergo (conditional: once only)."""
    changed = Footprint.objects.filter(pk=footprint.pk, status=FootprintStatus.ACTIVE).update(
        status=FootprintStatus.DEPRECATED, deprecated_at=timezone.now(), deprecation_reason=reason
    )
    if not changed:
        raise Conflict(f"footprint {footprint.pf_id} is already deprecated", field="status")
    footprint.refresh_from_db(fields=["status", "deprecated_at", "deprecation_reason"])


@transaction.atomic
def footprint_submit(
    *, actor: Actor, jws: Any, document: Any = None, channel: str = SubmissionChannel.API
) -> SubmissionResult:
    """Accept one signed footprint: size limit, strict JSON, canonical bytes, PACT v3
    rules, key and signature, company match, idempotency, then store with its audit
    entry in this transaction. A refusal names the field and stores nothing."""
    submitter = Submitter(actor)
    signed = submitter.prepare(jws=jws, document=document)
    try:
        with transaction.atomic():
            return submitter.store([signed], channel=channel)[0]
    except ItemRefused as exc:
        raise exc.error from exc
    except IntegrityError as exc:  # the same id stored concurrently
        raise Conflict("/id: this footprint id was just stored by another request") from exc


@transaction.atomic
def footprint_submit_many(
    *, actor: Actor, items: Sequence[Any], channel: str = SubmissionChannel.API
) -> list[SubmissionResult]:
    """Accept a batch all-or-nothing; errors are reported per item as ``/<index>/…``."""
    if len(items) > settings.FOOTPRINT_BATCH_MAX:
        raise ValidationFailed.single(
            "items",
            f"{len(items)} footprints; a batch may hold at most {settings.FOOTPRINT_BATCH_MAX}",
        )
    submitter = Submitter(actor)
    signed: list[SignedFootprint] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"/{index}"] = ['must be an object {"jws": …, "footprint"?: …}']
            continue
        try:
            signed.append(submitter.prepare(jws=item.get("jws"), document=item.get("footprint")))
        except ValidationFailed as exc:
            for field, messages in exc.errors.items():
                errors[f"/{index}{_as_pointer(field)}"] = messages
    positions: dict[str, int] = {}
    for index, item in enumerate(signed):
        pf_id = item.document["id"]
        if pf_id in positions:
            errors.setdefault(f"/{index}/id", []).append(
                f"{pf_id} also appears as item {positions[pf_id]} of the batch"
            )
        positions.setdefault(pf_id, index)
    if errors:
        raise ValidationFailed(errors)
    try:
        return submitter.store(signed, channel=channel)
    except ItemRefused as exc:
        raise _item_errors(exc) from exc
    except IntegrityError as exc:
        raise Conflict("a footprint of this batch was just stored by another request") from exc


def _item_errors(exc: ItemRefused) -> ValidationFailed:
    """An item's refusal as errors keyed ``/<index>/<pointer>``."""
    error = exc.error
    if isinstance(error, ValidationFailed):
        return ValidationFailed(
            {f"/{exc.index}{_as_pointer(field)}": msgs for field, msgs in error.errors.items()}
        )
    message = error.message
    if error.field and message.startswith(f"{error.field}: "):
        message = message[len(error.field) + 2 :]
    return ValidationFailed({f"/{exc.index}{_as_pointer(error.field or '')}": [message]})


def _as_pointer(field: str) -> str:
    if not field:
        return ""
    return field if field.startswith("/") else f"/{field}"


@transaction.atomic
def footprint_deprecate(*, actor: Actor, footprint: Footprint, reason: str) -> Footprint:
    """Deprecate a footprint without a successor (e.g. the product was discontinued)."""
    actor.require_role(MemberRole.EDITOR, to="deprecate footprints")
    actor.require_writable()
    if footprint.company_id != actor.company.pk:
        raise NotFound("no such footprint")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single("reason", "say why the footprint is deprecated")
    _mark_deprecated(footprint, reason=reason)
    _audit(
        actor, "footprint.deprecated", f"footprint:{footprint.pf_id}", reason=reason, successor=None
    )
    return footprint


def platform_signing_key(actor: Actor) -> SigningKey:
    """The company's newest usable platform-held key."""
    key = (
        SigningKey.objects.filter(
            company=actor.company, custody=KeyCustody.PLATFORM, revoked_at__isnull=True
        )
        .order_by("-valid_from")
        .first()
    )
    if key is None:
        raise ValidationFailed.single(
            "signing_key",
            "your company has no active platform-held key: create one under Signing keys, "
            "or sign with your own key (carbonx sign)",
        )
    return key


def platform_signer(*, actor: Actor) -> Callable[[Any], str]:
    """A function that signs footprints with the company's platform-held key.

    The private key is decrypted once (a bulk upload signs thousands of rows) and
    lives only in this closure. The platform signs only a valid footprint of the
    actor's company; every JWS it makes still goes through all the checks of
    ``footprint_submit``.
    """
    actor.require_role(MemberRole.EDITOR, to="sign footprints")
    submitter = Submitter(actor)  # editor, not suspended
    private_key = signing_key_private(platform_signing_key(actor))

    def sign(document: Any) -> str:
        if document is None:
            raise ValidationFailed.single("footprint", "the footprint to sign is required")
        submitter.check_document(document)
        try:
            return sign_footprint(document, private_key)
        except SignatureProblem as exc:
            raise _problem(exc) from exc

    return sign


def footprint_sign_with_platform_key(*, actor: Actor, document: Any) -> str:
    """Sign one footprint with the company's platform-held key (the portal form)."""
    return platform_signer(actor=actor)(document)


# --- bulk uploads ------------------------------------------------------------------------

UPLOAD_FORMATS = ("csv", "xlsx", "json")


@transaction.atomic
def upload_create(
    *, actor: Actor, file_name: str, data: bytes, all_or_nothing: bool = True
) -> BulkUpload:
    """Accept a spreadsheet (signed with the platform-held key) or a signed JSON array
    (made by ``carbonx sign``) for processing as a job; the job starts after commit."""
    actor.require_role(MemberRole.EDITOR, to="upload footprints")
    actor.require_writable()
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension not in UPLOAD_FORMATS:
        raise ValidationFailed.single(
            "file", f"must be a .csv, .xlsx or .json file (signed array); got {file_name!r}"
        )
    if not data:
        raise ValidationFailed.single("file", "is empty")
    if len(data) > settings.BULK_UPLOAD_MAX_BYTES:
        raise ValidationFailed.single(
            "file", f"is {len(data)} bytes; the limit is {settings.BULK_UPLOAD_MAX_BYTES}"
        )
    if extension != "json":
        platform_signing_key(actor)  # refuse now, not after the upload, if there is no key
    upload = BulkUpload.objects.create(
        company=actor.company,
        created_by=actor.user,
        created_by_client=actor.client,
        file_name=file_name[:255],
        file_format=extension,
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        all_or_nothing=all_or_nothing,
        phase="waiting for a worker",
    )
    _audit(
        actor,
        "upload.created",
        f"upload:{upload.pk}",
        file_name=upload.file_name,
        sha256=upload.sha256,
        size=len(data),
    )
    from .tasks import bulk_upload_process

    upload_id = upload.pk
    transaction.on_commit(lambda: bulk_upload_process.delay(upload_id))
    return upload
