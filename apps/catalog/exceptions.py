"""The catalog domain's errors (categories, products, variants, stock, reviews): one class per code."""

from apps.core.exceptions import ApplicationError, Conflict, PermissionDenied


class CategoryInUse(Conflict):
    default_detail = "Products are filed under this category."
    default_code = "category_in_use"


class NotOwner(PermissionDenied):
    default_detail = "You can only change your own products."
    default_code = "not_owner"


class OutOfStock(Conflict):
    """Fewer in stock than asked for; ``extra`` says which product(s) and how many are left."""

    default_detail = "Not enough stock for some products in your cart."
    default_code = "insufficient_stock"


class NotEligible(PermissionDenied):
    default_detail = "Only buyers who received this product can review it."
    default_code = "not_eligible"


class AlreadyReviewed(Conflict):
    default_detail = "You have already reviewed this product."
    default_code = "already_reviewed"


class HasVariants(ApplicationError):
    """``price`` or ``stock`` sent for a product with options: they belong to its variants."""

    default_detail = "This product has options: change the price and stock of its variants instead."
    default_code = "has_variants"


class LastVariant(Conflict):
    default_detail = "A product keeps at least one active variant."
    default_code = "last_variant"
