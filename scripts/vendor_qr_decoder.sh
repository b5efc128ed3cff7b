#!/bin/sh
# Vendors the QR decoder of the offline verifier (jsQR, Apache-2.0, pure JavaScript: no WebAssembly, so it
# runs under our strict Content-Security-Policy) into campaignid/verification/static. Run it to upgrade;
# the service never calls npm or a CDN at run time.
set -eu
VERSION="${JSQR_VERSION:-1.4.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/campaignid/verification/static/verification/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && npm install --no-save --no-audit --no-fund --silent "jsqr@$VERSION" >/dev/null)
mkdir -p "$DEST"
cp "$WORK/node_modules/jsqr/dist/jsQR.js" "$DEST/jsQR.js"
cp "$WORK/node_modules/jsqr/LICENSE" "$DEST/jsQR-LICENSE.txt"
echo "jsqr $VERSION (npm), dist/jsQR.js, sha256 $(sha256sum "$DEST/jsQR.js" | cut -d' ' -f1)" > "$DEST/VERSIONS.txt"
cat "$DEST/VERSIONS.txt"
