"""Refusals of buyers' returns (API.md, Round 2, "Refunds and returns"). A return moved outside
its status table is apps.orders' InvalidTransition (409 ``invalid_transition``)."""

from __future__ import annotations

from apps.core.exceptions import Conflict


class ReturnNotDelivered(Conflict):
    default_detail = "Only delivered items can be returned."
    default_code = "return_not_delivered"


class ReturnWindowClosed(Conflict):
    default_detail = "The return window of this delivery has closed."
    default_code = "return_window_closed"


class ReturnExceeds(Conflict):
    default_detail = "More units than are left to return."
    default_code = "return_exceeds"
