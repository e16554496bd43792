"""Payment gateways: Stripe when `STRIPE_API_KEY` is set, else the local sandbox.

`get_gateway()` is the one place that chooses; services call it per operation,
so a changed setting (tests, `get_settings.cache_clear()`) takes effect at once.
"""

from __future__ import annotations

from cinema.commerce.gateways.base import GatewayEvent, Intent, PaymentGateway, RefundResult
from cinema.config import get_settings

__all__ = ["GatewayEvent", "Intent", "PaymentGateway", "RefundResult", "get_gateway"]


def get_gateway() -> PaymentGateway:
    """The configured gateway: `StripeGateway` (STRIPE_API_KEY, STRIPE_API_BASE) or `SandboxGateway`."""
    settings = get_settings()
    if settings.stripe_api_key:
        from cinema.commerce.gateways.stripe import StripeGateway

        return StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    from cinema.commerce.gateways.sandbox import SandboxGateway

    return SandboxGateway()
