"""The /v1 HTTP API. `create_app(settings)` builds it; nothing heavy loads at import."""

from assistant.api.app import create_app

__all__ = ["create_app"]
