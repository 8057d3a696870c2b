"""Who is acting, for which company, with which role: the one place access is decided.

Every service and selector takes an ``Actor``. Portal requests get one from the session's
chosen company (``ActingCompanyMiddleware``); API requests from the OAuth2 client's
company or, for a logged-in person, the session's company.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import CompanySuspended, PermissionDenied
from .models import ROLE_RANK, Company, MemberRole

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import ApiClient


@dataclass(frozen=True)
class Actor:
    """A person or machine client acting for one company with one role."""

    company: Company
    role: str
    user: User | None = None
    client: ApiClient | None = None

    @property
    def audit_ref(self) -> str:
        """How this actor is named in audit entries."""
        if self.client is not None:
            return f"client:{self.client.client_id}"
        if self.user is not None:
            return f"user:{self.user.pk}"  # pseudonymous: the public log holds no names
        return "system"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[MemberRole(self.role)] >= ROLE_RANK[MemberRole(role)]

    def require_role(self, role: str, *, to: str) -> None:
        """Refuse unless the actor's role is at least ``role``; ``to`` says what for."""
        if not self.has_role(role):
            raise PermissionDenied(
                f"role: only a company {role} may {to}; you are {self.role}", field="role"
            )

    def require_writable(self) -> None:
        """A suspended company may look, not change."""
        if self.company.is_suspended:
            raise CompanySuspended(self.company.legal_name)

    def require_operator(self, *, to: str) -> None:
        if not self.company.is_operator:
            raise PermissionDenied(f"only the zone operator may {to}")


def system_actor(company: Company) -> Actor:
    """The platform itself acting for a company (seed data, scheduled jobs)."""
    return Actor(company=company, role=MemberRole.ADMIN)
