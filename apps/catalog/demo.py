"""Demo catalog for `make run` (seed_demo) and the category tree seed_bulk files products under.

Idempotent: categories are found by slug and products by (store, name) before anything is made.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils.text import slugify
from PIL import Image, ImageDraw

from apps.accounts.models import Store
from apps.catalog import services
from apps.catalog.models import Category, Product

CATEGORY_TREE: dict[str, list[str]] = {
    "Electronics": ["Audio", "Computers", "Phones & Tablets"],
    "Home & Kitchen": ["Furniture", "Kitchen", "Lighting"],
    "Books & Games": ["Books", "Board Games", "Puzzles"],
    "Tools & DIY": ["Hand Tools", "Power Tools", "Measuring"],
}

# (name, category, price, stock, description) per demo store, in the order seed_demo opens them.
DEMO_PRODUCTS: list[list[tuple[str, str, str, int, str]]] = [
    [
        ("Brass Difference Engine Model", "Computers", "249.00", 4, "A working desk model of Babbage's engine."),
        ("Mechanical Keyboard", "Computers", "129.90", 25, "Tactile switches, aluminium case, USB-C."),
        ("Noise-Cancelling Headphones", "Audio", "199.00", 12, "Over-ear, 30 hours of battery, foldable."),
        ("Bookshelf Speakers", "Audio", "149.50", 8, "A pair of two-way speakers in walnut veneer."),
        ("Pocket Tablet 8", "Phones & Tablets", "279.00", 6, "An eight-inch tablet for reading and notes."),
        ("Phone Stand", "Phones & Tablets", "19.90", 60, "Adjustable aluminium stand for phones."),
        ("Claw Hammer", "Hand Tools", "24.50", 40, "Forged steel head, hickory handle, 16 oz."),
        ("Precision Screwdriver Set", "Hand Tools", "34.00", 30, "Twenty-four bits with a magnetic driver."),
        ("Cordless Drill", "Power Tools", "119.00", 10, "18 V, two batteries, keyless chuck."),
        ("Orbital Sander", "Power Tools", "69.90", 0, "Dust bag included; hook-and-loop pads."),
        ("Digital Caliper", "Measuring", "29.90", 22, "Stainless steel, 150 mm, 0.01 mm resolution."),
        ("Laser Distance Meter", "Measuring", "59.00", 15, "Measures up to 40 m with area mode."),
    ],
    [
        ("Oak Dining Table", "Furniture", "899.00", 2, "Solid oak, seats six, oiled finish."),
        ("Reading Armchair", "Furniture", "449.00", 3, "Deep seat, wool upholstery, beech legs."),
        ("Floating Wall Shelf", "Furniture", "39.90", 35, "Hidden bracket, 80 cm, white ash."),
        ("Cast Iron Skillet", "Kitchen", "44.00", 50, "Pre-seasoned, 26 cm, oven safe."),
        ("Chef's Knife", "Kitchen", "89.00", 18, "20 cm blade of Japanese steel."),
        ("Pour-Over Coffee Set", "Kitchen", "54.90", 24, "Glass carafe, ceramic dripper, filters."),
        ("Stand Mixer", "Kitchen", "329.00", 5, "4.8 litre bowl, ten speeds, three attachments."),
        ("Linen Tea Towels", "Kitchen", "18.00", 80, "Set of three, stonewashed linen."),
        ("Brass Desk Lamp", "Lighting", "119.00", 9, "Adjustable arm, warm LED bulb included."),
        ("Paper Pendant Shade", "Lighting", "49.00", 14, "Hand-folded paper, 45 cm diameter."),
        ("String Lights", "Lighting", "24.90", 0, "Ten metres of warm white LEDs, indoor and outdoor."),
        ("Ceramic Table Lamp", "Lighting", "89.00", 7, "Glazed stoneware base with a linen shade."),
    ],
    [
        ("Computing Machinery and Intelligence", "Books", "14.90", 40, "The 1950 paper, annotated edition."),
        ("A History of Cryptography", "Books", "29.00", 20, "From Caesar to public keys."),
        ("Programming Pearls", "Books", "39.90", 12, "Classic essays on programming craft."),
        ("Graph Theory Primer", "Books", "24.00", 16, "Vertices, edges and the puzzles they solve."),
        ("Enigma Board Game", "Board Games", "49.90", 10, "Break the code before the convoy sails."),
        ("Chess Set, Walnut", "Board Games", "79.00", 8, "Weighted pieces and a folding walnut board."),
        ("Go Set", "Board Games", "64.00", 6, "Bamboo board with slate and shell stones."),
        ("Codebreakers Card Game", "Board Games", "19.90", 30, "Deduction for two to six players."),
        ("1000-Piece Bletchley Park Puzzle", "Puzzles", "22.00", 25, "An aerial view of the mansion."),
        ("Wooden Burr Puzzle", "Puzzles", "16.50", 40, "Six interlocking pieces of beech."),
        ("Tower of Hanoi", "Puzzles", "27.00", 18, "Eight discs, solid cherry wood."),
        ("Rubik's Cube", "Puzzles", "12.90", 0, "The original three-by-three."),
    ],
]
# Products sold in several forms, per demo store: (name, category, description, options, variants as
# (option values in the options' order, price, stock)).
DEMO_VARIANT_PRODUCTS: list[list[tuple[str, str, str, list[dict], list[tuple[tuple[str, ...], str, int]]]]] = [
    [
        (
            "USB-C Cable",
            "Computers",
            "Braided, 100 W charging and 10 Gbit/s data.",
            [{"name": "Length", "values": ["1 m", "2 m"]}],
            [(("1 m",), "9.90", 40), (("2 m",), "12.90", 25)],
        ),
    ],
    [
        (
            "Stoneware Mug",
            "Kitchen",
            "Hand-glazed, 350 ml, dishwasher safe.",
            [{"name": "Colour", "values": ["Sage", "Ochre", "Slate"]}],
            [(("Sage",), "16.00", 12), (("Ochre",), "16.00", 9), (("Slate",), "17.50", 0)],
        ),
    ],
    [
        (
            "Codebreakers T-Shirt",
            "Board Games",
            "Organic cotton, printed with the Enigma rotor wiring.",
            [{"name": "Size", "values": ["S", "M", "L"]}, {"name": "Colour", "values": ["Black", "White"]}],
            [
                ((size, colour), price, stock)
                for size, price in (("S", "22.00"), ("M", "22.00"), ("L", "24.00"))
                for colour, stock in (("Black", 10), ("White", 6))
            ],
        ),
    ],
]
COLOURS = [(231, 111, 81), (42, 157, 143), (38, 70, 83), (233, 196, 106), (244, 162, 97), (106, 76, 147)]


def catalog_seed_categories() -> dict[str, Category]:
    """Make the demo category tree (missing nodes only) and return every node by name."""
    by_name: dict[str, Category] = {}
    for root_name, child_names in CATEGORY_TREE.items():
        root = Category.objects.filter(slug=slugify(root_name)).first() or services.category_create(name=root_name)
        by_name[root_name] = root
        for child_name in child_names:
            child = Category.objects.filter(slug=slugify(child_name)).first()
            if child is None:
                root.refresh_from_db()
                child = services.category_create(name=child_name, parent=root)
            by_name[child_name] = child
    return by_name


def _demo_image(*, name: str, colour: tuple[int, int, int]) -> io.BytesIO:
    picture = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(picture)
    draw.ellipse((250, 150, 550, 450), fill=tuple(min(255, c + 60) for c in colour))
    draw.text((40, 40), name, fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def _add_image(*, product: Product, index: int) -> None:
    picture = _demo_image(name=product.name, colour=COLOURS[index % len(COLOURS)])
    services.product_image_add(
        product=product, file=picture, size=picture.getbuffer().nbytes, alt_text=product.name, position=0
    )


def catalog_seed_demo(*, stores: list[Store]) -> int:
    """Make the demo tree, DEMO_PRODUCTS (sold in one form) and DEMO_VARIANT_PRODUCTS (sizes,
    colours, lengths) in ``stores``, active, with one generated image each, skipping what exists.
    Returns how many products were created."""
    categories = catalog_seed_categories()
    created = 0
    for store, products, variant_products in zip(stores, DEMO_PRODUCTS, DEMO_VARIANT_PRODUCTS, strict=False):
        existing = set(Product.objects.filter(store=store).values_list("name", flat=True))
        for index, (name, category, price, stock, description) in enumerate(products):
            if name in existing:
                continue
            product = services.product_create(
                store=store,
                name=name,
                description=description,
                price=Decimal(price),
                category=categories[category],
                stock=stock,
                status=Product.Status.ACTIVE,
            )
            _add_image(product=product, index=index)
            created += 1
        for index, (name, category, description, options, variants) in enumerate(variant_products):
            if name in existing:
                continue
            names = [option["name"] for option in options]
            product = services.product_create(
                store=store,
                name=name,
                description=description,
                category=categories[category],
                options=options,
                variants=[
                    {"options": dict(zip(names, values, strict=True)), "price": Decimal(price), "stock": stock}
                    for values, price, stock in variants
                ],
                status=Product.Status.ACTIVE,
            )
            _add_image(product=product, index=index + 2)
            created += 1
    return created
