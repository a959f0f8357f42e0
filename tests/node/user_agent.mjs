// A scripted user at a browser, over plain HTTP: a cookie jar, redirects followed by hand, and
// the HTML forms of the provider's pages (sign-in, consent, device code, logout confirmation)
// filled and posted the way a browser would post them. Used by tests/node/providers.mjs for
// both Portcullis and the peer, so it knows only what any HTML form says (inputs, buttons,
// their `form` attribute), not either provider's page layout.
//
// One instance is one browser profile for one provider (cookies are kept per name and path and
// not per port, as browsers do; every provider here is on 127.0.0.1). Not thread-safe.

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decode(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

function attributes(tag) {
  const out = {};
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

// The forms of a page: [{ id, action, method, inputs: [{name, type, value, checked}],
// buttons: [{name, value}] }]. Buttons outside a form join it through their `form` attribute.
export function parseForms(html) {
  const forms = [];
  const byId = new Map();
  let current = null;
  const pendingButtons = [];
  const pendingInputs = [];
  const tags = /<(\/?)(form|input|button)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
  for (const m of html.matchAll(tags)) {
    const closing = m[1] === '/';
    const name = m[2].toLowerCase();
    if (name === 'form') {
      if (closing) { current = null; continue; }
      const a = attributes(m[3]);
      current = { id: a.id, action: a.action ?? '', method: (a.method ?? 'get').toLowerCase(),
        inputs: [], buttons: [] };
      forms.push(current);
      if (a.id) byId.set(a.id, current);
      continue;
    }
    if (closing) continue;
    const a = attributes(m[3]);
    if (name === 'input') {
      const input = { name: a.name, type: (a.type ?? 'text').toLowerCase(), value: a.value ?? '',
        checked: 'checked' in a };
      if (input.type === 'submit') {
        (a.form ? pendingButtons : current?.buttons ?? pendingButtons)
          .push({ name: a.name, value: a.value ?? '', form: a.form ?? null, owner: current });
      } else if (a.name && a.form) {
        pendingInputs.push({ ...input, form: a.form });
      } else if (a.name && current) {
        current.inputs.push(input);
      }
    } else if ((a.type ?? 'submit').toLowerCase() === 'submit') {
      pendingButtons.push({ name: a.name, value: a.value ?? '', form: a.form ?? null, owner: current });
    }
  }
  for (const { form: id, ...input } of pendingInputs) byId.get(id)?.inputs.push(input);
  for (const b of pendingButtons) {
    const form = b.form ? byId.get(b.form) : b.owner;
    if (form) form.buttons.push({ name: b.name, value: b.value });
  }
  return forms;
}

// Words on a submit button that mean "go on" and "stop".
const YES = /^(allow|yes|approve|accept|confirm|continue|sign ?in|sign ?out|log ?out|logout)$/i;
const NO = /^(deny|no|abort|cancel|reject)$/i;

export class UserAgent {
  constructor({ user, password } = {}) {
    this.user = user;
    this.password = password;
    this.cookies = new Map();  // "name\0path" -> { name, value, path }
    this.trace = [];           // "METHOD url -> status" lines, for assertion messages
  }

  #remember(url, response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') path = v.trim() || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const key = `${name}\0${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  #cookieHeader(url) {
    const matching = [...this.cookies.values()].filter((c) =>
      url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'));
    // Longer paths first (RFC 6265 §5.4).
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  // One request, no redirect followed. Returns { url, status, location, text, headers }.
  async request(url, { method = 'GET', form } = {}) {
    url = new URL(url);
    const headers = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const cookie = this.#cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    let body;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const r = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.#remember(url, r);
    const text = await r.text();
    const location = r.headers.get('location');
    this.trace.push(`${method} ${url.pathname} -> ${r.status}${location ? ' ' + location : ''}`);
    return { url, status: r.status, headers: r.headers,
      location: location ? new URL(location, url) : null, text };
  }

  // The fields a browser would post for `form`, with the user's entries filled in.
  fill(form, { userCode } = {}) {
    const fields = [];
    for (const input of form.inputs) {
      let value = input.value;
      if (input.type === 'checkbox' || input.type === 'radio') {
        if (!input.checked) continue;
      } else if (input.type === 'password') {
        value = this.password;
      } else if (input.type !== 'hidden' && /^(j_username|username|login|user)$/i.test(input.name)) {
        value = this.user;
      } else if (/user_?code/i.test(input.name) && !value) {
        if (!userCode) throw new Error('a page asks for a user code and none was given');
        value = userCode;
      }
      fields.push([input.name, value]);
    }
    const named = form.buttons.filter((b) => b.name);
    const yes = named.find((b) => (YES.test(b.value) || YES.test(b.name)) &&
      !NO.test(b.value) && !NO.test(b.name));
    // Without an affirmative named button, the unnamed submit button is the one that goes on.
    if (yes) fields.push([yes.name, yes.value]);
    return fields;
  }

  // Follows redirects and posts the pages' forms until `stop(url)` says a redirect target is
  // where the user was meant to land (that redirect is not followed), or a page without a
  // form is reached. Returns { landed: URL } or { page: {url, status, text} }.
  async drive(start, { stop = () => false, userCode, maxSteps = 25 } = {}) {
    let next = { url: new URL(start), method: 'GET' };
    for (let step = 0; step < maxSteps; step++) {
      const r = await this.request(next.url, next);
      if (r.status >= 300 && r.status < 400 && r.location) {
        if (stop(r.location)) return { landed: r.location };
        next = { url: r.location, method: r.status === 307 || r.status === 308 ? next.method : 'GET',
          form: r.status === 307 || r.status === 308 ? next.form : undefined };
        continue;
      }
      const forms = r.status === 200 ? parseForms(r.text).filter((f) => f.method === 'post') : [];
      if (!forms.length) return { page: r };
      // The first form that is not only a way out (e.g. "Not you?", "abort").
      const form = forms.find((f) => f.inputs.length || f.buttons.some((b) => !NO.test(b.value))) ?? forms[0];
      const action = new URL(form.action || r.url.href, r.url);
      if (stop(action)) {
        // A form that posts to the client itself (response_mode=form_post).
        return { posted: { url: action, fields: this.fill(form, { userCode }) } };
      }
      next = { url: action, method: 'POST', form: this.fill(form, { userCode }) };
    }
    throw new Error('no end after ' + maxSteps + ' steps:\n' + this.trace.join('\n'));
  }
}
