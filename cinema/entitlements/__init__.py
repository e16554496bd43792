"""Who may watch what: purchases, rentals, staff grants and their revocations (docs/entitlements.md)."""
