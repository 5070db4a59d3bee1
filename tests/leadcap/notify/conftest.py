"""The webhook tests' database and store (notifications ride the same outbox)."""

from tests.leadcap.webhooks.conftest import postgres, store, webhook_database_url, wpg

__all__ = ["postgres", "store", "webhook_database_url", "wpg"]
