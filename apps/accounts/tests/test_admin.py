"""The Django admin for accounts renders and creates users with our email rules."""

import pytest

from apps.accounts.models import Store, User
from apps.accounts.tests.factories import AddressFactory, StoreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/accounts/address/",
        "/admin/accounts/store/",
        "/admin/accounts/user/?q=example",
    ],
)
def test_admin_pages_render_for_a_superuser(admin_client, path):
    StoreFactory()
    AddressFactory()

    assert admin_client.get(path).status_code == 200


def test_admin_change_pages_render(admin_client):
    store = StoreFactory()
    address = AddressFactory()

    for path in (
        f"/admin/accounts/user/{store.owner.pk}/change/",
        f"/admin/accounts/store/{store.pk}/change/",
        f"/admin/accounts/address/{address.pk}/change/",
    ):
        assert admin_client.get(path).status_code == 200, path


def test_admin_adds_a_user_with_a_lower_cased_email(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "New.Person@Example.com", "password1": "a-long-password-1", "password2": "a-long-password-1"},
    )

    assert response.status_code == 302
    created = User.objects.get(email="new.person@example.com")
    assert created.check_password("a-long-password-1")
    assert (created.is_staff, created.is_superuser) == (False, False)


def test_admin_refuses_an_email_taken_in_another_case(admin_client):
    UserFactory(email="taken@example.com")

    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "TAKEN@example.com", "password1": "a-long-password-1", "password2": "a-long-password-1"},
    )

    assert response.status_code == 200
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_admin_is_closed_to_a_plain_user(client):
    client.force_login(UserFactory())

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_stores_cannot_be_added_in_the_admin(admin_client):
    owner = UserFactory()

    response = admin_client.post(
        "/admin/accounts/store/add/", {"owner": owner.pk, "name": "Admin Store", "description": "", "is_active": "on"}
    )

    assert response.status_code == 403
    assert not Store.objects.exists()


def test_staff_can_deactivate_a_store_in_the_admin(admin_client):
    store = StoreFactory(name="Alpha", slug="alpha")

    response = admin_client.post(
        f"/admin/accounts/store/{store.pk}/change/",
        {"owner": store.owner.pk, "name": "Alpha", "description": "", "is_active": ""},
    )

    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.is_active, store.slug) == (False, "alpha")
