"""Bazaar scaled out: two app servers and a worker on one PostgreSQL and one Redis.

Run by CI once, on PostgreSQL: `pytest -m integration tests/integration`."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from tests.integration.conftest import LOGIN_LIMIT

pytestmark = pytest.mark.integration

PASSWORD = "integration-pass-2026"
ADDRESS = {"full_name": "Ida Integration", "line1": "1 Cluster Road", "city": "Two Servers", "country": "US"}


def mint_tokens(stack, emails: list[str]) -> dict[str, str]:
    """Access tokens straight from the database (logging in 30 buyers would trip the login limit)."""
    script = (
        "import json; from apps.accounts.models import User; "
        "from rest_framework_simplejwt.tokens import RefreshToken; "
        f"emails = {emails!r}; "
        "print(json.dumps({e: str(RefreshToken.for_user(User.objects.get(email=e)).access_token) for e in emails}))"
    )
    return json.loads(stack.manage("shell", "-c", script).strip().splitlines()[-1])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(stack, server: int, email: str) -> None:
    response = requests.post(
        stack.api(server, "auth/register/"), json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def catalog(stack):
    """A staff member's category and a seller with a store, through the API of both servers."""
    register(stack, 0, "staff@it.test")
    register(stack, 1, "seller@it.test")
    stack.manage(
        "shell",
        "-c",
        "from apps.accounts.models import User; User.objects.filter(email='staff@it.test').update(is_staff=True)",
    )
    tokens = mint_tokens(stack, ["staff@it.test", "seller@it.test"])
    category = requests.post(
        stack.api(0, "categories/"),
        json={"name": "Integration Tools"},
        headers=auth(tokens["staff@it.test"]),
        timeout=10,
    )
    assert category.status_code == 201, category.text
    store = requests.post(
        stack.api(1, "users/me/store/"),
        json={"name": "Cluster Store"},
        headers=auth(tokens["seller@it.test"]),
        timeout=10,
    )
    assert store.status_code == 201, store.text
    return {"category": category.json()["slug"], "seller": tokens["seller@it.test"]}


def new_product(stack, catalog, *, name: str, price: str = "10.00", stock: int = 10) -> str:
    response = requests.post(
        stack.api(0, "products/"),
        json={
            "name": name,
            "description": "d",
            "price": price,
            "category": catalog["category"],
            "stock": stock,
            "status": "active",
        },
        headers=auth(catalog["seller"]),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["slug"]


def eventually(check, *, seconds: float = 30, message: str = "", log=None):
    """Poll ``check`` until it returns something true; fail naming ``message`` (and the tail of the
    ``log`` file, read at failure time) after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    tail = f"\n{log.read_text()[-4000:]}" if log else ""
    pytest.fail(f"not within {seconds} s: {message}{tail}")


def test_the_login_limit_holds_across_both_servers(stack):
    register(stack, 0, "limited@it.test")
    answers = [
        requests.post(
            stack.api(attempt % 2, "auth/token/"),
            json={"email": "limited@it.test", "password": "wrong-password"},
            timeout=10,
        )
        for attempt in range(LOGIN_LIMIT)
    ]
    assert [a.status_code for a in answers] == [401] * LOGIN_LIMIT

    on_a = requests.post(
        stack.api(0, "auth/token/"), json={"email": "limited@it.test", "password": PASSWORD}, timeout=10
    )
    on_b = requests.post(
        stack.api(1, "auth/token/"),
        json={"email": "limited@it.test", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.9"},  # a spoofed client address changes nothing
        timeout=10,
    )

    assert (on_a.status_code, on_b.status_code) == (429, 429)
    assert int(on_b.headers["Retry-After"]) > 0


def test_an_edit_through_one_server_is_seen_fresh_through_the_other(stack, catalog):
    slug = new_product(stack, catalog, name="Fresh Price Lamp", price="10.00")
    for _ in range(2):  # warm server B's view of the product (and its cache)
        assert requests.get(stack.api(1, f"products/{slug}/"), timeout=10).json()["price"] == "10.00"
    listed = requests.get(stack.api(1, "products/?search=Lamp"), timeout=10).json()["results"]
    assert [p["price"] for p in listed if p["slug"] == slug] == ["10.00"]

    patched = requests.patch(
        stack.api(0, f"products/{slug}/"), json={"price": "12.50"}, headers=auth(catalog["seller"]), timeout=10
    )
    assert patched.status_code == 200, patched.text

    assert requests.get(stack.api(1, f"products/{slug}/"), timeout=10).json()["price"] == "12.50"
    listed = requests.get(stack.api(1, "products/?search=Lamp"), timeout=10).json()["results"]
    assert [p["price"] for p in listed if p["slug"] == slug] == ["12.50"]

    assert (
        requests.delete(stack.api(0, f"products/{slug}/"), headers=auth(catalog["seller"]), timeout=10).status_code
        == 204
    )
    assert requests.get(stack.api(1, f"products/{slug}/"), timeout=10).status_code == 404


def test_the_worker_makes_thumbnails_and_sends_mail(stack, catalog):
    slug = new_product(stack, catalog, name="Thumbnail Vase")
    picture = io.BytesIO()
    Image.new("RGB", (900, 600), (200, 80, 40)).save(picture, "PNG")
    uploaded = requests.post(
        stack.api(0, f"products/{slug}/images/"),
        files={"image": ("vase.png", picture.getvalue(), "image/png")},
        headers=auth(catalog["seller"]),
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text

    def thumbnail_made():
        images = requests.get(stack.api(1, f"products/{slug}/"), timeout=10).json()["images"]
        return images and "placeholder" not in images[0]["thumbnail_url"] and images[0]["thumbnail_url"]

    thumbnail = eventually(thumbnail_made, message="the thumbnail", log=stack.worker_log)
    assert requests.get(thumbnail, timeout=10).headers["Content-Type"] == "image/webp"

    register(stack, 1, "forgetful@it.test")
    assert (
        requests.post(stack.api(1, "auth/password-reset/"), json={"email": "forgetful@it.test"}, timeout=10).status_code
        == 202
    )

    def reset_mail():
        return [p for p in stack.mail_dir.glob("*") if "forgetful@it.test" in p.read_text(errors="replace")]

    mails = eventually(reset_mail, message="the password-reset mail", log=stack.worker_log)
    assert "reset-password?uid=" in mails[0].read_text(errors="replace")
    log = stack.worker_log.read_text()
    assert "image_make_thumbnail" in log or "thumbnail" in log
    assert "succeeded" in log


def test_thirty_buyers_on_two_servers_racing_for_five_units_get_exactly_five_orders(stack, catalog):
    slug = new_product(stack, catalog, name="Last Five Clock", stock=5)
    emails = [f"racer{i}@it.test" for i in range(30)]
    for index, email in enumerate(emails):
        register(stack, index % 2, email)
    tokens = mint_tokens(stack, emails)
    for index, email in enumerate(emails):
        added = requests.post(
            stack.api(index % 2, "cart/items/"),
            json={"product": slug, "quantity": 1},
            headers=auth(tokens[email]),
            timeout=10,
        )
        assert added.status_code == 201, added.text

    def checkout(index: int) -> int:
        return requests.post(
            stack.api(index % 2, "checkout/"),
            json={"shipping_address": ADDRESS, "payment_method": "pm_card_visa"},
            headers=auth(tokens[emails[index]]),
            timeout=60,
        ).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(checkout, range(30)))

    assert sorted(codes) == [201] * 5 + [409] * 25
    seller_view = requests.get(stack.api(0, "seller/products/"), headers=auth(catalog["seller"]), timeout=10).json()
    assert [p["stock"] for p in seller_view["results"] if p["slug"] == slug] == [0]
