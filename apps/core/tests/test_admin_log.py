"""Django's admin log in the admin (apps/core/admin.py): the audit trail, readable, never writable."""

import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

LOG = reverse("admin:admin_logentry_changelist")


@pytest.fixture
def entry():
    """What an admin action leaves: staff member, object, what was done."""
    store = StoreFactory(name="Alpha")
    actor = UserFactory(is_staff=True, email="ops@bazaar.test")
    return LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[store], action_flag=CHANGE, change_message="switched off", single_object=True
    )


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_log_lists_who_did_what_to_which_object(superuser_client, entry):
    page = superuser_client.get(LOG)

    assert page.status_code == 200
    body = page.content.decode()
    for shown in (
        "ops@bazaar.test",
        "Alpha",
        "switched off",
        reverse("admin:accounts_store_change", args=[entry.object_id]),
    ):
        assert shown in body, shown
    assert superuser_client.get(LOG, {"q": "switched"}).context["cl"].result_count == 1


def test_a_log_line_can_be_read_but_not_added_changed_or_deleted(superuser_client, entry):
    change = reverse("admin:admin_logentry_change", args=[entry.pk])

    page = superuser_client.get(change)

    assert page.status_code == 200
    assert re.findall(r'<(?:input|select|textarea)[^>]*\bname="(?!csrfmiddlewaretoken)', page.content.decode()) == []
    assert superuser_client.post(change, {"change_message": "nothing happened"}).status_code == 403
    assert superuser_client.get(reverse("admin:admin_logentry_add")).status_code == 403
    assert (
        superuser_client.post(reverse("admin:admin_logentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert superuser_client.get(LOG).context["action_form"] is None  # not even "delete selected"
    bulk_delete = superuser_client.post(LOG, {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert bulk_delete.status_code == 200  # only the list again
    assert LogEntry.objects.get().change_message == "switched off"


def test_staff_without_the_view_permission_do_not_read_the_log(client, entry):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(LOG).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_logentry"))

    assert client.get(LOG).status_code == 200
