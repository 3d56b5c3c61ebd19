#!/usr/bin/env bash
# ctest capture.warcio: the npm warcio package reads a WARC written by avow's writer (tests/capture/write_warc.cpp)
# and finds every digest right (tests/capture/warcio_check.mjs); a copy with one payload byte changed is refused.
# usage: warcio_test.sh WRITER CHECKER   (AVOW_SITE_NODE_MODULES names the npm install of tests/site)
set -euo pipefail
writer=$1 checker=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$writer" "$tmp/sample.warc.gz"
out=$(node "$checker" "$tmp/sample.warc.gz")
echo "$out"
expected="warcinfo - - ok
request http://example.test/old - ok
response http://example.test/old sha256:4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ==== ok
request http://example.test/new - ok
response http://example.test/new $(sed -n 's/^WARC-Payload-Digest: //p' <(gzip -dc "$tmp/sample.warc.gz") | tail -1 | tr -d '\r') ok"
if [ "$out" != "$expected" ]; then
  echo "warcio_test: unexpected checker output; wanted:"; echo "$expected"; exit 1
fi
# The same file uncompressed reads the same.
gzip -dc "$tmp/sample.warc.gz" > "$tmp/sample.warc"
[ "$(node "$checker" "$tmp/sample.warc")" = "$expected" ] || { echo "warcio_test: plain copy differs"; exit 1; }
# Tampered: the first byte of the 200 response's body (the chunk size line "10") changed; warcio must refuse it.
python3 - "$tmp/sample.warc" "$tmp/tampered.warc" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
at = d.index(b"Transfer-Encoding: chunked\r\n\r\n10\r\n") + len(b"Transfer-Encoding: chunked\r\n\r\n")
open(sys.argv[2], "wb").write(d[:at] + b"2" + d[at + 1:])
PY
if bad=$(node "$checker" "$tmp/tampered.warc"); then
  echo "$bad"; echo "warcio_test: the tampered copy was accepted"; exit 1
fi
echo "$bad"
grep -q '^response http://example.test/new sha256:.* BAD: WARC-Block-Digest does not match; WARC-Payload-Digest does not match$' <<<"$bad" || {
  echo "warcio_test: the tampered record was not named"; exit 1; }
echo "warcio_test: ok"
