// Shared by the browser tests of the static site: archive building with the real avow, a static HTTP server on
// 127.0.0.1, headless Debian chromium through playwright-core, axe-core.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

export const chromium_path = '/usr/bin/chromium';

// node_modules come from `npm ci` in AVOW_SITE_NODE_MODULES (the ctest fixture), else next to this file.
const modules_dir = process.env.AVOW_SITE_NODE_MODULES || path.join(path.dirname(new URL(import.meta.url).pathname));
const require = createRequire(path.join(modules_dir, 'package.json'));

// Print a skip line ctest recognises (the same as GoogleTest's) and exit 0.
export function skip(reason) {
  console.log(`[  SKIPPED ] ${reason}`);
  process.exit(0);
}

export function check_tools() {
  if (!fs.existsSync(chromium_path)) skip('chromium not installed (apt-get install chromium): skipping the browser tests');
  try {
    require.resolve('playwright-core');
    require.resolve('axe-core');
  } catch (e) {
    skip(`playwright-core or axe-core not installed (npm ci in tests/site): ${e.message}`);
  }
}

let failures = 0;
let passes = 0;
export function expect_equal(actual, expected, what) {
  if (actual === expected) {
    passes++;
    console.log(`ok: ${what}`);
  } else {
    failures++;
    console.log(`FAIL: ${what}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`);
  }
}
export function expect_true(cond, what) {
  expect_equal(!!cond, true, what);
}
export function finish() {
  console.log(`${passes} passed, ${failures} failed`);
  process.exit(failures === 0 ? 0 : 1);
}

export function temp_dir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `avow-${name}-`));
}

// Run avow with a private config home; returns stdout.
export function avow(env, args, cwd) {
  return execFileSync(process.env.AVOW_BIN, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
}

// An archive with two versions of one English source, an Arabic statement and a hostile one; returns
// { dir, env, ids: { en1, en2, ar, hostile } } (record ids, in archive order).
export function make_archive(root) {
  const env = { XDG_CONFIG_HOME: path.join(root, 'config'), AVOW_ARCHIVE: path.join(root, 'archive') };
  avow(env, ['init', path.join(root, 'archive'), '--origin', 'example.org/site-test']);
  const add = (name, text, args) => {
    const file = path.join(root, name);
    fs.writeFileSync(file, text);
    const out = JSON.parse(avow(env, ['--json', 'archive', file, ...args]));
    return out.records[0].id;
  };
  const ids = {};
  ids.en1 = add('en1.txt', 'The ministry announced a new budget today.\n',
    ['--source', 'https://example.org/budget', '--publisher', 'Example Press', '--title', 'Budget announced',
     '--published', '2024-03-29T18:36:00Z', '--lang', 'en']);
  ids.en2 = add('en2.txt', 'The ministry announced a larger budget today.\n',
    ['--source', 'https://example.org/budget', '--publisher', 'Example Press', '--title', 'Budget announced (updated)',
     '--lang', 'en']);
  ids.ar = add('ar.txt', 'أعلنت الوزارة اليوم عن ميزانية جديدة.\n',
    ['--source', 'https://example.org/ar/budget', '--publisher', 'وزارة المالية', '--title', 'الميزانية الجديدة',
     '--lang', 'ar']);
  ids.hostile = add('hostile.txt', '<img src=x onerror=alert(1)> & "quoted"\n',
    ['--source', 'javascript:alert(1)', '--title', '<script>alert(1)</script>']);
  return { dir: env.AVOW_ARCHIVE, env, ids };
}

// Serve `dir` on 127.0.0.1 (ephemeral port); resolves to { url, close }.
export function serve(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css' };
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(dir, path.normalize(rel));
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

export async function launch(profile) {
  const { chromium } = require('playwright-core');
  return chromium.launchPersistentContext(profile, {
    executablePath: chromium_path,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
}

// Run axe-core's WCAG 2 A/AA rules on the page; returns the violations as "rule: target" lines.
export async function axe(page) {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: source });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// Click Verify on the open record page and return the result text once it is final.
export async function click_verify(page) {
  await page.click('#verify');
  await page.waitForFunction(() => {
    const t = document.getElementById('verify-result').textContent;
    return t.startsWith('Verified') || t.startsWith('NOT verified');
  }, null, { timeout: 60000 });
  return page.textContent('#verify-result');
}

// The source tree (AVOW_SOURCE_DIR, else two folders up from this file).
export const source_dir = process.env.AVOW_SOURCE_DIR ||
  path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..');

// Load the site's Verify module (archive/site/verify.js, a classic script) into this node process; returns AvowVerify.
export function load_verify() {
  vm.runInThisContext(fs.readFileSync(path.join(source_dir, 'archive/site/verify.js'), 'utf8'));
  return globalThis.AvowVerify;
}
