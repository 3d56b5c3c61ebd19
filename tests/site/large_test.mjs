// The Verify module under node on a site of 601 entries (ctest site.large): full and partial hash tiles of levels 0
// and 1 and full and partial entry bundles. Every record verifies from the site's files; an altered level-1 tile
// and an altered full level-0 tile are named; after a log-key rotation the new key is named. Needs AVOW_BIN.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { avow, expect_equal, finish, load_verify, temp_dir } from './lib.mjs';

const V = load_verify();

const root = temp_dir('site-large');
const env = { XDG_CONFIG_HOME: path.join(root, 'config'), AVOW_ARCHIVE: path.join(root, 'archive') };
avow(env, ['init', env.AVOW_ARCHIVE, '--origin', 'example.org/large']);
const n = 600;
const lines = [];
for (let i = 0; i < n; i++)
  lines.push(JSON.stringify({ text: `Statement number ${i} of the large test.\n`, source: `https://example.org/s/${i % 20}`,
                              title: `Statement ${i}`, publisher: `Publisher ${i % 7}` }));
fs.writeFileSync(path.join(root, 'batch.jsonl'), `${lines.join('\n')}\n`);
avow(env, ['-q', 'archive', '--batch', path.join(root, 'batch.jsonl')]);
const site = path.join(root, 'site');
avow(env, ['site', site]);

const expected_tiles = ['tile/0/000', 'tile/0/001', 'tile/0/002.p/89', 'tile/1/000.p/2', 'tile/entries/000',
                        'tile/entries/001', 'tile/entries/002.p/89'];
for (const t of expected_tiles) expect_equal(fs.existsSync(path.join(site, t)), true, `the site holds ${t}`);

const records = new Map(); // index -> id, from the record pages
for (const f of fs.readdirSync(path.join(site, 'r'))) {
  const html = fs.readFileSync(path.join(site, 'r', f), 'utf8');
  const m = /data-id="([0-9a-f]{64})" data-index="([0-9]+)"/.exec(html);
  records.set(Number(m[2]), m[1]);
}
expect_equal(records.size, n, 'one page per statement');

// 30 versions per source: a record page lists the 10 either side of its own, the source page all of them.
const page_300 = fs.readFileSync(path.join(site, 'r', `${records.get(300)}.html`), 'utf8');
expect_equal(/<p>30 versions archived from this source, oldest first; versions 5 to 25 are listed here, <a href="[^"]+">all on the source page<\/a>.<\/p>\n<ol class="versions" start="5">/.test(page_300),
  true, 'a record page lists a window of its source\'s versions');
const listed = page_300.slice(page_300.indexOf('<ol class="versions"'), page_300.indexOf('</ol>'));
expect_equal((listed.match(/<li>/g) || []).length, 21, 'twenty-one versions listed');

const text_of = (index) => `Statement number ${index - 1} of the large test.\n`;
const loader = (dir) => async (p) => new Uint8Array(fs.readFileSync(path.join(dir, p)));
let good = 0;
let first_bad = '';
for (const [index, id] of [...records].sort((a, b) => a[0] - b[0])) {
  const r = await V.verify_record({ load: loader(site), record_id: id, index, text: text_of(index) });
  if (r.ok && r.message.startsWith(`Verified: this record is entry ${index} of example.org/large's log`)) good++;
  else if (!first_bad) first_bad = `${index}: ${r.message}`;
}
expect_equal(first_bad, '', 'no record fails');
expect_equal(good, n, 'every record verifies from the site files');

const tamper = (file, offset) => {
  const copy = path.join(root, `tampered-${path.basename(file).replace('/', '_')}-${offset}`);
  fs.cpSync(site, copy, { recursive: true });
  const bytes = fs.readFileSync(path.join(copy, file));
  bytes[offset] ^= 0x80;
  fs.writeFileSync(path.join(copy, file), bytes);
  return copy;
};
const level1 = tamper('tile/1/000.p/2', 3); // the root of leaves 0..255
let r = await V.verify_record({ load: loader(level1), record_id: records.get(400), index: 400, text: text_of(400) });
expect_equal(r.message,
  'NOT verified: the hash tiles tile/0/001, tile/1/000.p/2, tile/0/002.p/89 do not match the checkpoint root.',
  'an altered level-1 tile is named among the tiles read');
const level0 = tamper('tile/0/000', 32 * 17 + 1); // leaf 17
r = await V.verify_record({ load: loader(level0), record_id: records.get(300), index: 300, text: text_of(300) });
expect_equal(r.ok, true, 'entry 300 still verifies: its proof reads the level-1 hash of leaves 0..255, not their tile');
r = await V.verify_record({ load: loader(level0), record_id: records.get(20), index: 20, text: text_of(20) });
expect_equal(r.message,
  'NOT verified: the hash tiles tile/0/000, tile/1/000.p/2, tile/0/002.p/89 do not match the checkpoint root.',
  'an altered full level-0 tile is named');
r = await V.verify_record({ load: loader(site), record_id: records.get(20), index: 21, text: text_of(20) });
expect_equal(r.message, `NOT verified: entry 21 is record ${records.get(21)}, not record ${records.get(20)}.`,
  'a page naming the wrong entry fails');

// After a log-key rotation the checkpoint is signed by the new key, the one the key state puts in force.
avow(env, ['key', 'rotate', '--generate']);
const rotated = path.join(root, 'rotated');
avow(env, ['site', rotated]);
const state = JSON.parse(fs.readFileSync(path.join(rotated, 'keys.json'), 'utf8')).keys;
const new_log = state.filter((k) => k.role === 'log')[1];
expect_equal(new_log.added_at, n + 1, 'the rotation is entry 601');
r = await V.verify_record({ load: loader(rotated), record_id: records.get(300), index: 300, text: text_of(300) });
expect_equal(r.ok && r.message.includes(`in the checkpoint of size ${n + 2} signed by the log key ${new_log.id.slice(0, 16)},`),
  true, `after a rotation the new log key is named: ${r.message}`);

// A key state that names another entry as the rotation, committed to by a checkpoint the new log key signs (what a
// holder of the new key alone could make up): the hand-over is not followed, and the Verify says so.
{
  const forged = path.join(root, 'forged-rotation');
  fs.cpSync(rotated, forged, { recursive: true });
  const forged_state = JSON.parse(fs.readFileSync(path.join(forged, 'keys.json'), 'utf8'));
  forged_state.keys.find((k) => k.id === new_log.id).added_at = 5;
  forged_state.keys.find((k) => k.role === 'log' && k.revoked_at !== undefined).revoked_at = 5;
  const keys_bytes = Buffer.from(JSON.stringify(forged_state));
  const note = fs.readFileSync(path.join(forged, 'checkpoint'), 'utf8');
  const lines = note.slice(0, note.indexOf('\n\n')).split('\n');
  lines[3] = `avow-keys ${crypto.createHash('sha256').update(keys_bytes).digest('base64')}`;
  const text = `${lines.join('\n')}\n`;
  const key_file = execFileSync('git', ['-C', env.AVOW_ARCHIVE, 'config', 'avow.logkey'], { encoding: 'utf8' }).trim();
  const sk = crypto.createPrivateKey(fs.readFileSync(key_file));
  const pk = Buffer.from(new_log.public_key, 'base64');
  const id = crypto.createHash('sha256').update(Buffer.concat([Buffer.from('example.org/large\n'), Buffer.of(1), pk]))
    .digest().subarray(0, 4);
  const sig = crypto.sign(null, Buffer.from(text), sk);
  fs.writeFileSync(path.join(forged, 'keys.json'), keys_bytes);
  fs.writeFileSync(path.join(forged, 'checkpoint'),
    `${text}\n\u2014 example.org/large ${Buffer.concat([id, sig]).toString('base64')}\n`);
  r = await V.verify_record({ load: loader(forged), record_id: records.get(300), index: 300, text: text_of(300) });
  expect_equal(r.message, `NOT verified: entry 5 is not the rotation to log key ${new_log.id.slice(0, 16)} that the key state names.`,
    'a rotation the log does not hold is refused');
}
fs.rmSync(root, { recursive: true, force: true });
finish();
