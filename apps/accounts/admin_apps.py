"""Django's admin app with Bazaar's admin site as the default one (Django's documented way to
replace ``admin.site``): listed in INSTALLED_APPS in place of ``django.contrib.admin``.

Kept apart from apps.py, which must hold only the accounts app's own config, and from
admin_site.py, whose imports need the app registry ready."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "apps.accounts.admin_site.StaffAdminSite"
