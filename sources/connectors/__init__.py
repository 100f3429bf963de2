"""The registry of connectors, keyed by Source.kind."""

from sources.connectors.base import Batch, Connector, ConnectorError, Rejected

REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    REGISTRY[cls.kind] = cls
    return cls


def connector_for(source) -> Connector:
    try:
        return REGISTRY[source.kind](source)
    except KeyError:
        raise ConnectorError(f"No connector for kind {source.kind!r}", permanent=True) from None


# Each module registers itself.
from sources.connectors import (  # noqa: E402, F401
    csv,
    demo,
    ga4,
    google_ads,
    hubspot,
    meta_ads,
    stripe,
    webhook,
)

__all__ = ["Batch", "Connector", "ConnectorError", "REGISTRY", "Rejected", "connector_for"]
