from django.urls import path

from apps.catalog import apis

urlpatterns = [
    path("categories/", apis.CategoryListApi.as_view(), name="category-list"),
    path("categories/<slug:slug>/", apis.CategoryDetailApi.as_view(), name="category-detail"),
    path("products/", apis.ProductListApi.as_view(), name="product-list"),
    path("products/<slug:slug>/", apis.ProductDetailApi.as_view(), name="product-detail"),
    path("products/<slug:slug>/variants/", apis.VariantListApi.as_view(), name="product-variant-list"),
    path("products/<slug:slug>/variants/<str:sku>/", apis.VariantDetailApi.as_view(), name="product-variant-detail"),
    path("products/<slug:slug>/images/", apis.ProductImageListApi.as_view(), name="product-image-list"),
    path(
        "products/<slug:slug>/images/<int:image_id>/",
        apis.ProductImageDetailApi.as_view(),
        name="product-image-detail",
    ),
    path("seller/products/", apis.SellerProductListApi.as_view(), name="seller-product-list"),
    path("stores/", apis.StoreListApi.as_view(), name="store-list"),
    path("stores/<slug:slug>/", apis.StoreDetailApi.as_view(), name="store-detail"),
]
