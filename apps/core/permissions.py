"""Every role rule of the API, in one place.

Roles: buyer (any active user), seller (``user.is_seller``, set when the user opens a store),
staff (``user.is_staff``, granted in the admin).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsSeller(BasePermission):
    message = "Only sellers can do this; open a store first."
    code = "not_a_seller"

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_seller)


class IsStaff(BasePermission):
    message = "Only staff can do this."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrReadOnly(BasePermission):
    """Anyone reads; only staff write."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or IsStaff().has_permission(request, view)


class IsOwnerOrStaff(BasePermission):
    """Object-level: the object's ``owner`` (or the user ``owner_of`` returns) or staff."""

    message = "You can only change your own items."

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        owner = view.owner_of(obj) if hasattr(view, "owner_of") else getattr(obj, "owner", None)
        return bool(request.user.is_staff or owner == request.user)


class IsSellerOrStaff(BasePermission):
    message = "Only sellers and staff can do this."
    code = "not_a_seller"

    def has_permission(self, request, view):
        return IsSeller().has_permission(request, view) or IsStaff().has_permission(request, view)
