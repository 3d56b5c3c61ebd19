// avow static site: the in-browser Verify (docs/FORMAT.md §20). Vanilla JavaScript, no build step, a classic
// script (file:// pages cannot load modules) that defines globalThis.AvowVerify. It also runs under node (tests).
//
// verifyRecord() checks, from the site's own files and nothing else:
//   1. the checkpoint is a signed note of the archive's origin, signed by the log key in force (Ed25519);
//   2. the key state (keys.json) is the one the checkpoint commits to (its avow-keys line) and starts with the
//      genesis log key of avow.json;
//   3. every cosignature line (type 0x04, cosignature/v1) of a witness key of the key state verifies;
//   4. the entry taken from its entry bundle hashes (RFC 6962 leaf) into the checkpoint root through the
//      inclusion proof rebuilt from the hash tiles (RFC 9162 PATH, tiles of height 8);
//   5. the entry is this record (SHA-256 of its DSSE payload = the record id) and its DSSE signature (PAE)
//      verifies under an archivist key in force for that entry;
//   6. the text shown on the page has the SHA-256 the record names.
// Any failure is a sentence naming what failed. SHA-256 comes from WebCrypto; Ed25519 from WebCrypto, or, where
// the browser lacks it, from the vendored @noble/ed25519 (assets/noble-ed25519.js), loaded only then.
(function (root) {
  'use strict';

  const k_payload_type = 'application/vnd.avow.record+json';
  const k_tile_width = 256;

  class VerifyFailure extends Error {}
  const fail = (why) => {
    throw new VerifyFailure(why);
  };

  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: true });

  function concat(...parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function hex(bytes) {
    let s = '';
    for (const b of bytes) s += b.toString(16).padStart(2, '0');
    return s;
  }
  // Strict base64 (RFC 4648 §4, padded, canonical): null when `s` is not.
  function unbase64(s) {
    if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
    let bin;
    try {
      bin = atob(s);
    } catch (e) {
      return null;
    }
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    if (base64(out) !== s) return null; // non-zero padding bits
    return out;
  }
  function base64(bytes) {
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }
  function utf8(bytes, what) {
    try {
      return dec.decode(bytes);
    } catch (e) {
      return fail(`${what} is not valid UTF-8`);
    }
  }

  async function sha256(bytes) {
    return new Uint8Array(await root.crypto.subtle.digest('SHA-256', bytes));
  }
  const node_hash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

  // --- Ed25519: WebCrypto where the browser has it, else @noble/ed25519 ---------------------------------------
  let backend = null; // 'webcrypto' or 'noble'
  let noble_loader = null; // set by the page: () => Promise<noble module>
  async function webcrypto_has_ed25519() {
    try {
      await root.crypto.subtle.importKey('raw', new Uint8Array(32).fill(0x11), { name: 'Ed25519' }, false, ['verify']);
      return true;
    } catch (e) {
      return false;
    }
  }
  async function choose_backend(force_noble) {
    if (backend) return backend;
    if (!force_noble && (await webcrypto_has_ed25519())) backend = 'webcrypto';
    else {
      if (!root.nobleEd25519) {
        if (!noble_loader) fail('this browser has no Ed25519 in WebCrypto and the fallback library could not be loaded');
        await noble_loader();
      }
      if (!root.nobleEd25519) fail('this browser has no Ed25519 in WebCrypto and the fallback library could not be loaded');
      backend = 'noble';
    }
    return backend;
  }
  async function ed25519_verify(public_key, signature, message) {
    if (public_key.length !== 32 || signature.length !== 64) return false;
    if (backend === 'noble') {
      try {
        return await root.nobleEd25519.verifyAsync(signature, message, public_key, { zip215: false });
      } catch (e) {
        return false;
      }
    }
    let key;
    try {
      key = await root.crypto.subtle.importKey('raw', public_key, { name: 'Ed25519' }, false, ['verify']);
    } catch (e) {
      return false; // not a valid point: no signature verifies under it
    }
    return root.crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
  }

  // --- signed notes and checkpoints (C2SP signed-note, tlog-checkpoint, tlog-cosignature) ---------------------
  // Split a note at its last blank line: { text, signatures: [{ name, id (4 bytes), sig (bytes after the id) }] }.
  function parse_note(note) {
    const cut = note.lastIndexOf('\n\n');
    if (cut < 0) fail('the checkpoint is not a signed note (no blank line)');
    const text = note.slice(0, cut + 1);
    const rest = note.slice(cut + 2);
    if (!rest.endsWith('\n')) fail('the checkpoint is not a signed note (its last line has no newline)');
    const signatures = [];
    for (const line of rest.slice(0, -1).split('\n')) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      const bytes = m ? unbase64(m[2]) : null;
      if (!m || !bytes || bytes.length < 5) fail(`the checkpoint has a malformed signature line: ${line}`);
      signatures.push({ name: m[1], id: bytes.subarray(0, 4), sig: bytes.subarray(4) });
    }
    if (signatures.length === 0 || signatures.length > 100) fail('the checkpoint has no signature lines, or too many');
    return { text, signatures };
  }
  function parse_checkpoint(text) {
    const lines = text.slice(0, -1).split('\n');
    if (lines.length < 3) fail('the checkpoint has fewer than three lines');
    const [origin, size_text, root_b64, ...extensions] = lines;
    if (!/^(0|[1-9][0-9]{0,15})$/.test(size_text) || Number(size_text) > Number.MAX_SAFE_INTEGER)
      fail(`the checkpoint size '${size_text}' is not a number`);
    const root_hash = unbase64(root_b64);
    if (!root_hash || root_hash.length !== 32) fail('the checkpoint root is not a base64 SHA-256 hash');
    return { origin, size: Number(size_text), root: root_hash, extensions };
  }
  async function key_id4(name, type, public_key) {
    return (await sha256(concat(enc.encode(name), Uint8Array.of(0x0a, type), public_key))).subarray(0, 4);
  }
  function parse_vkey(vkey) {
    const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey || '');
    const raw = m ? unbase64(m[3]) : null;
    if (!m || !raw || raw.length !== 33) fail(`avow.json holds a malformed log key '${vkey}'`);
    return { name: m[1], id_hex: m[2], type: raw[0], key: raw.subarray(1) };
  }
  // The cosignature/v1 message: "cosignature/v1\ntime <t>\n" || note text.
  function cosignature_message(text, timestamp) {
    return enc.encode(`cosignature/v1\ntime ${timestamp}\n${text}`);
  }
  function read_u64(bytes) {
    let v = 0n;
    for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bytes[i]);
    return v;
  }

  // --- key state (avow.keys/1) ---------------------------------------------------------------------------------
  // In force for entry i: added_at < i (or none) and (no revoked_at, or i <= revoked_at) (FORMAT.md §11.1).
  function in_force(key, i) {
    return (key.added_at === undefined || key.added_at < i) && (key.revoked_at === undefined || i <= key.revoked_at);
  }
  function key_bytes(key) {
    const pk = unbase64(key.public_key);
    if (!pk || pk.length !== 32) fail(`the key state holds a malformed public key for ${String(key.id).slice(0, 16)}`);
    return pk;
  }
  const short = (id) => String(id).slice(0, 16);

  // Verify the checkpoint note against the key state: the log key in force signed it; each witness key's
  // cosignature line verifies. Returns { checkpoint, log_key, witnesses: [names] }.
  async function verify_checkpoint(note_text, key_state, genesis) {
    const note = parse_note(note_text);
    const checkpoint = parse_checkpoint(note.text);
    const keys = (key_state && Array.isArray(key_state.keys)) ? key_state.keys : fail('the key state holds no keys');
    if (genesis) {
      if (checkpoint.origin !== genesis.name) fail(`the checkpoint is of '${checkpoint.origin}', not of '${genesis.name}'`);
      if (keys.length === 0 || keys[0].role !== 'log' || !equal(key_bytes(keys[0]), genesis.key))
        fail('the key state does not start with the log key of avow.json');
    }
    const log_key = keys.find((k) => k.role === 'log' && in_force(k, checkpoint.size));
    if (!log_key) fail(`the key state names no log key in force at size ${checkpoint.size}`);
    const log_pk = key_bytes(log_key);
    const log_id = await key_id4(checkpoint.origin, 0x01, log_pk);
    let signed = false;
    for (const s of note.signatures) {
      if (s.name !== checkpoint.origin || !equal(s.id, log_id)) continue;
      if (!(await ed25519_verify(log_pk, s.sig, enc.encode(note.text))))
        fail(`the checkpoint signature by the log key ${short(log_key.id)} does not verify`);
      signed = true;
    }
    if (!signed) fail(`the checkpoint is not signed by the log key ${short(log_key.id)}`);
    const witnesses = [];
    for (const w of keys) {
      if (w.role !== 'witness' || typeof w.name !== 'string' || w.revoked_at !== undefined) continue;
      const pk = key_bytes(w);
      const id = await key_id4(w.name, 0x04, pk);
      for (const s of note.signatures) {
        if (s.name !== w.name || !equal(s.id, id)) continue;
        if (s.sig.length !== 72) fail(`the cosignature of witness ${w.name} is not 72 bytes`);
        const t = read_u64(s.sig);
        if (!(await ed25519_verify(pk, s.sig.subarray(8), cosignature_message(note.text, t))))
          fail(`the cosignature of witness ${w.name} does not verify`);
        if (!witnesses.includes(w.name)) witnesses.push(w.name);
      }
    }
    return { checkpoint, note, log_key, witnesses };
  }

  // --- tlog-tiles ------------------------------------------------------------------------------------------------
  function index_path(n) {
    let s = String(n % 1000).padStart(3, '0');
    for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
    return s;
  }
  function tile_path(level, index, width) {
    return `tile/${level}/${index_path(index)}${width === k_tile_width ? '' : `.p/${width}`}`;
  }
  function entries_path(index, width) {
    return `tile/entries/${index_path(index)}${width === k_tile_width ? '' : `.p/${width}`}`;
  }
  const pow2 = (k) => 2 ** k;
  // Width of tile `t` of a level that has `n` hashes.
  function width_of(t, n) {
    return (t + 1) * k_tile_width <= n ? k_tile_width : n % k_tile_width;
  }
  // k when n = 2^k, else -1.
  function exact_log2(n) {
    let k = 0;
    let p = 1;
    while (p < n) {
      p *= 2;
      k++;
    }
    return p === n ? k : -1;
  }
  function largest_power_of_two_below(n) {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  // Reads hash tiles for a tree of `size` leaves through `load`, each at most once; remembers the paths read.
  class Tiles {
    constructor(load, size, cache) {
      this.load = load;
      this.size = size;
      this.cache = cache || new Map(); // path -> bytes, may be shared by several proofs
      this.read = []; // the tiles this proof used, in first-use order
    }
    async tile(level, t) {
      const n = Math.floor(this.size / pow2(8 * level));
      const w = width_of(t, n);
      const path = tile_path(level, t, w);
      if (!this.cache.has(path)) {
        const bytes = await this.load(path);
        if (bytes.length !== 32 * w) fail(`the hash tile ${path} has the wrong size (${bytes.length} bytes, not ${32 * w})`);
        this.cache.set(path, bytes);
      }
      if (!this.read.includes(path)) this.read.push(path);
      return { path, bytes: this.cache.get(path) };
    }
    // Hash `i` at tile level `level`.
    async hash(level, i) {
      const t = Math.floor(i / k_tile_width);
      const { bytes } = await this.tile(level, t);
      const at = (i % k_tile_width) * 32;
      return bytes.subarray(at, at + 32);
    }
    // Root of the perfect subtree of 2^h leaves starting at leaf j*2^h (FORMAT.md §8.3).
    async perfect(h, j) {
      const level = Math.floor(h / 8);
      const r = h % 8;
      let layer = [];
      for (let k = 0; k < pow2(r); k++) layer.push(await this.hash(level, j * pow2(r) + k));
      while (layer.length > 1) {
        const next = [];
        for (let k = 0; k < layer.length; k += 2) next.push(await node_hash(layer[k], layer[k + 1]));
        layer = next;
      }
      return layer[0];
    }
    // MTH(D[b:e]) for a node of the RFC 6962 recursion.
    async node(b, e) {
      const n = e - b;
      const h = exact_log2(n);
      if (h >= 0 && b % n === 0) return this.perfect(h, b / n);
      const k = largest_power_of_two_below(n);
      return node_hash(await this.node(b, b + k), await this.node(b + k, e));
    }
    // RFC 9162 §2.1.3.1 PATH(m, D[b:e]), leaf first.
    async path(m, b, e) {
      if (e - b <= 1) return [];
      const k = largest_power_of_two_below(e - b);
      if (m - b < k) return [...(await this.path(m, b, b + k)), await this.node(b + k, e)];
      return [...(await this.path(m, b + k, e)), await this.node(b, b + k)];
    }
  }
  // RFC 9162 §2.1.3.2: the root an inclusion proof of leaf `index` in a tree of `size` leads to; null if malformed.
  async function root_from_inclusion(index, size, leaf, proof) {
    if (index >= size) return null;
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await node_hash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await node_hash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  function split_bundle(bytes, path, width) {
    const entries = [];
    let at = 0;
    while (at < bytes.length) {
      if (at + 2 > bytes.length) fail(`the entry bundle ${path} is truncated`);
      const n = (bytes[at] << 8) | bytes[at + 1];
      if (n === 0 || at + 2 + n > bytes.length) fail(`the entry bundle ${path} is truncated or holds an empty entry`);
      entries.push(bytes.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    if (entries.length !== width) fail(`the entry bundle ${path} holds ${entries.length} entries, not ${width}`);
    return entries;
  }

  // DSSE v1 pre-authentication encoding.
  function pae(type, payload) {
    return concat(enc.encode(`DSSEv1 ${enc.encode(type).length} ${type} ${payload.length} `), payload);
  }

  // Entry `index` of the log of `checkpoint`, taken from its entry bundle and proven included in the checkpoint's root
  // by the inclusion proof rebuilt from the hash tiles: { envelope (parsed), payload (bytes) }.
  async function included_entry(load, checkpoint, index, cache) {
    const bundle_index = Math.floor(index / k_tile_width);
    const width = width_of(bundle_index, checkpoint.size);
    const bundle_path = entries_path(bundle_index, width);
    const entry = split_bundle(await load(bundle_path), bundle_path, width)[index % k_tile_width];
    const leaf = await sha256(concat(Uint8Array.of(0), entry));
    const tiles = new Tiles(load, checkpoint.size, cache);
    const own = await tiles.tile(0, bundle_index);
    const at = (index % k_tile_width) * 32;
    if (!equal(own.bytes.subarray(at, at + 32), leaf))
      fail(`the hash tile ${own.path} does not match entry ${index} of the entry bundle ${bundle_path}`);
    const proof = await tiles.path(index, 0, checkpoint.size);
    const computed = await root_from_inclusion(index, checkpoint.size, leaf, proof);
    if (!computed || !equal(computed, checkpoint.root)) {
      const read = tiles.read;
      fail(read.length === 1 ? `the hash tile ${read[0]} does not match the checkpoint root`
                             : `the hash tiles ${read.join(', ')} do not match the checkpoint root`);
    }
    let envelope;
    try {
      envelope = JSON.parse(utf8(entry, `entry ${index}`));
    } catch (e) {
      if (e instanceof VerifyFailure) throw e;
      fail(`entry ${index} is not a DSSE envelope`);
    }
    if (!envelope || envelope.payloadType !== k_payload_type || !Array.isArray(envelope.signatures) ||
        envelope.signatures.length !== 1)
      fail(`entry ${index} is not an avow DSSE envelope with one signature`);
    const payload = unbase64(envelope.payload);
    if (!payload) fail(`entry ${index} has a malformed payload`);
    return { envelope, payload };
  }

  // Follow the log-key hand-overs from the genesis key (FORMAT.md §11.2): each log key of the key state with an
  // added_at must be added by that entry, a key.add of role log for exactly that key, signed by the log key before it.
  async function check_handovers(load, checkpoint, keys, cache) {
    let previous = keys[0];
    for (const k of keys) {
      if (k.role !== 'log' || k.added_at === undefined) continue;
      const r = k.added_at;
      if (!Number.isInteger(r) || r < 0 || r >= checkpoint.size)
        fail(`the key state names a log-key rotation at entry ${r}, which is not in the log`);
      const { envelope, payload } = await included_entry(load, checkpoint, r, cache);
      let event;
      try {
        event = JSON.parse(utf8(payload, `entry ${r}`));
      } catch (e) {
        if (e instanceof VerifyFailure) throw e;
        fail(`entry ${r} is not a record`);
      }
      if (!event || event.kind !== 'key.add' || !event.key || event.key.role !== 'log' || event.key.id !== k.id ||
          event.key.public_key !== k.public_key)
        fail(`entry ${r} is not the rotation to log key ${short(k.id)} that the key state names`);
      const sig = envelope.signatures[0];
      const signature = unbase64(sig.sig);
      if (sig.keyid !== previous.id || event.archivist !== previous.id || !signature ||
          !(await ed25519_verify(key_bytes(previous), signature, pae(envelope.payloadType, payload))))
        fail(`the rotation to log key ${short(k.id)} (entry ${r}) is not signed by the log key before it, ${short(previous.id)}`);
      previous = k;
    }
  }

  // Check the record `record_id` at log index `index` (docs/FORMAT.md §20). `load(path)` returns the bytes of a
  // site file (checkpoint, avow.json, keys.json, tile/...) or throws; `text` is the statement text shown on the
  // page. Returns { ok: true, message, ... } or { ok: false, message }.
  async function verify_record({ load, record_id, index, text, force_noble }) {
    try {
      await choose_backend(!!force_noble);
      const load_checked = async (path) => {
        try {
          return await load(path);
        } catch (e) {
          return fail(`cannot load ${path}${e && e.message ? `: ${e.message}` : ''}`);
        }
      };
      const config = JSON.parse(utf8(await load_checked('avow.json'), 'avow.json'));
      const genesis = parse_vkey(config.log_key && config.log_key.vkey);
      const note_text = utf8(await load_checked('checkpoint'), 'the checkpoint');
      const keys_bytes = await load_checked('keys.json');
      const key_state = JSON.parse(utf8(keys_bytes, 'keys.json'));
      const early = parse_checkpoint(parse_note(note_text).text);
      const keys_line = early.extensions.find((l) => l.startsWith('avow-keys '));
      if (!keys_line) fail('the checkpoint commits to no key state (an archive older than key states): use avow verify-proof');
      if (keys_line !== `avow-keys ${base64(await sha256(keys_bytes))}`)
        fail('keys.json is not the key state the checkpoint commits to');
      const { checkpoint, log_key, witnesses } = await verify_checkpoint(note_text, key_state, genesis);
      if (!Number.isInteger(index) || index < 0 || index >= checkpoint.size)
        fail(`entry ${index} is not in the checkpoint of size ${checkpoint.size}`);

      const cache = new Map();
      const { envelope, payload } = await included_entry(load_checked, checkpoint, index, cache);
      const id = hex(await sha256(payload));
      if (id !== record_id) fail(`entry ${index} is record ${id}, not record ${record_id}`);
      const record = JSON.parse(utf8(payload, 'the record'));
      const sig = envelope.signatures[0];
      const archivist = key_state.keys.find((k) => k.id === sig.keyid);
      if (!archivist) fail(`the record is signed by key ${short(sig.keyid)}, which the key state does not name`);
      if (archivist.role !== 'archivist') fail(`the record is signed by key ${short(sig.keyid)}, a ${archivist.role} key`);
      if (!in_force(archivist, index))
        fail(archivist.revoked_at !== undefined && index > archivist.revoked_at
               ? `archivist key ${short(sig.keyid)} was revoked by entry ${archivist.revoked_at} before it signed entry ${index}`
               : `archivist key ${short(sig.keyid)} was not yet added when it signed entry ${index}`);
      if (record.archivist !== sig.keyid) fail(`the record names archivist ${short(record.archivist)}, not its signer`);
      const signature = unbase64(sig.sig);
      if (!signature || !(await ed25519_verify(key_bytes(archivist), signature, pae(envelope.payloadType, payload))))
        fail(`the record's signature by archivist key ${short(sig.keyid)} does not verify`);

      // Each log-key rotation the key state names is an entry of this log signed by the log key before it.
      await check_handovers(load_checked, checkpoint, key_state.keys, cache);

      // The text shown is the text archived.
      if (record.kind !== 'statement' || !record.text) fail('the record is not a statement');
      if (typeof text === 'string') {
        const shown = hex(await sha256(enc.encode(text)));
        if (shown !== record.text.sha256)
          fail(`the text shown has SHA-256 ${shown.slice(0, 16)}…, the record says ${String(record.text.sha256).slice(0, 16)}…`);
      }

      const who = archivist.name ? `${short(archivist.id)} (${archivist.name})` : short(archivist.id);
      const cosigned = witnesses.length === 0 ? 'not cosigned by any witness'
        : `cosigned by ${witnesses.length} witness${witnesses.length === 1 ? '' : 'es'} (${witnesses.join(', ')})`;
      return {
        ok: true,
        message: `Verified: this record is entry ${index} of ${checkpoint.origin}'s log, signed by archivist key ${who}, ` +
          `included in the checkpoint of size ${checkpoint.size} signed by the log key ${short(log_key.id)}, ${cosigned}.`,
        index, origin: checkpoint.origin, size: checkpoint.size, witnesses, backend, tiles_read: [...cache.keys()],
      };
    } catch (e) {
      if (e instanceof VerifyFailure) return { ok: false, message: `NOT verified: ${e.message}.`, backend };
      return { ok: false, message: `NOT verified: ${e && e.message ? e.message : String(e)}.`, backend };
    }
  }

  root.AvowVerify = {
    verify_record,
    verify_checkpoint,
    parse_note,
    parse_checkpoint,
    tile_path,
    entries_path,
    index_path,
    set_noble_loader: (f) => {
      noble_loader = f;
    },
    backend: () => backend,
  };
})(globalThis);
