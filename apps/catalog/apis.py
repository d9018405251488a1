"""Thin views for the catalog and the public store pages: parse, call one service or selector, serialize."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import store_get_for_owner
from apps.catalog import cache, listing, selectors, services, variants
from apps.catalog.filters import MAX_SEARCH_LENGTH, MAX_SEARCH_RESULTS, ORDERINGS
from apps.catalog.models import MAX_OPTIONS, Product
from apps.catalog.pagination import ProductPagination
from apps.catalog.serializers import (
    PRODUCT_CREATE_REQUEST,
    CategoryCreateInputSerializer,
    CategoryDetailOutputSerializer,
    CategoryFlatOutputSerializer,
    CategoryUpdateInputSerializer,
    ProductCreateInputSerializer,
    ProductDetailOutputSerializer,
    ProductImageInputSerializer,
    ProductImageOutputSerializer,
    ProductListOutputSerializer,
    ProductUpdateInputSerializer,
    SellerProductOutputSerializer,
    StorePublicOutputSerializer,
    VariantCreateInputSerializer,
    VariantOutputSerializer,
    VariantUpdateInputSerializer,
    product_list_rows,
)
from apps.core.permissions import IsSeller, IsStaffOrReadOnly

CATALOG_FILTERS = [
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description=f"Words in the name or description; the last one may also be the beginning of a word of the "
        f"name. At most {MAX_SEARCH_LENGTH} characters. Answers from at most {MAX_SEARCH_RESULTS} matching products "
        "(`count` at most that); results come by relevance unless `ordering` says otherwise.",
    ),
    OpenApiParameter("category", OpenApiTypes.STR, description="Category slug; its subcategories are included."),
    OpenApiParameter("min_price", OpenApiTypes.DECIMAL, description="Lowest price, e.g. `10.00`."),
    OpenApiParameter("max_price", OpenApiTypes.DECIMAL, description="Highest price, e.g. `99.99`."),
    OpenApiParameter("in_stock", OpenApiTypes.STR, enum=["true", "false"], description="Only (not) in stock."),
    OpenApiParameter(
        "option",
        OpenApiTypes.STR,
        many=True,
        explode=True,
        description=f"`name:value` (split at the first `:`; case-insensitive), repeatable (at most {MAX_OPTIONS}): "
        "products with an active, in-stock variant having all the given values, e.g. "
        "`?option=size:M&option=colour:red`.",
    ),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        enum=list(ORDERINGS),
        description="Sort order; default `-created_at`, or `relevance` when searching.",
    ),
]
STORE_FILTER = OpenApiParameter("store", OpenApiTypes.STR, description="Store slug.")
STATUS_FILTER = OpenApiParameter("status", OpenApiTypes.STR, enum=list(Product.Status.values))


# Reads open to anyone, with or without a token (drf-spectacular cannot tell from IsStaffOrReadOnly).
ANYONE = [{"jwtAuth": []}, {}]


class CategoryListApi(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(
        operation_id="categories_list", responses={200: CategoryFlatOutputSerializer(many=True)}, auth=ANYONE
    )
    def get(self, request):
        return Response(
            cache.category_list_cached(
                compute=lambda: CategoryFlatOutputSerializer(selectors.category_list(), many=True).data
            )
        )

    @extend_schema(request=CategoryCreateInputSerializer, responses={201: CategoryDetailOutputSerializer})
    def post(self, request):
        data = CategoryCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        category = services.category_create(**data.validated_data)
        return Response(
            CategoryDetailOutputSerializer(selectors.category_get(slug=category.slug)).data,
            status=status.HTTP_201_CREATED,
        )


class CategoryDetailApi(APIView):
    permission_classes = [IsStaffOrReadOnly]

    @extend_schema(responses={200: CategoryDetailOutputSerializer}, auth=ANYONE)
    def get(self, request, slug: str):
        return Response(
            cache.category_detail_cached(
                slug=slug, compute=lambda: CategoryDetailOutputSerializer(selectors.category_get(slug=slug)).data
            )
        )

    @extend_schema(request=CategoryUpdateInputSerializer, responses={200: CategoryDetailOutputSerializer})
    def patch(self, request, slug: str):
        category = selectors.category_get_by_slug(slug=slug)
        data = CategoryUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.category_update(category=category, **data.validated_data)
        return Response(CategoryDetailOutputSerializer(selectors.category_get(slug=slug)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str):
        services.category_delete(category=selectors.category_get_by_slug(slug=slug))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductListApi(ListAPIView):
    """The public catalog (GET) and adding a product to the seller's store (POST)."""

    serializer_class = ProductListOutputSerializer
    filter_backends: list = []
    pagination_class = listing.PlannedPagination

    def get_permissions(self):
        return [IsAuthenticated(), IsSeller()] if self.request.method == "POST" else [AllowAny()]

    def list(self, request, *args, **kwargs):
        # The listing is compiled once per query string and worker (catalog.listing); its rows are
        # plain dicts, rendered by one function rather than a serializer per row. The schema
        # still comes from serializer_class.
        page = self.paginate_queryset(listing.product_list_planned(query=request.query_params))
        return self.get_paginated_response(product_list_rows(page, request=request))

    @extend_schema(parameters=[*CATALOG_FILTERS, STORE_FILTER])
    def get(self, request, *args, **kwargs):
        # The list is the same for every user: cached per query (catalog.cache).
        page = super().get
        return Response(cache.product_list_cached(request=request, compute=lambda: page(request, *args, **kwargs).data))

    @extend_schema(request=PRODUCT_CREATE_REQUEST, responses={201: ProductDetailOutputSerializer})
    def post(self, request):
        data = ProductCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = services.product_create(store=store_get_for_owner(user=request.user), **data.validated_data)
        product = selectors.product_get_public(slug=product.slug, user=request.user)
        return Response(
            ProductDetailOutputSerializer(product, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ProductDetailApi(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(responses={200: ProductDetailOutputSerializer})
    def get(self, request, slug: str):
        if cache.product_detail_bypasses_cache(user=request.user):
            product = selectors.product_get_public(slug=slug, user=request.user)
            return Response(ProductDetailOutputSerializer(product, context={"request": request}).data)
        return Response(
            cache.product_detail_cached(
                request=request,
                slug=slug,
                compute=lambda: (
                    ProductDetailOutputSerializer(
                        selectors.product_get_public(slug=slug), context={"request": request}
                    ).data
                ),
            )
        )

    def _update(self, request, slug: str, *, partial: bool) -> Response:
        product = selectors.product_get_for_change(slug=slug, user=request.user)
        data = ProductUpdateInputSerializer(data=request.data, partial=partial, has_options=bool(product.options))
        data.is_valid(raise_exception=True)
        product = services.product_update(product=product, data=data.validated_data)
        return Response(
            ProductDetailOutputSerializer(
                selectors.product_get_for_change(slug=product.slug, user=request.user), context={"request": request}
            ).data
        )

    @extend_schema(request=ProductUpdateInputSerializer, responses={200: ProductDetailOutputSerializer})
    def put(self, request, slug: str):
        return self._update(request, slug, partial=False)

    @extend_schema(request=ProductUpdateInputSerializer, responses={200: ProductDetailOutputSerializer})
    def patch(self, request, slug: str):
        return self._update(request, slug, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, slug: str):
        services.product_delete(product=selectors.product_get_for_change(slug=slug, user=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


LAST_VARIANT = "last_variant: a product keeps at least one active variant."


class VariantListApi(APIView):
    """A product's variants, inactive ones included (owner and staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: VariantOutputSerializer(many=True)})
    def get(self, request, slug: str):
        product = selectors.product_get_for_change(slug=slug, user=request.user)
        return Response(VariantOutputSerializer(product.variant_list, many=True).data)

    @extend_schema(request=VariantCreateInputSerializer, responses={201: VariantOutputSerializer})
    def post(self, request, slug: str):
        product = selectors.product_get_for_change(slug=slug, user=request.user)
        data = VariantCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = variants.variant_create(product=product, **data.validated_data)
        return Response(VariantOutputSerializer(variant).data, status=status.HTTP_201_CREATED)


class VariantDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VariantUpdateInputSerializer,
        responses={200: VariantOutputSerializer, 409: OpenApiResponse(description=LAST_VARIANT)},
    )
    def patch(self, request, slug: str, sku: str):
        product = selectors.product_get_for_change(slug=slug, user=request.user)
        variant = selectors.variant_get_for_change(product=product, sku=sku)
        data = VariantUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = variants.variant_update(variant=variant, data=data.validated_data)
        return Response(VariantOutputSerializer(variant).data)

    @extend_schema(
        responses={204: None, 409: OpenApiResponse(description=LAST_VARIANT)},
        description="Deletes the variant, or deactivates it when an order references it (204 either way).",
    )
    def delete(self, request, slug: str, sku: str):
        product = selectors.product_get_for_change(slug=slug, user=request.user)
        variants.variant_delete(variant=selectors.variant_get_for_change(product=product, sku=sku))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductImageListApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ProductImageInputSerializer}, responses={201: ProductImageOutputSerializer}
    )
    def post(self, request, slug: str):
        product = selectors.product_get_for_change(slug=slug, user=request.user, allow_staff=False)
        data = ProductImageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        image = services.product_image_add(
            product=product,
            file=upload,
            size=upload.size,
            alt_text=data.validated_data["alt_text"],
            position=data.validated_data.get("position"),
        )
        return Response(
            ProductImageOutputSerializer(image, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ProductImageDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, slug: str, image_id: int):
        product = selectors.product_get_for_change(slug=slug, user=request.user, allow_staff=False)
        services.product_image_delete(image=selectors.product_image_get(product=product, image_id=image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SellerProductListApi(ListAPIView):
    """The seller's own products, drafts and archived included."""

    permission_classes = [IsAuthenticated, IsSeller]
    serializer_class = SellerProductOutputSerializer
    filter_backends: list = []
    pagination_class = ProductPagination

    def get_queryset(self):
        return selectors.product_list_for_seller(seller=self.request.user, filters=self.request.query_params)

    @extend_schema(parameters=[*CATALOG_FILTERS, STATUS_FILTER])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StoreListApi(ListAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = StorePublicOutputSerializer

    def get_queryset(self):
        return selectors.store_list_public()

    @extend_schema(tags=["stores"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class StoreDetailApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: StorePublicOutputSerializer}, tags=["stores"])
    def get(self, request, slug: str):
        return Response(StorePublicOutputSerializer(selectors.store_get_public(slug=slug)).data)
