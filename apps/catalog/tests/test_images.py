import io

import pytest
from django.contrib.staticfiles import finders
from django.core.files.storage import default_storage
from PIL import Image

from apps.catalog import services
from apps.catalog.models import ProductImage
from apps.catalog.tests.conftest import image_bytes, png_chunk, png_header_only, upload
from apps.catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

PLACEHOLDER = "http://testserver/static/catalog/placeholder.png"
NOT_AN_IMAGE = {"image": ["Upload a JPEG, PNG or WebP image."]}
CORRUPT = {"image": ["The image is corrupt or truncated."]}
TOO_MANY_PIXELS = {"image": ["The image has more than 40,000,000 pixels."]}
_JPEG = image_bytes("JPEG", size=(300, 300))


def images_url(product) -> str:
    return f"/api/v1/products/{product.slug}/images/"


def post_image(client, product, data: bytes, name="photo.png", content_type="image/png", **fields):
    return client.post(images_url(product), {"image": upload(data, name, content_type), **fields}, format="multipart")


def stored_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def open_stored(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as stored:
        return Image.open(io.BytesIO(stored.read()))


def assert_nothing_stored(settings, product):
    assert not ProductImage.objects.filter(product=product).exists()
    assert stored_files(settings) == []


# --- Accepted uploads -------------------------------------------------------------------------


def test_png_upload_is_stored_reencoded_and_thumbnailed_after_commit(seller_client, product, on_commit, settings):
    with on_commit(execute=True) as callbacks:
        response = post_image(seller_client, product, image_bytes("PNG", size=(900, 600)), alt_text="Side view")

    assert response.status_code == 201
    image = ProductImage.objects.get()
    assert response.json() == {
        "id": image.id,
        "url": f"http://testserver/media/{image.image.name}",
        "thumbnail_url": PLACEHOLDER,  # made once the upload commits, right after this response
        "alt_text": "Side view",
        "position": 0,
    }
    assert len(callbacks) == 1
    assert image.image.name.startswith(f"products/{product.id}/")
    assert image.image.name.endswith(".png")
    assert (image.width, image.height) == (900, 600)
    thumbnail = open_stored(image.thumbnail.name)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (400, 267))
    assert stored_files(settings) == sorted([image.image.name, image.thumbnail.name])


def test_the_detail_lists_images_in_position_order_and_uses_the_first_thumbnail(
    seller_client, api_client, product, on_commit
):
    with on_commit(execute=True):
        second = post_image(seller_client, product, image_bytes(), position=5).json()
        first = post_image(seller_client, product, image_bytes(), position=1, alt_text="Front").json()
    front = ProductImage.objects.get(pk=first["id"])

    body = api_client.get(f"/api/v1/products/{product.slug}/").json()

    assert [image["id"] for image in body["images"]] == [first["id"], second["id"]]
    assert body["images"][0] == {
        "id": front.id,
        "url": f"http://testserver/media/{front.image.name}",
        "thumbnail_url": f"http://testserver/media/{front.thumbnail.name}",
        "alt_text": "Front",
        "position": 1,
    }
    assert body["thumbnail_url"] == f"http://testserver/media/{front.thumbnail.name}"
    assert api_client.get("/api/v1/products/").json()["results"][0]["thumbnail_url"] == body["thumbnail_url"]


def test_position_defaults_to_after_the_last_image(seller_client, product):
    positions = [post_image(seller_client, product, image_bytes()).json()["position"] for _ in range(3)]

    assert positions == [0, 1, 2]


def test_an_image_whose_thumbnail_is_not_made_yet_answers_the_placeholder(seller_client, api_client, product):
    post_image(seller_client, product, image_bytes())  # the on-commit thumbnail never runs here

    body = api_client.get(f"/api/v1/products/{product.slug}/").json()

    assert body["thumbnail_url"] == PLACEHOLDER
    assert body["images"][0]["thumbnail_url"] == PLACEHOLDER
    assert body["images"][0]["url"].startswith("http://testserver/media/products/")


def test_a_product_without_images_answers_the_placeholder_which_the_app_ships(api_client, product):
    body = api_client.get(f"/api/v1/products/{product.slug}/").json()

    assert body["thumbnail_url"] == PLACEHOLDER
    assert Image.open(finders.find("catalog/placeholder.png")).format == "PNG"


@pytest.mark.parametrize(("fmt", "extension"), [("JPEG", "jpg"), ("WEBP", "webp"), ("PNG", "png")])
def test_the_format_is_decided_by_decoding_not_by_name_or_content_type(seller_client, product, fmt, extension):
    response = post_image(seller_client, product, image_bytes(fmt), name="photo.gif", content_type="image/gif")

    assert response.status_code == 201
    image = ProductImage.objects.get()
    assert image.image.name.endswith(f".{extension}")
    assert open_stored(image.image.name).format == fmt


def test_a_png_with_a_script_appended_is_stored_without_it(seller_client, product):
    payload = b"<?php system($_GET['c']); ?><script>alert(1)</script>"
    text_chunk = png_chunk(b"tEXt", b"Comment\x00<script>alert(2)</script>")
    clean = image_bytes("PNG")
    polluted = clean[:33] + text_chunk + clean[33:] + payload  # a text chunk after IHDR, a payload after IEND

    response = post_image(seller_client, product, polluted)

    assert response.status_code == 201
    with default_storage.open(ProductImage.objects.get().image.name, "rb") as stored:
        content = stored.read()
    assert b"<?php" not in content
    assert b"script" not in content
    assert content.endswith(b"IEND\xaeB`\x82")


def test_exif_is_applied_then_removed(seller_client, product):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x010E] = "secret-location 52.52N 13.40E"  # ImageDescription
    data = image_bytes("JPEG", size=(60, 40), exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == 6

    response = post_image(seller_client, product, data, name="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 201
    image = ProductImage.objects.get()
    stored = open_stored(image.image.name)
    assert stored.size == (40, 60)
    assert (image.width, image.height) == (40, 60)
    assert dict(stored.getexif()) == {}
    with default_storage.open(image.image.name, "rb") as raw:
        assert b"secret-location" not in raw.read()


# --- Refused uploads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "content_type", "errors"),
    [
        (b"<?php echo shell_exec($_GET['cmd']); ?>", "shell.png", "image/png", NOT_AN_IMAGE),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "a.svg",
            "image/svg+xml",
            NOT_AN_IMAGE,
        ),
        (image_bytes("GIF"), "a.gif", "image/gif", NOT_AN_IMAGE),
        (image_bytes("BMP"), "a.png", "image/png", NOT_AN_IMAGE),
        (image_bytes("TIFF"), "a.jpg", "image/jpeg", NOT_AN_IMAGE),
        (image_bytes("PNG", size=(300, 300))[:300], "cut.png", "image/png", CORRUPT),
        (_JPEG[: len(_JPEG) * 2 // 3], "cut.jpg", "image/jpeg", CORRUPT),
        (png_header_only(8000, 6000), "wide.png", "image/png", TOO_MANY_PIXELS),
        (png_header_only(100_000, 100_000), "bomb.png", "image/png", TOO_MANY_PIXELS),
    ],
    ids=["php-named-png", "svg", "gif", "bmp", "tiff", "truncated-png", "truncated-jpeg", "48-megapixels", "bomb"],
)
def test_refused_uploads_store_nothing(seller_client, product, settings, data, name, content_type, errors):
    response = post_image(seller_client, product, data, name=name, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == errors
    assert_nothing_stored(settings, product)


def test_more_than_10_mb_is_refused_before_decoding(seller_client, product, settings, monkeypatch):
    decoded = []
    monkeypatch.setattr("apps.catalog.images._open", lambda data: decoded.append(data))

    response = post_image(seller_client, product, b"\x89PNG" + b"\x00" * (10 * 1024 * 1024 - 3))

    assert response.status_code == 400
    assert response.json() == {"image": ["The image is larger than 10 MB."]}
    assert decoded == []
    assert_nothing_stored(settings, product)


def test_an_empty_file_or_no_file_is_refused(seller_client, product, settings):
    empty = post_image(seller_client, product, b"")
    missing = seller_client.post(images_url(product), {"alt_text": "x"}, format="multipart")

    assert (empty.status_code, empty.json()) == (400, {"image": ["The submitted file is empty."]})
    assert (missing.status_code, missing.json()) == (400, {"image": ["No file was submitted."]})
    assert_nothing_stored(settings, product)


def test_json_is_not_accepted_for_uploads(seller_client, product):
    response = seller_client.post(images_url(product), {"image": "aGVsbG8="}, format="json")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_a_product_has_at_most_the_image_limit_and_the_refused_file_is_removed(
    seller_client, product, settings, monkeypatch
):
    monkeypatch.setattr(services, "MAX_IMAGES_PER_PRODUCT", 2)
    for _ in range(2):
        assert post_image(seller_client, product, image_bytes()).status_code == 201

    response = post_image(seller_client, product, image_bytes())

    assert response.status_code == 400
    assert response.json() == {"image": ["A product has at most 2 images."]}
    assert ProductImage.objects.count() == 2
    assert len(stored_files(settings)) == 2


# --- Thumbnails and deletion ------------------------------------------------------------------


def test_make_thumbnail_is_idempotent_and_ignores_deleted_images(seller_client, product, settings):
    image_id = post_image(seller_client, product, image_bytes()).json()["id"]

    services.image_make_thumbnail(image_id=image_id)
    first = ProductImage.objects.get(pk=image_id).thumbnail.name
    services.image_make_thumbnail(image_id=image_id)
    services.image_make_thumbnail(image_id=999_999)

    assert ProductImage.objects.get(pk=image_id).thumbnail.name == first
    assert len(stored_files(settings)) == 2


def test_deleting_an_image_removes_its_files_after_commit(seller_client, product, on_commit, settings):
    with on_commit(execute=True):
        image_id = post_image(seller_client, product, image_bytes()).json()["id"]
        keep_id = post_image(seller_client, product, image_bytes()).json()["id"]
    kept = ProductImage.objects.get(pk=keep_id)

    with on_commit(execute=True):
        response = seller_client.delete(f"{images_url(product)}{image_id}/")

    assert response.status_code == 204
    assert list(ProductImage.objects.values_list("pk", flat=True)) == [keep_id]
    assert stored_files(settings) == sorted([kept.image.name, kept.thumbnail.name])


def test_an_image_of_another_product_is_404_and_stays(seller_client, product, store, tree):
    mine_too = ProductFactory(store=store, category=tree["hammers"])
    image_id = post_image(seller_client, mine_too, image_bytes()).json()["id"]

    response = seller_client.delete(f"{images_url(product)}{image_id}/")

    assert response.status_code == 404
    assert ProductImage.objects.filter(pk=image_id).exists()


# --- Who may upload and delete ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 201), ("other_seller", 403), ("staff", 403)]
)
def test_upload_permissions_on_an_active_product(clients, product, settings, role, expected):
    response = post_image(clients[role], product, image_bytes())

    assert response.status_code == expected
    assert ProductImage.objects.count() == (1 if expected == 201 else 0)
    assert len(stored_files(settings)) == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 404), ("owner", 201), ("other_seller", 404), ("staff", 404)]
)
def test_upload_permissions_on_a_draft(clients, draft, role, expected):
    response = post_image(clients[role], draft, image_bytes())

    assert response.status_code == expected
    assert ProductImage.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 401), ("buyer", 403), ("owner", 204), ("other_seller", 403), ("staff", 403)]
)
def test_image_delete_permissions(clients, product, role, expected):
    image = services.product_image_add(product=product, file=upload(image_bytes()), size=100)

    response = clients[role].delete(f"{images_url(product)}{image.id}/")

    assert response.status_code == expected
    assert ProductImage.objects.filter(pk=image.pk).exists() == (expected != 204)


# --- Serving /media/ --------------------------------------------------------------------------


def test_media_is_served_with_its_type_nosniff_and_long_caching(api_client, seller_client, product):
    name = ProductImage.objects.get(pk=post_image(seller_client, product, image_bytes()).json()["id"]).image.name

    response = api_client.get(f"/media/{name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert api_client.head(f"/media/{name}").status_code == 200
    assert api_client.post(f"/media/{name}").status_code == 405


@pytest.mark.parametrize("path", ["secrets.txt", "../config/settings.py", "products/missing.png", "products/"])
def test_media_serves_stored_images_only(api_client, settings, path):
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    (settings.MEDIA_ROOT / "secrets.txt").write_text("key")

    assert api_client.get(f"/media/{path}").status_code == 404
