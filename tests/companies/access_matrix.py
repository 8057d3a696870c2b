"""Permission cases for the companies app's portal pages, API, OAuth2 and docs."""

from __future__ import annotations

from tests.access import ACME, ACME_ADMIN, ADMINS, ALL, OPERATOR, SIGNED_IN, Case
from trust import keys as trust_keys


def fresh_jwk(cast):
    return {"jwk": trust_keys.public_jwk(trust_keys.generate_private_key()), "label": "new"}


def acme_secrets(cast):
    return [cast.own_key.kid, cast.platform_key.kid, "newcomer@example.test", cast.client.client_id]


def acme_people(cast):
    return ["acme_editor", "acme_viewer", "newcomer@example.test"]


def token_data(cast):
    return {
        "grant_type": "client_credentials",
        "client_id": cast.client.client_id,
        "client_secret": cast.client_secret,
    }


viewer_id = lambda cast: {"membership_id": cast.viewer.pk}  # noqa: E731
own_kid = lambda cast: {"kid": cast.own_key.kid}  # noqa: E731
invitation_id = lambda cast: {"invitation_id": cast.invitation.pk}  # noqa: E731
client_id = lambda cast: {"client_id": cast.client.client_id}  # noqa: E731
acme_slug = {"slug": "acme"}
FORM = "form"

CASES = [
    # portal
    Case("portal:home", SIGNED_IN),
    Case("portal:login", ALL),
    Case("portal:logout", ALL, method="post", content_type=FORM),
    Case(
        "portal:switch-company",
        ACME,
        method="post",
        data=lambda cast: {"company_id": cast.acme.pk},
        content_type=FORM,
    ),
    Case("portal:company", SIGNED_IN),
    Case(
        "portal:company",
        ADMINS,
        method="post",
        data={"contact_email": "x@example.test", "website": "", "address": ""},
        content_type=FORM,
        label="update",
    ),
    Case("portal:members", SIGNED_IN, private=acme_people),
    Case(
        "portal:members",
        ADMINS,
        method="post",
        data={"email": "invitee@example.test", "role": "viewer"},
        content_type=FORM,
        label="invite",
    ),
    Case(
        "portal:member-role",
        ACME_ADMIN,
        kwargs=viewer_id,
        method="post",
        data={"role": "editor"},
        content_type=FORM,
    ),
    Case("portal:member-remove", ACME_ADMIN, kwargs=viewer_id, method="post", content_type=FORM),
    Case(
        "portal:invitation-revoke",
        ACME_ADMIN,
        kwargs=invitation_id,
        method="post",
        content_type=FORM,
    ),
    Case("portal:keys", SIGNED_IN, private=acme_secrets),
    Case(
        "portal:keys",
        ADMINS,
        method="post",
        data={"action": "platform", "label": "portal"},
        content_type=FORM,
        label="platform",
    ),
    Case(
        "portal:key-revoke",
        ACME_ADMIN,
        kwargs=own_kid,
        method="post",
        data={"reason": "retired"},
        content_type=FORM,
    ),
    Case("portal:clients", SIGNED_IN, private=acme_secrets),
    Case(
        "portal:clients",
        ADMINS,
        method="post",
        data={"name": "SAP", "role": "viewer"},
        content_type=FORM,
        label="create",
    ),
    Case("portal:client-revoke", ACME_ADMIN, kwargs=client_id, method="post", content_type=FORM),
    Case("portal:operator-companies", OPERATOR),
    Case(
        "portal:operator-companies",
        OPERATOR,
        method="post",
        data={
            "legal_name": "Newcomer Steel",
            "identifiers": "5493001KJTIIGC8Y1R12",
            "roles": ["supplier"],
            "activate": "on",
        },
        content_type=FORM,
        label="onboard",
    ),
    Case("portal:operator-company", OPERATOR, kwargs=acme_slug),
    Case(
        "portal:operator-company",
        OPERATOR,
        kwargs=acme_slug,
        method="post",
        data={"action": "suspend", "reason": "audit finding"},
        content_type=FORM,
        label="suspend",
    ),
    Case(
        "portal:invitation-accept",
        ALL,
        kwargs=lambda cast: {"token": cast.invitation_token},
    ),
    # platform API
    Case("api:me", SIGNED_IN),
    Case("api:company", SIGNED_IN),
    Case("api:company", ADMINS, method="patch", data={"address": "Zone road 1"}),
    Case("api:directory", SIGNED_IN),
    Case("api:directory-keys", SIGNED_IN, kwargs=acme_slug),
    Case("api:members", SIGNED_IN, private=acme_people),
    Case("api:member", ACME_ADMIN, kwargs=viewer_id, method="patch", data={"role": "editor"}),
    Case("api:member", ACME_ADMIN, kwargs=viewer_id, method="delete"),
    Case("api:invitations", SIGNED_IN, private=acme_people),
    Case(
        "api:invitations",
        ADMINS,
        method="post",
        data={"email": "invitee@example.test", "role": "viewer"},
    ),
    Case("api:invitation-revoke", ACME_ADMIN, kwargs=invitation_id, method="post"),
    Case("api:keys", SIGNED_IN, private=acme_secrets),
    Case("api:keys", ADMINS, method="post", data=fresh_jwk),
    Case("api:keys-platform", ADMINS, method="post", data={"label": "api"}),
    Case("api:key", ACME, kwargs=own_kid),
    Case("api:key-revoke", ACME_ADMIN, kwargs=own_kid, method="post", data={"reason": "retired"}),
    Case("api:key-rotate", ACME_ADMIN, kwargs=own_kid, method="post", data=fresh_jwk),
    Case("api:clients", SIGNED_IN, private=acme_secrets),
    Case("api:clients", ADMINS, method="post", data={"name": "SAP"}),
    Case("api:client-revoke", ACME_ADMIN, kwargs=client_id, method="post"),
    Case("api:operator-companies", OPERATOR),
    Case(
        "api:operator-companies",
        OPERATOR,
        method="post",
        data={
            "legal_name": "Newcomer Steel",
            "identifiers": ["5493001KJTIIGC8Y1R12"],
            "roles": ["supplier"],
        },
    ),
    Case("api:operator-company", OPERATOR, kwargs=acme_slug),
    Case(
        "api:operator-company-activate",
        OPERATOR,
        kwargs=lambda cast: {"slug": cast.pending.slug},
        method="post",
    ),
    Case(
        "api:operator-company-suspend",
        OPERATOR,
        kwargs=acme_slug,
        method="post",
        data={"reason": "audit finding"},
    ),
    Case(
        "api:operator-company-invite",
        OPERATOR,
        kwargs=acme_slug,
        method="post",
        data={"email": "boss@example.test", "role": "admin"},
    ),
    # OAuth2 (the client's credentials are the authorisation) and public documents
    Case("oauth2:token", ALL, method="post", data=token_data, content_type="urlencoded"),
    Case(
        "oauth2:revoke-token",
        ALL,
        method="post",
        data=lambda cast: {**token_data(cast), "token": "not-a-token"},
        content_type="urlencoded",
    ),
    Case("schema", ALL),
    Case("swagger-ui", ALL),
    Case("healthz", ALL),
]
