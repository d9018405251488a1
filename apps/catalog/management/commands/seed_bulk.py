"""Load many realistic products fast, for load tests and query plans: `seed_bulk --products 100000`.

Products are spread over bulk sellers' stores and the demo category tree (leaves mostly), made
with bulk_create in batches, each batch's variants with one more: about a third of the products
have sizes and/or colours (3 to 12 variants), the rest one variant without options (sku: the
slug). A product's price and stock are its variants' lowest price and total stock, computed as
the rows are made (no per-row query). On PostgreSQL the search vector is filled by the table's trigger
as rows arrive, and the tables are vacuumed and analyzed at the end so the planner (and page-count
estimates) see the new size.

Progress: on a terminal (stderr a TTY) a tqdm bar shows products made, the rate and the time left,
updated once per batch (not per row); elsewhere (CI logs, pipes) no bar, a line per 20,000
products on stdout instead. `--progress` / `--no-progress` override the TTY check.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.text import slugify
from tqdm import tqdm

from apps.accounts.models import Store, User
from apps.catalog.cache import catalog_changed
from apps.catalog.demo import catalog_seed_categories
from apps.catalog.models import Category, Product, Variant, options_key

ADJECTIVES = (
    *("Classic", "Compact", "Deluxe", "Durable", "Elegant", "Essential", "Handmade", "Heavy-Duty"),
    *("Lightweight", "Modern", "Portable", "Premium", "Rustic", "Sleek", "Smart", "Sturdy", "Vintage"),
    *("Wireless", "Ergonomic", "Foldable", "Waterproof", "Minimalist"),
)
MATERIALS = ("Oak", "Walnut", "Steel", "Brass", "Copper", "Ceramic", "Linen", "Leather", "Bamboo", "Glass", "Wool")
NOUNS = {
    "Audio": ("Headphones", "Speaker", "Turntable", "Amplifier", "Earbuds", "Soundbar", "Microphone", "Radio"),
    "Computers": ("Keyboard", "Mouse", "Monitor", "Laptop Stand", "Webcam", "USB Hub", "Docking Station"),
    "Phones & Tablets": ("Phone Case", "Tablet", "Charger", "Stylus", "Phone Stand", "Power Bank", "Cable"),
    "Furniture": ("Table", "Chair", "Bench", "Shelf", "Stool", "Desk", "Cabinet", "Sofa", "Bookcase"),
    "Kitchen": ("Skillet", "Knife", "Kettle", "Teapot", "Mixer", "Grinder", "Cutting Board", "Saucepan"),
    "Lighting": ("Lamp", "Pendant", "Lantern", "Sconce", "Chandelier", "Bulb", "Nightlight"),
    "Books": ("Novel", "Atlas", "Cookbook", "Anthology", "Handbook", "Biography", "Almanac"),
    "Board Games": ("Chess Set", "Backgammon", "Card Game", "Strategy Game", "Dice Set", "Go Board"),
    "Puzzles": ("Jigsaw Puzzle", "Burr Puzzle", "Puzzle Cube", "Maze", "Brainteaser", "Tangram"),
    "Hand Tools": ("Hammer", "Screwdriver", "Wrench", "Pliers", "Chisel", "Saw", "Mallet", "Spanner"),
    "Power Tools": ("Drill", "Sander", "Jigsaw", "Angle Grinder", "Router", "Nailer", "Heat Gun"),
    "Measuring": ("Caliper", "Tape Measure", "Spirit Level", "Square", "Thermometer", "Scale", "Micrometer"),
}
SIZES = ("S", "M", "L", "XL")
COLOUR_NAMES = ("Black", "White", "Red", "Blue", "Green", "Grey")
# (sizes, colours) a product with options gets: 3 to 12 combinations; 0 means no such option.
OPTION_SHAPES = tuple(
    (sizes, colours)
    for sizes in range(len(SIZES) + 1)
    for colours in range(len(COLOUR_NAMES) + 1)
    if sizes + colours and 3 <= max(sizes, 1) * max(colours, 1) <= 12 and sizes != 1 and colours != 1
)
WITH_OPTIONS = 1 / 3
PHRASES = (
    "Built to last for years of daily use.",
    "A favourite of professionals and beginners alike.",
    "Ships in recyclable packaging.",
    "Designed in a small workshop and tested by hand.",
    "Easy to clean and simple to store.",
    "Comes with a two-year warranty.",
    "Pairs well with the rest of the collection.",
    "Finished with natural oils and waxes.",
    "Made from responsibly sourced materials.",
    "Compact enough for small spaces.",
)


class Command(BaseCommand):
    help = "Bulk-load N realistic products across bulk stores and the category tree (fast; for load tests)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=1000, help="How many products to add (default 1000).")
        parser.add_argument("--stores", type=int, default=50, help="Bulk stores to spread them over (default 50).")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=None, help="Random seed, for a repeatable data set.")
        parser.add_argument("--allow-prod", action="store_true", help="Load even with ENV=prod.")
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="A progress bar on stderr (default: only when stderr is a terminal).",
        )

    def handle(
        self,
        *args,
        products: int,
        stores: int,
        batch_size: int,
        seed,
        allow_prod: bool,
        progress: bool | None,
        **options,
    ):
        if settings.ENV == "prod" and not allow_prod:
            raise CommandError("seed_bulk fills the catalog with fake products; refusing with ENV=prod.")
        if products < 0 or stores < 1 or batch_size < 1:
            raise CommandError("--products must be >= 0, --stores and --batch-size >= 1.")
        rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        started = time.monotonic()
        with transaction.atomic():
            categories = catalog_seed_categories()
            store_list = self._stores(count=stores)
        leaves = [categories[name] for name in NOUNS]
        roots = [category for category in categories.values() if category.depth == 1]
        run = secrets.token_hex(3)
        made = 0
        # tqdm writes to the raw stream: Django's OutputWrapper would end every redraw with a newline.
        stream = options.get("stderr") or sys.stderr
        show = stream.isatty() if progress is None else progress
        bar = tqdm(total=products, desc="seed_bulk", unit=" products", unit_scale=True, file=stream, disable=not show)
        while made < products:
            size = min(batch_size, products - made)
            batch = [
                self._product(rng, index=made + offset, run=run, stores=store_list, leaves=leaves, roots=roots)
                for offset in range(size)
            ]
            with transaction.atomic():
                Product.objects.bulk_create([product for product, _ in batch])
                for product, variants in batch:
                    for variant in variants:
                        variant.product_id, variant.store_id = product.pk, product.store_id
                Variant.objects.bulk_create([variant for _, variants in batch for variant in variants])
                catalog_changed()  # a live app's cached lists show the new products
            made += size
            bar.update(size)
            if not show and (made % 20000 < batch_size or made == products):
                self.stdout.write(f"  {made:,} products ({time.monotonic() - started:.1f} s)")
        bar.close()
        if connection.vendor == "postgresql":
            # Fresh statistics for the planner (and the page-count estimate); a fresh visibility
            # map so counts can be index-only scans. VACUUM runs outside any transaction.
            with connection.cursor() as cursor:
                if connection.in_atomic_block:  # called inside a transaction (tests): no VACUUM there
                    cursor.execute("ANALYZE catalog_product")
                    cursor.execute("ANALYZE catalog_variant")
                else:
                    cursor.execute("VACUUM (ANALYZE) catalog_product")
                    cursor.execute("VACUUM (ANALYZE) catalog_variant")
                cursor.execute("ANALYZE accounts_user, accounts_store, catalog_category")
        self.stdout.write(
            self.style.SUCCESS(f"Added {made:,} products in {time.monotonic() - started:.1f} s over {stores} stores.")
        )

    @staticmethod
    def _stores(*, count: int) -> list[Store]:
        """The bulk stores, made when missing (sellers with unusable passwords)."""
        emails = [f"bulk-seller-{number}@bulk.bazaar.test" for number in range(1, count + 1)]
        known = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        User.objects.bulk_create(
            [
                User(email=email, first_name="Bulk", last_name=f"Seller {email.split('-')[2].split('@')[0]}")
                for email in emails
                if email not in known
            ]
        )
        User.objects.filter(email__in=emails).update(is_seller=True, password=make_password(None))
        owners = dict(User.objects.filter(email__in=emails).values_list("email", "pk"))
        with_store = set(Store.objects.filter(owner_id__in=owners.values()).values_list("owner_id", flat=True))
        Store.objects.bulk_create(
            [
                Store(owner_id=owners[email], name=f"Bulk Store {number}", slug=f"bulk-store-{number}")
                for number, email in enumerate(emails, start=1)
                if owners[email] not in with_store
            ]
        )
        return list(Store.objects.filter(owner_id__in=owners.values()).order_by("pk"))

    @staticmethod
    def _variants(rng: random.Random, *, slug: str, unique: str, price: Decimal) -> tuple[list[dict], list[Variant]]:
        """The product's options and variants (unsaved; product and store set by the caller). Skus:
        the slug for a product sold in one form; else the slug's beginning, its unique ending
        ``unique`` and the option values (at most 64 characters, unique)."""
        if rng.random() >= WITH_OPTIONS:
            stock = 0 if rng.random() < 0.1 else rng.randrange(1, 500)
            return [], [Variant(sku=slug[:64], options={}, options_key="[]", price=price, stock=stock)]
        sizes, colours = rng.choice(OPTION_SHAPES)
        options = [{"name": "Size", "values": list(SIZES[:sizes])}] if sizes else []
        if colours:
            options.append({"name": "Colour", "values": rng.sample(COLOUR_NAMES, colours)})
        combinations: list[dict[str, str]] = [{}]
        for option in options:
            combinations = [
                {**combination, option["name"]: value} for combination in combinations for value in option["values"]
            ]
        variants = []
        for combination in combinations:
            values = combination
            extra = Decimal(SIZES.index(values["Size"])) if "Size" in values else Decimal(0)
            variants.append(
                Variant(
                    sku=f"{slug[:30].rstrip('-')}-{unique}-{'-'.join(slugify(value) for value in values.values())}",
                    options=values,
                    options_key=options_key(values),
                    price=price + extra,
                    stock=0 if rng.random() < 0.2 else rng.randrange(1, 60),
                )
            )
        return options, variants

    @staticmethod
    def _product(
        rng: random.Random, *, index: int, run: str, stores: list[Store], leaves: list[Category], roots: list[Category]
    ) -> tuple[Product, list[Variant]]:
        """A product with its variants; its price and stock derived from them."""
        category = rng.choice(leaves) if rng.random() < 0.95 else rng.choice(roots)
        noun = rng.choice(NOUNS.get(category.name) or NOUNS["Hand Tools"])
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {noun}"
        roll = rng.random()
        status = Product.Status.ACTIVE if roll < 0.95 else Product.Status.DRAFT if roll < 0.98 else "archived"
        rated = rng.random() < 0.6
        unique = f"{run}{index:x}"
        slug = f"{slugify(name)[:60]}-{unique}"
        price = Decimal(rng.randrange(199, 200_000)) / 100
        options, variants = Command._variants(rng, slug=slug, unique=unique, price=price)
        product = Product(
            store=rng.choice(stores),
            category=category,
            name=name,
            slug=slug,
            description=f"{name}. " + " ".join(rng.sample(PHRASES, 3)),
            options=options,
            price=min(variant.price for variant in variants),
            stock=sum(variant.stock for variant in variants),
            status=status,
            rating_avg=Decimal(rng.randrange(100, 501)) / 100 if rated else None,
            rating_count=rng.randrange(1, 400) if rated else 0,
        )
        return product, variants
