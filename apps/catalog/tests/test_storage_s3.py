"""Images on S3: a real S3 HTTP endpoint (moto's server, started here on a free local port),
reached by django-storages' S3Storage through boto3, exactly as in production."""

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from apps.catalog.models import ProductImage
from apps.catalog.tests.conftest import image_bytes, upload

pytestmark = pytest.mark.django_db

BUCKET = "bazaar-test-media"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    ],
}
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    # Product images are public, as the production bucket's policy makes them.
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    yield endpoint
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """Media storage pointed at the bucket; yields a boto3 client to look inside it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "querystring_auth": False,
                "file_overwrite": False,
            },
        },
    }
    client = boto3.client("s3", endpoint_url=s3_endpoint, **CREDENTIALS)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_upload_thumbnail_read_and_delete_round_trip(bucket, s3_endpoint, seller_client, product, on_commit, settings):
    payload = b"<script>alert(1)</script>"
    with on_commit(execute=True):
        response = seller_client.post(
            f"/api/v1/products/{product.slug}/images/",
            {"image": upload(image_bytes("PNG", size=(800, 800)) + payload)},
            format="multipart",
        )

    assert response.status_code == 201
    image = ProductImage.objects.get()
    assert keys(bucket) == sorted([image.image.name, image.thumbnail.name])
    original = bucket.get_object(Bucket=BUCKET, Key=image.image.name)["Body"].read()
    assert original.startswith(b"\x89PNG")
    assert payload not in original
    assert response.json()["url"] == f"{s3_endpoint}/{BUCKET}/{image.image.name}"

    detail = seller_client.get(f"/api/v1/products/{product.slug}/").json()
    thumbnail_url = detail["images"][0]["thumbnail_url"]
    assert thumbnail_url == f"{s3_endpoint}/{BUCKET}/{image.thumbnail.name}"
    with urllib.request.urlopen(thumbnail_url) as served:  # noqa: S310 - the local moto endpoint
        assert served.read(12)[8:12] == b"WEBP"
    assert not settings.MEDIA_ROOT.exists()  # nothing went to the local disk

    with on_commit(execute=True):
        deleted = seller_client.delete(f"/api/v1/products/{product.slug}/images/{image.id}/")

    assert deleted.status_code == 204
    assert keys(bucket) == []


def test_the_bucket_setting_selects_s3_storage():
    environment = {
        **os.environ,
        "ENV": "test",
        "AWS_STORAGE_BUCKET_NAME": "media-bucket",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_S3_REGION_NAME": "eu-central-1",
        "AWS_ACCESS_KEY_ID": "key-id",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.STORAGES['default'], settings.MEDIA_SERVED_BY_APP]))"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        check=True,
    )

    storage, served_by_app = json.loads(result.stdout)
    assert storage == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "media-bucket",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "eu-central-1",
            "access_key": "key-id",
            "secret_key": "secret",
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }
    assert served_by_app is False
