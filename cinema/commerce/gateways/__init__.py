"""Payment gateways: Stripe, or the local sandbox when chosen with `PAYMENT_GATEWAY=sandbox`.

`get_gateway()` is the one place that chooses (from `Settings.gateway`);
services call it per operation, so a changed setting (tests,
`get_settings.cache_clear()`) takes effect at once. With no gateway configured
(no `STRIPE_API_KEY`, no `PAYMENT_GATEWAY`) every payment operation answers
503 `payments_not_configured`: the sandbox, which lets a customer mark their
own payment successful, never stands in silently. Production refuses to start
without Stripe keys (`cinema.config`).
"""

from __future__ import annotations

from cinema.commerce.errors import PaymentsNotConfigured
from cinema.commerce.gateways.base import GatewayEvent, Intent, PaymentGateway, RefundResult
from cinema.config import get_settings

__all__ = ["GatewayEvent", "Intent", "PaymentGateway", "RefundResult", "get_gateway"]


def get_gateway() -> PaymentGateway:
    """The configured gateway: `StripeGateway` (STRIPE_API_KEY, STRIPE_API_BASE) or `SandboxGateway`.

    Raises `PaymentsNotConfigured` (503) when neither is configured.
    """
    settings = get_settings()
    if settings.uses_stripe:
        from cinema.commerce.gateways.stripe import StripeGateway

        assert settings.stripe_api_key is not None  # Settings refuses stripe without a key
        return StripeGateway(settings.stripe_api_key, settings.stripe_api_base)
    if settings.uses_sandbox:
        from cinema.commerce.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    raise PaymentsNotConfigured()
