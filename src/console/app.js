// Portcullis admin console: plain modern JavaScript, no library, no build step.
//
// Every value that came from the server is put into the page with textContent or as an
// attribute value through el(), never as markup, so a client named
// <img src=x onerror=alert(1)> shows those characters. The session is an HttpOnly cookie that
// this script cannot read; state changes carry the CSRF token from /console/session.

const state = { session: null };

// ---- DOM helpers -------------------------------------------------------------------------

// el('tag', {attr: value, onclick: fn}, child, ...): children are nodes or text.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

let fieldSeq = 0;
// A labelled input; returns {wrap, input}.
function field(label, attrs = {}, help) {
  const id = attrs.id || `f${++fieldSeq}`;
  const helpId = help ? `${id}-help` : undefined;
  const input = attrs.tag === 'select'
    ? el('select', { id, name: attrs.name, 'aria-describedby': helpId },
      ...(attrs.options || []).map((o) => el('option', { value: o, selected: o === attrs.value }, o)))
    : attrs.tag === 'textarea'
      ? el('textarea', { id, name: attrs.name, 'aria-describedby': helpId }, attrs.value || '')
      : el('input', { type: 'text', ...attrs, tag: undefined, options: undefined, id,
        'aria-describedby': helpId });
  const wrap = el('div', {}, el('label', { for: id }, label), input,
    help ? el('div', { id: helpId, class: 'muted' }, help) : null);
  return { wrap, input };
}

function announce(text, cls = '') {
  const s = document.getElementById('status');
  s.className = `status ${cls}`;
  s.textContent = text;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => { s.textContent = ''; }, 6000);
}

function fmtTime(sec) {
  if (!sec) return '—';
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function render(title, ...children) {
  const main = document.getElementById('main');
  main.replaceChildren(el('h1', {}, title), ...children);
  document.title = `${title} · Portcullis console`;
  main.focus();
}

function table(columns, rows, cls = 'wide') {
  return el('table', { class: cls },
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c)))),
    el('tbody', {}, rows.length ? rows.map((r) => el('tr', {},
      r.map((cell, i) => el('td', { 'data-label': columns[i] }, cell))))
      : el('tr', {}, el('td', { colspan: columns.length, class: 'muted' }, 'Nothing here yet.'))));
}

function errorText(e) {
  if (e && e.body) {
    const b = e.body;
    return b.error_description || b.description || b.message || b.error || `HTTP ${e.status}`;
  }
  return String(e && e.message ? e.message : e);
}

function errorBox() {
  return el('div', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
}

// ---- API -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) { super(`HTTP ${status}`); this.status = status; this.body = body; }
}

async function api(method, path, body) {
  return (await apiResponse(method, path, body)).data;
}

// A light-oauth2 list (a bare JSON array) with the count of every match, which the server
// sends in X-Total-Count (null when it did not).
async function apiList(path) {
  const { data, headers } = await apiResponse('GET', path);
  const total = headers.get('X-Total-Count');
  return { items: Array.isArray(data) ? data : [], total: total === null ? null : Number(total) };
}

async function apiResponse(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = state.session ? state.session.csrf : '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(`api/${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin', cache: 'no-store',
  });
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (resp.status === 401 && data && data.error === 'login_required') { signIn(); throw new ApiError(401, data); }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return { data, headers: resp.headers };
}

function signIn() {
  sessionStorage.setItem('portcullis.return', location.hash || '#/');
  location.assign('login');
}

// ---- Pages -----------------------------------------------------------------------------

const pages = {};

pages[''] = async function dashboard() {
  const [info, metrics, keys, clients, services, users, refreshTokens, instances] = await Promise.all([
    fetch('../server/info', { cache: 'no-store' }).then((r) => (r.ok ? r.json() : {})).catch(() => ({})),
    fetch('../metrics', { cache: 'no-store' }).then((r) => (r.ok ? r.text() : '')).catch(() => ''),
    api('GET', 'keys/admin').catch(() => []),
    api('GET', 'client?page=0&pageSize=1').catch(() => ({ total: '?' })),
    api('GET', 'service?page=0&pageSize=1').catch(() => ({ total: '?' })),
    // Counted by the server (count queries), not by fetching the lists.
    apiList('user?page=1&pageSize=1').catch(() => ({ total: null })),
    apiList('refresh_token?page=1&pageSize=1').catch(() => ({ total: null })),
    api('GET', 'instances').catch(() => null),
  ]);
  // Token endpoint requests by status, from the server's own counters, and the rate since
  // this instance started.
  const tokens = [];
  let issued = 0;
  for (const line of metrics.split('\n')) {
    const m = line.match(/^portcullis_http_requests_total\{([^}]*)\} (\d+)$/);
    if (!m || !/route="\/oauth2\/token"/.test(m[1])) continue;
    const status = (m[1].match(/status="(\d+)"/) || [])[1] || '?';
    tokens.push([`HTTP ${status}`, m[2]]);
    if (status === '200') issued += Number(m[2]);
  }
  const minutes = info.startedAt ? Math.max(1, (Date.now() / 1000 - info.startedAt) / 60) : 0;
  if (minutes) tokens.push(['Tokens issued per minute since start', (issued / minutes).toFixed(2)]);
  const svc = (info.services || []).join ? (info.services || []).join(', ') : JSON.stringify(info.services || '');
  render('Dashboard',
    el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('div', { class: 'num' }, clients.total), 'clients'),
      el('div', { class: 'card' }, el('div', { class: 'num' }, services.total), 'services'),
      el('div', { class: 'card' }, el('div', { class: 'num' }, users.total ?? '?'), 'users'),
      el('div', { class: 'card' }, el('div', { class: 'num' }, refreshTokens.total ?? '?'), 'active refresh tokens'),
      el('div', { class: 'card' }, el('div', { class: 'num' }, keys.length), 'published keys')),
    el('h2', {}, 'This deployment'),
    table(['Setting', 'Value'], [
      ['Services', svc || '—'],
      ['Store', info.store || '—'],
      ['Version', info.version || '—'],
      ['Issuer', state.session.issuer],
      ['Running since', fmtTime(info.startedAt)],
    ], 'narrow'),
    el('h2', {}, 'Instances seen'),
    instances === null ? el('p', { class: 'muted' }, 'This process does not list instances.')
      : table(['Instance', 'Host', 'PID', 'Services', 'Version', 'Started', 'Last seen', 'State'],
        instances.map((i) => [el('code', {}, i.instanceId), i.host, String(i.pid), (i.services || []).join(' '),
          i.version, fmtTime(i.startedAt), fmtTime(i.lastSeen),
          i.stale ? el('strong', { class: 'error' }, 'stale: no heartbeat') : 'running'])),
    el('h2', {}, 'Key ring'),
    keyTable(keys, false),
    el('h2', {}, 'Token endpoint'),
    tokens.length ? table(['Answer', 'Count'], tokens, 'narrow')
      : el('p', { class: 'muted' }, 'No token metrics yet.'));
};

// Services ------------------------------------------------------------------------------

pages.services = async function services(params) {
  const page = Number(params.get('page') || 0);
  const host = params.get('host') || '';
  const data = await api('GET', `service?page=${page}&pageSize=20${host ? `&host=${encodeURIComponent(host)}` : ''}`);
  const list = data.services || [];
  render('Services',
    searchForm('services', 'host', host, 'Host prefix'),
    table(['Service', 'Name', 'Type', 'Host', 'Scope'], list.map((s) => [
      el('a', { href: `#/service?id=${encodeURIComponent(s.serviceId)}` }, s.serviceId),
      s.serviceName, s.serviceType, s.host, s.scope || ''])),
    pager('services', page, 20, data.total, { host }),
    el('h2', {}, 'Create a service'),
    serviceForm(null));
};

function serviceForm(svc) {
  const err = errorBox();
  const id = field('Service id', { name: 'serviceId', value: svc ? svc.serviceId : '', required: true, maxlength: 32, readonly: !!svc });
  const name = field('Name', { name: 'serviceName', value: svc ? svc.serviceName : '', required: true, maxlength: 32 });
  const type = field('Type', { tag: 'select', name: 'serviceType', options: ['openapi', 'swagger', 'graphql', 'hybrid'], value: svc ? svc.serviceType : 'openapi' });
  const host = field('Host', { name: 'host', value: svc ? svc.host : '', required: true, maxlength: 64 });
  const owner = field('Owner id', { name: 'ownerId', value: svc ? svc.ownerId : state.session.userId, required: true, maxlength: 64 });
  const desc = field('Description', { name: 'serviceDesc', value: svc ? svc.serviceDesc || '' : '' });
  const form = el('form', { class: 'panel', 'aria-label': svc ? 'Edit service' : 'Create a service' },
    err, id.wrap, name.wrap, type.wrap, host.wrap, owner.wrap, desc.wrap,
    el('button', { type: 'submit' }, svc ? 'Save service' : 'Create service'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const body = { serviceId: id.input.value.trim(), serviceName: name.input.value.trim(),
      serviceType: type.input.value, host: host.input.value.trim(), ownerId: owner.input.value.trim(),
      serviceDesc: desc.input.value };
    try {
      await api(svc ? 'PUT' : 'POST', 'service', body);
      announce(svc ? 'Service saved.' : 'Service created.', 'ok');
      location.hash = `#/service?id=${encodeURIComponent(body.serviceId)}`;
      if (svc) route();
    } catch (e) { err.textContent = errorText(e); }
  });
  return form;
}

const ENDPOINT_RE = /^\/\S*@(get|post|put|patch|delete|head|options)$/i;
const SCOPE_RE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

// The endpoint table editor: path@method -> scope, checked as you type.
function endpointEditor(serviceId, endpoints) {
  const err = errorBox();
  const tbody = el('tbody');
  const save = el('button', { type: 'submit' }, 'Save endpoints');
  function check() {
    const seen = new Set();
    let ok = true;
    for (const tr of tbody.children) {
      const [ep, op, sc] = tr.querySelectorAll('input');
      const msg = tr.querySelector('.msg');
      let problem = '';
      const v = ep.value.trim();
      if (!ENDPOINT_RE.test(v)) problem = 'Endpoint must look like /path@get (a path, @, an HTTP method).';
      else if (seen.has(v)) problem = 'This endpoint is listed twice.';
      else if (!SCOPE_RE.test(sc.value.trim())) problem = 'Scope must be one or more space-separated scope tokens.';
      seen.add(v);
      ep.classList.toggle('invalid', problem.startsWith('Endpoint') || problem.startsWith('This'));
      sc.classList.toggle('invalid', problem.startsWith('Scope'));
      ep.setAttribute('aria-invalid', problem.startsWith('Endpoint') || problem.startsWith('This') ? 'true' : 'false');
      sc.setAttribute('aria-invalid', problem.startsWith('Scope') ? 'true' : 'false');
      msg.textContent = problem;
      if (problem) ok = false;
      void op;
    }
    save.disabled = !ok;
    return ok;
  }
  let n = 0;
  function addRow(e = { endpoint: '', operation: '', scope: '' }) {
    const i = ++n;
    const msgId = `ep-msg-${i}`;
    const tr = el('tr', {},
      el('td', { 'data-label': 'Endpoint' }, el('input', { type: 'text', 'aria-label': `Endpoint ${i}`, value: e.endpoint, placeholder: '/v1/pets@get', 'aria-describedby': msgId, oninput: check })),
      el('td', { 'data-label': 'Operation' }, el('input', { type: 'text', 'aria-label': `Operation ${i}`, value: e.operation || '', placeholder: 'listPets', oninput: check })),
      el('td', { 'data-label': 'Scope' }, el('input', { type: 'text', 'aria-label': `Scope ${i}`, value: e.scope, placeholder: 'pets.r', 'aria-describedby': msgId, oninput: check })),
      el('td', { 'data-label': 'Check' }, el('span', { id: msgId, class: 'msg error', 'aria-live': 'polite' })),
      el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove endpoint ${i}`,
        onclick: () => { tr.remove(); check(); } }, 'Remove')));
    tbody.append(tr);
    check();
    return tr;
  }
  endpoints.forEach((e) => addRow(e));
  const form = el('form', { 'aria-label': 'Endpoints' }, err,
    el('table', { class: 'wide' }, el('thead', {}, el('tr', {},
      ['Endpoint (path@method)', 'Operation', 'Scope', 'Check', ''].map((c) => el('th', { scope: 'col' }, c)))), tbody),
    el('button', { type: 'button', class: 'secondary', onclick: () => addRow().querySelector('input').focus() }, 'Add endpoint'),
    save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!check()) return;
    err.textContent = '';
    const body = [...tbody.children].map((tr) => {
      const [ep, op, sc] = tr.querySelectorAll('input');
      const o = { endpoint: ep.value.trim(), scope: sc.value.trim() };
      if (op.value.trim()) o.operation = op.value.trim();
      return o;
    });
    try {
      await api('POST', `service/${encodeURIComponent(serviceId)}/endpoint`, body);
      announce('Endpoints saved.', 'ok');
    } catch (e) { err.textContent = errorText(e); }
  });
  if (!endpoints.length) addRow();
  return form;
}

pages.service = async function service(params) {
  const id = params.get('id');
  const [svc, eps] = await Promise.all([
    api('GET', `service/${encodeURIComponent(id)}`),
    // 404 when the service has no endpoints yet.
    api('GET', `service/${encodeURIComponent(id)}/endpoint`).catch((e) => {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    })]);
  const del = el('button', { type: 'button', class: 'danger', onclick: async () => {
    if (!confirm(`Delete the service ${id} and its endpoints?`)) return;
    try { await api('DELETE', `service/${encodeURIComponent(id)}`); announce('Service deleted.', 'ok'); location.hash = '#/services'; } catch (e) { announce(errorText(e), 'error'); }
  } }, 'Delete service');
  render(`Service ${id}`,
    el('p', {}, el('a', { href: '#/services' }, '← All services')),
    el('h2', {}, 'Endpoints'),
    el('p', { class: 'muted' }, 'Each endpoint needs a scope. Clients linked to an endpoint get its scope.'),
    endpointEditor(id, eps || []),
    el('h2', {}, 'Settings'),
    serviceForm(svc), del);
};

// Clients -------------------------------------------------------------------------------

pages.clients = async function clients(params) {
  const page = Number(params.get('page') || 0);
  const host = params.get('host') || '';
  const data = await api('GET', `client?page=${page}&pageSize=20${host ? `&host=${encodeURIComponent(host)}` : ''}`);
  render('Clients',
    searchForm('clients', 'host', host, 'Host prefix'),
    table(['Name', 'Client id', 'Type', 'Scope'], (data.clients || []).map((c) => [
      el('a', { href: `#/client?id=${encodeURIComponent(c.clientId)}` }, c.clientName),
      el('code', {}, c.clientId), c.clientType, (c.scope || '')])),
    pager('clients', page, 20, data.total, { host }),
    el('h2', {}, 'Create a client'),
    clientForm(null));
};

function secretPanel(title, secret) {
  const box = el('div', { class: 'panel', role: 'region', 'aria-label': title },
    el('h2', {}, title),
    el('p', {}, 'This secret is shown once. Copy it now; it cannot be shown again.'),
    el('p', {}, el('span', { class: 'secret', id: 'client-secret' }, secret)),
    el('button', { type: 'button', id: 'copy-secret', onclick: async (ev) => {
      try { await navigator.clipboard.writeText(secret); ev.target.textContent = 'Copied'; announce('Secret copied to the clipboard.', 'ok'); } catch { announce('Copy failed: select the secret and copy it by hand.', 'error'); }
    } }, 'Copy secret'));
  return box;
}

function splitList(s) { return s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean); }

function clientForm(c) {
  const err = errorBox();
  const name = field('Name', { name: 'clientName', value: c ? c.clientName : '', required: true, maxlength: 32 });
  const type = field('Type', { tag: 'select', name: 'clientType', options: ['confidential', 'public', 'trusted', 'external'], value: c ? c.clientType : 'confidential' });
  const profile = field('Profile', { tag: 'select', name: 'clientProfile', options: ['service', 'webserver', 'browser', 'mobile', 'batch'], value: c ? c.clientProfile : 'service' });
  const host = field('Host', { name: 'host', value: c ? c.host : '', required: true, maxlength: 64 });
  const owner = field('Owner id', { name: 'ownerId', value: c ? c.ownerId : state.session.userId, required: true, maxlength: 64 });
  const desc = field('Description', { name: 'clientDesc', value: c ? c.clientDesc || '' : '' });
  const redirect = field('Redirect URIs', { tag: 'textarea', name: 'redirectUris', value: c ? (c.redirectUris || []).join('\n') : '' }, 'One per line; matched exactly.');
  const grants = field('Grant types', { name: 'grantTypes', value: c ? (c.grantTypes || []).join(' ') : 'client_credentials' }, 'Space-separated, e.g. client_credentials authorization_code refresh_token.');
  const profileSel = field('Token profile', { tag: 'select', name: 'tokenProfile', options: ['rfc9068', 'light-4j'], value: c ? c.tokenProfile || 'rfc9068' : 'rfc9068' });
  const ttl = field('Access token lifetime (seconds)', { type: 'number', name: 'accessTokenTtl', min: 1, value: c && c.accessTokenTtl ? c.accessTokenTtl : '' }, 'Empty: the server default.');
  const form = el('form', { class: 'panel', 'aria-label': c ? 'Edit client' : 'Create a client' },
    err, name.wrap, type.wrap, profile.wrap, host.wrap, owner.wrap, desc.wrap, redirect.wrap,
    grants.wrap, profileSel.wrap, ttl.wrap,
    el('button', { type: 'submit' }, c ? 'Save client' : 'Create client'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const body = { clientName: name.input.value.trim(), clientType: type.input.value,
      clientProfile: profile.input.value, host: host.input.value.trim(), ownerId: owner.input.value.trim(),
      clientDesc: desc.input.value, redirectUris: splitList(redirect.input.value),
      grantTypes: splitList(grants.input.value), tokenProfile: profileSel.input.value };
    if (ttl.input.value) body.accessTokenTtl = Number(ttl.input.value);
    if (c) { body.clientId = c.clientId; }
    try {
      const out = await api(c ? 'PUT' : 'POST', 'client', body);
      if (c) { announce('Client saved.', 'ok'); route(); return; }
      const id = out.clientId;
      render(`Client ${out.clientName} created`,
        out.clientSecret ? secretPanel('Client secret', out.clientSecret) : el('p', {}, 'This public client has no secret.'),
        el('p', {}, 'Client id: ', el('code', { id: 'new-client-id' }, id)),
        el('p', {}, el('a', { class: 'button', href: `#/client?id=${encodeURIComponent(id)}` }, 'Continue to the client')));
    } catch (e) { err.textContent = errorText(e); }
  });
  return form;
}

// Link endpoints of one service, with a preview of the scope the client will have.
async function linkPanel(client) {
  const err = errorBox();
  const services = (await api('GET', 'service?page=0&pageSize=1000')).services || [];
  const linked = await api('GET', `client/${encodeURIComponent(client.clientId)}/service`).catch(() => ({}));
  const svcSel = field('Service', { tag: 'select', name: 'service', options: ['', ...services.map((s) => s.serviceId)] });
  const list = el('fieldset', {}, el('legend', {}, 'Endpoints'));
  const preview = el('output', { id: 'scope-preview', 'aria-live': 'polite' });
  const endpointScopes = {};  // serviceId -> {endpoint: scope}
  async function scopesOf(sid) {
    if (!endpointScopes[sid]) {
      const eps = await api('GET', `service/${encodeURIComponent(sid)}/endpoint`).catch(() => []);
      endpointScopes[sid] = Object.fromEntries(eps.map((e) => [e.endpoint, e.scope]));
    }
    return endpointScopes[sid];
  }
  async function updatePreview() {
    const sid = svcSel.input.value;
    const scopes = new Set();
    for (const [other, eps] of Object.entries(linked || {})) {
      if (other === sid) continue;
      const map = await scopesOf(other).catch(() => ({}));
      for (const e of eps) (map[e] || '').split(' ').filter(Boolean).forEach((s) => scopes.add(s));
    }
    if (sid) {
      const map = await scopesOf(sid);
      for (const cb of list.querySelectorAll('input:checked')) (map[cb.value] || '').split(' ').filter(Boolean).forEach((s) => scopes.add(s));
    }
    preview.textContent = [...scopes].sort().join(' ') || '(no scope)';
  }
  svcSel.input.addEventListener('change', async () => {
    list.replaceChildren(el('legend', {}, 'Endpoints'));
    const sid = svcSel.input.value;
    if (!sid) { updatePreview(); return; }
    const map = await scopesOf(sid);
    const current = new Set((linked || {})[sid] || []);
    for (const [ep, scope] of Object.entries(map)) {
      list.append(el('label', { class: 'check' },
        el('input', { type: 'checkbox', value: ep, checked: current.has(ep), onchange: updatePreview }),
        el('code', {}, ep), ' → ', el('span', { class: 'muted' }, scope)));
    }
    updatePreview();
  });
  const form = el('form', { class: 'panel', 'aria-label': 'Link endpoints' }, err,
    el('p', { class: 'muted' }, 'Linking replaces the client\'s scope: it becomes the union of the scopes of all its linked endpoints.'),
    svcSel.wrap, list,
    el('p', {}, el('strong', {}, 'Scope after linking: '), preview),
    el('button', { type: 'submit' }, 'Link endpoints'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const sid = svcSel.input.value;
    if (!sid) { err.textContent = 'Choose a service.'; return; }
    const eps = [...list.querySelectorAll('input:checked')].map((cb) => cb.value);
    try {
      const out = await api('POST', `client/${encodeURIComponent(client.clientId)}/service/${encodeURIComponent(sid)}`, eps);
      announce(`Linked. Scope: ${(out && out.new_scope) || preview.textContent}`, 'ok');
      route();
    } catch (e) { err.textContent = errorText(e); }
  });
  updatePreview();
  return form;
}

// Token-exchange delegation policies (RFC 8693): which audiences this client may exchange
// tokens toward, with which scopes and chain depth. Edited as rows, saved as one list.
async function delegationPanel(client) {
  const err = errorBox();
  const url = `client/${encodeURIComponent(client.clientId)}/delegation`;
  const policies = await api('GET', url).catch(() => []);
  const tbody = el('tbody');
  let n = 0;
  function addRow(p = { audience: '', scope: '', maxDepth: 1 }) {
    const i = ++n;
    tbody.append(el('tr', {},
      el('td', { 'data-label': 'Audience' }, el('input', { type: 'text', 'aria-label': `Audience ${i}`, value: p.audience || '' })),
      el('td', { 'data-label': 'Scope' }, el('input', { type: 'text', 'aria-label': `Delegated scope ${i}`, value: p.scope || '' })),
      el('td', { 'data-label': 'Max depth' }, el('input', { type: 'number', min: 1, 'aria-label': `Max depth ${i}`, value: p.maxDepth ?? 1 })),
      el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove policy ${i}`,
        onclick: (ev) => ev.target.closest('tr').remove() }, 'Remove'))));
  }
  (Array.isArray(policies) ? policies : []).forEach((p) => addRow(p));
  const form = el('form', { class: 'panel', 'aria-label': 'Delegation policies' }, err,
    el('p', { class: 'muted' }, 'Token exchange: the audiences (registered services) this client may exchange tokens toward.'),
    el('table', { class: 'wide' }, el('thead', {}, el('tr', {},
      ['Audience', 'Scope', 'Max depth', ''].map((c) => el('th', { scope: 'col' }, c)))), tbody),
    el('button', { type: 'button', class: 'secondary', onclick: () => addRow() }, 'Add policy'),
    el('button', { type: 'submit' }, 'Save policies'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const body = [...tbody.children].map((tr) => {
      const [aud, scope, depth] = tr.querySelectorAll('input');
      return { audience: aud.value.trim(), scope: scope.value.trim(), maxDepth: Number(depth.value) };
    });
    try { await api('PUT', url, body); announce('Delegation policies saved.', 'ok'); } catch (e) { err.textContent = errorText(e); }
  });
  return form;
}

pages.client = async function client(params) {
  const id = params.get('id');
  const c = await api('GET', `client/${encodeURIComponent(id)}`);
  const actions = el('div', { class: 'panel' },
    el('h2', {}, 'Secret'),
    el('button', { type: 'button', id: 'rotate-secret', disabled: c.clientType === 'public', onclick: async () => {
      if (!confirm(`Rotate the secret of ${c.clientName}? The current one stops working at once.`)) return;
      try {
        const out = await api('POST', `client/${encodeURIComponent(id)}/secret`);
        actions.append(secretPanel('New client secret', out.clientSecret));
      } catch (e) { announce(errorText(e), 'error'); }
    } }, 'Rotate secret'),
    el('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm(`Delete the client ${c.clientName} (${id})? Its tokens stop working.`)) return;
      try { await api('DELETE', `client/${encodeURIComponent(id)}`); announce('Client deleted.', 'ok'); location.hash = '#/clients'; } catch (e) { announce(errorText(e), 'error'); }
    } }, 'Delete client'));
  render(`Client ${c.clientName}`,
    el('p', {}, el('a', { href: '#/clients' }, '← All clients')),
    table(['Field', 'Value'], [['Client id', el('code', {}, c.clientId)], ['Type', c.clientType],
      ['Scope', el('span', { id: 'client-scope' }, c.scope || '')], ['Grant types', (c.grantTypes || []).join(' ')],
      ['Redirect URIs', (c.redirectUris || []).join(' ')], ['Updated', fmtTime(c.updatedAt)]], 'narrow'),
    actions,
    el('h2', {}, 'Link endpoints'),
    await linkPanel(c),
    el('h2', {}, 'Delegation policies'),
    await delegationPanel(c),
    el('h2', {}, 'Settings'),
    clientForm(c));
};

// Users ---------------------------------------------------------------------------------

pages.users = async function users(params) {
  const page = Number(params.get('page') || 1);
  const prefix = params.get('userId') || '';
  const { items: list, total } = await apiList(`user?page=${page}&pageSize=20${prefix ? `&userId=${encodeURIComponent(prefix)}` : ''}`);
  const rows = list.map((u) => [el('a', { href: `#/user?id=${encodeURIComponent(u.userId)}` }, el('code', {}, u.userId)), u.userType, u.email, u.roles || '',
    u.locked ? 'locked' : (u.passwordChangeRequired ? 'must change password' : 'active'),
    el('span', {},
      el('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { await api('PUT', 'user', { userId: u.userId, locked: !u.locked }); announce(u.locked ? 'Unlocked.' : 'Locked: the user\'s tokens and sessions ended.', 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
      } }, u.locked ? 'Unlock' : 'Lock'),
      el('button', { type: 'button', class: 'secondary', onclick: async () => {
        const roles = prompt(`Roles of ${u.userId} (space-separated)`, u.roles || '');
        if (roles === null) return;
        try { await api('PUT', 'user', { userId: u.userId, roles }); announce('Roles saved.', 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
      } }, 'Roles'),
      el('a', { class: 'button secondary', href: `#/tokens?userId=${encodeURIComponent(u.userId)}` }, 'Tokens'),
      el('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(`Delete the user ${u.userId} and everything they hold?`)) return;
        try { await api('DELETE', `user/${encodeURIComponent(u.userId)}`); announce('User deleted.', 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
      } }, 'Delete'))]);
  const err = errorBox();
  const id = field('User id', { required: true, maxlength: 64 });
  const email = field('E-mail', { type: 'email', required: true });
  const type = field('Type', { tag: 'select', options: ['employee', 'customer', 'partner', 'admin'] });
  const roles = field('Roles', {}, 'Space-separated; "admin" opens this console.');
  const pw = field('Password', { type: 'password', autocomplete: 'new-password', minlength: 8, required: true });
  const mustChange = el('input', { type: 'checkbox', id: 'must-change', checked: true });
  const form = el('form', { class: 'panel', 'aria-label': 'Create a user' }, err, id.wrap, email.wrap, type.wrap, roles.wrap, pw.wrap,
    el('label', { class: 'check', for: 'must-change' }, mustChange, 'Must choose a new password at the first sign-in'),
    el('button', { type: 'submit' }, 'Create user'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api('POST', 'user', { userId: id.input.value.trim(), email: email.input.value.trim(), userType: type.input.value,
        roles: roles.input.value.trim() || undefined, password: pw.input.value, passwordConfirm: pw.input.value,
        passwordChangeRequired: mustChange.checked });
      announce('User created.', 'ok');
      route();
    } catch (e) { err.textContent = errorText(e); }
  });
  render('Users', searchForm('users', 'userId', prefix, 'User id prefix'),
    table(['User', 'Type', 'E-mail', 'Roles', 'State', 'Actions'], rows),
    pager('users', page, 20, total ?? list.length, { userId: prefix }, 1),
    el('p', { class: 'muted' }, 'Open a user for their sessions, consents and a password reset.'),
    el('h2', {}, 'Create a user'), form);
};

// One user: profile, SSO sessions and consents with revoke, and an administrator's password
// reset (the user must choose a new password at the next sign-in).
pages.user = async function user(params) {
  const id = params.get('id');
  const base = `user/${encodeURIComponent(id)}`;
  const [u, sessions, consents] = await Promise.all([
    api('GET', base), api('GET', `${base}/sessions`), api('GET', `${base}/consents`)]);
  const act = async (question, method, path, done) => {
    if (!confirm(question)) return;
    try { await api(method, path); announce(done, 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
  };
  const sessionRows = sessions.map((s) => [s.sid ? el('code', {}, s.sid) : el('span', { class: 'muted' }, '(no id)'),
    fmtTime(s.createdAt), fmtTime(s.expiresAt), s.amr || '', s.remember ? 'yes' : 'no',
    s.sid ? el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke session ${s.sid}`,
      onclick: () => act(`End the session ${s.sid} of ${id}? Applications that registered for back-channel logout are told.`,
        'DELETE', `${base}/sessions/${encodeURIComponent(s.sid)}`, 'Session ended.') }, 'Revoke') : '—']);
  const consentRows = consents.map((c) => [el('code', {}, c.clientId), c.scope, fmtTime(c.createdAt),
    el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke consent for ${c.clientId}`,
      onclick: () => act(`Revoke the consent of ${id} for ${c.clientId}? Their refresh tokens at that client end too.`,
        'DELETE', `${base}/consents/${encodeURIComponent(c.clientId)}`, 'Consent revoked.') }, 'Revoke')]);
  const err = errorBox();
  const pw = field('New password', { type: 'password', autocomplete: 'new-password', minlength: 8, required: true, id: 'reset-password' });
  const pw2 = field('New password again', { type: 'password', autocomplete: 'new-password', minlength: 8, required: true, id: 'reset-password-confirm' });
  const reset = el('form', { class: 'panel', 'aria-label': 'Reset the password' }, err, pw.wrap, pw2.wrap,
    el('p', { class: 'muted' }, 'The user must choose a new password at the next sign-in; their sessions and refresh tokens end now.'),
    el('button', { type: 'submit', id: 'reset-submit' }, 'Reset password'));
  reset.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    if (pw.input.value !== pw2.input.value) { err.textContent = 'The two passwords differ.'; return; }
    if (!confirm(`Reset the password of ${id}?`)) return;
    try {
      await api('POST', `${base}/password`, { password: pw.input.value, passwordConfirm: pw2.input.value });
      announce('Password reset: the user must change it at the next sign-in.', 'ok');
      route();
    } catch (e) { err.textContent = errorText(e); }
  });
  render(`User ${id}`,
    el('p', {}, el('a', { href: '#/users' }, '← All users')),
    table(['Field', 'Value'], [['User id', el('code', {}, u.userId)], ['Type', u.userType], ['E-mail', u.email],
      ['Roles', u.roles || ''], ['State', u.locked ? 'locked' : (u.passwordChangeRequired ? 'must change password' : 'active')]], 'narrow'),
    el('p', {}, el('a', { class: 'button secondary', href: `#/tokens?userId=${encodeURIComponent(id)}` }, 'Refresh tokens')),
    el('h2', {}, 'Sessions'),
    table(['Session', 'Signed in', 'Expires', 'Method', 'Remembered', 'Action'], sessionRows),
    sessions.length ? el('button', { type: 'button', class: 'danger', id: 'revoke-all-sessions',
      onclick: () => act(`End every session of ${id}?`, 'DELETE', `${base}/sessions`, 'Every session ended.') }, 'Revoke all sessions') : null,
    el('h2', {}, 'Consents'),
    table(['Client', 'Scope', 'Given', 'Action'], consentRows),
    el('h2', {}, 'Reset the password'), reset);
};

// Refresh tokens ------------------------------------------------------------------------

pages.tokens = async function tokens(params) {
  const page = Number(params.get('page') || 1);
  const prefix = params.get('userId') || '';
  const clientId = params.get('clientId') || '';
  // Both filters and the paging run in the server; X-Total-Count says how many match.
  const q = new URLSearchParams({ page: String(page), pageSize: '20' });
  if (prefix) q.set('userId', prefix);
  if (clientId) q.set('clientId', clientId);
  const { items: list, total } = await apiList(`refresh_token?${q}`);
  const user = field('User id prefix', { type: 'search', value: prefix, name: 'userId' });
  const client = field('Client id', { type: 'search', value: clientId, name: 'clientId' });
  const form = el('form', { role: 'search', class: 'row', 'aria-label': 'Search refresh tokens' }, user.wrap, client.wrap,
    el('div', {}, el('button', { type: 'submit', class: 'secondary' }, 'Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (user.input.value) p.set('userId', user.input.value);
    if (client.input.value) p.set('clientId', client.input.value);
    location.hash = `#/tokens?${p}`;
  });
  render('Refresh tokens', form,
    table(['User', 'Client', 'Scope', 'State', 'Issued', 'Expires', 'Action'], list.map((t) => [
      t.userId || '', t.clientId || '', t.scope || '', t.state || '', fmtTime(t.createdAt), fmtTime(t.expiresAt),
      el('button', { type: 'button', class: 'danger', 'aria-label': `Revoke the token family of ${t.userId || t.clientId}`, onclick: async () => {
        if (!confirm('Revoke this refresh token and its whole family?')) return;
        try { await api('DELETE', `refresh_token/${encodeURIComponent(t.refreshToken)}`); announce('Revoked.', 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
      } }, 'Revoke family')])),
    el('p', { class: 'muted' }, `${total ?? list.length} active tokens`),
    pager('tokens', page, 20, total ?? list.length, { userId: prefix, clientId }, 1));
};

// Keys ----------------------------------------------------------------------------------

function keyTable(keys, withActions) {
  return table(['Key id', 'State', 'Algorithm', 'Published', 'Active from', 'Retired', 'Expires', ...(withActions ? ['Action'] : [])],
    keys.map((k) => [el('code', {}, k.kid), k.state, k.alg, fmtTime(k.publishAt), fmtTime(k.activateAt),
      fmtTime(k.retiredAt), fmtTime(k.expiresAt),
      ...(withActions ? [k.state === 'revoked' ? '—' : el('button', { type: 'button', class: 'danger', onclick: () => revokeDialog(k.kid) }, 'Emergency revoke')] : [])]));
}

function revokeDialog(kid) {
  const input = el('input', { type: 'text', id: 'revoke-confirm', autocomplete: 'off' });
  const go = el('button', { type: 'submit', class: 'danger', disabled: true }, 'Revoke key');
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const err = errorBox();
  const form = el('form', { method: 'dialog' },
    el('h2', {}, `Revoke key ${kid}?`),
    el('p', {}, 'Every token signed with this key stops verifying at once, everywhere. Type the key id to confirm.'),
    el('label', { for: 'revoke-confirm' }, `Type ${kid}`), input, err, go, cancel);
  const dlg = el('dialog', { 'aria-label': `Revoke key ${kid}` }, form);
  input.addEventListener('input', () => { go.disabled = input.value !== kid; });
  cancel.addEventListener('click', () => dlg.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (input.value !== kid) return;
    try { await api('POST', `keys/${encodeURIComponent(kid)}/revoke`); dlg.close(); announce(`Key ${kid} revoked.`, 'ok'); route(); } catch (e) { err.textContent = errorText(e); }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  input.focus();
}

pages.keys = async function keys() {
  const list = await api('GET', 'keys/admin');
  render('Signing keys',
    el('p', { class: 'muted' }, 'The ring: next (published, not yet signing), current (signing), previous (retired, still verifying).'),
    keyTable(list, true),
    el('button', { type: 'button', id: 'rotate-key', onclick: async () => {
      if (!confirm('Rotate the signing key now?')) return;
      // The new key is published now and signs once verifiers' caches can have it (next).
      try { const out = await api('POST', 'keys/rotate'); announce(`New key ${out.kid} published; it signs from its "Active from" time.`, 'ok'); route(); } catch (e) { announce(errorText(e), 'error'); }
    } }, 'Rotate now'));
};

// Providers -----------------------------------------------------------------------------

pages.providers = async function providers() {
  const list = await api('GET', 'provider');
  // light-oauth2's shape: an object keyed by provider id.
  const items = Array.isArray(list) ? list : Object.values(list || {});
  const err = errorBox();
  const id = field('Provider id (two digits)', { required: true, maxlength: 2, pattern: '[0-9]{2}' });
  const server = field('Server URL', { type: 'url', required: true });
  const uri = field('Key path', { value: '/oauth2/key' });
  const name = field('Name', { required: true });
  const form = el('form', { class: 'panel', 'aria-label': 'Add a provider' }, err, id.wrap, server.wrap, uri.wrap, name.wrap,
    el('button', { type: 'submit' }, 'Add provider'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api('POST', 'provider', { providerId: id.input.value, serverUrl: server.input.value, uri: uri.input.value, providerName: name.input.value });
      announce('Provider added.', 'ok'); route();
    } catch (e) { err.textContent = errorText(e); }
  });
  render('Providers',
    el('p', { class: 'muted' }, 'Other Portcullis or light-oauth2 clusters whose keys this one fetches (federation).'),
    table(['Id', 'Name', 'Server', 'Key path', 'Action'], items.map((p) => [p.providerId, p.providerName, p.serverUrl, p.uri,
      el('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(`Delete the provider ${p.providerId}?`)) return;
        try { await api('DELETE', `provider/${encodeURIComponent(p.providerId)}`); route(); } catch (e) { announce(errorText(e), 'error'); }
      } }, 'Delete')])),
    el('h2', {}, 'Add a provider'), form);
};

// Audit ---------------------------------------------------------------------------------

pages.audit = async function audit(params) {
  const page = Number(params.get('page') || 0);
  const f = {};
  for (const k of ['actor', 'entityKind', 'entityId', 'action', 'since', 'until']) f[k] = params.get(k) || '';
  const q = new URLSearchParams({ page: String(page), pageSize: '25' });
  const toSec = (v) => (v ? String(Math.floor(new Date(v).getTime() / 1000)) : '');
  for (const k of ['actor', 'entityKind', 'entityId', 'action']) if (f[k]) q.set(k, f[k]);
  if (f.since) q.set('since', toSec(f.since));
  if (f.until) q.set('until', toSec(f.until));
  const data = await api('GET', `audit?${q}`);
  const inputs = {
    actor: field('Actor', { value: f.actor, name: 'actor' }),
    entityKind: field('Entity', { tag: 'select', name: 'entityKind', options: ['', 'client', 'service', 'user', 'provider', 'refresh_token', 'key'], value: f.entityKind }),
    entityId: field('Entity id', { value: f.entityId, name: 'entityId' }),
    action: field('Action', { value: f.action, name: 'action' }, 'e.g. client.create'),
    since: field('From', { type: 'datetime-local', value: f.since, name: 'since' }),
    until: field('To', { type: 'datetime-local', value: f.until, name: 'until' }),
  };
  const form = el('form', { class: 'panel row', role: 'search', 'aria-label': 'Filter the audit log' },
    ...Object.values(inputs).map((i) => i.wrap), el('div', {}, el('button', { type: 'submit' }, 'Filter')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [k, i] of Object.entries(inputs)) if (i.input.value) p.set(k, i.input.value);
    location.hash = `#/audit?${p}`;
  });
  const rows = (data.entries || []).map((e) => [fmtTime(e.at), e.actor, el('code', {}, e.action), e.entityKind, e.entityId,
    el('details', {}, el('summary', {}, 'Change'), el('pre', {}, JSON.stringify({ before: e.before, after: e.after }, null, 2)))]);
  render('Audit log', form,
    el('p', { class: 'muted' }, `${data.total} entries`),
    table(['When', 'Actor', 'Action', 'Entity', 'Id', 'Details'], rows),
    pager('audit', page, 25, data.total, Object.fromEntries(Object.entries(f).filter(([, v]) => v))));
};

// ---- Paging and search -------------------------------------------------------------------

function searchForm(pageName, key, value, label) {
  const f = field(label, { type: 'search', value, name: key });
  const form = el('form', { role: 'search', class: 'row', 'aria-label': `Search ${pageName}` }, f.wrap,
    el('div', {}, el('button', { type: 'submit', class: 'secondary' }, 'Search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (f.input.value) p.set(key, f.input.value);
    location.hash = `#/${pageName}?${p}`;
  });
  return form;
}

function pager(pageName, page, size, total, extra, base = 0) {
  const link = (p) => {
    const q = new URLSearchParams({ ...extra, page: String(p) });
    for (const [k, v] of [...q]) if (!v) q.delete(k);
    return `#/${pageName}?${q}`;
  };
  const last = Math.max(base, Math.ceil((Number(total) || 0) / size) - 1 + base);
  return el('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > base ? el('a', { href: link(page - 1) }, '← Previous') : null,
    el('span', { class: 'muted' }, `Page ${page - base + 1}`),
    page < last ? el('a', { href: link(page + 1) }, 'Next →') : null);
}

// ---- Router ------------------------------------------------------------------------------

async function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [name, query] = hash.split('?');
  const page = pages[name] || pages[''];
  for (const a of document.querySelectorAll('nav a')) {
    const target = a.getAttribute('href').replace(/^#\/?/, '');
    const active = target === name || (target === 'services' && name === 'service') || (target === 'clients' && name === 'client') || (target === 'users' && name === 'user');
    if (active) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.getElementById('nav').classList.remove('open');
  try {
    await page(new URLSearchParams(query || ''));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    render('Something went wrong', el('p', { class: 'error', role: 'alert' }, errorText(e)));
  }
}

async function start() {
  const resp = await fetch('session', { cache: 'no-store', credentials: 'same-origin' });
  if (resp.status === 401) { signIn(); return; }
  state.session = await resp.json();
  document.getElementById('who').textContent = `Signed in as ${state.session.userId}`;
  const out = document.getElementById('signout');
  out.hidden = false;
  out.addEventListener('click', async () => {
    await fetch('logout', { method: 'POST', headers: { 'X-CSRF-Token': state.session.csrf }, credentials: 'same-origin' });
    location.assign('../oauth2/logout');
  });
  const toggle = document.getElementById('menu-toggle');
  toggle.addEventListener('click', () => {
    const nav = document.getElementById('nav');
    nav.classList.toggle('open');
    toggle.setAttribute('aria-expanded', nav.classList.contains('open') ? 'true' : 'false');
  });
  const back = sessionStorage.getItem('portcullis.return');
  if (back) { sessionStorage.removeItem('portcullis.return'); if (back !== location.hash) { location.hash = back; } }
  window.addEventListener('hashchange', route);
  route();
}

start();
