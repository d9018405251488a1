"""Role rules (apps/core/permissions.py), exercised through small views as the API uses them."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.accounts.tests.factories import UserFactory
from apps.core.permissions import IsOwnerOrStaff, IsSeller, IsStaff, IsStaffOrReadOnly

pytestmark = pytest.mark.django_db

factory = APIRequestFactory()


class SellerOnlyView(APIView):
    permission_classes = [IsSeller]

    def get(self, request):
        return Response({"ok": True})


class StaffOnlyView(APIView):
    permission_classes = [IsStaff]

    def get(self, request):
        return Response({"ok": True})


class CatalogLikeView(APIView):
    permission_classes = [IsStaffOrReadOnly]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True}, status=201)


class OwnedThingView(APIView):
    """An object view: the object's ``owner`` decides, unless the user is staff."""

    permission_classes = [IsOwnerOrStaff]
    thing = None

    def get(self, request):
        self.check_object_permissions(request, self.thing)
        return Response({"ok": True})

    def patch(self, request):
        self.check_object_permissions(request, self.thing)
        return Response({"ok": True})


class StoreProductView(OwnedThingView):
    """Objects owned through something else name their owner with ``owner_of``."""

    def owner_of(self, obj):
        return obj.store.owner


def call(view, method="get", user=None, **initkwargs):
    request = getattr(factory, method)("/x/", {}, format="json")
    if user is not None:
        force_authenticate(request, user=user)
    return view.as_view(**initkwargs)(request)


def test_is_seller_lets_a_seller_in(seller):
    assert call(SellerOnlyView, user=seller).status_code == 200


def test_is_seller_refuses_a_buyer_with_its_code(buyer):
    response = call(SellerOnlyView, user=buyer)

    assert response.status_code == 403
    assert response.data == {"detail": "Only sellers can do this; open a store first.", "code": "not_a_seller"}


def test_is_seller_refuses_staff_that_is_not_a_seller(staff):
    assert call(SellerOnlyView, user=staff).status_code == 403


def test_is_seller_refuses_anonymous_with_401():
    response = call(SellerOnlyView)

    assert response.status_code == 401
    assert response.data["code"] == "not_authenticated"


def test_is_staff_lets_staff_in_and_refuses_others(staff, seller):
    refused = call(StaffOnlyView, user=seller)

    assert call(StaffOnlyView, user=staff).status_code == 200
    assert refused.status_code == 403
    assert refused.data == {"detail": "Only staff can do this.", "code": "permission_denied"}


def test_staff_or_read_only_lets_anyone_read(buyer):
    assert call(CatalogLikeView).status_code == 200
    assert call(CatalogLikeView, user=buyer).status_code == 200


def test_staff_or_read_only_lets_only_staff_write(buyer, seller, staff):
    assert call(CatalogLikeView, "post", user=staff).status_code == 201
    assert call(CatalogLikeView, "post", user=buyer).status_code == 403
    assert call(CatalogLikeView, "post", user=seller).status_code == 403
    assert call(CatalogLikeView, "post").status_code == 401


def test_owner_or_staff_lets_the_owner_and_staff_change(buyer, staff):
    thing = SimpleNamespace(owner=buyer)

    assert call(OwnedThingView, "patch", user=buyer, thing=thing).status_code == 200
    assert call(OwnedThingView, "patch", user=staff, thing=thing).status_code == 200


def test_owner_or_staff_refuses_another_user_but_lets_them_read(buyer):
    thing = SimpleNamespace(owner=UserFactory())

    refused = call(OwnedThingView, "patch", user=buyer, thing=thing)

    assert refused.status_code == 403
    assert refused.data == {"detail": "You can only change your own items.", "code": "permission_denied"}
    assert call(OwnedThingView, "get", user=buyer, thing=thing).status_code == 200


def test_owner_or_staff_uses_the_views_owner_of(seller, buyer):
    product = SimpleNamespace(store=SimpleNamespace(owner=seller))

    assert call(StoreProductView, "patch", user=seller, thing=product).status_code == 200
    assert call(StoreProductView, "patch", user=buyer, thing=product).status_code == 403


def test_owner_or_staff_refuses_an_object_without_owner(buyer):
    assert call(OwnedThingView, "patch", user=buyer, thing=SimpleNamespace()).status_code == 403


def test_owner_or_staff_refuses_anonymous_writes(buyer):
    request = factory.patch("/x/")
    request.user = AnonymousUser()
    thing = SimpleNamespace(owner=buyer)

    assert IsOwnerOrStaff().has_object_permission(request, None, thing) is False
