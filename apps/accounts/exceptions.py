"""The accounts domain's errors (users, addresses, stores): one class per code."""

from apps.core.exceptions import Conflict, NotFound


class NoStore(NotFound):
    default_detail = "You have no store yet."
    default_code = "no_store"


class StoreExists(Conflict):
    default_detail = "You already have a store."
    default_code = "store_exists"
