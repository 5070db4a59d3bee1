# Test-only stand-in for nginx:<version>-alpine, built and tagged under that name by tests/images
# (no container registry is reachable here). It differs from the official image:
# - Debian bookworm's nginx 1.22 on glibc, not the named version on Alpine's musl. 1.22 is older
#   than the 1.27.3 that nginx.conf's `server web:8000 resolve;` needs, so tests/images runs the
#   edge with a copy of the config rendered without `resolve` (the image keeps the repository's).
# - Debian builds its temporary folders into /var/lib/nginx: linked to /var/cache/nginx, where
#   the official image keeps them (docker-compose.yml mounts a tmpfs there).
# - GNU wget instead of BusyBox's, for docker-compose.yml's healthcheck; an `nginx` system user
#   (nginx.conf's `user nginx;`) whose uid is Debian's next free one, not 101.
# - As in the official image: logs go to the container's stdout and stderr, SIGQUIT stops it.
ARG BASE
FROM ${BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx wget \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /etc/nginx/sites-enabled /var/lib/nginx \
    && useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx \
    && ln -s /var/cache/nginx /var/lib/nginx \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
