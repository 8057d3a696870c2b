"""Portal pages for people: sign-in, company switcher, profile, members, keys, API
clients, invitations and the zone operator's company list.

Pages are thin: they render selectors and call services; a broken rule comes back as
a message on the same page, naming the field.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import forms, selectors, services
from .access import Actor
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from .middleware import SESSION_COMPANY_KEY

View = Callable[..., HttpResponse]


def actor_required(view: View) -> View:
    """Signed in and member of a company; otherwise to the sign-in page or a 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor: Actor | None = getattr(request, "actor", None)
        if actor is None:
            return render(request, "companies/no_company.html", status=403)
        try:
            return view(request, actor, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except DomainError as exc:
            return render(
                request, "companies/refused.html", {"message": exc.message}, status=exc.http_status
            )

    return wrapped


USED_NONCES_SESSION_KEY = "used_form_nonces"


def new_nonce() -> str:
    """A one-time value for a form whose answer shows a secret (client secret, link)."""
    return secrets.token_urlsafe(16)


def claim_nonce(request: HttpRequest) -> bool:
    """False when this form was already sent (its nonce was seen), else remember it.

    The secret is shown in the answer to the POST itself and never stored in plain
    text (not even in the session), so a reload must not repeat the action: the
    browser re-sends the same nonce, which is then refused. A form sent without a
    nonce (a script) is simply not protected against its own repetition.
    """
    nonce = request.POST.get("nonce", "")
    used: list[str] = request.session.get(USED_NONCES_SESSION_KEY, [])
    if nonce and nonce in used:
        return False
    if nonce:
        request.session[USED_NONCES_SESSION_KEY] = [*used, nonce][-20:]
    return True


def refuse_resend(request: HttpRequest, to: str, **kwargs: Any) -> HttpResponse:
    messages.info(request, "That form was already sent; its secret is shown only once.")
    return redirect(to, **kwargs)


def render_private(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render a page that may carry a one-time secret: never cached anywhere."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    return response


def invitation_link(request: HttpRequest, token: str) -> str:
    """The absolute link a person follows to accept an invitation."""
    return request.build_absolute_uri(reverse("portal:invitation-accept", args=[token]))


def form_errors(
    errors: dict[str, list[str]],
    form: django_forms.Form | None,
    rename: dict[str, str] | None = None,
    lines: tuple[str, ...] = (),
) -> dict[str | None, list[str]]:
    """A service's errors, keyed by the form field that shows each (None: above the form).

    ``rename`` maps a service's names (or dotted paths) to form fields.  One item of
    a list, ``name[i]``, goes to the list's field as "item i+1: …" ("line i+1: …"
    for the fields in ``lines``, textareas with one item per line); a dotted path no
    one renamed goes to its first part's field, named in full.  A key that no field
    of the form takes is shown above the form, named in full.
    """
    names = rename or {}
    shown: dict[str | None, list[str]] = {}
    for key, problems in errors.items():
        match = re.fullmatch(r"([A-Za-z_.]+)\[(\d+)\]", key)
        base = match.group(1) if match else key
        if base in names or "." not in base:
            target = names.get(base, base)
            prefix = ""
            if match:
                prefix = f"{'line' if target in lines else 'item'} {int(match.group(2)) + 1}: "
        else:
            head = base.split(".", 1)[0]
            target, prefix = names.get(head, head), f"{key}: "
        if form is None or target not in form.fields:
            shown.setdefault(None, []).extend(f"{key}: {problem}" for problem in problems)
        else:
            shown.setdefault(target, []).extend(prefix + problem for problem in problems)
    return shown


def attempt(
    request: HttpRequest,
    form: django_forms.Form | None,
    action: Callable[[], Any],
    rename: dict[str, str] | None = None,
    lines: tuple[str, ...] = (),
) -> Any:
    """Run a service; on a broken rule put the message on the form field (or the
    page), mapped by :func:`form_errors`."""
    try:
        return action()
    except ValidationFailed as exc:
        for target, problems in form_errors(exc.errors, form, rename, lines).items():
            for problem in problems:
                if form is not None:
                    form.add_error(target, problem)
                else:
                    messages.error(request, problem)
    except (NotFound, PermissionDenied):
        raise  # whole-page answers: 404 / 403, rendered by ``actor_required``
    except DomainError as exc:
        if form is not None:
            form.add_error(None, exc.message)
        else:
            messages.error(request, exc.message)
    return None


class LoginView(auth_views.LoginView):
    template_name = "companies/login.html"
    redirect_authenticated_user = True


@require_POST
@login_required
def switch_company(request: HttpRequest) -> HttpResponse:
    """Choose which of the person's companies they act for."""
    assert request.user.is_authenticated  # login_required
    membership = selectors.membership_for(
        user=request.user, company_id=_int(request.POST.get("company_id"))
    )
    if membership is None or str(membership.company_id) != request.POST.get("company_id"):
        raise Http404("you are not a member of that company")
    request.session[SESSION_COMPANY_KEY] = membership.company_id
    messages.info(request, f"You now act for {membership.company.legal_name}.")
    return redirect("portal:home")


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_GET
@actor_required
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    keys = selectors.signing_keys_of(actor=actor)
    context = {
        "active_keys": keys.filter(revoked_at__isnull=True).count(),
        "members": selectors.members_of(actor=actor).count(),
        "clients": selectors.api_clients_of(actor=actor).filter(revoked_at__isnull=True).count(),
    }
    if actor.company.is_operator:
        operator_view = selectors.companies_for_operator(actor=actor)
        context["pending_companies"] = operator_view.filter(status="pending").count()
        context["zone_companies"] = operator_view.count()
    return render(request, "companies/home.html", context)


@require_http_methods(["GET", "POST"])
@actor_required
def company_profile(request: HttpRequest, actor: Actor) -> HttpResponse:
    company = actor.company
    form = forms.CompanyProfileForm(
        request.POST or None,
        initial={
            "contact_email": company.contact_email,
            "website": company.website,
            "address": company.address,
        },
    )
    if request.method == "POST" and form.is_valid():
        done = attempt(
            request,
            form,
            lambda: services.company_update_profile(actor=actor, **form.cleaned_data),
        )
        if done:
            messages.success(request, "Profile saved.")
            return redirect("portal:company")
    return render(request, "companies/profile.html", {"company": company, "form": form})


@require_http_methods(["GET", "POST"])
@actor_required
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = forms.InvitationForm(request.POST or None)
    new_link = None
    if request.method == "POST" and form.is_valid():
        if not claim_nonce(request):
            return refuse_resend(request, "portal:members")
        result = attempt(
            request, form, lambda: services.invitation_create(actor=actor, **form.cleaned_data)
        )
        if result:
            invitation, token = result
            new_link = invitation_link(request, token)
            messages.success(request, f"Invitation for {invitation.email} created.")
            form = forms.InvitationForm()
    context = {
        "members": selectors.members_of(actor=actor),
        "invitations": selectors.invitations_of(actor=actor)[:50],
        "form": form,
        "role_choices": forms.MemberRoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        "new_link": new_link,
        "nonce": new_nonce(),
    }
    return render_private(request, "companies/members.html", context)


@require_POST
@actor_required
def member_role(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    membership = selectors.member_get(actor=actor, membership_id=membership_id)
    form = forms.MemberRoleForm(request.POST)
    if form.is_valid() and attempt(
        request,
        None,
        lambda: services.membership_change_role(
            actor=actor, membership=membership, role=form.cleaned_data["role"]
        ),
    ):
        messages.success(
            request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}."
        )
    return redirect("portal:members")


@require_POST
@actor_required
def member_remove(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    membership = selectors.member_get(actor=actor, membership_id=membership_id)
    username = membership.user.get_username()
    attempt(request, None, lambda: services.membership_remove(actor=actor, membership=membership))
    if not selectors.members_of(actor=actor).filter(pk=membership_id).exists():
        messages.success(request, f"{username} was removed.")
    return redirect("portal:members")


@require_POST
@actor_required
def invitation_revoke(request: HttpRequest, actor: Actor, invitation_id: int) -> HttpResponse:
    invitation = selectors.invitation_get(actor=actor, invitation_id=invitation_id)
    attempt(request, None, lambda: services.invitation_revoke(actor=actor, invitation=invitation))
    return redirect("portal:members")


@require_http_methods(["GET", "POST"])
@actor_required
def keys(request: HttpRequest, actor: Actor) -> HttpResponse:
    register_form = forms.RegisterKeyForm(
        request.POST if request.POST.get("action") == "register" else None
    )
    platform_form = forms.PlatformKeyForm(
        request.POST if request.POST.get("action") == "platform" else None,
        auto_id="platform_%s",  # two forms on one page: keep their field ids distinct
    )
    if request.method == "POST":
        created = None
        if request.POST.get("action") == "register" and register_form.is_valid():
            created = attempt(
                request,
                register_form,
                lambda: services.signing_key_register(actor=actor, **register_form.cleaned_data),
            )
        elif request.POST.get("action") == "platform" and platform_form.is_valid():
            created = attempt(
                request,
                platform_form,
                lambda: services.signing_key_create_platform(
                    actor=actor, **platform_form.cleaned_data
                ),
            )
        if created:
            messages.success(request, f"Key {created.kid} registered.")
            return redirect("portal:keys")
    context = {
        "keys": selectors.signing_keys_of(actor=actor),
        "register_form": register_form,
        "platform_form": platform_form,
        "revoke_form": forms.RevokeKeyForm(),
    }
    return render(request, "companies/keys.html", context)


@require_POST
@actor_required
def key_revoke(request: HttpRequest, actor: Actor, kid: str) -> HttpResponse:
    key = selectors.signing_key_get(actor=actor, kid=kid)
    form = forms.RevokeKeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "reason: choose why the key is revoked")
    elif attempt(
        request,
        None,
        lambda: services.signing_key_revoke(
            actor=actor, key=key, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, f"Key {kid} revoked.")
    return redirect("portal:keys")


@require_http_methods(["GET", "POST"])
@actor_required
def clients(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = forms.ApiClientForm(request.POST or None)
    shown: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        if not claim_nonce(request):
            return refuse_resend(request, "portal:clients")
        created = attempt(
            request, form, lambda: services.api_client_create(actor=actor, **form.cleaned_data)
        )
        if created:
            client, secret = created
            shown = {"created_client_id": client.client_id, "created_secret": secret}
            messages.success(request, f"Client {client.name} created.")
            form = forms.ApiClientForm()
    context = {
        "clients": selectors.api_clients_of(actor=actor),
        "form": form,
        "token_url": request.build_absolute_uri(reverse("oauth2:token")),
        "nonce": new_nonce(),
        **shown,
    }
    return render_private(request, "companies/clients.html", context)


@require_POST
@actor_required
def client_revoke(request: HttpRequest, actor: Actor, client_id: str) -> HttpResponse:
    client = selectors.api_client_get(actor=actor, client_id=client_id)
    if attempt(request, None, lambda: services.api_client_revoke(actor=actor, client=client)):
        messages.success(request, f"Client {client.name} revoked.")
    return redirect("portal:clients")


@require_http_methods(["GET", "POST"])
@actor_required
def operator_companies(request: HttpRequest, actor: Actor) -> HttpResponse:
    companies = selectors.companies_for_operator(actor=actor)
    form = forms.OnboardCompanyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        company = attempt(
            request, form, lambda: services.company_onboard(actor=actor, **form.cleaned_data)
        )
        if company:
            messages.success(request, f"{company.legal_name} onboarded. Now invite its admin.")
            return redirect("portal:operator-company", slug=company.slug)
    status_filter = request.GET.get("status", "")
    if status_filter:
        companies = companies.filter(status=status_filter)
    context = {"companies": companies, "form": form, "status_filter": status_filter}
    return render(request, "companies/operator_companies.html", context)


@require_http_methods(["GET", "POST"])
@actor_required
def operator_company(request: HttpRequest, actor: Actor, slug: str) -> HttpResponse:
    company = selectors.company_get_for_operator(actor=actor, slug=slug)
    invite_form = forms.InvitationForm(
        request.POST if request.POST.get("action") == "invite" else None,
        initial={"role": "admin"},
    )
    suspend_form = forms.SuspendForm(
        request.POST if request.POST.get("action") == "suspend" else None
    )
    action = request.POST.get("action")
    if action == "activate":
        if attempt(request, None, lambda: services.company_activate(actor=actor, company=company)):
            messages.success(request, f"{company.legal_name} is active.")
        return redirect("portal:operator-company", slug=slug)
    if (
        action == "suspend"
        and suspend_form.is_valid()
        and attempt(
            request,
            suspend_form,
            lambda: services.company_suspend(
                actor=actor, company=company, reason=suspend_form.cleaned_data["reason"]
            ),
        )
    ):
        messages.success(request, f"{company.legal_name} is suspended.")
        return redirect("portal:operator-company", slug=slug)
    new_link = None
    if action == "invite" and invite_form.is_valid():
        if not claim_nonce(request):
            return refuse_resend(request, "portal:operator-company", slug=slug)
        result = attempt(
            request,
            invite_form,
            lambda: services.invitation_create(
                actor=actor, company=company, **invite_form.cleaned_data
            ),
        )
        if result:
            new_link = invitation_link(request, result[1])
            messages.success(request, f"Invitation for {result[0].email} created.")
    context = {
        "company": company,
        "invite_form": invite_form,
        "suspend_form": suspend_form,
        "new_link": new_link,
        "nonce": new_nonce(),
    }
    return render_private(request, "companies/operator_company.html", context)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Join a company by link: sign in (or create a login) and accept."""
    try:
        invitation = services.invitation_from_token(token)
    except NotFound as exc:
        return render(request, "companies/refused.html", {"message": exc.message}, status=404)
    register_form = forms.RegisterForm(request.POST if not request.user.is_authenticated else None)
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        if user is None and register_form.is_valid():
            user = attempt(
                request,
                register_form,
                lambda: services.user_register(
                    email=invitation.email, **register_form.cleaned_data
                ),
            )
            if user is not None:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            membership = attempt(
                request, None, lambda: services.invitation_accept(token=token, user=user)
            )
            if membership:
                request.session[SESSION_COMPANY_KEY] = membership.company_id
                messages.success(request, f"Welcome to {membership.company.legal_name}.")
                return HttpResponseRedirect(reverse("portal:home"))
    context = {"invitation": invitation, "register_form": register_form}
    return render(request, "companies/invitation_accept.html", context)
