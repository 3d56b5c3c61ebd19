// The Verify module (archive/site/verify.js) under node, without a browser (ctest site.verify_unit): checkpoint
// signatures and witness cosignatures (C2SP tlog-cosignature/v1, type 0x04) made here with node's crypto; tile and
// bundle paths; the vendored @noble/ed25519 is the npm package's file byte for byte.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect_equal, finish, load_verify, source_dir } from './lib.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const V = load_verify();

const raw = (key) => key.export({ format: 'der', type: 'spki' }).subarray(-32);
const sha256 = (b) => crypto.createHash('sha256').update(b).digest();
const key_id4 = (name, type, pk) => sha256(Buffer.concat([Buffer.from(name), Buffer.of(0x0a, type), pk])).subarray(0, 4);
const make = () => {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { pk: raw(publicKey), sk: privateKey };
};

const origin = 'example.org/cosigned';
const log = make();
const w1 = make();
const w2 = make();
const w3 = make();
const entry = (k, extra) => ({ id: sha256(k.pk).toString('hex'), public_key: k.pk.toString('base64'), ...extra });
const state = {
  format: 'avow.keys/1',
  keys: [entry(log, { role: 'log' }), entry(w1, { added_at: 1, name: 'w1.example', role: 'witness' }),
         entry(w2, { added_at: 2, name: 'w2.example', role: 'witness' }),
         entry(w3, { added_at: 3, name: 'w3.example', role: 'witness', revoked_at: 4, reason: 'retired' })],
};
const text = `${origin}\n7\n${Buffer.alloc(32, 7).toString('base64')}\navow-keys ${Buffer.alloc(32, 1).toString('base64')}\n`;
const line = (name, id, sig) => `\u2014 ${name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
const log_line = line(origin, key_id4(origin, 1, log.pk), crypto.sign(null, Buffer.from(text), log.sk));
const cosign = (w, name, t, body = text) => {
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(t));
  const msg = Buffer.from(`cosignature/v1\ntime ${t}\n${body}`);
  return line(name, key_id4(name, 4, w.pk), Buffer.concat([ts, crypto.sign(null, msg, w.sk)]));
};
const genesis = { name: origin, key: new Uint8Array(log.pk) };
const outcome = async (note, keys = state) => {
  try {
    const r = await V.verify_checkpoint(note, keys, genesis);
    return `ok size ${r.checkpoint.size} witnesses ${r.witnesses.join(',')}`;
  } catch (e) {
    return `failed: ${e.message}`;
  }
};

expect_equal(await outcome(`${text}\n${log_line}`), 'ok size 7 witnesses ', 'the log signature alone verifies');
expect_equal(await outcome(`${text}\n${log_line}${cosign(w1, 'w1.example', 1700000000)}${cosign(w2, 'w2.example', 1700000001)}`),
  'ok size 7 witnesses w1.example,w2.example', 'two cosignatures verify and are named');
const unknown = make();
expect_equal(await outcome(`${text}\n${log_line}${cosign(unknown, 'stranger.example', 5)}${cosign(w2, 'w2.example', 9)}`),
  'ok size 7 witnesses w2.example', 'a cosignature by an unknown key is ignored');
expect_equal(await outcome(`${text}\n${log_line}${cosign(w3, 'w3.example', 9)}`), 'ok size 7 witnesses ',
  'a revoked witness is not counted');
expect_equal(await outcome(`${text}\n${log_line}${cosign(w1, 'w1.example', 1700000000, text.replace('\n7\n', '\n8\n'))}`),
  'failed: the cosignature of witness w1.example does not verify', 'a cosignature over another checkpoint fails');
const good = cosign(w2, 'w2.example', 1700000000);
const bytes = Buffer.from(good.split(' ')[2], 'base64');
bytes[5] ^= 1; // the timestamp: the signature no longer covers it
expect_equal(await outcome(`${text}\n${log_line}${line('w2.example', bytes.subarray(0, 4), bytes.subarray(4))}`),
  'failed: the cosignature of witness w2.example does not verify', 'a changed cosignature timestamp fails');
expect_equal(await outcome(`${text}\n${line('w1.example', key_id4('w1.example', 4, w1.pk), Buffer.alloc(40))}${log_line}`),
  'failed: the cosignature of witness w1.example is not 72 bytes', 'a short cosignature fails');
expect_equal(await outcome(`${text}\n${cosign(w1, 'w1.example', 1)}`), `failed: the checkpoint is not signed by the log key ${state.keys[0].id.slice(0, 16)}`,
  'cosignatures without the log signature fail');
const forged = line(origin, key_id4(origin, 1, log.pk), crypto.sign(null, Buffer.from(text), w1.sk));
expect_equal(await outcome(`${text}\n${forged}`), `failed: the checkpoint signature by the log key ${state.keys[0].id.slice(0, 16)} does not verify`,
  'a log signature by another key fails');
const other = { ...state, keys: [entry(w1, { role: 'log' }), ...state.keys.slice(1)] };
expect_equal(await outcome(`${text}\n${log_line}`, other), 'failed: the key state does not start with the log key of avow.json',
  'a key state with another genesis log key fails');

expect_equal(V.index_path(0), '000', 'index path 0');
expect_equal(V.index_path(1234067), 'x001/x234/067', 'index path 1234067');
expect_equal(V.tile_path(1, 0, 1), 'tile/1/000.p/1', 'partial tile path');
expect_equal(V.entries_path(1000, 256), 'tile/entries/x001/000', 'full bundle path');

// The vendored fallback is the npm package's file, byte for byte.
const modules = process.env.AVOW_SITE_NODE_MODULES || here;
const npm_file = path.join(modules, 'node_modules/@noble/ed25519/index.js');
if (fs.existsSync(npm_file)) {
  expect_equal(sha256(fs.readFileSync(path.join(source_dir, 'archive/site/vendor/noble-ed25519.js'))).toString('hex'),
    sha256(fs.readFileSync(npm_file)).toString('hex'), 'vendor/noble-ed25519.js is @noble/ed25519 index.js');
}
finish();
