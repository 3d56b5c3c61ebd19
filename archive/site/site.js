// avow static site: page behaviour (docs/FORMAT.md §20). The Verify button and the search box. Classic script, no
// build step. Log files are read with fetch() over http(s); pages opened from file:// (where browsers forbid fetch)
// load the same bytes from data/<path>.js, a script that calls avowData(path, base64).
(function () {
  'use strict';
  const base = document.body.dataset.base || '';
  const from_file = location.protocol === 'file:';

  function unbase64(s) {
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  const pending = new Map();
  window.avowData = function (path, b64) {
    const waiter = pending.get(path);
    if (waiter) waiter(b64);
  };
  function load_script(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => {
        s.remove();
        resolve();
      };
      s.onerror = () => {
        s.remove();
        reject(new Error('not found'));
      };
      document.head.appendChild(s);
    });
  }
  async function load_data_script(path) {
    let content = null;
    pending.set(path, (b64) => {
      content = b64;
    });
    try {
      await load_script(`${base}data/${path}.js`);
    } finally {
      pending.delete(path);
    }
    if (content === null) throw new Error(`data/${path}.js does not hold ${path}`);
    return unbase64(content);
  }
  async function fetch_bytes(path) {
    const r = await fetch(base + path, { cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
  }
  const load = from_file ? load_data_script : fetch_bytes;

  function set_up_verify() {
    const button = document.getElementById('verify');
    const record = document.getElementById('record');
    const result = document.getElementById('verify-result');
    if (!button || !record || !result || !window.AvowVerify) return;
    window.AvowVerify.set_noble_loader(() => load_script(`${base}assets/noble-ed25519.js`));
    button.addEventListener('click', async () => {
      button.disabled = true;
      result.className = 'result';
      result.textContent = 'Verifying\u2026';
      const r = await window.AvowVerify.verify_record({
        load,
        record_id: record.dataset.id,
        index: Number(record.dataset.index),
        text: document.getElementById('text').textContent,
        force_noble: window.AVOW_FORCE_NOBLE === true,
      });
      result.className = r.ok ? 'result ok' : 'result bad';
      result.textContent = r.message;
      button.disabled = false;
    });
  }

  function set_up_search() {
    const input = document.getElementById('search');
    const form = document.getElementById('search-form');
    const status = document.getElementById('search-status');
    const list = document.getElementById('search-results');
    if (!input || !status || !list) return;
    if (form) form.addEventListener('submit', (e) => e.preventDefault());
    // The index (search-index.js, one entry per record) is loaded on first use, not with the page.
    let haystacks = null;
    let loading = null;
    const ensure_index = () => {
      if (!loading) {
        status.textContent = 'Loading the search index\u2026';
        loading = load_script(`${base}search-index.js`).catch(() => {
          status.textContent = 'The search index could not be loaded.';
        });
      }
      return loading;
    };
    const run = async () => {
      await ensure_index();
      const index = window.AVOW_SEARCH;
      if (!index) return;
      if (!haystacks) haystacks = index.map((r) => [r[1], r[2], r[3], r[4]].join(' ').toLocaleLowerCase());
      const words = input.value.toLocaleLowerCase().split(/\s+/).filter((w) => w.length > 0);
      list.replaceChildren();
      if (words.length === 0) {
        status.textContent = '';
        return;
      }
      const hits = [];
      for (let i = 0; i < index.length; i++) if (words.every((w) => haystacks[i].includes(w))) hits.push(index[i]);
      hits.reverse(); // newest first
      status.textContent = hits.length === 0 ? 'No record matches.'
        : `${hits.length} record${hits.length === 1 ? '' : 's'} match${hits.length === 1 ? 'es' : ''}` +
          (hits.length > 100 ? '; the first 100 are listed.' : '.');
      for (const r of hits.slice(0, 100)) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = `${base}r/${r[0]}.html`;
        a.dir = 'auto';
        a.textContent = r[1] || 'Untitled statement';
        li.appendChild(a);
        if (r[2]) {
          const span = document.createElement('span');
          span.className = 'meta';
          span.textContent = ` ${r[2]}`;
          li.appendChild(span);
        }
        list.appendChild(li);
      }
    };
    input.addEventListener('focus', ensure_index);
    input.addEventListener('input', run);
    if (input.value) run();
  }

  set_up_verify();
  set_up_search();
})();
