"""The Sanic web tier: a factory, one blueprint per area, and the landing page in web/ui."""
