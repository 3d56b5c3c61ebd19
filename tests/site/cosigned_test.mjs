// The site's Verify module under node on an archive cosigned by real witnesses (ctest site.cosigned): three
// `avow witness serve` on 127.0.0.1, their vkeys added with `avow key add`, `avow cosign` with one witness down,
// then `avow site`: Verify names the two witnesses that cosigned; a cosignature line altered in the site's
// checkpoint is named; a witness revoked afterwards is no longer counted. Needs AVOW_BIN.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { avow, expect_equal, expect_true, finish, load_verify, temp_dir } from './lib.mjs';

const V = load_verify();

const root = temp_dir('site-cosigned');
const env = { XDG_CONFIG_HOME: path.join(root, 'config'), AVOW_ARCHIVE: path.join(root, 'archive') };
avow(env, ['-q', 'init', env.AVOW_ARCHIVE, '--origin', 'example.org/cosigned']);
const vkey = /^log (\S+)/m.exec(avow(env, ['policy']))[1];

// Start `avow witness serve` on port 0; resolve with its URL from the first line it prints.
const servers = [];
function serve(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.AVOW_BIN, ['witness', 'serve', dir, '--listen', '127.0.0.1:0'],
                        { stdio: ['ignore', 'pipe', 'ignore'] });
    servers.push(child);
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+)/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`witness ${dir} exited ${code}: ${out}`)));
  });
}
const names = ['w1.example', 'w2.example', 'w3.example'];
const urls = [];
try {
  for (const name of names) {
    const dir = path.join(root, name);
    avow(env, ['-q', 'witness', 'init', dir, '--log', vkey, '--name', name]);
    avow(env, ['-q', 'key', 'add', path.join(dir, 'witness.vkey')]);
    urls.push(await serve(dir));
  }
  fs.writeFileSync(path.join(root, 'a.txt'), 'A statement the witnesses will see.\n');
  avow(env, ['-q', 'archive', path.join(root, 'a.txt'), '--source', 'https://example.org/a', '--title', 'A']);
  // One witness down: w2 is stopped before the cosign.
  servers[1].kill('SIGTERM');
  await new Promise((r) => servers[1].on('exit', r));
  let code = 0;
  try {
    avow(env, ['cosign', '--witness', urls[0], '--witness', urls[1], '--witness', urls[2]]);
  } catch (e) {
    code = e.status;
  }
  expect_equal(code, 0, 'cosign with one witness of three down exits 0');
} finally {
  servers.forEach((s) => s.kill('SIGTERM'));
}

const site = path.join(root, 'site');
avow(env, ['-q', 'site', site]);
const checkpoint = fs.readFileSync(path.join(site, 'checkpoint'), 'utf8');
expect_equal((checkpoint.match(/^\u2014 w[13]\.example /gm) || []).length, 2,
  "the site's checkpoint carries the two cosignature lines");

let id = '';
let index = -1;
for (const f of fs.readdirSync(path.join(site, 'r'))) {
  const m = /data-id="([0-9a-f]{64})" data-index="([0-9]+)"/.exec(fs.readFileSync(path.join(site, 'r', f), 'utf8'));
  [id, index] = [m[1], Number(m[2])];
}
expect_equal(index, 4, 'the statement is entry 4 (after the archivist and three witness keys)');
const text = 'A statement the witnesses will see.\n';
const loader = (dir) => async (p) => new Uint8Array(fs.readFileSync(path.join(dir, p)));
let r = await V.verify_record({ load: loader(site), record_id: id, index, text });
expect_equal(r.ok, true, 'the record verifies');
expect_true(r.message.endsWith('cosigned by 2 witnesses (w1.example, w3.example).'),
  `Verify names the two witnesses that cosigned: ${r.message}`);

// Alter one byte of w3's cosignature line in a copy of the site.
const copy = path.join(root, 'tampered');
fs.cpSync(site, copy, { recursive: true });
const lines = checkpoint.split('\n');
const k = lines.findIndex((l) => l.startsWith('\u2014 w3.example '));
const sig = Buffer.from(lines[k].split(' ')[2], 'base64');
sig[20] ^= 0x01;
lines[k] = `\u2014 w3.example ${sig.toString('base64')}`;
fs.writeFileSync(path.join(copy, 'checkpoint'), lines.join('\n'));
r = await V.verify_record({ load: loader(copy), record_id: id, index, text });
expect_equal(r.message, 'NOT verified: the cosignature of witness w3.example does not verify.',
  'an altered cosignature is named');
fs.rmSync(root, { recursive: true, force: true });
finish();
