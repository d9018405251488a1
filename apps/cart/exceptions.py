"""The cart domain's errors: one class per code. Stock errors are the catalog's (OutOfStock)."""

from apps.core.exceptions import ApplicationError


class OwnProduct(ApplicationError):
    default_detail = "You cannot buy your own product."
    default_code = "own_product"


class VariantRequired(ApplicationError):
    """A product with options was added without naming one of its variants (``variant``: a sku)."""

    default_detail = "This product comes in several variants: choose one (variant: its sku)."
    default_code = "variant_required"
