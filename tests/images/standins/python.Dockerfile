# Test-only stand-in for python:3.11-slim-bookworm, built and tagged under that name by
# tests/images (no container registry is reachable here). It differs from the official image:
# - Python is Debian bookworm's python3 (3.11.2, Debian's build and patches) in /usr/bin, linked
#   as /usr/local/bin/python; the official image builds the newest 3.11 into /usr/local.
# - pip comes only with a venv (`python -m venv`, from Debian's python3-venv), not installed
#   system-wide; like the official image, it has no EXTERNALLY-MANAGED marker.
# - the base is tests/images' debootstrapped bookworm (bookworm.sh), whose certificate bundle is
#   this machine's; PIP_CERT points pip at it (pip would read only its own certifi bundle).
# - openssl, as in the official image (its ca-certificates depends on it), without
#   ca-certificates itself: the bundle is the base's.
ARG BASE
FROM ${BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv openssl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python
ENV LANG=C.UTF-8 \
    PIP_CERT=/usr/local/share/standin/ca-bundle.crt
CMD ["python3"]
