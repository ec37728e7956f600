#!/usr/bin/env bash
# `make deb`: $DIST/cwauth_VERSION_ARCH.deb from the release build in .build/release/, staged with
# `make install PREFIX=/usr`, so the package holds exactly what a source install puts in place.
set -euo pipefail
cd "$(dirname "$0")/.."

DIST=${DIST:-dist}
CWAUTH=.build/release/cwauth
# Whatever the packaged binary reports (`cwauth --version`), so the package cannot disagree with it.
VERSION=$("$CWAUTH" --version)
ARCH=$(dpkg --print-architecture)
# A locally built package is maintained by whoever builds it; DEB_MAINTAINER overrides.
GIT_NAME=$(git config user.name 2>/dev/null || true)
GIT_EMAIL=$(git config user.email 2>/dev/null || true)
if [ -n "$GIT_NAME" ] && [ -n "$GIT_EMAIL" ]; then DEFAULT_MAINTAINER="$GIT_NAME <$GIT_EMAIL>"
else DEFAULT_MAINTAINER="cwauth maintainers <root@localhost>"; fi
MAINTAINER=${DEB_MAINTAINER:-$DEFAULT_MAINTAINER}
# The libraries `ldd` shows for the plugin and the CLI, by package (`dpkg -S`, Debian 12), with the minimum
# versions dpkg-shlibdeps computes for them; Tests/e2e/test_install.py fails when one is not covered.
# adduser: the postinst makes the service's user.
DEPENDS="mosquitto (>= 2.0), adduser, libc6 (>= 2.35), libgcc-s1 (>= 3.3.1), libsqlite3-0 (>= 3.7.15), libssl3 (>= 3.0.0), libstdc++6 (>= 12)"
OUT="$DIST/cwauth_${VERSION}_${ARCH}.deb"

# Files and folders in the package get these modes whatever the caller's umask.
umask 022
mkdir -p "$DIST"
STAGE=$(mktemp -d "$DIST/.deb-root.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"   # becomes the package's ./ entry

make --no-print-directory install DESTDIR="$(cd "$STAGE" && pwd)" PREFIX=/usr UNIT_DIR=/lib/systemd/system >/dev/null
# Without debug info, as Debian ships binaries: the CLI goes from about 120 to 70 MB, the plugin from 14 to 8.
strip "$STAGE/usr/bin/cwauth"
strip --strip-unneeded "$STAGE/usr/lib/cwauth/libcwauth_mosquitto.so"
"$STAGE/usr/bin/cwauth" --version >/dev/null   # still runs

INSTALLED_SIZE=$(du -sk "$STAGE" | cut -f1)
mkdir "$STAGE/DEBIAN"
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$INSTALLED_SIZE|" -e "s|@DEPENDS@|$DEPENDS|" \
    packaging/deb/control.in > "$STAGE/DEBIAN/control"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$STAGE/DEBIAN/$script"
done
# Files under /etc are the administrator's once installed: dpkg keeps their edits on upgrade.
(cd "$STAGE" && find etc -type f | sed 's|^|/|') > "$STAGE/DEBIAN/conffiles"

# xz, Debian's default: the smallest package (20 MB), about 30 s on two cores; DEB_COMPRESSION=none or
# zstd for a quick one (the tests use none: compression changes nothing they check).
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$OUT" >/dev/null
echo "deb: $OUT"
