#!/bin/sh
# Test-only stand-in base for the stand-in images beside this file (never a real image): a minimal
# Debian bookworm made by debootstrap, slimmed as debian:bookworm-slim is, with this machine's
# certificate bundle. Usage: bookworm.sh ROOTFS MIRROR [CA_BUNDLE]; tests/images imports ROOTFS.
# It differs from debian:bookworm-slim in: packages as the mirror has them today (not a dated
# snapshot), and the host's certificate bundle (which may hold the local authority that this
# machine reaches the registries through) in /usr/local/share/standin/ca-bundle.crt, where the
# stand-ins point pip and npm (Debian's ca-certificates would overwrite /etc/ssl/certs).
set -eu
root=$1 mirror=$2 ca=${3:-}
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
# As in the official images: dpkg starts no services, and keeps no docs, man pages or locales.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
SLIM
find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian/*
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
if [ -n "$ca" ]; then
    mkdir -p "$root/usr/local/share/standin" && cp "$ca" "$root/usr/local/share/standin/ca-bundle.crt"
fi
