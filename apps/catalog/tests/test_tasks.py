"""The thumbnail task: queued after the upload commits, made once however often it runs."""

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError

from apps.catalog import services, tasks
from apps.catalog.models import ProductImage
from apps.catalog.tests.conftest import image_bytes
from apps.catalog.tests.test_images import PLACEHOLDER, post_image, stored_files

pytestmark = pytest.mark.django_db


def test_without_a_broker_an_upload_gets_its_thumbnail_at_the_commit(seller_client, product, on_commit):
    with on_commit(execute=True):
        image_id = post_image(seller_client, product, image_bytes()).json()["id"]

    image = ProductImage.objects.get(pk=image_id)
    assert image.thumbnail.name.endswith(".webp")
    assert default_storage.exists(image.thumbnail.name)


def test_with_a_broker_the_upload_queues_the_thumbnail_and_shows_the_placeholder_meanwhile(
    seller_client, api_client, product, on_commit, queued, settings
):
    calls = queued(tasks.image_make_thumbnail)

    with on_commit(execute=True):
        response = post_image(seller_client, product, image_bytes())
        assert calls == []

    image_id = response.json()["id"]
    assert calls == [("catalog.image_make_thumbnail", {"image_id": image_id})]
    assert response.json()["thumbnail_url"] == PLACEHOLDER
    assert ProductImage.objects.get(pk=image_id).thumbnail.name == ""
    assert len(stored_files(settings)) == 1

    tasks.image_make_thumbnail.apply(kwargs={"image_id": image_id})  # what the worker runs

    thumbnail = ProductImage.objects.get(pk=image_id).thumbnail.name
    assert thumbnail.endswith(".webp")
    assert api_client.get(f"/api/v1/products/{product.slug}/").json()["images"][0]["thumbnail_url"].endswith(thumbnail)


def test_a_refused_upload_queues_nothing(seller_client, product, on_commit, queued, settings, monkeypatch):
    calls = queued(tasks.image_make_thumbnail)
    monkeypatch.setattr(services, "MAX_IMAGES_PER_PRODUCT", 0)

    with on_commit(execute=True):
        response = post_image(seller_client, product, image_bytes())

    assert response.status_code == 400
    assert calls == []
    assert stored_files(settings) == []


def test_running_the_task_twice_makes_one_thumbnail(seller_client, product, on_commit, queued, settings):
    queued(tasks.image_make_thumbnail)
    with on_commit(execute=True):
        image_id = post_image(seller_client, product, image_bytes()).json()["id"]

    first = tasks.image_make_thumbnail.apply(kwargs={"image_id": image_id})
    made = ProductImage.objects.get(pk=image_id).thumbnail.name
    second = tasks.image_make_thumbnail.apply(kwargs={"image_id": image_id})

    assert (first.state, second.state) == ("SUCCESS", "SUCCESS")
    assert ProductImage.objects.get(pk=image_id).thumbnail.name == made
    assert len(stored_files(settings)) == 2  # the image and one thumbnail


def test_the_task_for_a_deleted_image_does_nothing(settings):
    result = tasks.image_make_thumbnail.apply(kwargs={"image_id": 999_999})

    assert result.state == "SUCCESS"
    assert stored_files(settings) == []


@pytest.mark.parametrize("error", [OSError("storage unavailable"), OperationalError("server closed the connection")])
def test_a_transient_error_is_retried(monkeypatch, task_retries, error):
    countdowns = task_retries(tasks.image_make_thumbnail)
    attempts = []

    def flaky(*, image_id):
        attempts.append(image_id)
        if len(attempts) == 1:
            raise error

    monkeypatch.setattr(services, "image_make_thumbnail", flaky)

    result = tasks.image_make_thumbnail.apply(kwargs={"image_id": 7})

    assert result.state == "SUCCESS"
    assert attempts == [7, 7]
    assert len(countdowns) == 1
