"""Portal forms: they shape input; the services decide what is allowed."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from .models import MemberRole, RevocationReason
from .services import COMPANY_ROLES


class CompanyProfileForm(forms.Form):
    contact_email = forms.EmailField(required=False)
    website = forms.URLField(required=False)
    address = forms.CharField(required=False, max_length=300)


class InvitationForm(forms.Form):
    email = forms.EmailField(
        help_text="The person receives nothing automatically: send them the link."
    )
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.EDITOR)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=MemberRole.choices)


class RegisterKeyForm(forms.Form):
    jwk = forms.CharField(
        label="Public key (JWK)",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": '{"kty":"OKP","crv":"Ed25519","x":"…"}'}
        ),
        help_text="Paste the public JWK printed by carbonx keygen. Never paste a private key.",
    )
    label = forms.CharField(required=False, max_length=100)

    def clean_jwk(self) -> Any:
        try:
            return json.loads(self.cleaned_data["jwk"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"not valid JSON: {exc.msg} at character {exc.pos}"
            ) from exc


class PlatformKeyForm(forms.Form):
    label = forms.CharField(required=False, max_length=100)


class RevokeKeyForm(forms.Form):
    reason = forms.ChoiceField(choices=RevocationReason.choices)


class ApiClientForm(forms.Form):
    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(
        choices=[(MemberRole.EDITOR, "Editor"), (MemberRole.VIEWER, "Viewer")],
        initial=MemberRole.EDITOR,
    )
    # Optional: a partner system (e.g. an outside PACT host) may expect set credentials.
    client_id = forms.CharField(
        required=False,
        max_length=255,
        label="Client id (optional)",
        help_text="Leave empty to have one generated.",
    )
    client_secret = forms.CharField(
        required=False,
        max_length=255,
        strip=False,
        label="Client secret (optional)",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="At least 16 characters; leave empty to have one generated.",
    )

    def clean_client_id(self) -> str | None:
        value = self.cleaned_data.get("client_id") or ""
        if any(ch.isspace() for ch in value):
            raise forms.ValidationError("must not contain spaces")
        return value or None

    def clean_client_secret(self) -> str | None:
        return self.cleaned_data.get("client_secret") or None


class OnboardCompanyForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        required=False, max_length=60, help_text="Short handle; made from the name if left empty."
    )
    identifiers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: USCC (18 characters), LEI (20 characters) or any URN.",
    )
    roles = forms.MultipleChoiceField(
        choices=[(role, role.capitalize()) for role in COMPANY_ROLES],
        widget=forms.CheckboxSelectMultiple,
    )
    contact_email = forms.EmailField(required=False)
    activate = forms.BooleanField(required=False, initial=True, label="Activate now")

    def clean_identifiers(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["identifiers"].splitlines() if line.strip()
        ]


class SuspendForm(forms.Form):
    reason = forms.CharField(max_length=500)


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, min_length=10)
