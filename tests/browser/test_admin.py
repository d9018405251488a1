"""The admin in a browser, as an operator uses it: signing in with a password and an authenticator
app's code (django-otp, ADMIN_REQUIRE_2FA on, under django-axes' lockout), finding an order that
needs review from the index page's panel, accepting its payment with the admin action, and seeing
the acceptance among the order's events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_otp.oath import totp
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select

from apps.accounts.services import staff_two_factor_enrol
from apps.accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from apps.catalog.tests.factories import ProductFactory
from apps.checkout.services import checkout_place
from apps.orders.models import Order, OrderStatus
from apps.orders.tests.factories import ADDRESS, fill_cart
from apps.payments.models import SimulatedPayment
from apps.payments.providers.base import PaymentStatus
from apps.payments.services import payments_sync
from apps.payouts.tests.factories import sell

pytestmark = pytest.mark.browser


def under_review(mug) -> Order:
    """A 25.00 USD order whose payment the provider says took 30.00 USD: the sync flags it
    ``needs_review`` and it stays ``pending_payment`` (as apps/checkout/tests/test_admin.py makes it)."""
    buyer = UserFactory()
    fill_cart(buyer, (mug, 2))
    order = checkout_place(buyer=buyer, shipping_address=ADDRESS, payment_method=None)
    SimulatedPayment.objects.filter(reference=order.payments.get().reference).update(
        amount=Decimal("30.00"), status=PaymentStatus.SUCCEEDED
    )
    assert payments_sync() == 1
    order.refresh_from_db()
    assert (order.status, order.needs_review) == (OrderStatus.PENDING_PAYMENT, True)
    return order


def app_code(device) -> str:
    """What the staff member's authenticator app shows now, from the device's key."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def test_an_operator_signs_in_with_a_code_and_accepts_an_order_needing_review(browser, wait, live_server, settings):
    settings.ADMIN_REQUIRE_2FA = True
    operator = UserFactory(is_staff=True, is_superuser=True, email="ops@example.com")
    device = staff_two_factor_enrol(user=operator).device
    mug = ProductFactory(name="Mug", price=Decimal("12.50"), stock=50)
    sell((mug, 1))  # a paid order: not waiting for staff
    flagged = under_review(mug)

    browser.get(live_server.url + "/admin/")
    wait.until(seen.visibility_of_element_located((By.ID, "id_otp_token")))  # sent to the login page
    browser.find_element(By.ID, "id_username").send_keys(operator.email)
    browser.find_element(By.ID, "id_password").send_keys(DEFAULT_PASSWORD)
    browser.find_element(By.ID, "id_otp_token").send_keys(app_code(device))
    browser.find_element(By.CSS_SELECTOR, '#login-form input[type="submit"][value="Log in"]').click()

    panel = wait.until(
        seen.visibility_of_element_located(
            (By.XPATH, '//tr[@class="operator-panel"][.//a[normalize-space()="Orders needing review"]]')
        )
    )
    assert panel.find_element(By.CSS_SELECTOR, "a.operator-panel-count").text == "1"
    panel.find_element(By.LINK_TEXT, "Orders needing review").click()

    wait.until(seen.visibility_of_element_located((By.ID, "result_list")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "th.field-number").text for row in rows] == [flagged.number]
    browser.find_element(By.CSS_SELECTOR, f'input.action-select[value="{flagged.pk}"]').click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("accept_reviewed_payment")
    browser.find_element(By.CSS_SELECTOR, 'button[name="index"]').click()

    message = wait.until(seen.visibility_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success")))
    assert message.text == f"{flagged.number}: payment under review accepted."
    assert not browser.find_elements(By.ID, "result_list")  # back on the filtered list: nothing waits

    browser.get(f"{live_server.url}/admin/orders/order/")  # all orders; the one accepted, by its number
    search = wait.until(seen.visibility_of_element_located((By.ID, "searchbar")))
    search.send_keys(flagged.number)
    search.submit()
    wait.until(seen.element_to_be_clickable((By.LINK_TEXT, flagged.number))).click()
    events = wait.until(seen.visibility_of_element_located((By.ID, "events-group")))
    shown = [
        [
            cell.text
            for cell in row.find_elements(
                By.CSS_SELECTOR, "td.field-from_status, td.field-to_status, td.field-actor, td.field-note"
            )
        ]
        for row in events.find_elements(By.CSS_SELECTOR, "tbody tr.form-row")
    ]
    assert shown[-2:] == [
        ["pending_payment", "paid", "ops@example.com", "payment of 30.00 USD accepted by staff"],
        ["paid", "paid", "ops@example.com", "review closed: payment accepted"],
    ]
    flagged.refresh_from_db()
    assert (flagged.status, flagged.needs_review) == (OrderStatus.PAID, False)
