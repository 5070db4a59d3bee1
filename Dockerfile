# syntax=docker/dockerfile:1
# leadcap's images, from one build so that the page, its assets and the code always match:
#   runtime (the last stage, so the default): `leadcap serve`; the same image runs
#            `leadcap worker` and `leadcap migrate` (see docker-compose.yml)
#   edge:    nginx with nginx.conf and the built /assets/ baked in (`--target edge`)
# docs/operations.md explains how they are deployed.

# 1. The landing page: exact versions from the lock file, then vite build + pre-render + budgets.
FROM node:24-bookworm-slim AS ui
WORKDIR /src/web/ui
COPY web/ui/package.json web/ui/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ui/ ./
# The demo campaign, for the build's static pages only: the page leadcap serves is the build's
# template filled at run time from the mounted LEADCAP_CAMPAIGN_FILE (no rebuild for new copy).
COPY web/campaign.default.json /src/web/campaign.default.json
# The admin's font subset is checked against every word the admin shows (scripts/admin-font.mjs).
COPY web/admin/words.py /src/web/admin/words.py
RUN npm run build

# 2. The Python environment, built in a stage of its own so that pip, hatchling and their
#    caches stay behind. Every dependency ships wheels: no compiler is needed.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/leadcap
WORKDIR /src
COPY pyproject.toml README.md ./
COPY leadcap/ leadcap/
COPY cli/ cli/
COPY web/ web/
RUN /opt/leadcap/bin/pip install --no-cache-dir . \
    && /opt/leadcap/bin/pip uninstall --yes pip

# 3. The edge: nginx serves /assets/ from its own copy and proxies the rest to `web`.
FROM nginx:1.28-alpine AS edge
COPY nginx.conf /etc/nginx/nginx.conf
COPY --from=ui /src/web/ui/dist/assets/ /srv/leadcap/ui/assets/

# 4. The runtime: the venv and the built page on a slim Python, no build tools, not root.
FROM python:3.11-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/leadcap --create-home leadcap
COPY --from=build /opt/leadcap /opt/leadcap
COPY --from=ui /src/web/ui/dist /opt/leadcap/ui
ENV PATH=/opt/leadcap/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    LEADCAP_ENV=production \
    LEADCAP_HOST=0.0.0.0 \
    LEADCAP_PORT=8000 \
    LEADCAP_UI_DIST=/opt/leadcap/ui \
    LEADCAP_DATA_DIR=/var/lib/leadcap
# The working directory is the user's empty home: no stray ./.env is ever read.
WORKDIR /var/lib/leadcap
USER 10001:10001
EXPOSE 8000
# Healthy while leadcap can keep a 202's promise: `leadcap health` exits 0 (ok) or 1 (degraded:
# MongoDB or the workers away, leads still safe); 2 (PostgreSQL or Redis down) or 78 (bad
# configuration) is unhealthy. The web service adds an HTTP probe of itself in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["sh", "-c", "leadcap health >/dev/null 2>&1; [ $? -le 1 ]"]
CMD ["leadcap", "serve"]
