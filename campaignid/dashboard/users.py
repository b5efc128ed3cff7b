"""Settings > Users: the organisation's members, invitations with a one-time set-password link, roles,
programme and org-unit restrictions, deactivation, password resets (``programs/members.py`` decides who
may do what); and every user's own password page. Every change is an audit event."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaignid.lib.errors import DomainError
from campaignid.ops.audit import record, record_scope
from campaignid.ops.models import AuditEvent
from campaignid.programs import members
from campaignid.programs.authority import is_org_admin
from campaignid.programs.models import Membership

from .common import api_error_text, keep_once, manager_view, take_once


def _grant(data) -> members.Grant:
    ids = frozenset(int(v) for v in data.getlist("programs") if v.isdigit())
    return members.Grant(data.get("role", ""), ids, tuple(data.getlist("org_units")))


def _audit(request, scope, action: str, target: str, outcome=AuditEvent.OK, **details) -> None:
    record_scope(action, scope, request, target=target, outcome=outcome, details=details)


def _keep_link(request: HttpRequest, member, uidb64: str, token: str) -> None:
    url = request.build_absolute_uri(reverse("dashboard:set_password", args=[uidb64, token]))
    keep_once(request, "member_link", {"username": member.user.get_username(), "url": url})


def _page(request, scope, status=200, **extra) -> HttpResponse:
    manageable = set(members.manageable(scope).values_list("pk", flat=True))
    return render(request, "dashboard/users.html", {
        "page": "users", "members": members.members(scope), "manageable": manageable,
        "roles": _roles(scope), "scope_programs": scope.programs().order_by("name"),
        "units": members.org_units(scope), "link": take_once(request, "member_link"),
        "org_admin": is_org_admin(scope), **extra}, status=status)


def _roles(scope) -> list[tuple[str, str]]:
    return [(r, label) for r, label in Membership.ROLES
            if r != Membership.ADMIN or is_org_admin(scope)]


@manager_view("users")
def users(request: HttpRequest, scope) -> HttpResponse:
    if request.method != "POST":
        return _page(request, scope)
    try:
        member, uidb64, token = members.invite(scope, request.POST.get("username", ""),
                                               request.POST.get("email", ""), _grant(request.POST))
    except DomainError as exc:
        _audit(request, scope, "member.invite", "", AuditEvent.REFUSED, role=request.POST.get("role", ""))
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:users")
    _audit(request, scope, "member.invite", f"member:{member.pk}", role=member.role)
    _keep_link(request, member, uidb64, token)
    messages.success(request, _("Member invited: give them the link below."))
    return redirect("dashboard:users")


@manager_view("users")
def member(request: HttpRequest, scope, pk: int) -> HttpResponse:
    target = f"member:{pk}"
    if request.method != "POST":
        found = members.manageable(scope).filter(pk=pk).first()
        if found is None:
            raise Http404
        return render(request, "dashboard/member.html", {
            "page": "users", "member": found, "roles": _roles(scope), "org_admin": is_org_admin(scope),
            "scope_programs": scope.programs().order_by("name"), "units": members.org_units(scope),
            "chosen_programs": set(found.programs.values_list("pk", flat=True))})
    try:
        changed = members.change(scope, pk, _grant(request.POST))
    except DomainError as exc:
        _audit(request, scope, "member.change", target, AuditEvent.REFUSED, role=request.POST.get("role", ""))
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:users")
    _audit(request, scope, "member.change", target, role=changed.role, fields=["role", "programs", "org_units"])
    messages.success(request, _("Member updated."))
    return redirect("dashboard:users")


@manager_view("users")
@require_POST
def member_active(request: HttpRequest, scope, pk: int) -> HttpResponse:
    active = request.POST.get("active") == "1"
    action = "member.activate" if active else "member.deactivate"
    try:
        members.set_active(scope, pk, active)
    except DomainError as exc:
        _audit(request, scope, action, f"member:{pk}", AuditEvent.REFUSED)
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:users")
    _audit(request, scope, action, f"member:{pk}")
    messages.success(request, _("Member reactivated.") if active else _("Member deactivated."))
    return redirect("dashboard:users")


@manager_view("users")
@require_POST
def member_reset(request: HttpRequest, scope, pk: int) -> HttpResponse:
    try:
        member, uidb64, token = members.reset_password(scope, pk)
    except DomainError as exc:
        _audit(request, scope, "member.password_reset", f"member:{pk}", AuditEvent.REFUSED)
        messages.error(request, api_error_text(exc))
        return redirect("dashboard:users")
    _audit(request, scope, "member.password_reset", f"member:{pk}")
    _keep_link(request, member, uidb64, token)
    messages.success(request, _("The old password no longer works: give the member the link below."))
    return redirect("dashboard:users")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every signed-in user (health workers too) changes their own password."""

    template_name = "dashboard/password.html"
    success_url = reverse_lazy("dashboard:password")
    extra_context = {"page": "password"}

    def form_valid(self, form):
        response = super().form_valid(form)
        record("password.change", actor=self.request.user.get_username(), user=self.request.user,
               request=self.request, target=f"user:{self.request.user.pk}")
        messages.success(self.request, _("Your password was changed."))
        return response


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The one-time link of an invitation or a reset: choose a password, then sign in."""

    template_name = "dashboard/set_password.html"
    success_url = reverse_lazy("dashboard:login")

    def form_valid(self, form):
        response = super().form_valid(form)
        record("password.set", actor=form.user.get_username(), user=None, request=self.request,
               target=f"user:{form.user.pk}")
        messages.success(self.request, _("Your password is set: sign in."))
        return response
