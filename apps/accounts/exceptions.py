"""The accounts domain's errors (users, addresses, stores): one class per code."""

from apps.core.exceptions import Conflict, NotFound, PermissionDenied


class NoStore(NotFound):
    default_detail = "You have no store yet."
    default_code = "no_store"


class StoreExists(Conflict):
    default_detail = "You already have a store."
    default_code = "store_exists"


class NotStaff(PermissionDenied):
    default_detail = "Only staff log in to the admin: make the user staff first."
    default_code = "not_staff"
