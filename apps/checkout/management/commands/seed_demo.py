"""Load the demo marketplace: idempotent, so `make run` can call it on every start.

It lives in checkout, the top layer, because it seeds every layer below: accounts, the catalog
and orders paid through payments (docs/architecture.md, Import layers: imports run one way)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.accounts.models import Store, User
from apps.accounts.services import store_open
from apps.catalog.demo import catalog_seed_demo
from apps.checkout.demo import orders_seed_demo
from apps.shipping.demo import shipping_demo_rates

DEMO_PASSWORD = "bazaar-demo-2026"
DEMO_SELLERS = [
    ("ada@sellers.bazaar.test", "Ada", "Lovelace", "Analytical Engines", "Precision tools and gadgets."),
    ("grace@sellers.bazaar.test", "Grace", "Hopper", "Hopper & Co. Home", "Furniture, kitchen and home goods."),
    ("alan@sellers.bazaar.test", "Alan", "Turing", "Turing Books & Games", "Books, puzzles and board games."),
]
DEMO_BUYER = ("buyer@bazaar.test", "Bea", "Buyer")
DEMO_STAFF = ("staff@bazaar.test", "Sam", "Staff")


class Command(BaseCommand):
    help = "Create the demo users, stores and catalog (safe to run again: nothing is duplicated)."

    def add_arguments(self, parser):
        parser.add_argument("--allow-prod", action="store_true", help="Seed even with ENV=prod (known passwords!).")

    def handle(self, *args, allow_prod: bool = False, **options):
        if settings.ENV == "prod" and not allow_prod:
            raise CommandError("seed_demo creates accounts with a published password; refusing with ENV=prod.")
        with transaction.atomic():
            sellers = [self._user(email, first, last) for email, first, last, _, _ in DEMO_SELLERS]
            for seller, (_, _, _, store_name, description) in zip(sellers, DEMO_SELLERS, strict=True):
                if not Store.objects.filter(owner=seller).exists():
                    store_open(user=seller, name=store_name, description=description)
            stores = [Store.objects.get(owner=seller) for seller in sellers]
            products = catalog_seed_demo(stores=stores)
            # Two stores ship at their own rates; the third has none and ships at SHIPPING_FLAT_RATE.
            shipping_demo_rates(stores=stores[:2])
            buyer = self._user(*DEMO_BUYER)
            self._user(*DEMO_STAFF, is_staff=True, is_superuser=True)
        # Outside the transaction above: paying calls the (simulated) provider, never under a lock.
        orders = orders_seed_demo(buyer=buyer)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({products} new products, {orders} new orders)."))
        self.stdout.write(f"Logins (password for all: {DEMO_PASSWORD}):")
        for email, *_ in DEMO_SELLERS:
            self.stdout.write(f"  seller  {email}")
        self.stdout.write(f"  buyer   {DEMO_BUYER[0]}")
        self.stdout.write(f"  staff   {DEMO_STAFF[0]}  (also /admin/)")

    @staticmethod
    def _user(email: str, first_name: str, last_name: str, **flags) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, first_name=first_name, last_name=last_name, **flags)
        return user
