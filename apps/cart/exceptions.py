"""The cart domain's errors: one class per code. Stock errors are the catalog's (OutOfStock)."""

from apps.core.exceptions import ApplicationError


class OwnProduct(ApplicationError):
    default_detail = "You cannot buy your own product."
    default_code = "own_product"
