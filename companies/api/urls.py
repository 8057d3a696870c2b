from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("me", views.MeView.as_view(), name="me"),
    path("company", views.CompanyProfileView.as_view(), name="company"),
    path("directory/companies", views.DirectoryView.as_view(), name="directory"),
    path(
        "directory/companies/<slug:slug>/keys",
        views.DirectoryKeysView.as_view(),
        name="directory-keys",
    ),
    path("members", views.MembersView.as_view(), name="members"),
    path("members/<int:membership_id>", views.MemberView.as_view(), name="member"),
    path("invitations", views.InvitationsView.as_view(), name="invitations"),
    path(
        "invitations/<int:invitation_id>/revoke",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("keys", views.KeysView.as_view(), name="keys"),
    path("keys/platform", views.PlatformKeyView.as_view(), name="keys-platform"),
    path("keys/<str:kid>", views.KeyView.as_view(), name="key"),
    path("keys/<str:kid>/revoke", views.KeyRevokeView.as_view(), name="key-revoke"),
    path("keys/<str:kid>/rotate", views.KeyRotateView.as_view(), name="key-rotate"),
    path("clients", views.ClientsView.as_view(), name="clients"),
    path("clients/<str:client_id>/revoke", views.ClientRevokeView.as_view(), name="client-revoke"),
    path("operator/companies", views.OperatorCompaniesView.as_view(), name="operator-companies"),
    path(
        "operator/companies/<slug:slug>",
        views.OperatorCompanyView.as_view(),
        name="operator-company",
    ),
    path(
        "operator/companies/<slug:slug>/activate",
        views.OperatorActivateView.as_view(),
        name="operator-company-activate",
    ),
    path(
        "operator/companies/<slug:slug>/suspend",
        views.OperatorSuspendView.as_view(),
        name="operator-company-suspend",
    ),
    path(
        "operator/companies/<slug:slug>/invitations",
        views.OperatorInviteView.as_view(),
        name="operator-company-invite",
    ),
]
