"""The admin site, with the staff login's second factor (django-otp).

``admin.site`` is a ``StaffAdminSite`` (apps/accounts/admin_apps.py makes it Django's default admin
site, so every ``@admin.register`` lands on it). With ``ADMIN_REQUIRE_2FA`` on (the default with
``ENV=prod``) it is django-otp's ``OTPAdminSite``: the login form asks for a token of one of the
staff member's devices (a TOTP app, or a single-use backup code) after the password, and a staff
session not verified by a device is treated as not staff (sent back to the login). Off (dev, tests)
it is Django's admin site unchanged. The setting is read per request, so tests can switch it.

A token that is refused counts as a failed login: ``user_login_failed`` is sent, as Django sends it
for a wrong password, and the login lockout (django-axes) counts it.

The site is branded "Bazaar", and its index page (templates/admin/index.html) shows the operator's
panels above the app list: each a count of rows waiting for staff and a link to the changelist
filtered to exactly those rows. The apps register their panels from their admin.py
(``admin.site.panel_register``), so this lower layer imports none of their models; a panel is shown
to staff who may view its model, and costs one COUNT query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.signals import user_login_failed
from django.db.models import Model, QuerySet
from django.urls import reverse
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger(__name__)

ENROL_HINT = "ask an administrator to run: manage.py staff_totp_enrol <your email>"


def two_factor_required() -> bool:
    """Whether the admin asks staff for a second factor (``ADMIN_REQUIRE_2FA``)."""
    return settings.ADMIN_REQUIRE_2FA


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Email, password and a token, in one step.

    django-otp verifies a token against the device chosen in the form, and the login page offers
    that choice only after a first submission. Here a token with no device chosen goes to the one
    device it can belong to: six digits to the staff member's authenticator app (TOTP), anything
    else to the backup codes. Still exactly one device is tried, never each in turn."""

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "no_device": f"This staff account has no two-factor device yet: {ENROL_HINT}.",
    }

    def clean_otp_token(self) -> str:
        # Backup codes are stored lower-case; people copy them with spaces or in capitals.
        return "".join((self.cleaned_data.get("otp_token") or "").split()).lower()

    def clean(self):
        cleaned = super(OTPAdminAuthenticationForm, self).clean()  # the password (and is_staff) first
        user = self.get_user()
        if user is None:  # an empty field: the form shows its own error
            return cleaned
        token = cleaned.get("otp_token")
        try:
            devices = list(devices_for_user(user))
            if not devices:
                raise forms.ValidationError(self.error_messages["no_device"], code="no_device")
            if token and not cleaned.get("otp_device"):
                cleaned["otp_device"] = _device_for(token=token, devices=devices).persistent_id
            self.clean_otp(user)
        except forms.ValidationError as error:
            if token:  # a missing token guessed nothing; a refused one is a failed login
                self._refused(user=user, reason=error.code or "verification not allowed")
            raise
        return cleaned

    def _refused(self, *, user, reason: str) -> None:
        logger.warning("admin login: second factor refused for %s (%s)", user.get_username(), reason)
        user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)


def _device_for(*, token: str, devices: list):
    """The one device a token can belong to: an authenticator app's code is all digits, as many as
    its device expects; anything else is a backup code. A token that fits no device goes to the
    first one, which refuses it."""
    for device in devices:
        if isinstance(device, TOTPDevice) and token.isdigit() and len(token) == device.digits:
            return device
    for device in devices:
        if isinstance(device, StaticDevice):
            return device
    return devices[0]


@dataclass(frozen=True)
class Panel:
    """One panel of the admin's index page.

    ``rows()`` returns the rows the panel counts; ``query`` is the query string that filters
    ``model``'s changelist to exactly those rows (the panel's link). ``definition`` says in words
    what is counted; ``position`` orders the panels."""

    position: int
    title: str
    definition: Callable[[], str]
    model: type[Model]
    rows: Callable[[], QuerySet]
    query: str


class StaffAdminSite(OTPAdminSite):
    """``admin.site``: django-otp's OTP admin site while ``ADMIN_REQUIRE_2FA`` is on, Django's plain
    admin site otherwise. Branded "Bazaar"; its index shows the registered panels."""

    site_header = "Bazaar"
    site_title = "Bazaar"
    index_title = "Operations"

    def __init__(self, name: str = "admin"):  # keep the "admin" namespace of every admin URL
        super().__init__(name)
        self._panels: list[Panel] = []

    def panel_register(self, panel: Panel) -> None:
        """Add a panel to the index page (from an app's admin.py, after its model is registered)."""
        self._panels.append(panel)

    def panels(self, request) -> list[dict]:
        """The panels ``request.user`` may see (the view permission on the panel's model), in
        order, each with its count (one query each) and its link."""
        shown = []
        for panel in sorted(self._panels, key=lambda panel: panel.position):
            model_admin = self._registry.get(panel.model)
            if model_admin is None or not model_admin.has_view_or_change_permission(request):
                continue
            opts = panel.model._meta
            url = reverse(f"{self.name}:{opts.app_label}_{opts.model_name}_changelist", current_app=self.name)
            shown.append(
                {
                    "title": panel.title,
                    "definition": panel.definition(),
                    "count": panel.rows().count(),
                    "url": f"{url}?{panel.query}",
                }
            )
        return shown

    def index(self, request, extra_context=None):
        return super().index(request, extra_context={"panels": self.panels(request), **(extra_context or {})})

    @property
    def login_form(self):
        return StaffLoginForm if two_factor_required() else None

    @property
    def login_template(self):
        return OTPAdminSite.login_template if two_factor_required() else None

    def has_permission(self, request) -> bool:
        if two_factor_required():
            return super().has_permission(request)  # staff, active, and verified by a device
        return AdminSite.has_permission(self, request)
