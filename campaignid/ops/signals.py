"""Receivers: logins (ok / failed, counted for throttling) and API tokens created."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from campaignid.programs.models import ApiToken

from . import throttle
from .audit import record


def _organisation_of(user):
    membership = user.memberships.select_related("organisation").first() if user is not None else None
    return membership.organisation if membership else None


@receiver(user_logged_in, dispatch_uid="ops-login-ok")
def _login_ok(sender, request, user, **kwargs):
    throttle.succeeded(request, user.get_username())
    record("login.ok", organisation=_organisation_of(user), actor=user.get_username(), user=user, request=request)


@receiver(user_login_failed, dispatch_uid="ops-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    if request is not None and getattr(request, "campaignid_login_locked", False):
        return  # refused while locked: recorded as login.locked, not counted again
    username = str(credentials.get("username", ""))[:150]
    now_locked = throttle.failed(request, username)
    record("login.failed", actor=username, request=request, outcome="refused")
    if now_locked:
        record("login.locked", actor=username, request=request, outcome="refused",
               details={"locked_for": throttle.lock_minutes()})


@receiver(post_save, sender=ApiToken, dispatch_uid="ops-token-created")
def _token_created(sender, instance: ApiToken, created: bool, **kwargs):
    if created:
        record("token.create", organisation=instance.organisation, actor=instance.user.get_username(),
               user=instance.user, target=f"token:{instance.hint}", details={"token_name": instance.name})
