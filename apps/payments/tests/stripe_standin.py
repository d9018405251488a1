"""A local stand-in for the Stripe API, for tests. The official SDK talks to it over HTTP exactly as to
api.stripe.com (form-encoded bodies, ``Authorization: Bearer``, ``Idempotency-Key``, ``Stripe-Version``)
and it answers in Stripe's JSON shapes, keeping PaymentIntents and Refunds in memory.

Test mode as on Stripe: ``pm_card_visa`` succeeds; ``pm_card_chargeDeclined`` (decline_code
``generic_decline``) and ``pm_card_chargeDeclinedInsufficientFunds`` (``insufficient_funds``) are 402
card errors; other methods 400 ``resource_missing``; confirming an intent made without
``payment_method_types`` (automatic payment methods) needs a ``return_url``. A key seen before with
the same request replays the first answer; with other parameters it is 400 ``idempotency_error``.
``fail_next`` answers are failures in front of the API: not stored under the key, so a retry gets through.

Connect: Express accounts (``POST /v1/accounts``, ``GET``/``POST /v1/accounts/{id}``), onboarding links
(``POST /v1/account_links``), transfers (``POST``/``GET /v1/transfers``, ``GET /v1/transfers/{id}``) and
their reversals (``POST /v1/transfers/{id}/reversals``). An account starts with details not submitted,
payouts disabled and the ``transfers`` capability inactive; ``complete_onboarding`` finishes it (as the
seller filling Stripe's form) and posts the signed ``account.updated`` event Stripe would send. A
transfer needs an account whose ``transfers`` capability is active, and a ``source_transaction`` must be
a succeeded charge (an intent's ``latest_charge``) in the same currency, all its transfers together at
most its amount; reversals never take back more than the transfer minus what was reversed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

API_KEY = "sk_test_standin"
WEBHOOK_SECRET = "whsec_standin"
DECLINES = {
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
}
SUCCEEDS = {"pm_card_visa", "pm_card_mastercard"}
CANCELABLE = ["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"]
CONFIRMABLE = ["requires_payment_method", "requires_confirmation", "requires_action"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]  # un-flattened: metadata[order]=X → {"metadata": {"order": "X"}}
    headers: dict[str, str]  # lower-case names
    body: str  # the raw form body (or query string)
    status: int = 0
    replayed: bool = False


class _Refusal(Exception):
    def __init__(self, status: int, error: dict[str, Any]):
        super().__init__(error.get("message"))
        self.status, self.error = status, error


def _invalid(message: str, *, status: int = 400, **extra: Any) -> _Refusal:
    return _Refusal(status, {"type": "invalid_request_error", "message": message, **extra})


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into objects: ``a[b]=1`` → {"a": {"b": "1"}}, ``a[0]=x`` → {"a": ["x"]}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        *path, last = re.findall(r"[^\[\]]+", key) or [key]
        node = root
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    return [items[k] for k in sorted(items, key=int)] if items and all(k.isdigit() for k in items) else items


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def intent_now(standin: StripeStandin, intent: str) -> dict[str, Any]:
    """A copy of the intent as Stripe holds it now (the stand-in updates its own in place)."""
    return json.loads(json.dumps(standin.intents[intent]))


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={signed_at},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], *, account: str | None = None) -> bytes:
    """A webhook body as Stripe sends it for ``event_type`` about ``obj``; ``account`` names the
    connected account an event of a Connect endpoint is about."""
    event = {"id": _new_id("evt"), "object": "event", "type": event_type, "created": int(time.time())}
    event |= {"api_version": "2026-10-28.endive", "livemode": False, "data": {"object": obj}}
    if account is not None:
        event["account"] = account
    return json.dumps(event).encode()


def _requirements(*, done: bool) -> dict[str, Any]:
    due = [] if done else ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"]
    return {
        "currently_due": due,
        "eventually_due": due,
        "past_due": due,
        "disabled_reason": None if done else "requirements.past_due",
    }


def _missing(kind: str, ident: str, param: str) -> _Refusal:
    return _invalid(f"No such {kind}: '{ident}'", status=404, code="resource_missing", param=param)


class StripeStandin:
    """The server's state and knobs: ``requests`` (every request, in order), ``intents``,
    ``refunds``, ``api_key`` (the only key accepted), ``fail_next(count, status)``."""

    def __init__(self, *, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET) -> None:
        self.api_key, self.webhook_secret = api_key, webhook_secret
        self.requests: list[RecordedRequest] = []
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_links: list[dict[str, Any]] = []
        self.transfers: dict[str, dict[str, Any]] = {}
        self.reversals: dict[str, dict[str, Any]] = {}
        self._refunded: dict[str, int] = defaultdict(int)
        self._replies: dict[str, tuple[tuple, int, dict[str, Any]]] = {}
        self._failures: list[int] = []
        self._delays: list[float] = []
        # What a new refund's status is: "succeeded", or "pending" (as Stripe answers for some
        # payment methods and banks); settle_refund() finishes a pending one.
        self.refund_status = "succeeded"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.standin = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def fail_next(self, count: int, *, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` (5xx api_error, or 429 rate_limit)."""
        self._failures.extend([status] * count)

    def slow_next(self, count: int, *, seconds: float) -> None:
        """Answer each of the next ``count`` requests only after ``seconds`` (a slow Stripe); the
        request is still carried out, as Stripe would after a client gave up waiting."""
        self._delays.extend([seconds] * count)

    def settle_refund(self, refund_id: str, status: str = "succeeded") -> dict[str, Any]:
        """Finish a refund left pending (the bank answered); returns the refund object."""
        with self._lock:
            refund = self.refunds[refund_id]
            if refund["status"] == "pending" and status != "succeeded":
                self._refunded[refund["payment_intent"]] -= refund["amount"]
            refund["status"] = status
            return json.loads(json.dumps(refund))

    def complete_onboarding(
        self, account_id: str, *, client: Any, payouts_enabled: bool = True, secret: str | None = None
    ) -> Any:
        """The seller finishes Stripe's onboarding form: details submitted, and payouts (with the
        ``transfers`` capability) enabled unless ``payouts_enabled`` is False (Stripe restricts the
        account). Then Stripe's ``account.updated`` event, signed with ``secret`` (default the
        stand-in's webhook secret), is posted through ``client`` (a Django test client) to the
        webhook endpoint; returns the response."""
        with self._lock:
            account = self.accounts[account_id]
            account.update(details_submitted=True, payouts_enabled=payouts_enabled, charges_enabled=payouts_enabled)
            account["capabilities"] = {"transfers": "active" if payouts_enabled else "inactive"}
            account["requirements"] = _requirements(done=payouts_enabled)
            obj = json.loads(json.dumps(account))
        payload = event_payload("account.updated", obj, account=account_id)
        signature = sign_payload(payload, self.webhook_secret if secret is None else secret)
        return client.post(
            "/api/v1/payments/stripe/webhook/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def charge(self, intent_id: str) -> dict[str, Any]:
        """The intent's latest charge, as a charge.* webhook carries it."""
        intent, refunded = self.intents[intent_id], self._refunded[intent_id]
        charge = {"id": intent["latest_charge"], "object": "charge", "payment_intent": intent_id, "status": "succeeded"}
        charge |= {"amount": intent["amount"], "amount_refunded": refunded, "currency": intent["currency"]}
        return charge | {"refunded": refunded == intent["amount_received"]}

    def answer(self, record: RecordedRequest) -> tuple[int, dict[str, Any], bool]:
        with self._lock:
            self.requests.append(record)
            status, body, replayed = self._answer(record)
            record.status, record.replayed = status, replayed
            answer = status, json.loads(json.dumps(body)), replayed
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:  # carried out already: only the answer is late
            time.sleep(delay)
        return answer

    def _answer(self, record: RecordedRequest) -> tuple[int, dict[str, Any], bool]:
        if self._failures:
            status = self._failures.pop(0)
            kind = {"type": "invalid_request_error", "code": "rate_limit"} if status == 429 else {"type": "api_error"}
            return status, {"error": {**kind, "message": "An unknown error occurred (stand-in)."}}, False
        if record.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}, False
        key = record.headers.get("idempotency-key") if record.method == "POST" else None
        fingerprint = (record.method, record.path, sorted(parse_qsl(record.body, keep_blank_values=True)))
        if key in self._replies:
            seen, status, body = self._replies[key]
            if seen != fingerprint:
                message = f"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."  # noqa: E501
                return 400, {"error": {"type": "idempotency_error", "message": message}}, False
            return status, body, True
        try:
            status, body = 200, self._route(record)
        except _Refusal as refusal:
            status, body = refusal.status, {"error": refusal.error}
        if key and status in (200, 402):  # Stripe stores what the endpoint did, not failed validation
            self._replies[key] = (fingerprint, status, json.loads(json.dumps(body)))
        return status, body, False

    def _route(self, record: RecordedRequest) -> dict[str, Any]:
        method, path, params = record.method, record.path, record.params
        if path.startswith(("/v1/accounts", "/v1/account_links", "/v1/transfers")):
            return self._route_connect(method, path, params)
        if (method, path) == ("POST", "/v1/payment_intents"):
            return self._create_intent(params)
        if (method, path) == ("POST", "/v1/refunds"):
            return self._create_refund(params)
        refund_match = re.fullmatch(r"/v1/refunds/([^/]+)", path)
        if refund_match is not None and method == "GET":
            if refund_match[1] not in self.refunds:
                raise _invalid(f"No such refund: '{refund_match[1]}'", status=404, code="resource_missing", param="id")
            return self.refunds[refund_match[1]]
        match = re.fullmatch(r"/v1/payment_intents/([^/]+)(?:/(confirm|cancel))?", path)
        if match is None or (method, match[2]) not in {("GET", None), ("POST", "confirm"), ("POST", "cancel")}:
            raise _invalid(f"Unrecognized request URL ({method}: {path}).", status=404)
        intent = self.intents.get(match[1])
        if intent is None:
            raise _invalid(f"No such payment_intent: '{match[1]}'", status=404, code="resource_missing", param="intent")
        if match[2] == "confirm":
            self._confirm(intent, params)
        elif match[2] == "cancel":
            self._cancel(intent)
        return intent

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        if not str(params.get("amount", "")).isdigit() or not str(params.get("currency", "")).isalpha():
            raise _invalid("Missing or invalid param: amount and currency are required.", code="parameter_invalid")
        pi = _new_id("pi")
        methods = params.get("payment_method_types")
        intent = {"id": pi, "object": "payment_intent", "status": "requires_payment_method", "livemode": False}
        intent |= {"amount": int(params["amount"]), "amount_received": 0, "currency": params["currency"].lower()}
        intent |= {"client_secret": f"{pi}_secret_{secrets.token_hex(12)}", "metadata": params.get("metadata") or {}}
        intent |= {"payment_method_types": methods or ["card", "link"], "payment_method": None, "latest_charge": None}
        intent |= {"automatic_payment_methods": None if methods else {"enabled": True}, "last_payment_error": None}
        self.intents[pi] = intent | {"created": int(time.time())}
        return self.intents[pi]

    def _confirm(self, intent: dict[str, Any], params: dict[str, Any]) -> None:
        if intent["status"] not in CONFIRMABLE:
            message = f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}."
            raise _invalid(message, code="payment_intent_unexpected_state", payment_intent=dict(intent))
        if intent["automatic_payment_methods"] and "return_url" not in params:
            raise _invalid(
                "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some "
                "of these payment methods might redirect your customer off of your page, you must provide a "
                "`return_url`."
            )
        method = params.get("payment_method")
        if method in DECLINES:
            decline_code, message = DECLINES[method]
            error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code, "message": message}
            intent.update(status="requires_payment_method", last_payment_error=error, latest_charge=_new_id("ch"))
            raise _Refusal(402, {**error, "charge": intent["latest_charge"], "payment_intent": dict(intent)})
        if method not in SUCCEEDS:
            raise _invalid(f"No such PaymentMethod: '{method}'", code="resource_missing", param="payment_method")
        intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None)
        intent.update(payment_method=_new_id("pm"), latest_charge=_new_id("ch"))

    def _cancel(self, intent: dict[str, Any]) -> None:
        if intent["status"] not in CANCELABLE:
            message = f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}."
            raise _invalid(message, code="payment_intent_unexpected_state", payment_intent=dict(intent))
        intent.update(status="canceled", canceled_at=int(time.time()))

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        pi = params.get("payment_intent", "")
        if pi not in self.intents:
            raise _invalid(f"No such payment_intent: '{pi}'", code="resource_missing", param="payment_intent")
        intent = self.intents[pi]
        if intent["status"] != "succeeded":
            raise _invalid("This PaymentIntent does not have a successful charge to refund.")
        remaining = intent["amount_received"] - self._refunded[pi]
        if remaining == 0:
            message = f"Charge {intent['latest_charge']} has already been refunded."
            raise _invalid(message, code="charge_already_refunded")
        amount = int(params.get("amount", remaining))
        if amount > remaining:
            message = f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
            raise _invalid(message, code="amount_too_large", param="amount")
        self._refunded[pi] += amount
        refund = {"id": _new_id("re"), "object": "refund", "status": self.refund_status, "amount": amount}
        refund |= {"currency": intent["currency"], "payment_intent": pi, "charge": intent["latest_charge"]}
        self.refunds[refund["id"]] = refund
        return refund

    # --- Connect ---------------------------------------------------------------------------------

    def _route_connect(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        if (method, path) == ("POST", "/v1/accounts"):
            return self._create_account(params)
        if (method, path) == ("POST", "/v1/account_links"):
            return self._create_account_link(params)
        if path == "/v1/transfers":
            return self._create_transfer(params) if method == "POST" else self._list_transfers(params)
        match = re.fullmatch(r"/v1/accounts/([^/]+)", path)
        if match is not None:
            account = self.accounts.get(match[1])
            if account is None:
                raise _missing("account", match[1], "account")
            if method == "POST":
                self._update_account(account, params)
            return account
        match = re.fullmatch(r"/v1/transfers/([^/]+)(/reversals)?", path)
        if match is not None and (method == "GET" or match[2]):
            transfer = self.transfers.get(match[1])
            if transfer is None:
                raise _missing("transfer", match[1], "id")
            if match[2] and method == "POST":
                return self._create_reversal(transfer, params)
            return transfer["reversals"] if match[2] else transfer
        raise _invalid(f"Unrecognized request URL ({method}: {path}).", status=404)

    def _create_account(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("type") not in ("express", "standard", "custom") and "controller" not in params:
            raise _invalid("Missing required param: type.", code="parameter_missing", param="type")
        requested = [name for name, ask in (params.get("capabilities") or {}).items() if ask.get("requested") == "true"]
        account = {"id": _new_id("acct"), "object": "account", "type": params.get("type"), "livemode": False}
        account |= {"email": params.get("email"), "country": params.get("country") or "US", "created": int(time.time())}
        account |= {"default_currency": "usd", "details_submitted": False, "payouts_enabled": False}
        account |= {"charges_enabled": False, "capabilities": dict.fromkeys(requested, "inactive")}
        account |= {"metadata": params.get("metadata") or {}, "requirements": _requirements(done=False)}
        self.accounts[account["id"]] = account
        return account

    def _update_account(self, account: dict[str, Any], params: dict[str, Any]) -> None:
        unknown = sorted(set(params) - {"email", "metadata", "business_profile", "settings", "expand"})
        if unknown:
            raise _invalid(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        account["metadata"] = {**account["metadata"], **(params.get("metadata") or {})}
        account.update({key: value for key, value in params.items() if key in ("email", "business_profile")})

    def _create_account_link(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("account", "type"):
            if not params.get(name):
                raise _invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
        if params["account"] not in self.accounts:
            raise _invalid(f"No such account: '{params['account']}'", code="resource_missing", param="account")
        if params["type"] not in ("account_onboarding", "account_update"):
            raise _invalid(f"Invalid type: {params['type']}", code="parameter_invalid_string", param="type")
        created = int(time.time())
        url = f"https://connect.stripe.com/setup/e/{params['account']}/{secrets.token_urlsafe(16)}"
        link = {"object": "account_link", "created": created, "expires_at": created + 300, "url": url}
        self.account_links.append(link | {"account": params["account"], "params": params})
        return link

    def _charge_intent(self, charge: str) -> dict[str, Any] | None:
        return next(
            (i for i in self.intents.values() if i["latest_charge"] == charge and i["status"] == "succeeded"), None
        )

    def _create_transfer(self, params: dict[str, Any]) -> dict[str, Any]:
        if not str(params.get("amount", "")).isdigit() or int(params["amount"]) <= 0:
            raise _invalid("Invalid positive integer", code="parameter_invalid_integer", param="amount")
        if not str(params.get("currency", "")).isalpha():
            raise _invalid("Missing required param: currency.", code="parameter_missing", param="currency")
        amount, currency, destination = int(params["amount"]), params["currency"].lower(), params.get("destination")
        account = self.accounts.get(destination or "")
        if account is None:
            raise _invalid(f"No such destination: '{destination}'", code="resource_missing", param="destination")
        if account["capabilities"].get("transfers") != "active":
            raise _invalid(
                "Your destination account needs to have at least one of the following capabilities enabled: "
                "transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        source = params.get("source_transaction")
        if source is not None:
            intent = self._charge_intent(source)
            if intent is None:
                raise _invalid(f"No such charge: '{source}'", code="resource_missing", param="source_transaction")
            if intent["currency"] != currency:
                raise _invalid(
                    f"The currency of source_transaction's balance transaction ({intent['currency']}) must be the "
                    f"same as the transfer currency ({currency})",
                    param="currency",
                )
            sent = sum(t["amount"] for t in self.transfers.values() if t["source_transaction"] == source)
            if sent + amount > intent["amount_received"]:
                raise _invalid(
                    f"Insufficient funds in source transaction {source}: {intent['amount_received'] - sent} left, "
                    f"{amount} requested.",
                    code="balance_insufficient",
                    param="amount",
                )
        tr = _new_id("tr")
        reversals = {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{tr}/reversals",
        }
        transfer = {"id": tr, "object": "transfer", "amount": amount, "amount_reversed": 0, "currency": currency}
        transfer |= {"destination": destination, "destination_payment": _new_id("py"), "livemode": False}
        transfer |= {"balance_transaction": _new_id("txn"), "created": int(time.time()), "description": None}
        transfer |= {"metadata": params.get("metadata") or {}, "reversals": reversals, "reversed": False}
        transfer |= {
            "source_transaction": source,
            "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
        self.transfers[tr] = transfer
        return transfer

    def _list_transfers(self, params: dict[str, Any]) -> dict[str, Any]:
        data = [t for t in reversed(self.transfers.values()) if params.get("destination") in (None, t["destination"])]
        data = [t for t in data if params.get("transfer_group") in (None, t["transfer_group"])]
        return {"object": "list", "data": data, "has_more": False, "url": "/v1/transfers"}

    def _create_reversal(self, transfer: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        remaining = transfer["amount"] - transfer["amount_reversed"]
        if "amount" in params and (not str(params["amount"]).isdigit() or int(params["amount"]) <= 0):
            raise _invalid("Invalid positive integer", code="parameter_invalid_integer", param="amount")
        amount = int(params.get("amount", remaining))
        if remaining == 0:
            raise _invalid(
                f"Transfer {transfer['id']} has already been fully reversed.", code="transfer_already_reversed"
            )
        if amount > remaining:
            raise _invalid(
                f"Reversal amount ({amount}) is greater than the amount remaining on the transfer ({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        reversal = {"id": _new_id("trr"), "object": "transfer_reversal", "amount": amount}
        reversal |= {"currency": transfer["currency"], "transfer": transfer["id"], "created": int(time.time())}
        reversal |= {"metadata": params.get("metadata") or {}, "balance_transaction": _new_id("txn")}
        reversal |= {"destination_payment_refund": _new_id("pyr"), "source_refund": None}
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        listing = transfer["reversals"]
        listing["data"].insert(0, reversal)
        listing["total_count"] += 1
        self.reversals[reversal["id"]] = reversal
        return reversal


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _handle(self) -> None:
        method, url = self.command, urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode() if method == "POST" else url.query
        headers = {name.lower(): value for name, value in self.headers.items()}
        record = RecordedRequest(method, url.path, _nest(parse_qsl(body, keep_blank_values=True)), headers, body)
        status, payload, replayed = self.server.standin.answer(record)  # type: ignore[attr-defined]
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", _new_id("req"))
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up on a slow answer
            self.wfile.write(data)

    do_GET = do_POST = _handle


@pytest.fixture(name="stripe_standin")
def stripe_standin_fixture(settings) -> Iterator[StripeStandin]:
    """A running stand-in, with Stripe made the configured provider and pointed at it."""
    standin = StripeStandin()
    standin.start()
    settings.STRIPE_API_BASE = standin.url
    settings.STRIPE_SECRET_KEY = standin.api_key
    settings.STRIPE_WEBHOOK_SECRET = standin.webhook_secret
    settings.PAYMENT_PROVIDER = "stripe"
    try:
        yield standin
    finally:
        standin.stop()
