"""The landing page outside the web process: the shared copy every web process follows, and the
file an nginx in front serves `GET /` from.

`cache` holds the built page and its version in Redis (`flush-cache` publishes, announces and
waits for every web process to reload); `edgepage` keeps the page in LEADCAP_EDGE_DIR for nginx,
never older than the version `flush-cache` recorded. The per-process copy is web/landing.py's.
"""
