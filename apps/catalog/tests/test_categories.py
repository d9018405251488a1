import pytest

from apps.catalog.models import Category
from apps.catalog.tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/categories/"


def detail(slug: str) -> str:
    return f"/api/v1/categories/{slug}/"


def test_list_is_the_whole_tree_flattened_depth_first_with_parent_slugs(api_client, tree):
    response = api_client.get(LIST)

    assert response.status_code == 200
    assert response.json() == [
        {"id": tree["kitchen"].id, "name": "Kitchen", "slug": "kitchen", "parent": None},
        {"id": tree["tools"].id, "name": "Tools", "slug": "tools", "parent": None},
        {"id": tree["hand-tools"].id, "name": "Hand Tools", "slug": "hand-tools", "parent": "tools"},
        {"id": tree["hammers"].id, "name": "Hammers", "slug": "hammers", "parent": "hand-tools"},
        {"id": tree["power-tools"].id, "name": "Power Tools", "slug": "power-tools", "parent": "tools"},
    ]


def test_list_takes_one_query_whatever_the_tree_size(api_client, tree, django_assert_num_queries):
    for number in range(30):
        CategoryFactory(parent=tree["power-tools"], name=f"Extra {number}", slug=f"extra-{number}")

    with django_assert_num_queries(1):
        response = api_client.get(LIST)

    assert len(response.json()) == 35


def test_detail_has_parent_and_direct_children_only(api_client, tree, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api_client.get(detail("tools"))

    assert response.status_code == 200
    assert response.json() == {
        "id": tree["tools"].id,
        "name": "Tools",
        "slug": "tools",
        "parent": None,
        "children": [
            {"id": tree["hand-tools"].id, "name": "Hand Tools", "slug": "hand-tools"},
            {"id": tree["power-tools"].id, "name": "Power Tools", "slug": "power-tools"},
        ],
    }
    assert api_client.get(detail("hammers")).json()["parent"] == "hand-tools"


def test_unknown_category_is_404(api_client, tree):
    response = api_client.get(detail("nope"))

    assert response.status_code == 404
    assert response.json() == {"detail": "Category not found.", "code": "not_found"}


def test_staff_creates_a_child_with_a_generated_slug_sorted_among_siblings(staff_client, tree):
    response = staff_client.post(LIST, {"name": "Garden Tools", "parent": "tools", "slug": "ignored"})

    assert response.status_code == 201
    created = Category.objects.get(slug="garden-tools")
    assert response.json() == {
        "id": created.id,
        "name": "Garden Tools",
        "slug": "garden-tools",
        "parent": "tools",
        "children": [],
    }
    children = [child["slug"] for child in staff_client.get(detail("tools")).json()["children"]]
    assert children == ["garden-tools", "hand-tools", "power-tools"]


def test_staff_creates_a_root_and_a_clashing_name_gets_a_suffix(staff_client, tree):
    first = staff_client.post(LIST, {"name": "Kitchen"})

    assert first.status_code == 201
    assert first.json()["slug"] == "kitchen-2"
    assert first.json()["parent"] is None
    assert Category.objects.filter(name="Kitchen").count() == 2


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "X" * 121}, {"name": ["Ensure this field has no more than 120 characters."]}),
        ({"name": "Lamps", "parent": "nope"}, {"parent": ["Object with slug=nope does not exist."]}),
    ],
)
def test_create_validates_and_creates_nothing(staff_client, tree, body, errors):
    response = staff_client.post(LIST, body)

    assert response.status_code == 400
    assert response.json() == errors
    assert Category.objects.count() == 5


def test_rename_keeps_the_slug_and_resorts_siblings(staff_client, tree):
    response = staff_client.patch(detail("power-tools"), {"name": "Cordless Tools", "slug": "cordless"})

    assert response.status_code == 200
    assert response.json()["slug"] == "power-tools"
    assert response.json()["name"] == "Cordless Tools"
    children = [child["name"] for child in staff_client.get(detail("tools")).json()["children"]]
    assert children == ["Cordless Tools", "Hand Tools"]


def test_move_takes_the_subtree_along(staff_client, api_client, tree):
    response = staff_client.patch(detail("hand-tools"), {"parent": "kitchen"})

    assert response.status_code == 200
    assert response.json()["parent"] == "kitchen"
    flat = {row["slug"]: row["parent"] for row in api_client.get(LIST).json()}
    assert flat == {
        "kitchen": None,
        "hand-tools": "kitchen",
        "hammers": "hand-tools",
        "tools": None,
        "power-tools": "tools",
    }


def test_move_to_the_root_with_null_parent(staff_client, tree):
    response = staff_client.patch(detail("hammers"), {"parent": None})

    assert response.status_code == 200
    assert response.json()["parent"] is None
    assert Category.objects.get(slug="hammers").depth == 1


def test_moving_under_its_own_descendant_is_refused_and_changes_nothing(staff_client, tree):
    paths = dict(Category.objects.values_list("slug", "path"))

    response = staff_client.patch(detail("tools"), {"parent": "hammers"})

    assert response.status_code == 400
    assert response.json() == {"parent": ["A category cannot move under itself or one of its descendants."]}
    assert dict(Category.objects.values_list("slug", "path")) == paths


def test_delete_removes_the_subtree(staff_client, tree):
    response = staff_client.delete(detail("hand-tools"))

    assert response.status_code == 204
    assert sorted(Category.objects.values_list("slug", flat=True)) == ["kitchen", "power-tools", "tools"]
    assert Category.objects.get(slug="tools").numchild == 1


def test_delete_with_products_under_a_descendant_is_a_conflict(staff_client, tree):
    ProductFactory(category=tree["hammers"], status="draft")

    response = staff_client.delete(detail("tools"))

    assert response.status_code == 409
    assert response.json()["code"] == "category_in_use"
    assert Category.objects.count() == 5


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 403), ("other_seller", 403), ("staff", 201)]
)
def test_create_permissions(clients, tree, role, expected):
    response = clients[role].post(LIST, {"name": "Garden"})

    assert response.status_code == expected
    assert Category.objects.filter(name="Garden").exists() == (expected == 201)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 403), ("other_seller", 403), ("staff", 200)]
)
def test_update_permissions(clients, tree, role, expected):
    response = clients[role].patch(detail("kitchen"), {"name": "Cooking"})

    assert response.status_code == expected
    assert Category.objects.get(slug="kitchen").name == ("Cooking" if expected == 200 else "Kitchen")


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 403), ("other_seller", 403), ("staff", 204)]
)
def test_delete_permissions(clients, tree, role, expected):
    response = clients[role].delete(detail("kitchen"))

    assert response.status_code == expected
    assert Category.objects.filter(slug="kitchen").exists() == (expected != 204)


@pytest.mark.parametrize("role", ["anonymous", "buyer", "owner", "other_seller", "staff"])
def test_everyone_reads(clients, tree, role):
    assert clients[role].get(LIST).status_code == 200
    assert clients[role].get(detail("tools")).status_code == 200
