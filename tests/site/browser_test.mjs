// The static site in headless Debian chromium (ctest site.browser): Verify over http (127.0.0.1) and from file://,
// with WebCrypto Ed25519 and with the vendored @noble/ed25519 forced; a tampered hash tile and a tampered entry
// bundle named in the result; Arabic rendered right to left; the search box; axe-core WCAG 2 A/AA on every page type.
// Needs AVOW_BIN (the built avow). Usage: node browser_test.mjs
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  avow, axe, check_tools, click_verify, expect_equal, expect_true, finish, launch, make_archive, serve, temp_dir,
} from './lib.mjs';

check_tools();
const root = temp_dir('site');
const { env, ids } = make_archive(root);
const site = path.join(root, 'site');
avow(env, ['site', site]);

const keys = JSON.parse(fs.readFileSync(path.join(site, 'keys.json'), 'utf8')).keys;
const log_key = keys.find((k) => k.role === 'log').id.slice(0, 16);
const archivist = keys.find((k) => k.role === 'archivist').id.slice(0, 16);
const size = 5; // the key.add of init and four statements
const verified = (index) =>
  `Verified: this record is entry ${index} of example.org/site-test's log, signed by archivist key ${archivist}, ` +
  `included in the checkpoint of size ${size} signed by the log key ${log_key}, not cosigned by any witness.`;

// A copy of the site with one byte of the hash tile altered in another leaf's slot (entry 4's leaf hash), and one
// with a byte of the entry bundle altered.
const tampered = path.join(root, 'tampered');
fs.cpSync(site, tampered, { recursive: true });
const tile = path.join(tampered, 'tile/0/000.p/5');
const tile_bytes = fs.readFileSync(tile);
tile_bytes[4 * 32 + 7] ^= 0x01;
fs.writeFileSync(tile, tile_bytes);
fs.writeFileSync(path.join(tampered, 'data/tile/0/000.p/5.js'),
  `avowData("tile/0/000.p/5","${tile_bytes.toString('base64')}");\n`);
const tampered_bundle = path.join(root, 'tampered-bundle');
fs.cpSync(site, tampered_bundle, { recursive: true });
const bundle = path.join(tampered_bundle, 'tile/entries/000.p/5');
const bundle_bytes = fs.readFileSync(bundle);
bundle_bytes[bundle_bytes.length - 20] ^= 0x01; // inside the last entry (the hostile record's envelope)
fs.writeFileSync(bundle, bundle_bytes);

const server = await serve(site);
const server_tampered = await serve(tampered);
const server_bundle = await serve(tampered_bundle);
const profile = temp_dir('profile');
const context = await launch(profile);
try {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    errors.push(`a dialog opened: ${d.message()}`);
    d.dismiss();
  });

  // Good records over http.
  await page.goto(`${server.url}r/${ids.en2}.html`);
  expect_equal(await click_verify(page), verified(2), 'http: the second English version verifies');
  expect_equal(await page.evaluate(() => window.AvowVerify.backend()), 'webcrypto', 'http: WebCrypto Ed25519 was used');
  expect_equal(await page.evaluate(() => typeof window.nobleEd25519), 'undefined', 'http: the fallback was not loaded');
  expect_equal((await axe(page)).join('\n'), '', 'axe: record page has no WCAG 2 A/AA violations');
  expect_equal(await page.locator('#main del').first().textContent(), 'new', 'record page: the diff shows the deleted word');
  expect_equal(await page.locator('#main ins').first().textContent(), 'larger', 'record page: the diff shows the inserted word');

  await page.goto(`${server.url}r/${ids.hostile}.html`);
  expect_equal(await click_verify(page), verified(4), 'http: the hostile record verifies (its text shown as written)');
  expect_equal(await page.textContent('h1'), '<script>alert(1)</script>', 'hostile title is shown as text');
  expect_equal(await page.locator('a[href^="javascript"]').count(), 0, 'the javascript: source is not a link');

  // Arabic renders right to left.
  await page.goto(`${server.url}r/${ids.ar}.html`);
  expect_equal(await page.$eval('#text', (e) => getComputedStyle(e).direction), 'rtl', 'Arabic text: direction rtl');
  expect_equal(await page.$eval('h1', (e) => getComputedStyle(e).direction), 'rtl', 'Arabic title: direction rtl');
  expect_equal(await click_verify(page), verified(3), 'http: the Arabic record verifies');
  expect_equal((await axe(page)).join('\n'), '', 'axe: Arabic record page has no WCAG 2 A/AA violations');

  // The fallback library, forced.
  const forced = await context.newPage();
  await forced.addInitScript(() => {
    window.AVOW_FORCE_NOBLE = true;
  });
  await forced.goto(`${server.url}r/${ids.en1}.html`);
  expect_equal(await click_verify(forced), verified(1), 'http: verifies with @noble/ed25519 forced');
  expect_equal(await forced.evaluate(() => window.AvowVerify.backend()), 'noble', 'the noble backend was used');
  expect_equal(await forced.evaluate(() => typeof window.nobleEd25519.verifyAsync), 'function', 'noble was loaded');
  await forced.close();

  // Home, source, publisher, lists: accessibility and search.
  await page.goto(`${server.url}index.html`);
  expect_equal((await axe(page)).join('\n'), '', 'axe: home page has no WCAG 2 A/AA violations');
  await page.fill('#search', 'larger budget');
  await page.waitForFunction(() => document.querySelectorAll('#search-results li').length > 0);
  expect_equal(await page.textContent('#search-status'), '1 record matches.', 'search: one record has both words');
  expect_equal(await page.getAttribute('#search-results a', 'href'), `r/${ids.en2}.html`, 'search: links the record');
  await page.fill('#search', 'ميزانية');
  await page.waitForFunction(() => document.getElementById('search-status').textContent === '1 record matches.');
  expect_equal(await page.textContent('#search-results a'), 'الميزانية الجديدة', 'search: Arabic words are found');
  expect_equal((await axe(page)).join('\n'), '', 'axe: home page with search results has no violations');
  for (const list of ['sources.html', 'publishers.html']) {
    await page.goto(`${server.url}${list}`);
    expect_equal((await axe(page)).join('\n'), '', `axe: ${list} has no WCAG 2 A/AA violations`);
  }
  await page.goto(`${server.url}sources.html`);
  const source_href = await page.getAttribute('a[href^="s/"]', 'href');
  await page.goto(`${server.url}${source_href}`);
  expect_equal((await axe(page)).join('\n'), '', 'axe: source page has no WCAG 2 A/AA violations');
  await page.goto(`${server.url}publishers.html`);
  const publisher_href = await page.getAttribute('a[href^="p/"]', 'href');
  await page.goto(`${server.url}${publisher_href}`);
  expect_equal((await axe(page)).join('\n'), '', 'axe: publisher page has no WCAG 2 A/AA violations');

  // A tampered hash tile: the failure is named.
  await page.goto(`${server_tampered.url}r/${ids.en1}.html`);
  expect_equal(await click_verify(page), 'NOT verified: the hash tile tile/0/000.p/5 does not match the checkpoint root.',
    'http: a tile altered in another leaf\'s hash is named');
  await page.goto(`${server_tampered.url}r/${ids.hostile}.html`);
  expect_equal(await click_verify(page),
    'NOT verified: the hash tile tile/0/000.p/5 does not match entry 4 of the entry bundle tile/entries/000.p/5.',
    'http: a tile altered in the record\'s own leaf hash is named');
  await page.goto(`${server_bundle.url}r/${ids.hostile}.html`);
  expect_equal(await click_verify(page),
    'NOT verified: the hash tile tile/0/000.p/5 does not match entry 4 of the entry bundle tile/entries/000.p/5.',
    'http: an altered entry bundle is caught');

  // From file:// (chromium forbids fetch there: the data/*.js scripts carry the same bytes).
  await page.goto(`file://${site}/r/${ids.en1}.html`);
  expect_equal(await click_verify(page), verified(1), 'file://: the first English version verifies');
  await page.goto(`file://${tampered}/r/${ids.en1}.html`);
  expect_equal(await click_verify(page), 'NOT verified: the hash tile tile/0/000.p/5 does not match the checkpoint root.',
    'file://: the tampered tile is named');
  await page.goto(`file://${site}/index.html`);
  await page.fill('#search', 'budget');
  await page.waitForFunction(() => document.querySelectorAll('#search-results li').length > 0);
  expect_equal(await page.textContent('#search-status'), '3 records match.', 'file://: search works');

  // The text shown must be the text archived.
  await page.goto(`${server.url}r/${ids.en1}.html`);
  await page.$eval('#text', (e) => {
    e.textContent = 'The ministry announced no budget today.\n';
  });
  const altered = await click_verify(page);
  expect_true(altered.startsWith('NOT verified: the text shown has SHA-256 '), `an altered text is caught: ${altered}`);

  // Witness cosignatures (C2SP tlog-cosignature/v1): a witness key added to the key state with `avow key add`, and a
  // cosignature line made here with node's crypto appended to the site's checkpoint, as `avow cosign` would.
  {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    const pem = path.join(root, 'witness.pem');
    fs.writeFileSync(pem, publicKey.export({ format: 'pem', type: 'spki' }));
    avow(env, ['key', 'add', pem, '--role', 'witness', '--name', 'witness-one.example']);
    const cosigned = path.join(root, 'cosigned');
    avow(env, ['site', cosigned]);
    const note = fs.readFileSync(path.join(cosigned, 'checkpoint'), 'utf8');
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const pk = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const id = crypto.createHash('sha256').update(Buffer.concat([Buffer.from('witness-one.example\n'), Buffer.of(4), pk]))
      .digest().subarray(0, 4);
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(1767225600n);
    const sig = crypto.sign(null, Buffer.from(`cosignature/v1\ntime 1767225600\n${text}`), privateKey);
    const write_note = (dir, bytes) => {
      fs.writeFileSync(path.join(dir, 'checkpoint'), bytes);
      fs.writeFileSync(path.join(dir, 'data/checkpoint.js'), `avowData("checkpoint","${Buffer.from(bytes).toString('base64')}");\n`);
    };
    write_note(cosigned, `${note}\u2014 witness-one.example ${Buffer.concat([id, ts, sig]).toString('base64')}\n`);
    const bad = path.join(root, 'cosigned-bad');
    fs.cpSync(cosigned, bad, { recursive: true });
    const forged = Buffer.from(sig);
    forged[10] ^= 1;
    write_note(bad, `${note}\u2014 witness-one.example ${Buffer.concat([id, ts, forged]).toString('base64')}\n`);
    const cosigned_server = await serve(cosigned);
    const bad_server = await serve(bad);
    try {
      await page.goto(`${cosigned_server.url}r/${ids.en1}.html`);
      expect_equal(await click_verify(page),
        `Verified: this record is entry 1 of example.org/site-test's log, signed by archivist key ${archivist}, ` +
        `included in the checkpoint of size 6 signed by the log key ${log_key}, cosigned by 1 witness (witness-one.example).`,
        'http: a witness cosignature is verified and named');
      await page.goto(`file://${cosigned}/r/${ids.en1}.html`);
      expect_true((await click_verify(page)).endsWith('cosigned by 1 witness (witness-one.example).'),
        'file://: the witness cosignature is verified and named');
      await page.goto(`${bad_server.url}r/${ids.en1}.html`);
      expect_equal(await click_verify(page), 'NOT verified: the cosignature of witness witness-one.example does not verify.',
        'http: a forged witness cosignature is named');
    } finally {
      await cosigned_server.close();
      await bad_server.close();
    }
  }

  expect_equal(errors.join('\n'), '', 'no page error and no dialog');
} finally {
  await context.close();
  await server.close();
  await server_tampered.close();
  await server_bundle.close();
}
fs.rmSync(root, { recursive: true, force: true });
fs.rmSync(profile, { recursive: true, force: true });
finish();
