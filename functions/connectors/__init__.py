"""Platform connectors: one module per platform, one interface (see ``base.py``)."""

from functions.connectors.base import (
    CONNECTORS,
    Connector,
    ConnectorContext,
    ConnectorError,
    PlatformAuthError,
    RateLimited,
    SecretsProvider,
    connector_for,
    register,
)

__all__ = [
    "CONNECTORS",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "PlatformAuthError",
    "RateLimited",
    "SecretsProvider",
    "connector_for",
    "register",
]
