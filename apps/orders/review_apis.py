"""Thin views for product reviews: the catalog stores them, orders decide who may write one."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apps.catalog.models import Review
from apps.catalog.selectors import product_get_public, review_list_for_product
from apps.catalog.serializers import ReviewInputSerializer, ReviewOutputSerializer
from apps.orders.reviews import review_create


class ProductReviewListApi(ListAPIView):
    """GET: a product's reviews, newest first (anyone). POST: review a product you received."""

    serializer_class = ReviewOutputSerializer

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return review_list_for_product(slug=self.kwargs["slug"], user=self.request.user)

    @extend_schema(operation_id="products_reviews_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=ReviewInputSerializer, responses={201: ReviewOutputSerializer})
    def post(self, request, slug: str):
        product = product_get_public(slug=slug, user=request.user)
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_create(author=request.user, product=product, **data.validated_data)
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)
