"""Platform connectors: one module per platform, one interface (see ``base.py``)."""

from functions.connectors.base import (
    CONNECTORS,
    BudgetExhausted,
    Connector,
    ConnectorContext,
    ConnectorError,
    HttpConnector,
    PayloadError,
    PlatformAuthError,
    PlatformUnavailable,
    RateLimited,
    SecretsProvider,
    connector_for,
    register,
)

PLATFORM_MODULES = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")


def connector_class(platform: str) -> type[Connector]:
    """The connector class of ``platform`` (its ``page_size`` and ``minimum_requests`` are class-level)."""
    import importlib

    if platform not in CONNECTORS and platform in PLATFORM_MODULES:
        importlib.import_module(f"functions.connectors.{platform}")
    if platform not in CONNECTORS:
        raise ConnectorError(f"no connector for platform {platform!r}")
    return CONNECTORS[platform]

__all__ = [
    "CONNECTORS",
    "PLATFORM_MODULES",
    "BudgetExhausted",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "HttpConnector",
    "PayloadError",
    "PlatformAuthError",
    "PlatformUnavailable",
    "RateLimited",
    "SecretsProvider",
    "connector_class",
    "connector_for",
    "register",
]
