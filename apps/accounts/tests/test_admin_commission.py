"""Per-store commission overrides: the service, and the Store admin's "Set commission rate" action
(an intermediate page; permission-gated; an admin log line per store naming the staff member)."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.exceptions import ValidationError

from apps.accounts.models import Store
from apps.accounts.selectors import store_commission_rate
from apps.accounts.services import store_commission_set
from apps.accounts.tests.factories import StoreFactory, UserFactory

pytestmark = pytest.mark.django_db

STORES = reverse("admin:accounts_store_changelist")


def grant(user, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def run(client, *stores, rate: str | None = None):
    """POST the action as the intermediate page's form does (with ``rate``), or, with ``rate``
    None, as the changelist does (which shows the form)."""
    data = {"action": "set_commission_rate", "_selected_action": [store.pk for store in stores]}
    if rate is not None:
        data |= {"apply": "1", "rate": rate}
    return client.post(STORES, data, follow=True)


def said(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def rates(*stores) -> list[Decimal | None]:
    return [Store.objects.get(pk=store.pk).commission_rate for store in stores]


def log(store) -> list[tuple[str, int, str]]:
    return list(
        LogEntry.objects.filter(content_type__model="store", object_id=str(store.pk)).values_list(
            "user__email", "action_flag", "change_message"
        )
    )


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True)
    grant(user, "view_store", "set_commission")
    client.force_login(user)
    return user


# --- the service ---------------------------------------------------------------------------------


def test_the_effective_rate_is_the_override_else_the_deployments(settings):
    settings.COMMISSION_RATE = Decimal("10.00")
    store = StoreFactory()
    assert store_commission_rate(store=store) == Decimal("10.00")

    store_commission_set(store=store, rate=Decimal("12.5"), actor=UserFactory(is_staff=True))

    assert store.commission_rate == Decimal("12.50")
    assert store_commission_rate(store=Store.objects.get(pk=store.pk)) == Decimal("12.50")
    store_commission_set(store=store, rate=None, actor=UserFactory(is_staff=True))
    assert rates(store) == [None]
    assert store_commission_rate(store=store) == Decimal("10.00")


@pytest.mark.parametrize("rate", ["-0.01", "100.01", "12.345", "NaN"])
def test_the_service_refuses_a_rate_out_of_range_and_changes_nothing(rate):
    store = StoreFactory(commission_rate=Decimal("7.00"))

    with pytest.raises(ValidationError) as error:
        store_commission_set(store=store, rate=Decimal(rate), actor=UserFactory(is_staff=True))

    assert "commission_rate" in error.value.detail
    assert rates(store) == [Decimal("7.00")]


def test_the_database_refuses_a_rate_out_of_range():
    store = StoreFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Store.objects.filter(pk=store.pk).update(commission_rate=Decimal("100.50"))


# --- the admin action ----------------------------------------------------------------------------


def test_the_action_shows_a_form_first_and_changes_nothing(client, operator):
    store = StoreFactory()

    response = run(client, store)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/accounts/store/set_commission_rate.html"
    assert 'name="rate"' in response.content.decode()
    assert rates(store) == [None]
    assert LogEntry.objects.count() == 0


def test_the_rate_changes_and_each_store_gets_a_log_entry(client, operator):
    first, second = StoreFactory(), StoreFactory(commission_rate=Decimal("8.00"))

    response = run(client, first, second, rate="12.50")

    assert rates(first, second) == [Decimal("12.50"), Decimal("12.50")]
    assert sorted(said(response)) == sorted(
        [
            ("success", f"{first}: commission rate default -> 12.50%."),
            ("success", f"{second}: commission rate 8.00% -> 12.50%."),
        ]
    )
    assert log(first) == [(operator.email, CHANGE, "commission rate default -> 12.50%")]
    assert log(second) == [(operator.email, CHANGE, "commission rate 8.00% -> 12.50%")]


def test_an_empty_rate_clears_the_override(client, operator):
    store = StoreFactory(commission_rate=Decimal("8.00"))

    run(client, store, rate="")

    assert rates(store) == [None]
    assert log(store) == [(operator.email, CHANGE, "commission rate 8.00% -> default")]


@pytest.mark.parametrize("rate", ["100.01", "-1", "abc", "12.345"])
def test_a_bad_rate_is_refused_and_changes_nothing(client, operator, rate):
    store = StoreFactory(commission_rate=Decimal("8.00"))

    response = run(client, store, rate=rate)

    assert response.status_code == 200
    assert response.context["form"].errors["rate"]  # the form again, with its error
    assert rates(store) == [Decimal("8.00")]
    assert LogEntry.objects.count() == 0


def test_staff_without_the_permission_cannot_run_it(client):
    viewer = UserFactory(is_staff=True)
    grant(viewer, "view_store", "change_store")
    client.force_login(viewer)
    store = StoreFactory()

    listed = client.get(STORES)
    response = run(client, store, rate="12.50")

    assert listed.context["action_form"] is None  # no action is offered
    assert (response.status_code, said(response)) == (200, [])  # the POST is only the list again
    assert rates(store) == [None]
    assert LogEntry.objects.count() == 0


def test_the_change_form_cannot_write_the_rate(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    store = StoreFactory()
    url = reverse("admin:accounts_store_change", args=[store.pk])

    page = client.get(url)
    assert 'name="commission_rate"' not in page.content.decode()
    client.post(
        url,
        {
            "owner": store.owner.pk,
            "name": store.name,
            "description": store.description,
            "is_active": "on",
            "commission_rate": "50.00",
        },
    )

    assert rates(store) == [None]
    assert Store.objects.get(pk=store.pk).name == store.name
