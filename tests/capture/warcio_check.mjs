// Read a WARC file with the npm warcio package (webrecorder/warcio.js), independently of avow's reader, and check
// every record's digests the way warcio computes them when it writes: WARC-Block-Digest over the record block (the
// whole HTTP message for request/response records), WARC-Payload-Digest over the bytes after the HTTP head as stored
// (warcio's WARCRecord.readFully() with parseHttp), both "sha256:" + RFC 4648 base32 (warcio's digest option
// base32: true; the base32-encode package warcio itself uses) or lowercase hex (warcio's default).
//
// usage: node warcio_check.mjs FILE.warc[.gz]     (warcio from $AVOW_SITE_NODE_MODULES/node_modules)
// Prints one line per record, "TYPE TARGET-URI PAYLOAD-DIGEST ok" ("-" for a field the record lacks), or "... BAD: why"
// and exits 1 when any digest does not match or the file does not parse; exit 2 for usage or a missing warcio.
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const file = process.argv[2];
const modules = process.env.AVOW_SITE_NODE_MODULES;
if (!file || !modules) {
  console.error("usage: AVOW_SITE_NODE_MODULES=DIR node warcio_check.mjs FILE.warc[.gz]");
  process.exit(2);
}
const nodeModules = join(modules, "node_modules");
if (!existsSync(join(nodeModules, "warcio"))) {
  console.error(`warcio_check: no warcio in ${nodeModules} (run the site.npm_ci test)`);
  process.exit(2);
}
const load = (p) => import(pathToFileURL(join(nodeModules, p)).href);
const { WARCParser } = await load("warcio/dist/index.js");
const base32Encode = (await load("base32-encode/index.js")).default;

// What warcio writes for `bytes` with `algo`: both its encodings.
function expected(labelled, bytes) {
  const colon = labelled.indexOf(":");
  const algo = labelled.slice(0, colon).toLowerCase();
  const name = { sha256: "sha256", "sha-256": "sha256", sha1: "sha1", "sha-1": "sha1" }[algo];
  if (!name) return null;
  const hash = createHash(name).update(bytes).digest();
  return [labelled.slice(0, colon + 1) + base32Encode(hash, "RFC4648"), labelled.slice(0, colon + 1) + hash.toString("hex")];
}

async function records(parseHttp) {
  const out = [];
  const parser = new WARCParser(createReadStream(file), { keepHeadersCase: true, parseHttp });
  for await (const record of parser) {
    const headers = record.warcHeaders.headers;
    out.push({
      type: record.warcType,
      uri: record.warcTargetURI,
      block: headers.get("WARC-Block-Digest"),
      payload: headers.get("WARC-Payload-Digest"),
      http: Boolean(record.httpHeaders),
      bytes: Buffer.from(await record.readFully(false)),
    });
  }
  return out;
}

let bad = 0;
try {
  const blocks = await records(false); // the whole block of every record
  const payloads = await records(true); // for HTTP records, what follows the HTTP head
  if (blocks.length === 0 || blocks.length !== payloads.length) throw new Error("no records, or the two reads disagree");
  for (let i = 0; i < blocks.length; ++i) {
    const b = blocks[i];
    const p = payloads[i];
    const problems = [];
    if (b.block) {
      const want = expected(b.block, b.bytes);
      if (!want) problems.push(`unknown digest algorithm in ${b.block}`);
      else if (!want.includes(b.block)) problems.push("WARC-Block-Digest does not match");
    } else if (b.type !== "warcinfo") {
      problems.push("no WARC-Block-Digest");
    }
    if (b.payload) {
      const want = expected(b.payload, p.http ? p.bytes : b.bytes);
      if (!want) problems.push(`unknown digest algorithm in ${b.payload}`);
      else if (!want.includes(b.payload)) problems.push("WARC-Payload-Digest does not match");
    } else if (b.type === "response") {
      problems.push("no WARC-Payload-Digest");
    }
    const line = `${b.type} ${b.uri || "-"} ${b.payload || "-"}`;
    if (problems.length) {
      ++bad;
      console.log(`${line} BAD: ${problems.join("; ")}`);
    } else {
      console.log(`${line} ok`);
    }
  }
} catch (e) {
  console.log(`warcio_check: ${file}: ${e.message || e}`);
  process.exit(1);
}
process.exit(bad ? 1 : 0);
