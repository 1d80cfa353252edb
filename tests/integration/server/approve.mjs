#!/usr/bin/env node
// The simulated end user of devflow's integration tests.
//
// Drives the provider's real device pages over HTTP(S) like a browser with
// JavaScript off would: a cookie jar, GET/POST with manual redirects, HTML
// forms parsed from each page and submitted with their hidden fields (xsrf
// token included). Nothing skips the provider's own approval logic.
//
//   node approve.mjs --uri URL [--code CODE] [--deny] [--deny-at STEP]
//                    [--user NAME] [--delay-ms N] [--ca FILE] [--timeout-ms N]
//
// As a module:  import { approve } from './approve.mjs';
//               await approve({ uri, userCode, deny: false, user: 'alice' });

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';

const MAX_STEPS = 25;
const MAX_BODY = 1024 * 1024;

/** Error thrown when the simulated user cannot finish what was asked. */
export class ApproveError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ApproveError';
  }
}

// ------------------------------------------------------------------ cookies

/** A minimal RFC 6265 cookie jar: host-only cookies, path matching, expiry. */
export class CookieJar {
  #cookies = [];

  store(url, setCookieHeaders) {
    for (const header of setCookieHeaders) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expires;
      for (const attr of attrs) {
        const [k, ...rest] = attr.split('=');
        const key = k.trim().toLowerCase();
        const v = rest.join('=').trim();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age') expires = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expires === undefined) expires = Date.parse(v);
      }
      this.#cookies = this.#cookies.filter(
        (c) => !(c.name === name && c.path === path && c.host === url.host),
      );
      if (expires === undefined || expires > Date.now()) {
        this.#cookies.push({ name, value, path, host: url.host, expires });
      }
    }
  }

  header(url) {
    const now = Date.now();
    return this.#cookies
      .filter((c) => c.host === url.host && (c.expires === undefined || c.expires > now))
      .filter((c) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

// ------------------------------------------------------------------ HTTP

function request(url, { method = 'GET', form, jar, ca, timeoutMs }) {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const headers = { 'user-agent': 'devflow-approve/1 (simulated end user)', accept: 'text/html' };
  const cookie = jar.header(url);
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const lib = url.protocol === 'https:' ? https : http;
  const options = { method, headers, timeout: timeoutMs };
  if (url.protocol === 'https:' && ca) options.ca = ca;

  return new Promise((resolve, reject) => {
    const req = lib.request(url, options, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          req.destroy(new ApproveError(`response from ${url.origin}${url.pathname} is larger than ${MAX_BODY} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        jar.store(url, res.headers['set-cookie'] ?? []);
        resolve({
          url,
          status: res.statusCode,
          location: res.headers.location,
          html: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new ApproveError(`timed out after ${timeoutMs} ms on ${method} ${url.origin}${url.pathname}`)));
    req.on('error', (err) => reject(err instanceof ApproveError
      ? err
      : new ApproveError(`${method} ${url.origin}${url.pathname} failed: ${err.code ?? ''} ${err.message}`.trim())));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// ------------------------------------------------------------------ HTML

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

function decode(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ent) => {
    if (ent[0] === '#') {
      const n = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : whole;
    }
    return ENTITIES[ent.toLowerCase()] ?? whole;
  });
}

function attributes(tag) {
  const attrs = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  const inner = tag.replace(/^<\s*[a-zA-Z]+/, '').replace(/\/?>$/, '');
  let m;
  while ((m = re.exec(inner)) !== null) {
    attrs[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

/** Every <form> of a page with its fields and its submit buttons (inside it or tied by form=). */
export function parseForms(html, baseUrl) {
  const forms = [];
  const formRe = /<form\b[^>]*>([\s\S]*?)<\/form>/gi;
  let m;
  while ((m = formRe.exec(html)) !== null) {
    const open = m[0].match(/^<form\b[^>]*>/i)[0];
    const attrs = attributes(open);
    const fields = [];
    const buttons = [];
    for (const input of m[1].match(/<input\b[^>]*>/gi) ?? []) {
      const a = attributes(input);
      if (!a.name) continue;
      const type = (a.type ?? 'text').toLowerCase();
      if (type === 'submit') buttons.push({ name: a.name, value: a.value ?? '' });
      else fields.push({ name: a.name, value: a.value ?? '', type });
    }
    for (const button of m[1].match(/<button\b[^>]*>/gi) ?? []) {
      const a = attributes(button);
      if ((a.type ?? 'submit').toLowerCase() === 'submit') buttons.push({ name: a.name, value: a.value ?? '' });
    }
    forms.push({
      id: attrs.id,
      method: (attrs.method ?? 'get').toUpperCase(),
      action: new URL(attrs.action || baseUrl.href, baseUrl),
      fields,
      buttons,
    });
  }
  // Buttons outside a form that name it with form="id" (the provider's Abort button).
  for (const button of html.match(/<button\b[^>]*>/gi) ?? []) {
    const a = attributes(button);
    if (!a.form) continue;
    const form = forms.find((f) => f.id === a.form);
    if (form && !form.buttons.some((b) => b.name === a.name && b.value === (a.value ?? ''))) {
      form.buttons.push({ name: a.name, value: a.value ?? '' });
    }
  }
  return forms;
}

function title(html) {
  const m = html.match(/<title>([\s\S]*?)<\/title>/i);
  return m ? decode(m[1]).trim() : '';
}

function findLink(html, baseUrl, predicate) {
  for (const a of html.match(/<a\b[^>]*>[\s\S]*?<\/a>/gi) ?? []) {
    const attrs = attributes(a.match(/^<a\b[^>]*>/i)[0]);
    const text = decode(a.replace(/<[^>]*>/g, '')).trim();
    if (attrs.href && predicate(attrs.href, text)) return new URL(attrs.href, baseUrl);
  }
  return undefined;
}

function fieldValue(form, name) {
  return form.fields.find((f) => f.name === name)?.value;
}

function normalizeCode(code) {
  return String(code ?? '').toUpperCase().replace(/[^0-9A-Z]/g, '');
}

function snippet(html) {
  const text = decode(html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<script[\s\S]*?<\/script>/gi, '')
    .replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

// ------------------------------------------------------------------ the user

/**
 * Act as the end user: open the verification page, enter the user code,
 * confirm the device, log in as `user`, consent — or deny at `denyAt`
 * ('confirm': the device confirmation page's Abort button; 'login': the
 * login page's abort link; 'consent': the consent page's abort link).
 * Resolves to { outcome: 'approved' | 'denied', userCode, user, requests }.
 * Rejects with ApproveError carrying a clear message otherwise.
 */
export async function approve({
  uri,
  userCode,
  deny = false,
  denyAt = 'confirm',
  user = 'alice',
  password = 'any-password',
  delayMs = 0,
  ca,
  timeoutMs = 10000,
  onStep,
} = {}) {
  if (!uri) throw new ApproveError('no verification URI given');
  let start;
  try {
    start = new URL(uri);
  } catch {
    throw new ApproveError(`not a URL: ${uri}`);
  }
  if (start.protocol !== 'http:' && start.protocol !== 'https:') {
    throw new ApproveError(`only http and https verification URIs are supported, got ${start.protocol}`);
  }
  const code = userCode ?? start.searchParams.get('user_code') ?? undefined;
  if (!code) throw new ApproveError('no user code: pass one or use verification_uri_complete');
  if (!['confirm', 'login', 'consent'].includes(denyAt)) {
    throw new ApproveError(`--deny-at must be confirm, login or consent, got ${denyAt}`);
  }
  const caPem = typeof ca === 'string' && !ca.includes('-----BEGIN') ? readFileSync(ca) : ca;

  if (delayMs > 0) await sleep(delayMs);

  const jar = new CookieJar();
  const step = (what) => onStep?.(what);
  let requests = 0;
  const go = async (url, opts = {}) => {
    let res = await request(url, { ...opts, jar, ca: caPem, timeoutMs });
    requests += 1;
    step(`${opts.method ?? 'GET'} ${url.pathname} -> ${res.status}`);
    // Follow redirects as a browser does (303/302/301 turn into GET).
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.location; hops += 1) {
      if (hops >= 10) throw new ApproveError('too many redirects');
      const next = new URL(res.location, url);
      if (next.origin !== start.origin) {
        throw new ApproveError(`redirected off the provider to ${next.origin}`);
      }
      url = next;
      res = await request(url, { jar, ca: caPem, timeoutMs });
      requests += 1;
      step(`GET ${url.pathname} -> ${res.status}`);
    }
    return res;
  };
  const submit = (form, extra = {}, button) => {
    const data = Object.fromEntries(form.fields.map((f) => [f.name, f.value]));
    Object.assign(data, extra);
    if (button?.name) data[button.name] = button.value;
    if (form.method === 'GET') {
      const url = new URL(form.action);
      for (const [k, v] of Object.entries(data)) url.searchParams.set(k, v);
      return go(url);
    }
    return go(form.action, { method: 'POST', form: data });
  };

  let page = await go(start);
  let enteredCode = false;
  let confirmed = false;
  let loggedIn = false;

  for (let i = 0; i < MAX_STEPS; i += 1) {
    const pageTitle = title(page.html);
    const forms = parseForms(page.html, page.url);
    const deviceInput = forms.find((f) => f.id === 'op.deviceInputForm');
    const deviceConfirm = forms.find((f) => f.id === 'op.deviceConfirmForm');
    const loginForm = forms.find((f) => fieldValue(f, 'prompt') === 'login');
    const consentForm = forms.find((f) => fieldValue(f, 'prompt') === 'consent');

    if (pageTitle === 'Sign-in Success') {
      if (deny) throw new ApproveError('the provider reports success although the user meant to deny');
      return { outcome: 'approved', userCode: code, user, requests };
    }

    if (deviceInput) {
      if (/interrupted/i.test(page.html)) {
        if (deny) return { outcome: 'denied', userCode: code, user, requests };
        throw new ApproveError('the provider says the sign-in request was interrupted');
      }
      if (/incorrect/i.test(page.html)) {
        throw new ApproveError(`the provider rejected user code ${code} (unknown, expired or already used)`);
      }
      if (/error processing/i.test(page.html)) {
        throw new ApproveError('the provider reports an error processing the request');
      }
      if (enteredCode) throw new ApproveError('the provider asked for the user code again');
      enteredCode = true;
      step(`enter user code ${code}`);
      page = await submit(deviceInput, { user_code: code });
      continue;
    }

    if (deviceConfirm) {
      if (confirmed) throw new ApproveError('the provider asked to confirm the device twice');
      confirmed = true;
      // A careful user checks that the code on the page is the one on the device.
      const shown = page.html.match(/<code>([\s\S]*?)<\/code>/i);
      if (shown && normalizeCode(decode(shown[1])) !== normalizeCode(code)) {
        throw new ApproveError('the confirmation page shows a different user code');
      }
      if (deny && denyAt === 'confirm') {
        const abort = deviceConfirm.buttons.find((b) => b.name === 'abort');
        if (!abort) throw new ApproveError('the confirmation page has no abort button');
        step('press Abort on the device confirmation page');
        page = await submit(deviceConfirm, {}, abort);
      } else {
        step('press Continue on the device confirmation page');
        page = await submit(deviceConfirm);
      }
      continue;
    }

    if (loginForm || consentForm) {
      const stage = loginForm ? 'login' : 'consent';
      if (deny && denyAt === stage) {
        const abortUrl = findLink(page.html, page.url, (href) => /\/abort(\?|$)/.test(href));
        if (!abortUrl) throw new ApproveError(`the ${stage} page has no abort link`);
        step(`follow the abort link on the ${stage} page`);
        page = await go(abortUrl);
        continue;
      }
      if (loginForm) {
        if (loggedIn) throw new ApproveError(`the provider rejected the login of ${user}`);
        loggedIn = true;
        step(`log in as ${user}`);
        page = await submit(loginForm, { login: user, password });
      } else {
        step('consent');
        page = await submit(consentForm);
      }
      continue;
    }

    // An auto-submitting page (form_post after verification_uri_complete):
    // a browser's script submits its only form; do the same.
    if (forms.length === 1 && /document\.forms\[0\]\.submit\(\)/.test(page.html)) {
      step('auto-submit');
      page = await submit(forms[0]);
      continue;
    }

    throw new ApproveError(`unexpected page (HTTP ${page.status}, "${pageTitle}") at ${page.url.pathname}: ${snippet(page.html)}`);
  }
  throw new ApproveError(`gave up after ${MAX_STEPS} pages`);
}

// ------------------------------------------------------------------ CLI

function usage() {
  return 'usage: node approve.mjs --uri URL [--code CODE] [--deny] [--deny-at confirm|login|consent]\n'
    + '                         [--user NAME] [--delay-ms N] [--ca FILE] [--timeout-ms N] [--verbose]';
}

function parseArgs(argv) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (eq > 0) return arg.slice(eq + 1);
      i += 1;
      if (i >= argv.length) throw new ApproveError(`${key} needs a value\n${usage()}`);
      return argv[i];
    };
    switch (key) {
      case '--uri': opts.uri = value(); break;
      case '--code': opts.userCode = value(); break;
      case '--deny': opts.deny = true; break;
      case '--deny-at': opts.denyAt = value(); opts.deny = true; break;
      case '--user': opts.user = value(); break;
      case '--delay-ms': opts.delayMs = Number(value()); break;
      case '--timeout-ms': opts.timeoutMs = Number(value()); break;
      case '--ca': opts.ca = value(); break;
      case '--verbose': opts.verbose = true; break;
      case '-h': case '--help': opts.help = true; break;
      default: throw new ApproveError(`unknown argument ${arg}\n${usage()}`);
    }
  }
  for (const k of ['delayMs', 'timeoutMs']) {
    if (opts[k] !== undefined && !(Number.isFinite(opts[k]) && opts[k] >= 0)) {
      throw new ApproveError(`--${k === 'delayMs' ? 'delay-ms' : 'timeout-ms'} must be a number >= 0`);
    }
  }
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`approve: ${err.message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (!opts.uri) {
    process.stderr.write(`approve: --uri is required\n${usage()}\n`);
    return 2;
  }
  const { verbose, ...rest } = opts;
  try {
    const result = await approve({
      ...rest,
      onStep: verbose ? (s) => process.stderr.write(`approve: ${s}\n`) : undefined,
    });
    const host = new URL(opts.uri).host;
    process.stdout.write(`${result.outcome}: user code ${result.userCode} as ${result.user} at ${host} (${result.requests} requests)\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`approve: failed: ${err.message}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main();
}
