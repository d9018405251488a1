"""The admin's index page as the operator's dashboard (apps/accounts/admin_site.py and
templates/admin/index.html): branded "Bazaar", four panels each with a count and a link, and each
link landing on a changelist that shows exactly the counted rows."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.accounts.tests.factories import StoreFactory, UserFactory
from apps.catalog.models import Product
from apps.catalog.tests.factories import ProductFactory
from apps.orders.models import Order
from apps.payments.models import Payment, Refund
from apps.payments.providers.base import RefundStatus
from apps.payouts.tests.factories import connect, sell

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
PANELS = {
    "Orders needing review": reverse("admin:orders_order_changelist") + "?needs_review__exact=1",
    "Failed refunds": reverse("admin:payments_refund_changelist") + "?status__exact=failed",
    "Stores waiting for payout onboarding": reverse("admin:accounts_store_changelist") + "?payouts=waiting",
    "Products low on stock": reverse("admin:catalog_product_changelist") + "?status__exact=active&amp;stock=low",
}


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True, email="ops@example.com")


@pytest.fixture
def admin_client(client, operator):
    client.force_login(operator)
    return client


def panels(response) -> dict[str, tuple[int, str]]:
    """Each panel of the page: its title -> (count, link)."""
    rows = re.findall(r'<tr class="operator-panel">(.*?)</tr>', response.content.decode(), re.S)
    result = {}
    for row in rows:
        (title_link, title), (count_link, count) = re.findall(r'<a (?:class="[^"]+" )?href="([^"]+)">([^<]+)</a>', row)
        assert title_link == count_link
        result[title] = (int(count), title_link)
    return result


def failed_refund(order: Order, key: str) -> Refund:
    payment = Payment.objects.get(order=order, settles_order=True)
    return Refund.objects.create(
        payment=payment, amount=payment.amount, status=RefundStatus.FAILED, idempotency_key=key, failure="declined"
    )


@pytest.fixture
def waiting():
    """Data making every panel count non-zero, beside rows each panel must not count."""
    mug = ProductFactory(name="Mug", stock=50)  # its store: an active product, no payout account
    paid = sell((mug, 1))
    flagged = sell((mug, 1))
    Order.objects.filter(pk=flagged.pk).update(needs_review=True)
    refused = failed_refund(flagged, "refund-failed")
    Refund.objects.create(
        payment=Payment.objects.get(order=paid, settles_order=True),
        amount=1,
        status=RefundStatus.SUCCEEDED,
        idempotency_key="refund-ok",
    )
    onboarding = ProductFactory(name="Lamp", stock=5).store  # low on stock (5 = the threshold)
    connect(onboarding, payouts_enabled=False)  # an account not enabled yet: still waiting
    enabled = ProductFactory(name="Vase", stock=6).store  # 6: not low
    connect(enabled, payouts_enabled=True)
    ProductFactory(name="Draft", stock=0, status=Product.Status.DRAFT)  # a draft: neither low nor selling
    StoreFactory(name="Empty")  # no product: not waiting
    ProductFactory(name="Closed", stock=0, store=StoreFactory(is_active=False))  # inactive store: not waiting
    return {
        "Orders needing review": {flagged.pk},
        "Failed refunds": {refused.pk},
        "Stores waiting for payout onboarding": {mug.store_id, onboarding.pk},
        "Products low on stock": {
            Product.objects.get(name="Lamp").pk,
            Product.objects.get(name="Closed").pk,
        },
    }


def test_the_index_is_branded_bazaar(admin_client):
    response = admin_client.get(INDEX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Operations | Bazaar</title>" in html
    assert '<a href="/admin/">Bazaar</a>' in html
    assert "Django administration" not in html
    assert "Django site admin" not in html


def test_every_panel_counts_zero_on_an_empty_marketplace(admin_client):
    shown = panels(admin_client.get(INDEX))

    assert shown == {title: (0, link) for title, link in PANELS.items()}


def test_every_panel_counts_its_rows_and_links_to_its_filtered_list(admin_client, waiting):
    response = admin_client.get(INDEX)

    shown = panels(response)
    assert list(shown) == list(PANELS)  # in this order
    assert shown == {title: (len(waiting[title]), link) for title, link in PANELS.items()}
    html = response.content.decode()
    assert "Active products with 5 or fewer in stock." in html
    assert "payout account is missing or does not have payouts enabled" in html


@pytest.mark.parametrize("title", list(PANELS))
def test_each_link_lists_exactly_the_counted_rows(admin_client, waiting, title):
    response = admin_client.get(PANELS[title].replace("&amp;", "&"))

    assert response.status_code == 200
    changelist = response.context["cl"]
    assert {row.pk for row in changelist.result_list} == waiting[title]
    assert changelist.result_count == len(waiting[title])


def test_the_threshold_follows_the_setting(admin_client, waiting, settings):
    settings.LOW_STOCK_THRESHOLD = 50

    shown = panels(admin_client.get(INDEX))
    changelist = admin_client.get(PANELS["Products low on stock"].replace("&amp;", "&")).context["cl"]

    names = {"Mug", "Lamp", "Vase", "Closed"}  # the draft stays out
    assert shown["Products low on stock"][0] == len(names)
    assert {row.name for row in changelist.result_list} == names


def test_the_index_runs_a_fixed_number_of_queries(admin_client, waiting, django_assert_num_queries):
    # The session and the user, one COUNT per panel, the admin log's recent actions, and the
    # session's renewal (a savepoint, its update, the release).
    with django_assert_num_queries(10) as captured:
        admin_client.get(INDEX)
    assert sum(query["sql"].startswith("SELECT COUNT(*)") for query in captured.captured_queries) == len(PANELS)
    ProductFactory(stock=1)
    sell((ProductFactory(), 1), buyer=UserFactory())
    with django_assert_num_queries(10):
        admin_client.get(INDEX)


def test_staff_see_only_the_panels_of_models_they_may_view(client, waiting):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(staff)

    shown = panels(client.get(INDEX))

    assert shown == {"Orders needing review": (1, PANELS["Orders needing review"])}


@pytest.mark.parametrize("who", ["anonymous", "buyer"])
def test_others_are_sent_to_the_login(client, waiting, who):
    if who == "buyer":
        client.force_login(UserFactory())

    response = client.get(INDEX)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
