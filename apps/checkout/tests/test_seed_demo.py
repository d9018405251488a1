"""seed_demo: the demo marketplace for `make run`, idempotent, refused in production."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Store, User
from apps.checkout.management.commands.seed_demo import DEMO_BUYER, DEMO_PASSWORD, DEMO_SELLERS, DEMO_STAFF
from apps.shipping.models import ShippingRate

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_creates_sellers_with_stores_a_buyer_and_staff_and_prints_the_logins(api_client):
    output = seed()

    sellers = User.objects.filter(is_seller=True)
    assert sorted(sellers.values_list("email", flat=True)) == sorted(email for email, *_ in DEMO_SELLERS)
    assert Store.objects.filter(owner__in=sellers, is_active=True).count() == 3
    assert sorted(Store.objects.values_list("name", flat=True)) == sorted(row[3] for row in DEMO_SELLERS)
    buyer = User.objects.get(email=DEMO_BUYER[0])
    assert (buyer.is_seller, buyer.is_staff) == (False, False)
    staff = User.objects.get(email=DEMO_STAFF[0])
    assert (staff.is_staff, staff.is_superuser) == (True, True)
    assert User.objects.count() == 5
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())
    assert DEMO_PASSWORD in output
    for email in [row[0] for row in DEMO_SELLERS] + [DEMO_BUYER[0], DEMO_STAFF[0]]:
        assert email in output
    login = api_client.post("/api/v1/auth/token/", {"email": DEMO_BUYER[0], "password": DEMO_PASSWORD})
    assert login.status_code == 200


def test_seed_demo_is_idempotent():
    seed()
    users = sorted(User.objects.values_list("pk", "email", "is_seller", "is_staff"))
    stores = sorted(Store.objects.values_list("pk", "slug", "owner_id"))

    seed()

    assert sorted(User.objects.values_list("pk", "email", "is_seller", "is_staff")) == users
    assert sorted(Store.objects.values_list("pk", "slug", "owner_id")) == stores
    assert (len(users), len(stores)) == (5, 3)
    assert User.objects.filter(is_seller=True).count() == 3
    assert User.objects.filter(is_staff=True).count() == 1


def test_seed_demo_refuses_to_run_in_prod(settings):
    settings.ENV = "prod"

    with pytest.raises(CommandError, match="refusing with ENV=prod"):
        seed()

    assert not User.objects.exists()


def test_seed_demo_runs_in_prod_with_allow_prod(settings):
    settings.ENV = "prod"

    seed("--allow-prod")

    assert User.objects.count() == 5


def test_two_demo_stores_ship_at_their_own_rates_and_the_third_at_the_flat_rate():
    seed()
    seed()

    rates = sorted(ShippingRate.objects.values_list("store__owner__email", "name"))
    ada, grace, alan = (row[0] for row in DEMO_SELLERS)
    assert rates == sorted([(ada, "Economy"), (ada, "Express"), (grace, "Economy"), (grace, "Express")])
    assert not ShippingRate.objects.filter(store__owner__email=alan).exists()
