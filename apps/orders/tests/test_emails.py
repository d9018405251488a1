"""Order mails, sent after commit: a confirmation to the buyer and a notice to each seller with only their
own lines when an order is paid; a shipment mail to the buyer. These tests commit for real
(``transaction=True``) so that mail goes out exactly as in production, or does not."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction

from apps.accounts.tests.factories import StoreFactory
from apps.catalog.tests.factories import ProductFactory
from apps.orders import notifications
from apps.orders.models import Order, OrderEvent
from apps.orders.services import order_mark_paid, order_ship_lines
from apps.orders.tasks import order_paid_mails
from apps.orders.tests.factories import ADDRESS, fill_cart

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESS_LINES = ["Bea Buyer", "1 Market Street", "12345 Springfield", "US"]


@pytest.fixture(autouse=True)
def _simulated_payments(settings):
    settings.PAYMENT_PROVIDER = "simulated"
    settings.SHIPPING_FLAT_RATE = Decimal("4.50")


@pytest.fixture
def mug():
    return ProductFactory(name="Blue Mug", price=Decimal("12.50"), stock=5)


@pytest.fixture
def book():
    return ProductFactory(name="Field Guide", price=Decimal("20.00"), stock=2)


@pytest.fixture
def number(buyer, mug, book, buyer_client):
    """A pending_payment order of 2 mugs and 1 book from two stores: 25.00 + 20.00 + 2 x 4.50 shipping."""
    fill_cart(buyer, (mug, 2), (book, 1))
    response = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["total"] == "54.00"
    return response.json()["number"]


def pay(client, number: str, payment_method: str = "pm_card_visa"):
    return client.post(f"/api/v1/orders/{number}/pay/", {"payment_method": payment_method}, format="json")


class LaterStepFailed(Exception):
    """A step after the service, in the same transaction, failed; carries what the service returned."""


def in_a_failing_transaction(work) -> None:
    with transaction.atomic():
        raise LaterStepFailed(str(work()))


def mail_to(address: str):
    (message,) = [message for message in mail.outbox if message.to == [address]]
    return message


def html_of(message) -> str:
    (alternative,) = message.alternatives
    content, mimetype = alternative
    assert mimetype == "text/html"
    return content


def test_paying_mails_the_buyer_a_confirmation_and_each_seller_only_their_lines(buyer, mug, book, number, buyer_client):
    assert mail.outbox == []  # checkout alone mails nobody

    assert pay(buyer_client, number).status_code == 200

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [buyer.email, mug.store.owner.email, book.store.owner.email]
    )
    confirmation = mail_to(buyer.email)
    assert confirmation.subject == f"Your Bazaar order {number} is confirmed"
    assert number in confirmation.subject
    assert "2 x Blue Mug" in confirmation.body
    assert "1 x Field Guide" in confirmation.body
    assert f"2 x Blue Mug ({mug.store.name})  25.00 USD" in confirmation.body
    assert f"1 x Field Guide ({book.store.name})  20.00 USD" in confirmation.body
    assert "Total:    54.00 USD" in confirmation.body
    html = html_of(confirmation)
    for fragment in ["Blue Mug", "Field Guide", "25.00 USD", "20.00 USD", "54.00 USD", number]:
        assert fragment in html

    for own, other in ((mug, book), (book, mug)):
        notice = mail_to(own.store.owner.email)
        assert notice.subject == f"New order {number} for {own.store.name}"
        html = html_of(notice)
        assert own.name in notice.body
        assert own.name in html
        assert other.name not in notice.body
        assert other.name not in html
        assert other.store.name not in notice.body
        assert "54.00" not in notice.body  # the buyer's total is not this seller's business
        for line in ADDRESS_LINES:
            assert line in notice.body
            assert line in html
    assert "2 x Blue Mug (" in mail_to(mug.store.owner.email).body
    assert "1 x Field Guide (" in mail_to(book.store.owner.email).body


def test_shipping_mails_the_buyer_the_carrier_and_tracking_number(buyer, mug, book, number, buyer_client, client_for):
    assert pay(buyer_client, number).status_code == 200
    mail.outbox.clear()
    seller = client_for(mug.store.owner)

    response = seller.post(
        f"/api/v1/seller/orders/{number}/ship/", {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
    )

    assert response.status_code == 200
    (shipped,) = mail.outbox
    assert shipped.to == [buyer.email]
    assert shipped.subject == f"Your Bazaar order {number} is on its way"
    assert f"2 x Blue Mug from {mug.store.name} (UPS 1Z999AA10123456784)" in shipped.body
    assert "UPS 1Z999AA10123456784" in html_of(shipped)
    assert "Field Guide" not in shipped.body  # the other store has not shipped yet
    assert "Field Guide" not in html_of(shipped)


@pytest.mark.parametrize("method", ["pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"])
def test_a_declined_payment_sends_no_confirmation(buyer_client, number, method):
    response = pay(buyer_client, number, method)

    assert response.status_code == 402
    assert mail.outbox == []
    assert Order.objects.get(number=number).status == "pending_payment"


def test_a_checkout_declined_at_once_sends_no_confirmation(buyer, mug, buyer_client):
    fill_cart(buyer, (mug, 1))

    response = buyer_client.post(
        "/api/v1/checkout/", {"shipping_address": ADDRESS, "payment_method": "pm_card_chargeDeclined"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["payment"]["status"] == "failed"
    assert mail.outbox == []


def test_nothing_is_sent_when_marking_paid_rolls_back(number):
    order = Order.objects.get(number=number)

    with pytest.raises(LaterStepFailed, match=r"^paid$"):
        in_a_failing_transaction(
            lambda: order_mark_paid(order_id=order.pk, amount=order.total, currency=order.currency, note="test")
        )

    assert mail.outbox == []
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    assert list(OrderEvent.objects.filter(order=order).values_list("to_status", flat=True)) == ["pending_payment"]


def test_nothing_is_sent_when_shipping_rolls_back(buyer_client, mug, number):
    assert pay(buyer_client, number).status_code == 200
    mail.outbox.clear()

    with pytest.raises(LaterStepFailed, match=rf"^{number}$"):
        in_a_failing_transaction(
            lambda: order_ship_lines(seller=mug.store.owner, number=number, carrier="UPS", tracking_number="1Z")
        )

    assert mail.outbox == []
    assert Order.objects.get(number=number).status == "paid"


def test_names_are_not_html_escaped_in_subjects_and_text(buyer, buyer_client):
    store = StoreFactory(name="Ann's Attic & Co")
    jar = ProductFactory(store=store, name='Jam "Jar" & Lid', price=Decimal("3.00"), stock=1)
    fill_cart(buyer, (jar, 1))
    number = buyer_client.post("/api/v1/checkout/", {"shipping_address": ADDRESS}, format="json").json()["number"]

    assert pay(buyer_client, number).status_code == 200

    notice = mail_to(store.owner.email)
    assert notice.subject == f"New order {number} for Ann's Attic & Co"
    assert "Ann's Attic & Co" in notice.body
    assert '1 x Jam "Jar" & Lid' in notice.body
    assert "Ann&#x27;s Attic &amp; Co" in html_of(notice)  # and escaped where it is HTML
    confirmation = mail_to(buyer.email)
    assert '1 x Jam "Jar" & Lid (Ann\'s Attic & Co)' in confirmation.body


def test_the_paid_mails_are_rendered_after_the_paying_transaction_commits(number, monkeypatch):
    """Issue 14: the mails of a paid order are rendered out of the transaction that pays it (its
    locks are not held while templates render); in a worker when there is a broker."""
    rendered_in_a_transaction = []
    real_send = notifications.email_send

    def spy(**kwargs):
        rendered_in_a_transaction.append(transaction.get_connection().in_atomic_block)
        real_send(**kwargs)

    monkeypatch.setattr(notifications, "email_send", spy)
    order = Order.objects.get(number=number)

    assert order_mark_paid(order_id=order.pk, amount=order.total, currency="USD", note="paid") == "paid"

    assert rendered_in_a_transaction == [False, False, False]  # the buyer's and two sellers'
    assert len(mail.outbox) == 3


def test_the_paid_mails_task_queues_them_once_per_task_id(number):
    order = Order.objects.get(number=number)

    assert order_paid_mails.apply(kwargs={"order_id": order.pk}, task_id="paid-1").get() == 3
    assert order_paid_mails.apply(kwargs={"order_id": order.pk}, task_id="paid-1").get() == 0  # redelivered
    assert order_paid_mails.apply(kwargs={"order_id": order.pk}, task_id="paid-2").get() == 3
    assert len(mail.outbox) == 6
