#!/usr/bin/env bash
# ctest fixture site.npm_ci: install the browser tests' npm packages (package-lock.json, `npm ci`) into DEST, a folder
# of the build tree, so the source tree gets no node_modules. Does nothing when DEST already holds this lock's install.
# usage: npm-ci.sh SOURCE_DIR DEST
set -euo pipefail
src=$1 dest=$2
mkdir -p "$dest"
if [ -d "$dest/node_modules" ] && cmp -s "$src/package-lock.json" "$dest/node_modules/.avow-lock"; then
  echo "npm-ci: $dest is up to date"
  exit 0
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json node_modules/.avow-lock
echo "npm-ci: installed $(ls node_modules | tr '\n' ' ')"
