#!/bin/sh
# certbot's --deploy-hook for the compose deployment (docs/operations.md, "HTTPS"): puts the
# certificate certbot has just issued or renewed where nginx reads it (./tls of the compose
# folder), then reloads nginx, which serves it to every new connection; nothing restarts.
#   sudo certbot certonly --webroot -w /srv/leadcap/acme -d leads.example.com \
#     --deploy-hook /srv/leadcap/deploy/tls/install-certificate.sh
# certbot sets RENEWED_LINEAGE (its folder holding fullchain.pem and privkey.pem). COMPOSE_DIR
# is the compose folder (default: two folders up from this script); NGINX_RELOAD the command
# that reloads nginx (default: SIGHUP to the compose service).
set -eu
: "${RENEWED_LINEAGE:?is set by certbot, which runs this script as its --deploy-hook}"
compose_dir=${COMPOSE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tls=$compose_dir/tls
chain=$RENEWED_LINEAGE/fullchain.pem
key=$RENEWED_LINEAGE/privkey.pem

# A key that does not go with the certificate would make nginx refuse the reload: keep the old pair.
if [ "$(openssl x509 -in "$chain" -noout -pubkey)" != "$(openssl pkey -in "$key" -pubout)" ]; then
    echo "install-certificate: $key does not go with $chain; ./tls is unchanged" >&2
    exit 1
fi

mkdir -p "$tls"
umask 077
# Each file is written aside, then renamed over the old one: nginx never reads half a file.
cp "$key" "$tls/tls.key.new"
cp "$chain" "$tls/tls.crt.new"
chmod 0600 "$tls/tls.key.new"
chmod 0644 "$tls/tls.crt.new"
mv -f "$tls/tls.key.new" "$tls/tls.key"
mv -f "$tls/tls.crt.new" "$tls/tls.crt"

cd "$compose_dir"
sh -c "${NGINX_RELOAD:-docker compose kill -s HUP nginx}"
echo "install-certificate: $chain is in $tls; nginx reloaded"
