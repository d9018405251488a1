import pytest

from apps.accounts.tests.factories import UserFactory
from apps.catalog.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/catalog/category/",
        "/admin/catalog/category/add/",
        "/admin/catalog/product/",
        "/admin/catalog/product/add/",
    ],
)
def test_staff_manage_the_catalog_in_the_admin(admin_client, product, path):
    assert admin_client.get(path).status_code == 200
    assert admin_client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/catalog/category/{product.category_id}/change/").status_code == 200


def test_staff_add_a_child_category_in_the_admin(admin_client, tree):
    response = admin_client.post(
        "/admin/catalog/category/add/",
        {
            "name": "Saws",
            "slug": "saws",
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": tree["hand-tools"].pk,
        },
    )

    assert response.status_code == 302
    saws = Category.objects.get(slug="saws")
    assert Category.objects.get_parent(saws).slug == "hand-tools"
