"""Writes for companies, people, keys and machine clients.

Each service takes the acting ``Actor``, checks the rule it enforces, changes the
database in one transaction and appends the audit entry inside that same transaction,
so a change and its record commit or roll back together.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from oauth2_provider.models import get_application_model

from audit.services import audit_append
from trust import keys as trust_keys
from trust.errors import KeyFormatError

from .access import Actor
from .errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from .identifiers import IdentifierError, normalize_identifier
from .models import (
    ApiClient,
    Company,
    CompanyIdentifier,
    CompanyStatus,
    Invitation,
    KeyCustody,
    MemberRole,
    Membership,
    RevocationReason,
    SigningKey,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.contrib.auth.models import User

COMPANY_ROLES = ("supplier", "buyer", "verifier", "operator")
MAX_IDENTIFIER_LENGTH = CompanyIdentifier._meta.get_field("urn").max_length or 255


def user_ref(user: User) -> str:
    """How a person is named in the audit log: a pseudonymous, stable id.

    The log is public and can never be edited, so it must hold no personal data (user
    names are often e-mail addresses); the portal maps ids back to names for members.
    """
    return f"user:{user.pk}"


def _audit(
    actor: Actor | str | None, type: str, company: Company, subject: str, **payload: Any
) -> None:
    if isinstance(actor, Actor):
        actor = actor.audit_ref
    audit_append(
        type=type,
        actor=actor or "system",
        company=company.slug,
        subject=subject,
        payload=payload,
    )


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- companies -------------------------------------------------------------------------


def _clean_identifiers(identifiers: Iterable[str], *, exclude_company: Company | None = None):
    cleaned: list[tuple[str, str]] = []
    errors: list[str] = []
    for position, raw in enumerate(identifiers):
        try:
            scheme, urn = normalize_identifier(raw)
            if len(urn) > MAX_IDENTIFIER_LENGTH:
                raise IdentifierError(f"must be at most {MAX_IDENTIFIER_LENGTH} characters")
        except IdentifierError as exc:
            errors.append(f"[{position}] {exc}")
            continue
        if any(urn == seen for _, seen in cleaned):
            errors.append(f"[{position}] {urn} is listed twice")
            continue
        taken = CompanyIdentifier.objects.filter(urn=urn)
        if exclude_company is not None:
            taken = taken.exclude(company=exclude_company)
        if taken.exists():
            errors.append(f"[{position}] {urn} already belongs to another company in the zone")
            continue
        cleaned.append((scheme, urn))
    if errors:
        raise ValidationFailed({"identifiers": errors})
    if not any(scheme in ("uscc", "lei") for scheme, _ in cleaned):
        raise ValidationFailed.single(
            "identifiers", "at least one USCC or LEI is required to identify the legal entity"
        )
    return cleaned


def _clean_roles(roles: Sequence[str]) -> dict[str, bool]:
    unknown = sorted(set(roles) - set(COMPANY_ROLES))
    if unknown:
        raise ValidationFailed.single(
            "roles", f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(COMPANY_ROLES)}"
        )
    if not roles:
        raise ValidationFailed.single("roles", "a company needs at least one role")
    return {f"is_{role}": role in roles for role in COMPANY_ROLES}


@transaction.atomic
def company_onboard(
    *,
    actor: Actor | None,
    legal_name: str,
    identifiers: Sequence[str],
    roles: Sequence[str],
    slug: str = "",
    contact_email: str = "",
    website: str = "",
    address: str = "",
    activate: bool = False,
) -> Company:
    """The zone operator registers a company (pending until activated).

    ``actor`` None is the platform itself (bootstrapping the operator, seed data).
    """
    if actor is not None:
        actor.require_operator(to="onboard companies")
        actor.require_role(MemberRole.ADMIN, to="onboard companies")
        actor.require_writable()
    legal_name = legal_name.strip()
    if not legal_name:
        raise ValidationFailed.single("legal_name", "the legal name is required")
    slug = slugify(slug or legal_name)[:60]
    if not slug:
        raise ValidationFailed.single("slug", "must contain letters or digits")
    if Company.objects.filter(slug=slug).exists():
        raise ValidationFailed.single("slug", f"{slug!r} is already used by another company")
    cleaned = _clean_identifiers(identifiers)
    flags = _clean_roles(roles)
    status = CompanyStatus.ACTIVE if activate else CompanyStatus.PENDING
    company = Company.objects.create(
        slug=slug,
        legal_name=legal_name,
        contact_email=contact_email,
        website=website,
        address=address,
        status=status,
        status_changed_at=timezone.now(),
        **flags,
    )
    try:
        with transaction.atomic():
            CompanyIdentifier.objects.bulk_create(
                CompanyIdentifier(company=company, scheme=scheme, urn=urn)
                for scheme, urn in cleaned
            )
    except IntegrityError as exc:  # a concurrent onboarding claimed the same URN
        raise ValidationFailed.single(
            "identifiers", "an identifier was just registered by another company"
        ) from exc
    _audit(
        actor,
        "company.onboarded",
        company,
        f"company:{slug}",
        legal_name=legal_name,
        identifiers=[urn for _, urn in cleaned],
        roles=company.roles,
        status=status,
    )
    return company


def _set_status(
    *, actor: Actor, company: Company, to: str, allowed_from: Sequence[str], reason: str = ""
) -> Company:
    actor.require_operator(to="change a company's status")
    actor.require_role(MemberRole.ADMIN, to="change a company's status")
    actor.require_writable()
    if company.pk == actor.company.pk and to == CompanyStatus.SUSPENDED:
        raise PermissionDenied("the zone operator cannot suspend itself")
    # Conditional update: only one of two concurrent status changes wins.
    changed = Company.objects.filter(pk=company.pk, status__in=allowed_from).update(
        status=to, suspension_reason=reason, status_changed_at=timezone.now()
    )
    if not changed:
        company.refresh_from_db(fields=["status"])
        raise Conflict(
            f"status: {company.legal_name} is {company.status}; it must be "
            f"{' or '.join(allowed_from)} for this change",
            field="status",
        )
    company.refresh_from_db()
    _audit(actor, f"company.{to}", company, f"company:{company.slug}", status=to, reason=reason)
    return company


@transaction.atomic
def company_activate(*, actor: Actor, company: Company) -> Company:
    """Activate a pending company, or reinstate a suspended one."""
    return _set_status(
        actor=actor,
        company=company,
        to=CompanyStatus.ACTIVE,
        allowed_from=[CompanyStatus.PENDING, CompanyStatus.SUSPENDED],
    )


@transaction.atomic
def company_suspend(*, actor: Actor, company: Company, reason: str) -> Company:
    """Suspend a company: its people and clients can still read but change nothing."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.single("reason", "say why the company is suspended")
    return _set_status(
        actor=actor,
        company=company,
        to=CompanyStatus.SUSPENDED,
        allowed_from=[CompanyStatus.PENDING, CompanyStatus.ACTIVE],
        reason=reason,
    )


@transaction.atomic
def company_update_profile(
    *, actor: Actor, contact_email: str, website: str, address: str
) -> Company:
    """A company admin keeps the contact details current (legal data is the operator's)."""
    actor.require_role(MemberRole.ADMIN, to="edit the company profile")
    actor.require_writable()
    company = actor.company
    company.contact_email, company.website, company.address = contact_email, website, address
    try:
        company.full_clean(exclude=["slug"])
    except DjangoValidationError as exc:
        raise ValidationFailed({f: list(m) for f, m in exc.message_dict.items()}) from exc
    company.save(update_fields=["contact_email", "website", "address"])
    _audit(
        actor,
        "company.profile_updated",
        company,
        f"company:{company.slug}",
        contact_email=contact_email,
        website=website,
        address=address,
    )
    return company


# --- people ----------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, actor: Actor, email: str, role: str, company: Company | None = None
) -> tuple[Invitation, str]:
    """Invite someone by link; returns the invitation and the one-time token.

    A company admin invites into its own company; the zone operator may invite the
    first admin of any company it onboarded.
    """
    target = company or actor.company
    if target.pk != actor.company.pk:
        actor.require_operator(to="invite people into another company")
    actor.require_role(MemberRole.ADMIN, to="invite people")
    actor.require_writable()
    if role not in MemberRole.values:
        raise ValidationFailed.single("role", f"must be one of {', '.join(MemberRole.values)}")
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed.single("email", "must be an e-mail address")
    if Membership.objects.filter(company=target, user__email__iexact=email).exists():
        raise ValidationFailed.single("email", f"{email} is already a member of {target}")
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        company=target,
        email=email,
        role=role,
        token_sha256=_token_digest(token),
        invited_by=actor.user,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    _audit(
        actor, "invitation.created", target, f"invitation:{invitation.pk}", email=email, role=role
    )
    return invitation, token


def invitation_from_token(token: str) -> Invitation:
    """The open invitation a link points to, or NotFound saying why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("company")
        .filter(token_sha256=_token_digest(token))
        .first()
    )
    if invitation is None:
        raise NotFound("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise NotFound("this invitation has already been used")
    if invitation.revoked_at is not None:
        raise NotFound("this invitation was withdrawn")
    if invitation.expires_at <= timezone.now():
        raise NotFound("this invitation has expired; ask for a new one")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """The invited person (already signed in or just registered) joins the company."""
    invitation = invitation_from_token(token)
    # Claim it with a conditional update so a link can be used once only.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        accepted_at=timezone.now(), accepted_by=user
    )
    if not claimed:
        raise NotFound("this invitation has already been used")
    membership, created = Membership.objects.get_or_create(
        user=user, company=invitation.company, defaults={"role": invitation.role}
    )
    if not created:
        raise ValidationFailed.single("user", f"you are already a member of {invitation.company}")
    _audit(
        user_ref(user),
        "membership.created",
        invitation.company,
        user_ref(user),
        role=invitation.role,
        invitation=invitation.pk,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Actor, invitation: Invitation) -> None:
    actor.require_role(MemberRole.ADMIN, to="withdraw invitations")
    if invitation.company_id != actor.company.pk:
        raise NotFound("no such invitation")
    if invitation.accepted_at or invitation.revoked_at:
        raise Conflict("the invitation is no longer open")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _audit(actor, "invitation.revoked", actor.company, f"invitation:{invitation.pk}")


def user_register(*, username: str, email: str, password: str) -> User:
    """Create a login for someone following an invitation link."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user_model = get_user_model()
    username = username.strip()
    if not username:
        raise ValidationFailed.single("username", "choose a user name")
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.single("username", f"{username!r} is taken; choose another")
    candidate = user_model(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationFailed({"password": list(exc.messages)}) from exc
    return user_model.objects.create_user(username=username, email=email, password=password)


def _lock_admins(company: Company) -> int:
    """Lock the company's admin rows and count them, so two concurrent demotions cannot
    both see "another admin remains". (A bare ``.count()`` would drop FOR UPDATE.)"""
    admins = (
        Membership.objects.select_for_update()
        .filter(company=company, role=MemberRole.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return len(list(admins))


@transaction.atomic
def membership_change_role(*, actor: Actor, membership: Membership, role: str) -> Membership:
    actor.require_role(MemberRole.ADMIN, to="change roles")
    actor.require_writable()
    if membership.company_id != actor.company.pk:
        raise NotFound("no such member")
    if role not in MemberRole.values:
        raise ValidationFailed.single("role", f"must be one of {', '.join(MemberRole.values)}")
    demoting_admin = membership.role == MemberRole.ADMIN and role != MemberRole.ADMIN
    if demoting_admin and _lock_admins(actor.company) <= 1:
        raise Conflict("role: a company must keep at least one admin", field="role")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _audit(
        actor,
        "membership.role_changed",
        actor.company,
        user_ref(membership.user),
        old=old,
        new=role,
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: Membership) -> None:
    actor.require_role(MemberRole.ADMIN, to="remove members")
    actor.require_writable()
    if membership.company_id != actor.company.pk:
        raise NotFound("no such member")
    if membership.role == MemberRole.ADMIN and _lock_admins(actor.company) <= 1:
        raise Conflict("role: a company must keep at least one admin", field="role")
    subject = user_ref(membership.user)
    membership.delete()
    _audit(actor, "membership.removed", actor.company, subject)


# --- signing keys ----------------------------------------------------------------------


def _current_wrapping_key() -> tuple[str, bytes]:
    key_id, key = next(iter(settings.KEY_ENCRYPTION_KEYS.items()))
    return key_id, key


def _key_associated_data(company: Company, kid: str) -> bytes:
    # Binding the ciphertext to its owner and kid stops a row's blob being swapped
    # into another company's key.
    return f"carbonx:signing-key:{company.slug}:{kid}".encode()


def _parse_public_jwk(jwk: Any) -> tuple[dict[str, str], str]:
    try:
        public_key = trust_keys.public_key_from_jwk(jwk)
    except KeyFormatError as exc:
        raise ValidationFailed.single("jwk", str(exc)) from exc
    public_jwk = trust_keys.public_jwk(public_key)
    return public_jwk, trust_keys.jwk_thumbprint(public_jwk)


def _store_key(
    *,
    actor: Actor,
    public_jwk: dict[str, str],
    kid: str,
    custody: str,
    label: str,
    encrypted: bytes | None = None,
    wrapping_key_id: str = "",
) -> SigningKey:
    if SigningKey.objects.filter(kid=kid).exists():
        raise Conflict(f"jwk: the key {kid} is already registered", field="jwk")
    key = SigningKey.objects.create(
        company=actor.company,
        kid=kid,
        label=label.strip()[:100],
        public_jwk=public_jwk,
        custody=custody,
        encrypted_private_key=encrypted,
        wrapping_key_id=wrapping_key_id,
        valid_from=timezone.now(),
        created_by=actor.user,
    )
    _audit(
        actor,
        "signing_key.registered",
        actor.company,
        f"signing_key:{kid}",
        jwk=public_jwk,
        custody=custody,
        label=key.label,
    )
    return key


@transaction.atomic
def signing_key_register(*, actor: Actor, jwk: Any, label: str = "") -> SigningKey:
    """Register a public key the company holds itself (it signs with its own tools)."""
    actor.require_role(MemberRole.ADMIN, to="register signing keys")
    actor.require_writable()
    public_jwk, kid = _parse_public_jwk(jwk)
    return _store_key(
        actor=actor, public_jwk=public_jwk, kid=kid, custody=KeyCustody.OWN, label=label
    )


@transaction.atomic
def signing_key_create_platform(*, actor: Actor, label: str = "") -> SigningKey:
    """Generate a key the platform holds for the company (for portal and upload signing)."""
    actor.require_role(MemberRole.ADMIN, to="create signing keys")
    actor.require_writable()
    private_key = trust_keys.generate_private_key()
    public_jwk = trust_keys.public_jwk(private_key)
    kid = trust_keys.jwk_thumbprint(public_jwk)
    wrapping_key_id, wrapping_key = _current_wrapping_key()
    encrypted = trust_keys.encrypt_private_key(
        private_key,
        wrapping_key=wrapping_key,
        associated_data=_key_associated_data(actor.company, kid),
    )
    return _store_key(
        actor=actor,
        public_jwk=public_jwk,
        kid=kid,
        custody=KeyCustody.PLATFORM,
        label=label,
        encrypted=encrypted,
        wrapping_key_id=wrapping_key_id,
    )


@transaction.atomic
def signing_key_revoke(*, actor: Actor, key: SigningKey, reason: str) -> SigningKey:
    """Revoke a key from now on; signatures made before stay checkable."""
    # No require_writable(): a suspended company must still be able to revoke a
    # compromised key.
    actor.require_role(MemberRole.ADMIN, to="revoke signing keys")
    if key.company_id != actor.company.pk:
        raise NotFound("no such signing key")
    if reason not in RevocationReason.values:
        raise ValidationFailed.single(
            "reason", f"must be one of {', '.join(RevocationReason.values)}"
        )
    now = timezone.now()
    revoked = SigningKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=now, revocation_reason=reason
    )
    if not revoked:
        raise Conflict(f"the key {key.kid} is already revoked", field="kid")
    key.refresh_from_db()
    _audit(actor, "signing_key.revoked", actor.company, f"signing_key:{key.kid}", reason=reason)
    return key


@transaction.atomic
def signing_key_rotate(
    *, actor: Actor, key: SigningKey, new_jwk: Any = None, label: str = ""
) -> SigningKey:
    """Replace a key: the new one (own JWK, or platform-held if none given) starts now
    and the old one is revoked as superseded, in one transaction."""
    if new_jwk is None:
        new_key = signing_key_create_platform(actor=actor, label=label or key.label)
    else:
        new_key = signing_key_register(actor=actor, jwk=new_jwk, label=label or key.label)
    signing_key_revoke(actor=actor, key=key, reason=RevocationReason.SUPERSEDED)
    return new_key


def signing_key_verifies_at(key: SigningKey, when: Any) -> bool:
    """Whether ``key`` may have made a signature at ``when`` (its validity window)."""
    return key.valid_from <= when and (key.revoked_at is None or when < key.revoked_at)


def signing_key_private(key: SigningKey) -> Ed25519PrivateKey:
    """Decrypt a platform-held private key for signing. Never log or return the result."""
    if key.custody != KeyCustody.PLATFORM or key.encrypted_private_key is None:
        raise PermissionDenied("the platform does not hold this key's private half")
    if key.is_revoked:
        raise PermissionDenied(f"kid: the key {key.kid} is revoked", field="kid")
    wrapping_key = settings.KEY_ENCRYPTION_KEYS.get(key.wrapping_key_id)
    if wrapping_key is None:
        raise RuntimeError(f"key-encryption key {key.wrapping_key_id!r} is not configured")
    return trust_keys.decrypt_private_key(
        bytes(key.encrypted_private_key),
        wrapping_key=wrapping_key,
        associated_data=_key_associated_data(key.company, key.kid),
    )


@transaction.atomic
def platform_keys_rewrap() -> int:
    """Re-encrypt every platform-held key under the current key-encryption key.

    Used after adding a new first entry to KEY_ENCRYPTION_KEYS; returns how many keys
    moved. Rows are locked in primary-key order so a concurrent run cannot deadlock.
    """
    current_id, current_key = _current_wrapping_key()
    moved = 0
    stale = (
        SigningKey.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(custody=KeyCustody.PLATFORM)
        .exclude(wrapping_key_id=current_id)
        .order_by("pk")
    )
    for key in stale:
        old_key = settings.KEY_ENCRYPTION_KEYS.get(key.wrapping_key_id)
        if old_key is None:
            raise RuntimeError(
                f"key {key.kid} is wrapped with {key.wrapping_key_id!r}, which is not configured"
            )
        associated = _key_associated_data(key.company, key.kid)
        private_key = trust_keys.decrypt_private_key(
            bytes(key.encrypted_private_key or b""),
            wrapping_key=old_key,
            associated_data=associated,
        )
        key.encrypted_private_key = trust_keys.encrypt_private_key(
            private_key, wrapping_key=current_key, associated_data=associated
        )
        key.wrapping_key_id = current_id
        key.save(update_fields=["encrypted_private_key", "wrapping_key_id"])
        moved += 1
    return moved


# --- machine clients -------------------------------------------------------------------


def _new_client_secret() -> str:
    """A random secret that does not start with "-": command-line tools (carbonx
    submit --client-secret …) would take it for an option."""
    while True:
        secret = secrets.token_urlsafe(32)
        if not secret.startswith("-"):
            return secret


@transaction.atomic
def api_client_create(
    *,
    actor: Actor,
    name: str,
    role: str = MemberRole.EDITOR,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[ApiClient, str]:
    """Create an OAuth2 client-credentials client for the company.

    Returns the client and its secret, which is stored hashed and never shown again.
    ``client_id``/``client_secret`` may be given when a partner expects set values.
    """
    actor.require_role(MemberRole.ADMIN, to="create API clients")
    actor.require_writable()
    name = name.strip()
    if not name:
        raise ValidationFailed.single("name", "give the client a name")
    if role not in (MemberRole.EDITOR, MemberRole.VIEWER):
        raise ValidationFailed.single("role", "must be editor or viewer")
    application_model = get_application_model()
    if client_id and application_model.objects.filter(client_id=client_id).exists():
        raise ValidationFailed.single("client_id", f"{client_id!r} is already in use")
    if client_secret is not None and len(client_secret) < 16:
        raise ValidationFailed.single("client_secret", "must be at least 16 characters")
    secret = client_secret or _new_client_secret()
    fields: dict[str, Any] = {}
    if client_id:
        fields["client_id"] = client_id
    application = application_model.objects.create(
        name=f"{actor.company.slug}: {name}"[:255],
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        **fields,
    )
    client = ApiClient.objects.create(
        company=actor.company, application=application, name=name, role=role, created_by=actor.user
    )
    _audit(
        actor,
        "api_client.created",
        actor.company,
        f"api_client:{application.client_id}",
        name=name,
        role=role,
    )
    return client, secret


@transaction.atomic
def api_client_revoke(*, actor: Actor, client: ApiClient) -> ApiClient:
    """Revoke a client: its tokens stop working at once."""
    from oauth2_provider.models import get_access_token_model

    actor.require_role(MemberRole.ADMIN, to="revoke API clients")
    if client.company_id != actor.company.pk:
        raise NotFound("no such API client")
    if client.revoked_at is not None:
        raise Conflict("the client is already revoked")
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    get_access_token_model().objects.filter(application=client.application).delete()
    _audit(actor, "api_client.revoked", actor.company, f"api_client:{client.client_id}")
    return client
