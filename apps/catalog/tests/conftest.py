"""Catalog fixtures: a small tree, products in the seller's store, the five roles, image bytes."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.tests.factories import CategoryFactory, ProductFactory

ROLES = ("anonymous", "buyer", "owner", "other_seller", "staff")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what services schedule after commit (thumbnails, file deletions): tests never commit."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def tree(db):
    """tools > hand-tools > hammers, tools > power-tools, and a separate kitchen root."""
    tools = CategoryFactory(name="Tools", slug="tools")
    hand = CategoryFactory(name="Hand Tools", slug="hand-tools", parent=tools)
    hammers = CategoryFactory(name="Hammers", slug="hammers", parent=hand)
    power = CategoryFactory(name="Power Tools", slug="power-tools", parent=tools)
    kitchen = CategoryFactory(name="Kitchen", slug="kitchen")
    return {"tools": tools, "hand-tools": hand, "hammers": hammers, "power-tools": power, "kitchen": kitchen}


@pytest.fixture
def store(seller):
    return seller.store


@pytest.fixture
def product(store, tree):
    return ProductFactory(store=store, category=tree["hammers"], name="Claw Hammer", slug="claw-hammer")


@pytest.fixture
def draft(store, tree):
    return ProductFactory(
        store=store, category=tree["hammers"], name="Secret Hammer", slug="secret-hammer", status="draft"
    )


@pytest.fixture
def other_seller(db):
    return StoreFactory().owner


class _RoleClients(dict):
    """API clients by role, each made (with its user) on first use: a test pays for one role."""

    def __init__(self, makers):
        super().__init__()
        self.makers = makers

    def __missing__(self, role):
        self[role] = self.makers[role]()
        return self[role]


@pytest.fixture
def clients(request, db, client_for):
    """One API client per role; ``owner`` is the seller who owns ``store`` (and ``product``)."""
    return _RoleClients(
        {
            "anonymous": lambda: request.getfixturevalue("api_client"),
            "buyer": lambda: request.getfixturevalue("buyer_client"),
            "owner": lambda: request.getfixturevalue("seller_client"),
            "other_seller": lambda: client_for(request.getfixturevalue("other_seller")),
            "staff": lambda: request.getfixturevalue("staff_client"),
        }
    )


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30), mode: str = "RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def upload(data: bytes, name: str = "photo.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` 8-bit grey pixels, with one tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )
