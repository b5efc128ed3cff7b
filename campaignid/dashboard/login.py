"""The login page: Django's view, with the lock-out message when throttling refuses the attempt."""

from __future__ import annotations

from django.contrib.auth import views as auth_views

from campaignid.ops import throttle


class LoginView(auth_views.LoginView):
    template_name = "dashboard/login.html"

    def form_invalid(self, form):
        username = form.data.get("username", "")
        locked = getattr(self.request, "campaignid_login_locked", False) or throttle.locked(self.request, username)
        context = self.get_context_data(form=form, locked=locked, lock_minutes=throttle.lock_minutes())
        return self.render_to_response(context, status=429 if locked else 200)
