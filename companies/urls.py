from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch-company/", views.switch_company, name="switch-company"),
    path("company/", views.company_profile, name="company"),
    path("company/members/", views.members, name="members"),
    path("company/members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("company/members/<int:membership_id>/remove/", views.member_remove, name="member-remove"),
    path(
        "company/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("company/keys/", views.keys, name="keys"),
    path("company/keys/<str:kid>/revoke/", views.key_revoke, name="key-revoke"),
    path("company/clients/", views.clients, name="clients"),
    path("company/clients/<str:client_id>/revoke/", views.client_revoke, name="client-revoke"),
    path("operator/companies/", views.operator_companies, name="operator-companies"),
    path("operator/companies/<slug:slug>/", views.operator_company, name="operator-company"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
