#!/usr/bin/env node
// End-to-end tests of the `devflow` binary against the real local OpenID
// provider (tests/integration/server/server.mjs) and its simulated user
// (approve.mjs). Each case starts its own provider on 127.0.0.1, runs the
// real binary with no terminal (plain lines), and checks exit codes, the one
// line each failure prints, and that no output ever holds a secret.
//
//   node cli_test.mjs --devflow build/tools/devflow --case denied
//   node cli_test.mjs --list
//
// Registered with CTest by tests/cli/CMakeLists.txt (label `cli`). Output on
// failure is redacted: every token seen in the cache or from `devflow token`
// is replaced by <redacted> before anything is printed.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, statSync, existsSync, writeFileSync, mkdirSync, chmodSync, chownSync, symlinkSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = join(here, '..', 'integration', 'server');
const serverScript = join(serverDir, 'server.mjs');
const approveScript = join(serverDir, 'approve.mjs');
const PUBLIC = 'devflow-public';
const CONFIDENTIAL = 'devflow-confidential';
const CONFIDENTIAL_SECRET = 'devflow-cli-test-secret-9f3a';

// ---------------------------------------------------------------- harness

class Failure extends Error {}

const secrets = new Set();
function remember(value) {
  if (typeof value === 'string' && value.length >= 8) secrets.add(value);
}
function redact(text) {
  let out = String(text);
  for (const s of secrets) out = out.split(s).join('<redacted>');
  return out;
}
function check(condition, message, ...outputs) {
  if (condition) return;
  const details = outputs.map((o) => redact(typeof o === 'string' ? o : JSON.stringify(o))).join('\n---\n');
  throw new Failure(`${message}${details ? `\n${details}` : ''}`);
}
function checkEqual(actual, expected, message, ...outputs) {
  check(actual === expected, `${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(redact(actual))}`, ...outputs);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--devflow') o.devflow = argv[++i];
    else if (argv[i] === '--case') o.case = argv[++i];
    else if (argv[i] === '--list') o.list = true;
  }
  return o;
}

// ---------------------------------------------------------------- processes

/// Starts the provider with `env` settings; resolves with its ready record.
async function startServer(dir, env = {}) {
  const child = spawn(process.execPath, [serverScript], {
    env: { PATH: process.env.PATH, DEVFLOW_INTERVAL: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Failure(`server not ready in 20 s:\n${err}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        try { resolve(JSON.parse(out.slice(0, nl))); } catch (e) { reject(e); }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Failure(`server exited (${code}) before it was ready:\n${err}${existsSync(join(serverDir, 'node_modules')) ? '' : '\n(node_modules missing: run scripts/setup.sh)'}`));
    });
  });
  return {
    info,
    async stats() { return (await fetch(info.stats_endpoint)).json(); },
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(3000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/// The environment the binary runs in: a private home, nothing inherited
/// that could change its behaviour (no DEVFLOW_*, no DISPLAY, no BROWSER).
function toolEnv(dir, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    XDG_STATE_HOME: join(dir, 'state'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    LANG: 'C.UTF-8',
    ...extra,
  };
}

/// Starts `devflow args...`; `result()` resolves with {code, signal, stdout, stderr}.
function start(ctx, args, { env = {}, timeoutMs = 30000 } = {}) {
  const child = spawn(ctx.devflow, args, { env: toolEnv(ctx.dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', code: null, signal: null };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  const finished = new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      r.code = code;
      r.signal = signal;
      resolve(r);
    });
  });
  ctx.outputs.push(r);
  ctx.children.push(child);
  return {
    child,
    output: r,
    result: () => finished,
    /// Resolves with the prompt's fields once the plain lines are out.
    async prompt(timeout = 15000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const m = /devflow: to sign in, open (\S+) and enter the code (\S+)\n/.exec(r.stderr);
        const c = /devflow: or open (\S+) \(the code is filled in\)\n/.exec(r.stderr);
        if (m && c) return { uri: m[1], userCode: m[2], complete: c[1] };
        check(r.code === null, `devflow exited (${r.code}) before prompting`, r.stderr);
        check(Date.now() < deadline, 'no prompt within the time limit', r.stderr);
        await sleep(50);
      }
    },
  };
}

async function run(ctx, args, options) {
  return start(ctx, args, options).result();
}

/// The simulated user at the browser (approve.mjs), approving or denying.
async function approve(uri, { deny = false, ca = '', user = '' } = {}) {
  const args = [approveScript, '--uri', uri];
  if (deny) args.push('--deny');
  if (user) args.push('--user', user);
  if (ca) args.push('--ca', ca);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((r) => child.once('close', r));
  check(code === 0, `approve.mjs failed (${code})`, out);
  return out;
}

/// Reads every token in the token records under `dir` (test code may).
function harvestSecrets(dir) {
  const found = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 1 << 20) {
        try {
          const j = JSON.parse(readFileSync(p, 'utf8'));
          for (const k of ['access_token', 'refresh_token', 'id_token']) {
            if (typeof j[k] === 'string') { remember(j[k]); found.push(j[k]); }
          }
        } catch { /* not a record */ }
      }
    }
  };
  walk(dir);
  return found;
}

/// The last line of `text`.
function lastLine(text) {
  const lines = text.split('\n').filter((l) => l.length > 0);
  return lines.length ? lines[lines.length - 1] : '';
}

/// The one-line failure: stderr's last line, and the only error line.
function checkFailure(r, code, line) {
  check(r.code === code, `exit code ${r.code}, expected ${code}`, r.stderr, r.stdout);
  const got = lastLine(r.stderr);
  if (line instanceof RegExp) check(line.test(got), `unexpected failure line: ${JSON.stringify(got)}`, r.stderr);
  else checkEqual(got, line, 'failure line', r.stderr);
  check(!/terminate called|what\(\)|Aborted|Segmentation|std::/.test(r.stderr), 'a crash trace in stderr', r.stderr);
  check(!r.stderr.includes('\x1b'), 'escape sequences without a terminal', r.stderr);
}

async function userinfo(info, token) {
  const res = await fetch(info.userinfo_endpoint, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: res.status === 200 ? await res.json() : null };
}

async function closedPort() {
  const s = http.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/// A tiny HTTP server on 127.0.0.1 answering `handler(path)` -> {status, body}.
async function fakeIssuer(handler) {
  const s = http.createServer((req, res) => {
    const { status, body } = handler(req.url, `http://127.0.0.1:${s.address().port}`);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { issuer: `http://127.0.0.1:${s.address().port}`, close: () => new Promise((r) => s.close(r)) };
}

/// A self-signed certificate for `san` (e.g. "IP:127.0.0.1"), made with the
/// openssl command in `dir`: {cert, key} file names.
function makeCertificate(dir, san, name = 'tls') {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=devflow-test', '-addext', `subjectAltName=${san}`, '-keyout', key, '-out', cert],
  { stdio: 'ignore' });
  return { cert, key };
}

/// GET over https with `ca` trusted: {status, body}.
function httpsGet(url, { ca, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: readFileSync(ca), headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
  });
}

/// Login with the simulated user approving (or denying) in the background.
async function loginApproved(ctx, args, { deny = false, env = {}, ca = '', user = '' } = {}) {
  const login = start(ctx, ['login', '--no-browser', ...args], { env });
  const p = await login.prompt();
  await approve(p.complete, { deny, ca, user });
  return { ...(await login.result()), prompt: p };
}

// ---------------------------------------------------------------- cases

const cases = {};

cases.happy_path = {
  title: 'login token status and logout work end to end with plain lines and no flags after login',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    const lines = login.stderr.split('\n');
    checkEqual(lines[0], `devflow: to sign in, open ${info.verification_uri} and enter the code ${login.prompt.userCode}`, 'first line');
    check(/^[A-Z]{4}-[A-Z]{4}$/.test(login.prompt.userCode), 'a user code', login.stderr);
    check(login.stderr.includes('devflow: you are signing in at 127.0.0.1; approve only if you started this sign-in yourself'), 'host and phishing notice', login.stderr);
    check(login.stderr.includes('devflow: the code expires in 10 minutes; waiting for approval'), 'expiry', login.stderr);
    check(new RegExp(`^devflow: signed in to ${info.issuer} as alice; the access token is valid for (59|60) minutes$`).test(lastLine(login.stderr)), 'closing line', login.stderr);
    checkEqual(login.stdout, '', 'login stdout');
    check(!login.stderr.includes('\x1b'), 'no escape sequences without a terminal', login.stderr);
    check(existsSync(join(ctx.dir, 'state', 'devflow', 'cli-settings.json')), 'settings remembered beside the default cache');

    // token: no flags at all, remembered settings; the provider accepts it.
    const before = await server.stats();
    const tok = await run(ctx, ['token']);
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    const token = tok.stdout.replace(/\n$/, '');
    remember(token);
    check(/^[A-Za-z0-9_-]{20,}$/.test(token) && tok.stdout.endsWith('\n') && !token.includes('\n'), 'one token line on stdout');
    checkEqual(tok.stderr, '', 'token stderr');
    const ui = await userinfo(info, token);
    checkEqual(ui.status, 200, 'userinfo accepts the token');
    checkEqual(ui.body.sub, 'alice', 'userinfo sub');
    const after = await server.stats();
    checkEqual(JSON.stringify(after.token_requests), JSON.stringify(before.token_requests), 'a cached token run sends no token request');
    checkEqual(after.device_authorization_requests, before.device_authorization_requests, 'no device authorization');

    // status: who, what, when; no token anywhere.
    const st = await run(ctx, ['status']);
    check(st.code === 0, `status exit ${st.code}`, st.stdout, st.stderr);
    check(st.stdout.startsWith('Signed in.\n'), 'signed in', st.stdout);
    check(st.stdout.includes(info.issuer) && st.stdout.includes(PUBLIC) && /user\s+alice/.test(st.stdout), 'issuer client and user', st.stdout);
    check(/access token\s+\[redacted\], valid for (59 min|1 h) \(until /.test(st.stdout), 'access expiry', st.stdout);
    for (const s of secrets) check(!st.stdout.includes(s) && !st.stderr.includes(s), 'status shows no token');
    const sj = await run(ctx, ['status', '--json']);
    const j = JSON.parse(sj.stdout);
    check(j.signed_in === true && j.user.sub === 'alice' && j.access_token.valid === true, 'status --json', j);
    for (const s of secrets) check(!sj.stdout.includes(s), 'status --json shows no token');

    // login again: reuses the session, no prompt, no request to the device endpoint.
    const again = await run(ctx, ['login']);
    check(again.code === 0, `second login exit ${again.code}`, again.stderr);
    check(lastLine(again.stderr).startsWith(`devflow: already signed in to ${info.issuer} as alice`), 'reuse', again.stderr);
    check(!again.stderr.includes('enter the code'), 'no prompt on reuse', again.stderr);
    checkEqual((await server.stats()).device_authorization_requests, before.device_authorization_requests, 'no new device authorization');

    // logout: revoked at the provider, wiped here.
    const out = await run(ctx, ['logout']);
    check(out.code === 0, `logout exit ${out.code}`, out.stderr);
    checkEqual(lastLine(out.stderr), 'devflow: signed out; the tokens were revoked at the server and wiped here', 'logout line', out.stderr);
    check((await server.stats()).revocations >= 1, 'a revocation reached the provider');
    checkEqual((await userinfo(info, token)).status, 401, 'the revoked token is refused');
    checkEqual(harvestSecrets(ctx.dir).length, 0, 'no token left in the cache');

    const gone = await run(ctx, ['token']);
    checkFailure(gone, 7, `devflow: not signed in to ${info.issuer} as client "${PUBLIC}"; run \`devflow login\` first`);
    checkEqual(gone.stdout, '', 'no token after logout');
    const st2 = await run(ctx, ['status']);
    checkEqual(st2.code, 7, 'status exit when signed out');
    check(st2.stdout.startsWith('Not signed in; run `devflow login` to sign in.\n'), 'status says so', st2.stdout);
  },
};

cases.refresh = {
  title: 'token refreshes an expiring access token without a prompt',
  server: { DEVFLOW_ACCESS_TOKEN_TTL: '10' },
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const cache = join(ctx.dir, 'tokens.json');
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--cache', cache]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    check((statSync(cache).mode & 0o777) === 0o600, 'the single-file cache is 0600');
    const first = await run(ctx, ['token', '--cache', cache]);
    const t1 = first.stdout.trim();
    remember(t1);
    await sleep(5500);  // past the refresh margin (half of the 10 s lifetime)
    const second = await run(ctx, ['token', '--cache', cache]);
    check(second.code === 0, `token exit ${second.code}`, second.stderr);
    const t2 = second.stdout.trim();
    remember(t2);
    harvestSecrets(ctx.dir);
    check(t1 !== t2, 'a new access token after the refresh');
    checkEqual((await server.stats()).refresh_requests, 1, 'exactly one refresh');
    checkEqual((await userinfo(info, t2)).status, 200, 'the refreshed token is accepted');
    checkEqual((await server.stats()).device_authorization_requests, 1, 'no second sign-in');
  },
};

cases.json = {
  title: 'json output gives the prompt and the result as lines of JSON',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const login = start(ctx, ['login', '--no-browser', '--json', '--issuer', info.issuer, '--client-id', PUBLIC]);
    const deadline = Date.now() + 15000;
    while (!login.output.stdout.includes('\n') && Date.now() < deadline) await sleep(50);
    const event = JSON.parse(login.output.stdout.split('\n')[0]);
    check(event.event === 'prompt' && /^[A-Z]{4}-[A-Z]{4}$/.test(event.user_code) && event.host === '127.0.0.1', 'prompt event', event);
    await approve(event.verification_uri_complete);
    const r = await login.result();
    harvestSecrets(ctx.dir);
    check(r.code === 0, `login exit ${r.code}`, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    checkEqual(lines.length, 2, 'two JSON lines');
    check(lines[1].event === 'signed_in' && lines[1].signed_in === true && lines[1].user.sub === 'alice', 'result event', lines[1]);
    for (const s of secrets) check(!r.stdout.includes(s) && !r.stderr.includes(s), 'no token in login output');
    const tok = await run(ctx, ['token', '--json']);
    const tj = JSON.parse(tok.stdout);
    remember(tj.access_token);
    check(tj.token_type === 'Bearer' && typeof tj.expires_at === 'number', 'token --json', tj);
    checkEqual((await userinfo(info, tj.access_token)).status, 200, 'the token works');
    const out = await run(ctx, ['logout', '--json']);
    const oj = JSON.parse(out.stdout);
    check(oj.signed_out && oj.revoked && oj.was_signed_in, 'logout --json', oj);
    const gone = await run(ctx, ['token', '--json']);
    checkEqual(gone.code, 7, 'exit code');
    const ej = JSON.parse(gone.stdout);
    check(ej.error === 'not_signed_in' && ej.exit_code === 7, 'error --json', ej);
  },
};

cases.confidential = {
  title: 'a confidential client signs in with its secret from the environment and never prints it',
  server: { DEVFLOW_CONFIDENTIAL_SECRET: CONFIDENTIAL_SECRET },
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    remember(CONFIDENTIAL_SECRET);
    const env = { MY_CLIENT_SECRET: CONFIDENTIAL_SECRET };
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', CONFIDENTIAL, '--client-secret-env', 'MY_CLIENT_SECRET', '--scope', 'openid profile'], { env });
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    const tok = await run(ctx, ['token'], { env });
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
    const st = await run(ctx, ['status'], { env });
    check(/scopes\s+openid profile/.test(st.stdout), 'granted scopes', st.stdout);
    const settings = readFileSync(join(ctx.dir, 'state', 'devflow', 'cli-settings.json'), 'utf8');
    check(settings.includes('MY_CLIENT_SECRET') && !settings.includes(CONFIDENTIAL_SECRET), 'only the variable name is remembered');
    checkEqual((await server.stats()).client_auth.client_secret_post, 0, 'the secret never goes in a body');
    const missing = await run(ctx, ['token']);
    checkFailure(missing, 2, 'devflow: the environment variable MY_CLIENT_SECRET (--client-secret-env) is not set; see `devflow --help`');
  },
};

cases.denied = {
  title: 'a denied sign-in exits 3 with one line',
  async run(ctx) {
    const { info } = await ctx.server();
    const r = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC], { deny: true });
    checkFailure(r, 3, 'devflow: the sign-in was denied in the browser; run `devflow login` to try again');
    checkEqual(r.stdout, '', 'stdout');
    // The remembered settings make the suggested command work as written.
    const retry = start(ctx, ['login', '--no-browser']);
    await retry.prompt();
    retry.child.kill('SIGINT');
    checkFailure(await retry.result(), 130, 'devflow: cancelled');
  },
};

cases.expired = {
  title: 'a code that expires unapproved exits 4 with one line',
  server: { DEVFLOW_DEVICE_CODE_TTL: '2' },
  async run(ctx) {
    const { info } = await ctx.server();
    const r = await run(ctx, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC]);
    checkFailure(r, 4, 'devflow: the code expired before the sign-in was approved; run `devflow login` to get a new code');
    check(r.stderr.includes('devflow: the code expires in 2 seconds'), 'the expiry was announced', r.stderr);
  },
};

cases.cancelled = {
  title: 'Ctrl-C while waiting exits 130 with one line',
  async run(ctx) {
    const { info } = await ctx.server();
    const login = start(ctx, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC]);
    await login.prompt();
    const sent = Date.now();
    login.child.kill('SIGINT');
    const r = await login.result();
    checkFailure(r, 130, 'devflow: cancelled');
    check(Date.now() - sent < 3000, 'cancelled promptly');
  },
};

cases.resume_after_kill = {
  title: 'a login killed while polling resumes the same code when run again and forgets it after success',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const args = ['login', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC];
    const first = start(ctx, args);
    const p1 = await first.prompt();
    // Let it poll a few times, then kill it the hard way (no handler runs).
    for (let i = 0; (await server.stats()).device_code_polls < 2; i += 1) {
      check(i < 100, 'devflow never polled', first.output.stderr);
      await sleep(100);
    }
    first.child.kill('SIGKILL');
    const killed = await first.result();
    checkEqual(killed.signal, 'SIGKILL', 'killed');

    // The record holds the pending sign-in (test code may read it).
    const records = readdirSync(join(ctx.dir, 'state', 'devflow')).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
    checkEqual(records.length, 1, 'one record');
    const recordFile = join(ctx.dir, 'state', 'devflow', records[0]);
    const saved = JSON.parse(readFileSync(recordFile, 'utf8'));
    check(typeof saved.pending_device_code === 'string' && saved.pending_device_code.length > 0, 'the device code was saved', Object.keys(saved));
    remember(saved.pending_device_code);
    checkEqual(saved.pending_user_code, p1.userCode, 'the saved user code');

    // Run again: the same user code, no new device authorization, the same device code polled on.
    const second = start(ctx, args);
    const p2 = await second.prompt();
    checkEqual(p2.userCode, p1.userCode, 'the same user code is shown');
    check(second.output.stderr.includes('resuming the sign-in started earlier'), 'the resumed run says so', second.output.stderr);
    check(!first.output.stderr.includes('resuming'), 'the first run does not', first.output.stderr);
    await approve(p2.complete);
    const r = await second.result();
    check(r.code === 0, `resumed login exit ${r.code}`, r.stderr);
    harvestSecrets(ctx.dir);
    const stats = await server.stats();
    checkEqual(stats.device_authorization_requests, 1, 'one device authorization in all');
    checkEqual(stats.device_codes_polled, 1, 'one device code polled in all');
    check((stats.token_successes['urn:ietf:params:oauth:grant-type:device_code'] ?? 0) === 1, 'the resumed code got the tokens', stats);

    // The saved code is gone after success.
    const after = readFileSync(recordFile, 'utf8');
    check(!after.includes(saved.pending_device_code) && !after.includes('pending_'), 'the saved device code is wiped', Object.keys(JSON.parse(after)));
    const tok = await run(ctx, ['token']);
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
  },
};

cases.network = {
  title: 'an unreachable issuer exits 5 with one line',
  async run(ctx) {
    const port = await closedPort();
    const r = await run(ctx, ['login', '--no-browser', '--issuer', `http://127.0.0.1:${port}`, '--client-id', PUBLIC]);
    checkFailure(r, 5, new RegExp(`^devflow: cannot reach the server \\(cannot fetch http://127\\.0\\.0\\.1:${port}/\\.well-known/openid-configuration: .*\\); check the issuer URL \\(--issuer\\) and your network$`));
  },
};

cases.issuer_mismatch = {
  title: 'an issuer that differs from the server own exits 2 with one line',
  async run(ctx) {
    const { info } = await ctx.server();
    const r = await run(ctx, ['login', '--no-browser', '--issuer', `${info.issuer}/`, '--client-id', PUBLIC]);
    checkFailure(r, 2, `devflow: the metadata at ${info.issuer}/.well-known/openid-configuration names the issuer "${info.issuer}", not "${info.issuer}/" (they must be identical, RFC 8414 §3.3); pass --issuer exactly as the server names itself`);
  },
};

cases.missing_config = {
  title: 'missing issuer or client or session each exit with their own line',
  async run(ctx) {
    checkFailure(await run(ctx, ['login']), 2, 'devflow: no issuer: pass --issuer URL (or set DEVFLOW_ISSUER); see `devflow --help`');
    checkFailure(await run(ctx, ['login', '--issuer', 'https://sso.example.org']), 2, 'devflow: no client: pass --client-id ID (or set DEVFLOW_CLIENT_ID); see `devflow --help`');
    checkFailure(await run(ctx, ['token']), 7, 'devflow: not signed in; run `devflow login` first');
    checkFailure(await run(ctx, ['frobnicate']), 2, 'devflow: unknown command "frobnicate" (commands: login, token, status, logout, keep-alive, kubectl-credential, git-credential, setup-git, profiles, use, completion); see `devflow --help`');
    checkFailure(await run(ctx, ['login', '--issuer']), 2, 'devflow: option --issuer needs a value; see `devflow --help`');
    checkFailure(await run(ctx, ['login', '--issuer', 'http://sso.example.org', '--client-id', 'x']), 2,
      'devflow: the issuer must use https (http is allowed only for loopback hosts): http://sso.example.org; use the server\'s https address');
    const none = await run(ctx, []);
    checkEqual(none.code, 2, 'no command');
    const help = await run(ctx, ['--help']);
    check(help.code === 0 && help.stdout.startsWith('devflow - ') && help.stdout.includes('Exit codes:'), 'help', help.stdout);
    const version = await run(ctx, ['--version']);
    check(version.code === 0 && /^devflow \d+\.\d+\.\d+ /.test(version.stdout), 'version', version.stdout);
  },
};

cases.help = {
  title: 'every command has its own help however it is asked and none points at a docs file',
  async run(ctx) {
    const all = await run(ctx, ['--help']);
    check(all.code === 0 && all.stdout.startsWith('devflow - ') && all.stdout.includes('Exit codes:'), 'the tool help', all.stdout);
    checkEqual((await run(ctx, ['help'])).stdout, all.stdout, 'devflow help says the same');
    const helps = {};
    for (const command of ['login', 'token', 'status', 'logout']) {
      const asked = await run(ctx, ['help', command]);
      check(asked.code === 0, `help ${command} exit ${asked.code}`, asked.stderr);
      check(asked.stdout.startsWith(`devflow ${command} - `), `help ${command} names it`, asked.stdout);
      check(asked.stdout.includes('Usage:\n  devflow ' + command) && asked.stdout.includes('Example:\n') && asked.stdout.includes('Exit codes:\n'), `help ${command} has usage example and exit codes`, asked.stdout);
      checkEqual(asked.stderr, '', `help ${command} stderr`);
      for (const spelling of [[command, '--help'], [command, '-h'], ['--help', command]])
        checkEqual((await run(ctx, spelling)).stdout, asked.stdout, `${spelling.join(' ')} says the same`);
      helps[command] = asked.stdout;
      check(!asked.stdout.includes('docs/'), `help ${command} points at no docs file`, asked.stdout);
    }
    check(!all.stdout.includes('docs/'), 'the tool help points at no docs file', all.stdout);
    check(helps.login !== helps.token && helps.login.includes('--force') && !helps.token.includes('--force'), 'login and token have their own help');
    checkFailure(await run(ctx, ['help', 'frobnicate']), 2, /^devflow: unknown command "frobnicate" \(commands: login, token, status, logout.*\); see `devflow --help`$/);
  },
};

cases.no_device_flow = {
  title: 'a server without the device flow exits 2 with one line',
  async run(ctx) {
    const fake = await fakeIssuer((path, issuer) => (path === '/.well-known/openid-configuration'
      ? { status: 200, body: JSON.stringify({ issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/auth` }) }
      : { status: 404, body: '{}' }));
    try {
      const r = await run(ctx, ['login', '--no-browser', '--issuer', fake.issuer, '--client-id', PUBLIC]);
      checkFailure(r, 2, `devflow: the server at ${fake.issuer} does not offer the device flow: its metadata has no device_authorization_endpoint (RFC 8628 §4); enable the OAuth 2.0 Device Authorization Grant at the server`);
    } finally {
      await fake.close();
    }
    const empty = await fakeIssuer(() => ({ status: 404, body: '{}' }));
    try {
      const r = await run(ctx, ['login', '--no-browser', '--issuer', `${empty.issuer}/tenant`, '--client-id', PUBLIC]);
      checkFailure(r, 2, `devflow: no metadata found for the issuer ${empty.issuer}/tenant (${empty.issuer}/tenant/.well-known/openid-configuration answered HTTP 404, ${empty.issuer}/.well-known/oauth-authorization-server/tenant answered HTTP 404); is the issuer URL right?`);
    } finally {
      await empty.close();
    }
  },
};

cases.invalid_client = {
  title: 'an unknown client exits 2 with one line',
  async run(ctx) {
    const { info } = await ctx.server();
    const r = await run(ctx, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', 'nobody']);
    checkFailure(r, 2, 'devflow: the server does not accept client "nobody" (invalid_client); check --client-id, and --client-secret-env for a confidential client');
  },
};

cases.untrusted_settings = {
  title: 'a planted or exposed settings file is refused with exit 8 and nothing is sent anywhere',
  async run(ctx) {
    // Another user's server, recording every request it gets.
    let requests = 0;
    const evil = await fakeIssuer(() => { requests += 1; return { status: 404, body: '{}' }; });
    try {
      const cache = join(ctx.dir, 'shared');
      mkdirSync(cache, { mode: 0o755 });
      chmodSync(cache, 0o755);
      const settingsFile = join(cache, 'cli-settings.json');
      const planted = JSON.stringify({ devflow_cli_settings: 1, issuer: evil.issuer, client_id: PUBLIC, scopes: ['openid'], client_secret_env: 'HOME' });
      const expectRefused = async (reason) => {
        for (const command of ['token', 'status', 'logout', 'login']) {
          const r = await run(ctx, [command, '--no-browser', '--cache', `${cache}/`]);
          checkFailure(r, 8, `devflow: the settings file ${settingsFile} ${reason}; devflow does not use it (remove it, or make it yours with mode 0600)`);
        }
        checkEqual(requests, 0, 'requests to the server the settings name');
      };
      // Readable and writable by others.
      writeFileSync(settingsFile, planted, { mode: 0o666 });
      chmodSync(settingsFile, 0o666);
      await expectRefused('is accessible to other users (mode 0666)');
      // A symbolic link to a file that would pass every check.
      rmSync(settingsFile);
      const target = join(ctx.dir, 'elsewhere.json');
      writeFileSync(target, planted, { mode: 0o600 });
      symlinkSync(target, settingsFile);
      await expectRefused('is a symbolic link');
      // Another user's file (only root can make one).
      if (process.getuid && process.getuid() === 0) {
        rmSync(settingsFile);
        writeFileSync(settingsFile, planted, { mode: 0o600 });
        chownSync(settingsFile, 65534, 65534);
        await expectRefused('belongs to another user (uid 65534)');
      }
      // The user's existing directory was never chmod-ed.
      checkEqual(statSync(cache).mode & 0o777, 0o755, 'the existing cache directory keeps its mode');
    } finally {
      await evil.close();
    }
  },
};

cases.force_revokes = {
  title: 'login --force revokes the old session at the server before signing in again',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const project = join(ctx.dir, 'project');
    mkdirSync(project, { mode: 0o755 });
    chmodSync(project, 0o755);
    const first = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--cache', `${project}/`]);
    check(first.code === 0, `login exit ${first.code}`, first.stderr);
    const old = (await run(ctx, ['token', '--cache', `${project}/`])).stdout.trim();
    remember(old);
    harvestSecrets(ctx.dir);
    checkEqual((await userinfo(info, old)).status, 200, 'the first session works');
    const revocationsBefore = (await server.stats()).revocations;
    const again = await loginApproved(ctx, ['--force', '--cache', `${project}/`]);
    check(again.code === 0, `login --force exit ${again.code}`, again.stderr);
    harvestSecrets(ctx.dir);
    check((await server.stats()).revocations > revocationsBefore, 'the old session was revoked');
    checkEqual((await userinfo(info, old)).status, 401, 'the old access token is refused');
    const fresh = (await run(ctx, ['token', '--cache', `${project}/`])).stdout.trim();
    remember(fresh);
    checkEqual((await userinfo(info, fresh)).status, 200, 'the new session works');
    checkEqual(statSync(project).mode & 0o777, 0o755, 'an existing --cache directory keeps its mode');
  },
};

cases.browser_environment = {
  title: 'the browser gets neither the client secret variable nor the open sockets',
  server: { DEVFLOW_CONFIDENTIAL_SECRET: CONFIDENTIAL_SECRET },
  async run(ctx) {
    const { info } = await ctx.server();
    remember(CONFIDENTIAL_SECRET);
    const seen = join(ctx.dir, 'browser-saw.txt');
    const script = join(ctx.dir, 'browser.sh');
    writeFileSync(script, `#!/bin/sh\n{ echo "secret=\${MY_CLIENT_SECRET:-unset}"; for f in /proc/$$/fd/*; do echo "fd \${f##*/} $(readlink "$f")"; done; } > '${seen}'\n`, { mode: 0o700 });
    const env = { MY_CLIENT_SECRET: CONFIDENTIAL_SECRET, BROWSER: `sh ${script}` };
    const login = start(ctx, ['login', '--issuer', info.issuer, '--client-id', CONFIDENTIAL, '--client-secret-env', 'MY_CLIENT_SECRET'], { env });
    const p = await login.prompt();
    const deadline = Date.now() + 10000;
    while (!existsSync(seen) && Date.now() < deadline) await sleep(50);
    await approve(p.complete);
    const r = await login.result();
    harvestSecrets(ctx.dir);
    check(r.code === 0, `login exit ${r.code}`, r.stderr);
    check(r.stderr.includes('devflow: a browser window has been opened at that page'), 'the browser was started', r.stderr);
    const saw = readFileSync(seen, 'utf8');
    check(saw.includes('secret=unset'), 'the browser did not see MY_CLIENT_SECRET', saw);
    check(!saw.includes('socket:'), 'the browser inherited no socket', saw);
  },
};

cases.single_file_two_clients = {
  title: 'a second client signing in with the same single-file cache is refused naming the first and nothing switches',
  server: { DEVFLOW_CONFIDENTIAL_SECRET: CONFIDENTIAL_SECRET },
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    remember(CONFIDENTIAL_SECRET);
    const cache = join(ctx.dir, '.tokens.json');
    const first = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--cache', cache]);
    harvestSecrets(ctx.dir);
    check(first.code === 0, `first login exit ${first.code}`, first.stderr);
    const settingsBefore = readFileSync(`${cache}.cli-settings.json`, 'utf8');
    const recordBefore = readFileSync(cache, 'utf8');
    const devicesBefore = (await server.stats()).device_authorization_requests;

    // Another client, the same file: refused before any request, naming whose session it is.
    const env = { MY_CLIENT_SECRET: CONFIDENTIAL_SECRET };
    const second = await run(ctx, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', CONFIDENTIAL,
      '--client-secret-env', 'MY_CLIENT_SECRET', '--cache', cache], { env });
    checkFailure(second, 2, new RegExp(`^devflow: the token store already holds the session of client "${PUBLIC}" at ${info.issuer.replace(/[.]/g, '\\.')} \\(scopes: openid\\) under this key; signing in as client "${CONFIDENTIAL}" .* would replace it`));
    checkEqual((await server.stats()).device_authorization_requests, devicesBefore, 'no device authorization for the refused client');
    checkEqual(readFileSync(cache, 'utf8'), recordBefore, 'the first session is untouched');
    checkEqual(readFileSync(`${cache}.cli-settings.json`, 'utf8'), settingsBefore, 'the remembered settings did not switch');

    // The first client carries on with no options: its settings, its token.
    const tok = await run(ctx, ['token', '--cache', cache]);
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
    checkEqual((await userinfo(info, tok.stdout.trim())).status, 200, 'the first client token works');
    const st = await run(ctx, ['status', '--cache', cache]);
    check(st.stdout.includes(`client         ${PUBLIC}`), 'status names the first client', st.stdout);
  },
};

cases.settings_switch = {
  title: 'a login on the directory cache as another client says once that later commands use it',
  server: { DEVFLOW_CONFIDENTIAL_SECRET: CONFIDENTIAL_SECRET },
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    remember(CONFIDENTIAL_SECRET);
    const first = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(first.code === 0, `first login exit ${first.code}`, first.stderr);
    check(!first.stderr.includes('later commands use'), 'the first login switches nothing', first.stderr);
    // Another client on the same (directory) cache: its own record, and the
    // remembered settings switch to it, saying so once.
    const env = { MY_CLIENT_SECRET: CONFIDENTIAL_SECRET };
    const second = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', CONFIDENTIAL,
      '--client-secret-env', 'MY_CLIENT_SECRET'], { env });
    harvestSecrets(ctx.dir);
    check(second.code === 0, `second login exit ${second.code}`, second.stderr);
    const line = `devflow: later commands use client "${CONFIDENTIAL}" at ${info.issuer} (they used client "${PUBLIC}" at ${info.issuer})\n`;
    checkEqual(second.stderr.split(line).length - 1, 1, 'the switch is said once', second.stderr);
    const st = await run(ctx, ['status'], { env });
    check(st.stdout.includes(`client         ${CONFIDENTIAL}`), 'status follows the new client', st.stdout);
    // Signing in again as the same client says nothing.
    const again = await run(ctx, ['login', '--no-browser'], { env });
    check(again.code === 0, `third login exit ${again.code}`, again.stderr);
    check(!again.stderr.includes('later commands use'), 'no switch, no line', again.stderr);
  },
};

cases.profiles = {
  title: 'named profiles keep their own settings and cache and the unnamed settings keep working',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const configFile = join(ctx.dir, 'config', 'devflow', 'config.json');

    // The unnamed settings, as before profiles existed.
    const plain = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(plain.code === 0, `login exit ${plain.code}`, plain.stderr);
    check(!existsSync(configFile), 'no config file without a profile');

    // A named profile: created by login, with a cache of its own.
    const lab = await loginApproved(ctx, ['--profile', 'lab', '--issuer', info.issuer, '--client-id', PUBLIC, '--scope', 'openid profile']);
    harvestSecrets(ctx.dir);
    check(lab.code === 0, `login --profile exit ${lab.code}`, lab.stderr);
    check(lab.stderr.includes(`devflow: created profile "lab" in ${configFile}\n`), 'login says it created the profile', lab.stderr);
    checkEqual(statSync(configFile).mode & 0o777, 0o600, 'the config file is private');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    checkEqual(JSON.stringify(config), JSON.stringify({ devflow_config: 1, profiles: { lab: { issuer: info.issuer, client_id: PUBLIC, scopes: ['openid', 'profile'], store: 'file' } } }), 'the config file (login remembers the store it used)');
    const labCache = join(ctx.dir, 'state', 'devflow', 'profiles', 'lab');
    check(readdirSync(labCache).some((n) => /^[0-9a-f]{32}\.json$/.test(n)), 'the profile has its own cache', readdirSync(labCache).join(' '));
    check(!existsSync(join(labCache, 'cli-settings.json')), 'the profile keeps its settings in the config file only');
    checkEqual(server.info.issuer, info.issuer, 'issuer');
    checkEqual((await server.stats()).device_authorization_requests, 2, 'the profile signed in on its own');

    // Each way of choosing it gives the profile's token; without it, the unnamed one's.
    const labToken = (await run(ctx, ['token', '--profile', 'lab'])).stdout.trim();
    remember(labToken);
    checkEqual((await run(ctx, ['token'], { env: { DEVFLOW_PROFILE: 'lab' } })).stdout.trim(), labToken, 'DEVFLOW_PROFILE');
    const plainToken = (await run(ctx, ['token'])).stdout.trim();
    remember(plainToken);
    check(plainToken !== labToken && plainToken.length > 20, 'the unnamed settings have their own session');
    checkEqual((await run(ctx, ['token', '--profile', 'default'])).stdout.trim(), plainToken, '--profile default is the unnamed settings');
    for (const t of [labToken, plainToken]) checkEqual((await userinfo(info, t)).status, 200, 'both tokens work');

    // use: the default for commands without --profile.
    const use = await run(ctx, ['use', 'lab']);
    check(use.code === 0, `use exit ${use.code}`, use.stderr);
    checkEqual(use.stderr, 'devflow: commands without --profile now use profile "lab"\n', 'use line');
    checkEqual(JSON.parse(readFileSync(configFile, 'utf8')).default_profile, 'lab', 'default_profile written');
    checkEqual((await run(ctx, ['token'])).stdout.trim(), labToken, 'the default profile is used');
    const st = await run(ctx, ['status']);
    check(/^  profile\s+lab$/m.test(st.stdout) && /scopes\s+openid profile/.test(st.stdout), 'status names the profile', st.stdout);

    // profiles: both, the default starred, signed in, no token printed.
    const list = await run(ctx, ['profiles']);
    check(list.code === 0, `profiles exit ${list.code}`, list.stderr);
    const lines = list.stdout.trimEnd().split('\n');
    check(/^\s+PROFILE\s+ISSUER\s+CLIENT\s+STATE\s+EXPIRES IN$/.test(lines[0]), 'header', list.stdout);
    check(new RegExp(`^ +default +${info.issuer.replace(/[.]/g, '\\.')} +${PUBLIC} +signed in +token (59|60) min$`).test(lines[1]), 'default row', list.stdout);
    check(new RegExp(`^\\* +lab +${info.issuer.replace(/[.]/g, '\\.')} +${PUBLIC} +signed in +token (59|60) min$`).test(lines[2]), 'lab row', list.stdout);
    const lj = JSON.parse((await run(ctx, ['profiles', '--json'])).stdout);
    checkEqual(lj.default_profile, 'lab', 'json default');
    checkEqual(lj.profiles.map((p) => `${p.name}:${p.default}:${p.signed_in}`).join(' '), 'default:false:true lab:true:true', 'json rows');
    check(typeof lj.profiles[1].access_token_expires_at === 'number', 'json expiry', lj);

    // logout of the profile leaves the unnamed session alone.
    checkEqual((await run(ctx, ['logout'])).code, 0, 'logout of the default profile');
    checkFailure(await run(ctx, ['token', '--profile', 'lab']), 7, `devflow: not signed in to ${info.issuer} as client "${PUBLIC}"; run \`devflow login\` first`);
    checkEqual((await run(ctx, ['token', '--profile', 'default'])).stdout.trim(), plainToken, 'the unnamed session is untouched');
    checkEqual((await run(ctx, ['use', 'default'])).stderr, 'devflow: commands without --profile now use the default settings (no profile)\n', 'use default');
    checkEqual((await run(ctx, ['token'])).stdout.trim(), plainToken, 'back to the unnamed settings');
    check(!('default_profile' in JSON.parse(readFileSync(configFile, 'utf8'))), 'default_profile removed');

    // Profiles that do not exist, or cannot be.
    checkFailure(await run(ctx, ['token', '--profile', 'nope']), 2, 'devflow: no profile "nope" (profiles: lab); create it with `devflow login --profile nope --issuer URL --client-id ID`; see `devflow --help`');
    checkFailure(await run(ctx, ['use', 'nope']), 2, 'devflow: no profile "nope" (profiles: lab); see `devflow --help`');
    checkFailure(await run(ctx, ['token', '--profile', '../x']), 2, /^devflow: "\.\.\/x" is not a profile name/);
    checkFailure(await run(ctx, ['use']), 2, 'devflow: use needs NAME; see `devflow --help`');
  },
};

cases.config_file_refused = {
  title: 'a config file that is exposed or unknown or of a newer version stops every command before any request',
  async run(ctx) {
    let requests = 0;
    const evil = await fakeIssuer(() => { requests += 1; return { status: 404, body: '{}' }; });
    try {
      const dir = join(ctx.dir, 'config', 'devflow');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'config.json');
      const write = (j, mode = 0o600) => { writeFileSync(file, JSON.stringify(j), { mode }); chmodSync(file, mode); };
      const good = { devflow_config: 1, default_profile: 'x', profiles: { x: { issuer: evil.issuer, client_id: PUBLIC } } };
      const commands = [['token'], ['status'], ['logout'], ['login', '--no-browser'], ['profiles'], ['use', 'x']];
      write(good, 0o644);
      for (const c of commands)
        checkFailure(await run(ctx, c), 8, `devflow: the config file ${file} is accessible to other users (mode 0644); devflow does not use it (remove it, or make it yours with mode 0600)`);
      write({ ...good, devflow_config: 2 });
      for (const c of commands)
        checkFailure(await run(ctx, c), 2, `devflow: the config file ${file} cannot be used: it is of version 2, and this devflow reads version 1; a newer devflow wrote it: upgrade devflow (the file is left as it is)`);
      checkEqual(JSON.parse(readFileSync(file, 'utf8')).devflow_config, 2, 'the newer file is left alone');
      write({ ...good, profiles: { x: { ...good.profiles.x, clientid: 'y' } } });
      checkFailure(await run(ctx, ['token']), 2, `devflow: the config file ${file} cannot be used: it has an unknown key "clientid" in profile "x"; fix it or remove it`);
      const pj = await run(ctx, ['profiles', '--json']);
      checkEqual(JSON.parse(pj.stdout).error, 'config_file', '--json names the error');
      checkEqual(requests, 0, 'requests to the server the file names');
    } finally {
      await evil.close();
    }
  },
};

/// The commands and option spellings `devflow --help` lists.
async function helpVocabulary(ctx) {
  const help = (await run(ctx, ['--help'])).stdout;
  const commands = [...help.split('Commands:\n')[1].split('\n\n')[0].matchAll(/^  (\S+)/gm)].map((m) => m[1]);
  const optionPart = help.split('\nOptions')[1].split('\n\n')[0];
  const options = [...optionPart.matchAll(/^  (-\S+?)(?:,|\s|$)(?:\s*(--\S+))?/gm)].flatMap((m) => (m[2] ? [m[1], m[2]] : [m[1]]));
  check(commands.length >= 8 && options.length >= 15, 'the help lists commands and options', help);
  return { help, commands, options };
}

cases.completion_and_man = {
  title: 'the completion scripts run in bash zsh and fish and offer every command and option and the man page renders them all',
  async run(ctx) {
    const { commands, options } = await helpVocabulary(ctx);
    const bin = dirname(ctx.devflow);
    const env = { ...toolEnv(ctx.dir), PATH: `${bin}:${process.env.PATH}` };
    // A profile to complete.
    mkdirSync(join(ctx.dir, 'config', 'devflow'), { recursive: true, mode: 0o700 });
    writeFileSync(join(ctx.dir, 'config', 'devflow', 'config.json'), JSON.stringify({ devflow_config: 1, profiles: { lab: {}, 'ci-2': {} } }), { mode: 0o600 });
    const scripts = {};
    for (const shell of ['bash', 'zsh', 'fish']) {
      const r = await run(ctx, ['completion', shell]);
      check(r.code === 0 && r.stdout.length > 500, `completion ${shell}`, r.stderr);
      scripts[shell] = join(ctx.dir, `completion.${shell}`);
      writeFileSync(scripts[shell], r.stdout);
    }
    checkFailure(await run(ctx, ['completion', 'tcsh']), 2, 'devflow: completion does not know "tcsh" (SHELL: bash, zsh or fish); see `devflow --help`');

    // bash: valid, and its function offers what the help lists.
    const bashCheck = spawnSync('bash', ['-n', scripts.bash], { encoding: 'utf8' });
    checkEqual(bashCheck.status, 0, `bash -n: ${bashCheck.stderr}`);
    const complete = (words) => {
      const line = `source '${scripts.bash}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _devflow; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', env });
      check(r.status === 0, `bash completion of ${words.join(' ')}: ${r.stderr}`);
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    checkEqual(complete(['devflow', '']).join(' '), [...commands].sort().join(' '), 'bash offers every command');
    checkEqual(complete(['devflow', '-']).join(' '), [...options, '--scopes'].sort().join(' '), 'bash offers every option (and --scopes)');
    for (const command of ['login', 'token', 'profiles']) {
      const own = (await run(ctx, ['help', command])).stdout.split(/\n(?:General )?[Oo]ptions:\n/).slice(1).map((part) => part.split('\n\n')[0]).join('\n');
      const expected = [...own.matchAll(/^  (-\S+?)(?:,|\s|$)(?:\s*(--\S+))?/gm)].flatMap((m) => (m[2] ? [m[1], m[2]] : [m[1]]));
      const offered = complete(['devflow', command, '-']);
      for (const o of expected) check(offered.includes(o), `bash offers ${o} after ${command}`, offered.join(' '));
      for (const o of offered) check(expected.includes(o) || o === '--scopes', `bash offers only ${command}'s options (${o})`, offered.join(' '));
    }
    checkEqual(complete(['devflow', 'completion', '']).join(' '), 'bash fish zsh', 'bash offers the shells');
    checkEqual(complete(['devflow', 'help', 'lo']).join(' '), 'login logout', 'bash offers commands to help');
    checkEqual(complete(['devflow', 'token', '--profile', '']).join(' '), 'ci-2 default lab', 'bash offers the profiles');
    checkEqual(complete(['devflow', 'use', '']).join(' '), 'ci-2 default lab', 'bash offers the profiles to use');

    // zsh and fish: valid, and (fish) offering the same.
    const zsh = spawnSync('zsh', ['-n', scripts.zsh], { encoding: 'utf8' });
    if (zsh.error) process.stdout.write('note: zsh not installed; its script was not checked (scripts/setup.sh installs it)\n');
    else checkEqual(zsh.status, 0, `zsh -n: ${zsh.stderr}`);
    const fishCheck = spawnSync('fish', ['-n', scripts.fish], { encoding: 'utf8' });
    if (fishCheck.error) {
      process.stdout.write('note: fish not installed; its script was not checked (scripts/setup.sh installs it)\n');
    } else {
      checkEqual(fishCheck.status, 0, `fish -n: ${fishCheck.stderr}`);
      const fish = (line) => {
        const r = spawnSync('fish', ['--no-config', '-c', `source '${scripts.fish}'; complete -C '${line}'`], { encoding: 'utf8', env });
        check(r.status === 0, `fish complete -C ${line}: ${r.stderr}`);
        return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();
      };
      checkEqual(fish('devflow ').join(' '), [...commands].sort().join(' '), 'fish offers every command');
      const longOptions = options.filter((o) => o.startsWith('--')).sort();
      checkEqual(fish('devflow --').join(' '), [...longOptions, '--scopes'].sort().join(' '), 'fish offers every option (and --scopes)');
      check(!fish('devflow token --').includes('--force') && fish('devflow login --').includes('--force'), 'fish offers each command its own options');
      checkEqual(fish('devflow use ').join(' '), 'ci-2 default lab', 'fish offers the profiles');
    }

    // The man page: groff renders it without a warning, naming every command and option.
    const man = await run(ctx, ['--man']);
    checkEqual(man.code, 0, 'devflow --man');
    const page = join(ctx.dir, 'devflow.1');
    writeFileSync(page, man.stdout);
    const rendered = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P-cbou', page], { encoding: 'utf8' });
    if (rendered.error) {
      process.stdout.write('note: groff not installed; the man page was not rendered\n');
    } else {
      checkEqual(rendered.stderr, '', 'groff warnings');
      const text = rendered.stdout.replace(/\u2010/g, '-').replace(/-\n\s+/g, '-');
      for (const c of commands) check(new RegExp(`devflow ${c}\\b`).test(text), `the man page shows devflow ${c}`);
      for (const o of options) check(text.includes(o), `the man page shows ${o}`);
      check(/EXIT STATUS/.test(text) && /ENVIRONMENT/.test(text), 'sections', text);
    }
    const built = join(bin, 'devflow.1');
    if (existsSync(built)) checkEqual(readFileSync(built, 'utf8'), man.stdout, 'the man page the build wrote is the tool\'s');
  },
};

cases.ca_file = {
  title: 'an https issuer with a private CA works with --ca-file remembered for refreshes and fails with exit 5 without it',
  async run(ctx) {
    const { cert, key } = makeCertificate(ctx.dir, 'IP:127.0.0.1');
    const server = await startServer(ctx.dir, { DEVFLOW_TLS_CERT: cert, DEVFLOW_TLS_KEY: key, DEVFLOW_ACCESS_TOKEN_TTL: '4' });
    ctx.stopLater(server);
    const { info } = server;
    check(info.issuer.startsWith('https://127.0.0.1:'), 'an https issuer', info);
    const untrusted = await run(ctx, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC]);
    checkFailure(untrusted, 5, /^devflow: cannot reach the server \(cannot fetch https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: .*certificate.*\); check the issuer URL \(--issuer\) and your network$/);
    checkFailure(await run(ctx, ['login', '--issuer', info.issuer, '--client-id', PUBLIC, '--ca-file', join(ctx.dir, 'nope.pem')]), 2,
      `devflow: the CA file ${join(ctx.dir, 'nope.pem')} (--ca-file) cannot be read (No such file or directory); see \`devflow --help\``);
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--ca-file', cert], { ca: cert });
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    const remembered = JSON.parse(readFileSync(join(ctx.dir, 'state', 'devflow', 'cli-settings.json'), 'utf8'));
    checkEqual(remembered.ca_file, cert, 'login remembered the CA file');
    await sleep(2600);  // into the refresh margin (half of the 4 s lifetime)
    const tok = await run(ctx, ['token']);  // no --ca-file: the remembered one
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
    harvestSecrets(ctx.dir);
    const ui = await httpsGet(info.userinfo_endpoint, { ca: cert, headers: { authorization: `Bearer ${tok.stdout.trim()}` } });
    checkEqual(ui.status, 200, 'the refreshed token works');
    const stats = JSON.parse((await httpsGet(info.stats_endpoint, { ca: cert })).body);
    checkEqual(stats.refresh_requests, 1, 'the token was refreshed over https with the remembered CA');
  },
};

cases.proxy = {
  title: 'with --proxy https requests go through the proxy by CONNECT',
  async run(ctx) {
    // A TLS issuer on 127.0.0.1 known as idp.devflow.test, reachable only through the proxy.
    const { cert, key } = makeCertificate(ctx.dir, 'DNS:idp.devflow.test');
    const issuer = 'https://idp.devflow.test';
    const idp = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      res.writeHead(req.url === '/.well-known/openid-configuration' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token` }));
    });
    await new Promise((r) => idp.listen(0, '127.0.0.1', r));
    const connects = [];
    const proxy = http.createServer((req, res) => { res.writeHead(405); res.end(); });
    proxy.on('connect', (req, client, head) => {
      connects.push(req.url);
      if (req.url !== 'idp.devflow.test:443') { client.end('HTTP/1.1 403 Forbidden\r\n\r\n'); return; }
      const upstream = net.connect(idp.address().port, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const proxyUrl = `http://127.0.0.1:${proxy.address().port}`;
      const r = await run(ctx, ['login', '--no-browser', '--issuer', issuer, '--client-id', PUBLIC, '--ca-file', cert, '--proxy', proxyUrl]);
      // Discovery went through the tunnel to the issuer, which offers no device flow.
      checkFailure(r, 2, `devflow: the server at ${issuer} does not offer the device flow: its metadata has no device_authorization_endpoint (RFC 8628 §4); enable the OAuth 2.0 Device Authorization Grant at the server`);
      checkEqual(connects.join(' '), 'idp.devflow.test:443', 'the request went through the proxy');
    } finally {
      await new Promise((r) => proxy.close(r));
      await new Promise((r) => idp.close(r));
    }
  },
};

cases.id_token_and_quiet = {
  title: 'token --id-token prints the id_token and --quiet leaves out the success lines but not the prompt',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const login = await loginApproved(ctx, ['--quiet', '--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    check(login.stderr.includes('devflow: to sign in, open '), 'the prompt still shows with --quiet', login.stderr);
    check(!login.stderr.includes('signed in to'), 'no closing line with --quiet', login.stderr);
    checkEqual((await run(ctx, ['login', '-q'])).stderr, '', 'a quiet reuse says nothing');
    const id = await run(ctx, ['token', '--id-token']);
    check(id.code === 0, `token --id-token exit ${id.code}`, id.stderr);
    const idToken = id.stdout.trim();
    check(harvestSecrets(ctx.dir).includes(idToken), 'the id_token of the session', idToken.length);
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
    check(claims.sub === 'alice' && claims.aud === PUBLIC && claims.iss === info.issuer, 'its claims', claims);
    const access = (await run(ctx, ['token'])).stdout.trim();
    check(access !== idToken, 'not the access token');
    const ij = JSON.parse((await run(ctx, ['token', '--id-token', '--json'])).stdout);
    check(ij.id_token === idToken && ij.expires_at === claims.exp, 'token --id-token --json', Object.keys(ij));
    checkFailure(await run(ctx, ['status', '--id-token']), 2, 'devflow: --id-token goes with token only; see `devflow --help`');
    checkFailure(await run(ctx, ['token', '-q', '-v']), 2, 'devflow: --quiet and --verbose cannot go together; see `devflow --help`');
    checkEqual((await run(ctx, ['logout', '--quiet'])).stderr, '', 'a quiet logout says nothing');
    // A session without openid has no id_token.
    const bare = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--scope', 'profile', '--cache', join(ctx.dir, 'bare.json')]);
    harvestSecrets(ctx.dir);
    check(bare.code === 0, `login exit ${bare.code}`, bare.stderr);
    checkFailure(await run(ctx, ['token', '--id-token', '--cache', join(ctx.dir, 'bare.json')]), 7,
      'devflow: the session has no id_token (the server sends one only when the openid scope was asked for); sign in again with `devflow login --force --scope openid`');
  },
};

/// A small Kubernetes API server on 127.0.0.1 over https: it answers only a
/// request whose bearer token the provider's userinfo endpoint accepts, 401
/// otherwise. `seen` counts the accepted and refused requests.
async function fakeApiServer(cert, key, info) {
  const seen = { accepted: 0, refused: 0, paths: [] };
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, async (req, res) => {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer (\S+)$/.exec(auth);
    const ok = m ? (await userinfo(info, m[1])).status === 200 : false;
    seen.paths.push(`${req.method} ${req.url.split('?')[0]} ${ok ? 200 : 401}`);
    res.setHeader('content-type', 'application/json');
    if (!ok) {
      seen.refused += 1;
      res.writeHead(401);
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      return;
    }
    seen.accepted += 1;
    const path = req.url.split('?')[0];
    if (path === '/version') {
      res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' }));
    } else if (path === '/api/v1/namespaces/default/pods') {
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '1' },
        items: [{ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'devflow-test-pod', namespace: 'default' } }] }));
    } else {
      res.writeHead(404);
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 }));
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `https://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

/// A kubeconfig whose user runs `devflow kubectl-credential ARGS`.
function writeKubeconfig(file, { server, ca, devflow, args = [], apiVersion = 'client.authentication.k8s.io/v1', interactiveMode = 'Never' }) {
  const exec = [
    `      apiVersion: ${apiVersion}`,
    `      command: ${devflow}`,
    `      args: [${['kubectl-credential', ...args].map((a) => JSON.stringify(a)).join(', ')}]`,
  ];
  if (apiVersion.endsWith('/v1') || interactiveMode !== 'Never') exec.push(`      interactiveMode: ${interactiveMode}`);
  writeFileSync(file, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: local', '  cluster:', `    server: ${server}`, `    certificate-authority: ${ca}`,
    'contexts:', '- name: local', '  context:', '    cluster: local', '    user: dev',
    'current-context: local',
    'users:', '- name: dev', '  user:', '    exec:', ...exec, '',
  ].join('\n'), { mode: 0o600 });
}

/// Runs kubectl with `args`: {code, stdout, stderr}.
async function kubectl(ctx, args, { env = {} } = {}) {
  const child = spawn('kubectl', args, { env: { ...toolEnv(ctx.dir), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', code: null };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  ctx.outputs.push(r);
  ctx.children.push(child);
  r.code = await new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.once('close', (code) => { clearTimeout(timer); resolve(code); });
  });
  return r;
}

cases.kubectl_credential = {
  title: 'kubectl runs devflow kubectl-credential and reaches an API server that accepts only a valid token',
  async run(ctx) {
    if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error) {
      process.stdout.write('note: kubectl not installed (scripts/setup.sh installs kubernetes-client); skipped\n');
      return;
    }
    const server = await ctx.server();
    const { info } = server;
    const { cert, key } = makeCertificate(ctx.dir, 'IP:127.0.0.1', 'api');
    const api = await fakeApiServer(cert, key, info);
    ctx.onCleanup(api.close);
    const kubeconfig = join(ctx.dir, 'kubeconfig');
    const getPods = ['--kubeconfig', kubeconfig, 'get', '--raw', '/api/v1/namespaces/default/pods'];

    // Not signed in, and kubectl says nobody is there (interactiveMode Never): kubectl fails with devflow's line.
    writeKubeconfig(kubeconfig, { server: api.url, ca: cert, devflow: ctx.devflow, args: ['--issuer', info.issuer, '--client-id', PUBLIC] });
    const before = await kubectl(ctx, getPods);
    check(before.code !== 0, 'kubectl fails without a session', before.stdout, before.stderr);
    check(before.stderr.includes(`devflow: not signed in to ${info.issuer} as client "${PUBLIC}", and kubectl runs this plugin without a terminal (interactiveMode); run \`devflow login\` first`), 'devflow says why on kubectl\'s stderr', before.stderr);
    checkEqual(api.seen.accepted, 0, 'nothing accepted');
    checkEqual((await server.stats()).device_authorization_requests, 0, 'no sign-in started');

    // Signed in: kubectl gets the pods with devflow's token (v1, then v1beta1).
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    writeKubeconfig(kubeconfig, { server: api.url, ca: cert, devflow: ctx.devflow });
    const pods = await kubectl(ctx, getPods);
    check(pods.code === 0, `kubectl exit ${pods.code}`, pods.stderr);
    checkEqual(JSON.parse(pods.stdout).items[0].metadata.name, 'devflow-test-pod', 'the pods');
    check(api.seen.accepted >= 1 && api.seen.paths.includes('GET /api/v1/namespaces/default/pods 200'), 'the API server accepted the token', api.seen);
    writeKubeconfig(kubeconfig, { server: api.url, ca: cert, devflow: ctx.devflow, apiVersion: 'client.authentication.k8s.io/v1beta1' });
    const beta = await kubectl(ctx, getPods);
    check(beta.code === 0, `kubectl (v1beta1) exit ${beta.code}`, beta.stderr);
    checkEqual(api.seen.refused, 0, 'no request was refused');

    // The plugin's own output: the ExecCredential in the version asked for, nothing on stderr.
    for (const version of ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']) {
      const direct = await run(ctx, ['kubectl-credential'], { env: { KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', apiVersion: version, spec: { interactive: false } }) } });
      check(direct.code === 0, `kubectl-credential exit ${direct.code}`, direct.stderr);
      checkEqual(direct.stderr, '', 'stderr');
      const cred = JSON.parse(direct.stdout);
      checkEqual(`${cred.apiVersion} ${cred.kind} ${Object.keys(cred.status).join(',')}`, `${version} ExecCredential token,expirationTimestamp`, 'the ExecCredential');
      check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(cred.status.expirationTimestamp) && Date.parse(cred.status.expirationTimestamp) > Date.now() + 50 * 60 * 1000, 'its expiry', cred.status.expirationTimestamp);
      checkEqual((await userinfo(info, cred.status.token)).status, 200, 'its token works');
    }
    checkFailure(await run(ctx, ['kubectl-credential'], { env: { KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1alpha1', spec: {} }) } }), 2,
      /^devflow: kubectl asks for an ExecCredential of client\.authentication\.k8s\.io\/v1alpha1; devflow answers/);

    // A token the provider no longer accepts is refused by the API server (it checks).
    checkEqual((await run(ctx, ['logout'])).code, 0, 'logout');
    const after = await kubectl(ctx, getPods);
    check(after.code !== 0 && after.stderr.includes('devflow: not signed in'), 'kubectl fails again after logout', after.stderr);
  },
};

cases.kubectl_credential_prompt = {
  title: 'kubectl-credential signs in with the prompt on stderr when kubectl says a person is there and stdout holds only the ExecCredential',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const env = { KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { interactive: true } }) };
    const plugin = start(ctx, ['kubectl-credential', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC], { env });
    const p = await plugin.prompt();
    checkEqual(plugin.output.stdout, '', 'nothing on stdout while waiting');
    await approve(p.complete);
    const r = await plugin.result();
    harvestSecrets(ctx.dir);
    check(r.code === 0, `exit ${r.code}`, r.stderr);
    const cred = JSON.parse(r.stdout);
    check(r.stdout.trim().split('\n').length === 1 && cred.kind === 'ExecCredential', 'one ExecCredential line', Object.keys(cred));
    remember(cred.status.token);
    checkEqual((await userinfo(info, cred.status.token)).status, 200, 'the token works');
    check(!r.stderr.includes(cred.status.token), 'no token on stderr');
  },
};

/// A git smart-HTTP server on 127.0.0.1 over https: `git http-backend` (the
/// CGI shipped with git) behind Basic authentication whose password must be
/// a token the provider's userinfo endpoint accepts and the test has not
/// marked refused. Serves the bare repositories under `root`.
async function fakeGitServer(cert, key, info, root) {
  const seen = { accepted: 0, refused: 0, users: new Set() };
  const refused = new Set();
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, async (req, res) => {
    const m = /^Basic (\S+)$/.exec(req.headers.authorization ?? '');
    let user = '';
    let ok = false;
    if (m) {
      const decoded = Buffer.from(m[1], 'base64').toString();
      const colon = decoded.indexOf(':');
      user = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      ok = !refused.has(password) && (await userinfo(info, password)).status === 200;
    }
    if (!ok) {
      seen.refused += 1;
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="devflow-test"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    seen.accepted += 1;
    seen.users.add(user);
    const url = new URL(req.url, 'https://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method, PATH_INFO: decodeURIComponent(url.pathname), QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_USER: user, REMOTE_ADDR: '127.0.0.1',
        HTTP_GIT_PROTOCOL: req.headers['git-protocol'] ?? '', HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    cgi.stdin.on('error', () => {});
    req.pipe(cgi.stdin);
    const chunks = [];
    cgi.stdout.on('data', (d) => chunks.push(d));
    cgi.once('close', () => {
      const out = Buffer.concat(chunks);
      const end = out.indexOf('\r\n\r\n');
      const head = out.subarray(0, end).toString().split('\r\n');
      let status = 200;
      const headers = {};
      for (const line of head) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).toLowerCase();
        const value = line.slice(i + 1).trim();
        if (name === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.end(out.subarray(end + 4));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${server.address().port}`, seen, refuse: (t) => refused.add(t),
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/// Runs git with `args` (and `input` on stdin): {code, stdout, stderr}.
async function git(ctx, args, { input = '', env = {} } = {}) {
  const child = spawn('git', args, { env: { ...toolEnv(ctx.dir), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', code: null };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  child.stdin.on('error', () => {});  // git may not read it
  child.stdin.end(input);
  ctx.outputs.push(r);
  ctx.children.push(child);
  r.code = await new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    child.once('close', (code) => { clearTimeout(timer); resolve(code); });
  });
  return r;
}

cases.git_credential = {
  title: 'git credential fill and git ls-remote get a valid token from devflow and a refused one is replaced by erase',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    mkdirSync(join(ctx.dir, 'home'), { recursive: true });
    // A bare repository with one commit.
    const root = join(ctx.dir, 'git');
    mkdirSync(root);
    const plain = { env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@devflow.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@devflow.test' } };
    checkEqual((await git(ctx, ['init', '-q', '-b', 'main', join(root, 'work')])).code, 0, 'git init');
    checkEqual((await git(ctx, ['-C', join(root, 'work'), 'commit', '-q', '--allow-empty', '-m', 'first'], plain)).code, 0, 'git commit');
    checkEqual((await git(ctx, ['clone', '-q', '--bare', join(root, 'work'), join(root, 'repo.git')])).code, 0, 'git clone --bare');
    const head = (await git(ctx, ['-C', join(root, 'work'), 'rev-parse', 'HEAD'])).stdout.trim();
    const { cert, key } = makeCertificate(ctx.dir, 'IP:127.0.0.1', 'git');
    const gitServer = await fakeGitServer(cert, key, info, root);
    ctx.onCleanup(gitServer.close);
    const remote = `https://${gitServer.host}/repo.git`;
    const gitEnv = { env: { GIT_SSL_CAINFO: cert } };

    // Without a helper git has no credentials: refused.
    const none = await git(ctx, ['ls-remote', remote], gitEnv);
    check(none.code !== 0 && gitServer.seen.accepted === 0, 'no credentials, no access', none.stderr);

    // setup-git writes the global config as gh does.
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    const setup = await run(ctx, ['setup-git', '--host', gitServer.host]);
    check(setup.code === 0, `setup-git exit ${setup.code}`, setup.stderr);
    checkEqual(setup.stderr, `devflow: git now asks devflow for credentials for https://${gitServer.host} (credential.https://${gitServer.host}.helper in your global git config)\n`, 'setup-git line');
    const helpers = (await git(ctx, ['config', '--global', '--get-all', `credential.https://${gitServer.host}.helper`])).stdout.split('\n');
    checkEqual(helpers[0], '', 'the helper list is reset first');
    checkEqual(helpers[1], `!'${ctx.devflow}' 'git-credential' '--host' '${gitServer.host}'`, 'then devflow is the helper');

    // git credential fill: the token as password.
    const fill = await git(ctx, ['credential', 'fill'], { input: `protocol=https\nhost=${gitServer.host}\npath=repo.git\n\n` });
    check(fill.code === 0, `git credential fill exit ${fill.code}`, fill.stderr);
    const filled = Object.fromEntries(fill.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    checkEqual(`${filled.protocol} ${filled.host} ${filled.username}`, `https ${gitServer.host} oauth2`, 'what git filled in');
    const token = (await run(ctx, ['token'])).stdout.trim();
    checkEqual(filled.password, token, 'the password is the access token');

    // git ls-remote against the server that accepts only valid tokens.
    const ls = await git(ctx, ['ls-remote', remote], gitEnv);
    check(ls.code === 0, `git ls-remote exit ${ls.code}`, ls.stderr);
    check(ls.stdout.includes(`${head}\tHEAD`) && ls.stdout.includes(`${head}\trefs/heads/main`), 'the refs', ls.stdout);
    check(gitServer.seen.accepted >= 1 && gitServer.seen.users.has('oauth2'), 'the server accepted the token', [...gitServer.seen.users]);

    // The server refuses that token: git fails and erases it; devflow refreshes, and git works again.
    const refreshesBefore = (await server.stats()).refresh_requests;
    gitServer.refuse(token);
    const refusedRun = await git(ctx, ['ls-remote', remote], gitEnv);
    check(refusedRun.code !== 0, 'git fails with the refused token', refusedRun.stdout);
    checkEqual((await server.stats()).refresh_requests, refreshesBefore + 1, 'erase refreshed the session');
    const fresh = (await run(ctx, ['token'])).stdout.trim();
    remember(fresh);
    harvestSecrets(ctx.dir);
    check(fresh !== token, 'a new access token in the cache');
    const again = await git(ctx, ['ls-remote', remote], gitEnv);
    check(again.code === 0 && again.stdout.includes(head), `git works again (exit ${again.code})`, again.stderr);
    checkEqual((await server.stats()).device_authorization_requests, 1, 'no new sign-in: the refresh token stayed');

    // store is ignored; a request for another host or over http gets nothing.
    checkEqual((await run(ctx, ['git-credential', 'store', '--host', gitServer.host])).code, 0, 'store');
    const other = spawnSync(ctx.devflow, ['git-credential', 'get', '--host', gitServer.host], { input: 'protocol=https\nhost=evil.example\n\n', env: toolEnv(ctx.dir), encoding: 'utf8' });
    check(other.status === 0 && other.stdout === '' && other.stderr === `devflow: warning: not giving a token to evil.example: this helper serves ${gitServer.host} (--host)\n`, 'another host gets nothing', other.stdout, other.stderr);
    const clear = spawnSync(ctx.devflow, ['git-credential', 'get', '--host', 'git.devflow.test'], { input: 'protocol=http\nhost=git.devflow.test\n\n', env: toolEnv(ctx.dir), encoding: 'utf8' });
    check(clear.status === 0 && clear.stdout === '' && clear.stderr.includes('only https carries it'), 'plain http gets nothing', clear.stdout, clear.stderr);
    ctx.outputs.push({ stdout: other.stdout + clear.stdout, stderr: other.stderr + clear.stderr });

    // Signed out: get fails with exit 7, and git with it.
    checkEqual((await run(ctx, ['logout'])).code, 0, 'logout');
    const out = spawnSync(ctx.devflow, ['git-credential', 'get', '--host', gitServer.host], { input: `protocol=https\nhost=${gitServer.host}\n\n`, env: toolEnv(ctx.dir), encoding: 'utf8' });
    checkEqual(out.status, 7, 'get exit when signed out');
    checkEqual(out.stderr, `devflow: not signed in to ${info.issuer} as client "${PUBLIC}"; run \`devflow login\` first\n`, 'its line');
    ctx.outputs.push({ stdout: out.stdout, stderr: out.stderr });
    checkFailure(await run(ctx, ['setup-git', '--host', 'https://x.example']), 2, 'devflow: "https://x.example" is not a host (give the host of the https URL, with :PORT when it has one); see `devflow --help`');
  },
};

cases.keep_alive = {
  title: 'keep-alive keeps a short session alive through a long pause and status sees it and SIGTERM ends it with 0',
  // Access tokens of 4 s, refresh tokens of 6 s (refresh_expires_in sent): a
  // session nobody refreshes is dead after 6 s.
  server: { DEVFLOW_ACCESS_TOKEN_TTL: '4', DEVFLOW_REFRESH_TOKEN_TTL: '6', DEVFLOW_REFRESH_EXPIRES_IN: '1' },
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const kept = join(ctx.dir, 'kept.json');
    const left = join(ctx.dir, 'left.json');
    for (const cache of [kept, left]) {
      const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--cache', cache]);
      harvestSecrets(ctx.dir);
      check(login.code === 0, `login exit ${login.code}`, login.stderr);
    }
    checkFailure(await run(ctx, ['keep-alive', '--cache', join(ctx.dir, 'none.json'), '--issuer', info.issuer, '--client-id', PUBLIC]), 7,
      `devflow: not signed in to ${info.issuer} as client "${PUBLIC}"; run \`devflow login\` first`);

    const keeper = start(ctx, ['keep-alive', '--cache', kept], { timeoutMs: 60000 });
    const deadline = Date.now() + 5000;
    while (!keeper.output.stderr.includes('alive (pid') && Date.now() < deadline) await sleep(50);
    checkEqual(keeper.output.stderr, `devflow: keeping the session of client "${PUBLIC}" at ${info.issuer} alive (pid ${keeper.child.pid}); stop it with Ctrl-C or SIGTERM\n`, 'keep-alive says what it keeps');
    const st = await run(ctx, ['status', '--cache', kept]);
    check(new RegExp(`^  keep-alive\\s+running \\(pid ${keeper.child.pid}\\)$`, 'm').test(st.stdout), 'status sees it', st.stdout);
    checkEqual(JSON.stringify(JSON.parse((await run(ctx, ['status', '--json', '--cache', kept])).stdout).keep_alive), JSON.stringify({ running: true, pid: keeper.child.pid }), 'status --json sees it');
    check(/^  keep-alive\s+not running$/m.test((await run(ctx, ['status', '--cache', left])).stdout), 'the other session has none');
    checkFailure(await run(ctx, ['keep-alive', '--cache', kept]), 2, `devflow: a keep-alive already runs for this session (pid ${keeper.child.pid}); \`devflow status\` shows it`);

    await sleep(10000);  // longer than a refresh token lives
    checkEqual(keeper.output.code, null, 'keep-alive is still running');
    const tok = await run(ctx, ['token', '--cache', kept]);
    check(tok.code === 0, `token after the pause exit ${tok.code}`, tok.stderr);
    checkEqual(tok.stderr, '', 'no prompt, no warning');
    remember(tok.stdout.trim());
    harvestSecrets(ctx.dir);
    checkEqual((await userinfo(info, tok.stdout.trim())).status, 200, 'the token works');
    // The same pause without a keep-alive ends the session.
    checkFailure(await run(ctx, ['token', '--cache', left]), 7, /^devflow: (the server no longer accepts this sign-in|the session has ended)/);
    check((await server.stats()).refresh_requests >= 3, 'keep-alive refreshed on its schedule');
    checkEqual((await server.stats()).device_authorization_requests, 2, 'no new sign-in');

    // SIGTERM: exit 0, and status sees it gone.
    keeper.child.kill('SIGTERM');
    const ended = await keeper.result();
    checkEqual(ended.code, 0, 'keep-alive exit on SIGTERM');
    checkEqual(lastLine(ended.stderr), 'devflow: keep-alive stopped', 'its last line');
    check(/^  keep-alive\s+not running$/m.test((await run(ctx, ['status', '--cache', kept])).stdout), 'status sees it stopped');

    // A logout elsewhere ends a running keep-alive with exit 7.
    const second = start(ctx, ['keep-alive', '--quiet', '--cache', kept], { timeoutMs: 60000 });
    await sleep(500);
    checkEqual((await run(ctx, ['logout', '--cache', kept])).code, 0, 'logout');
    const after = await second.result();
    checkFailure(after, 7, 'devflow: the session has ended (the server\'s maximum was reached, or it was signed out), so keep-alive stops; run `devflow login` to sign in again');
  },
};

/// The shared objects a run of devflow loaded (LD_DEBUG=files).
function loadedObjects(stderr) {
  return [...stderr.matchAll(/file=(\S+) \[\d+\];\s+(?:needed by|dynamically loaded by)/g)].map((m) => m[1]);
}
const TLS_STACK = /libcurl|libssl|libcrypto|libgnutls|libnghttp2|libgssapi|libldap|libqrencode|devflow-cli-module/;

cases.warm_token_loads_no_tls = {
  title: 'a warm devflow token loads no TLS stack and works without the module which every request loads',
  async run(ctx) {
    // The executable itself links no HTTP, TLS or QR library.
    const elf = spawnSync('readelf', ['-d', ctx.devflow], { encoding: 'utf8' });
    if (elf.error) {
      process.stdout.write('note: readelf not installed; the executable\'s NEEDED list was not checked\n');
    } else {
      const needed = [...elf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[(\S+)\]/g)].map((m) => m[1]);
      check(needed.length > 0 && !needed.some((n) => TLS_STACK.test(n)), 'devflow links no TLS stack', needed.join(' '));
    }
    const server = await ctx.server();
    const { info } = server;
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC]);
    harvestSecrets(ctx.dir);
    check(login.code === 0, `login exit ${login.code}`, login.stderr);

    // Warm: the token from the cache, and nothing of the network side loaded.
    const warm = await run(ctx, ['token'], { env: { LD_DEBUG: 'files' } });
    checkEqual(warm.code, 0, 'warm token exit');
    const warmLoaded = loadedObjects(warm.stderr);
    check(warmLoaded.length > 0, 'LD_DEBUG reported the loads', warm.stderr.slice(0, 2000));
    check(!warmLoaded.some((f) => TLS_STACK.test(f)), 'a warm token loads no TLS stack', warmLoaded.join(' '));
    // Login remembered files (no keyring here), so the keyring module and its GLib stay unloaded too.
    check(!warmLoaded.some((f) => /libsecret|libglib|libgio|devflow-cli-keyring/.test(f)), 'a warm token on files loads no keyring library', warmLoaded.join(' '));
    const token = warm.stdout.trim();
    remember(token);
    checkEqual((await userinfo(info, token)).status, 200, 'the warm token works');

    // The same binary without its module: a warm token still works; a request says what is missing.
    const bare = join(ctx.dir, 'bare');
    mkdirSync(bare);
    const copy = join(bare, 'devflow');
    writeFileSync(copy, readFileSync(ctx.devflow), { mode: 0o755 });
    const lonely = spawnSync(copy, ['token'], { env: toolEnv(ctx.dir), encoding: 'utf8' });
    ctx.outputs.push({ stdout: lonely.stdout, stderr: lonely.stderr });
    check(lonely.status === 0 && lonely.stdout.trim() === token && lonely.stderr === '', 'a warm token needs no module', lonely.status, lonely.stderr);
    const version = spawnSync(copy, ['--version'], { env: toolEnv(ctx.dir), encoding: 'utf8' });
    check(version.status === 0 && /^devflow \d+\.\d+\.\d+ \(no module: devflow's module devflow-cli-module\.so is not installed/.test(version.stdout), '--version without the module', version.stdout);
    const noModule = spawnSync(copy, ['login', '--no-browser', '--issuer', info.issuer, '--client-id', PUBLIC, '--cache', join(ctx.dir, 'other.json')], { env: toolEnv(ctx.dir), encoding: 'utf8' });
    ctx.outputs.push({ stdout: noModule.stdout, stderr: noModule.stderr });
    checkFailure({ code: noModule.status, stderr: noModule.stderr, stdout: noModule.stdout }, 5,
      /^devflow: cannot reach the server \(.*devflow's module devflow-cli-module\.so is not installed; reinstall devflow \(looked in /);

    // Every request loads it: --version names libcurl, logout (a revocation) loads the TLS stack.
    const v = await run(ctx, ['--version'], { env: { LD_DEBUG: 'files' } });
    check(/^devflow \d+\.\d+\.\d+ \(libcurl \d+\.\d+\.\d+\)$/m.test(v.stdout), '--version names libcurl', v.stdout);
    check(loadedObjects(v.stderr).some((f) => /devflow-cli-module\.so$/.test(f)), '--version loads the module');
    const out = await run(ctx, ['logout'], { env: { LD_DEBUG: 'files' } });
    checkEqual(out.code, 0, 'logout exit');
    const outLoaded = loadedObjects(out.stderr);
    check(outLoaded.some((f) => /devflow-cli-module\.so$/.test(f)) && outLoaded.some((f) => /libcurl/.test(f)) && outLoaded.some((f) => /libssl/.test(f)),
      'a request loads the module, libcurl and libssl', outLoaded.join(' '));
    checkEqual((await userinfo(info, token)).status, 401, 'the revocation went through the module');
  },
};

/// A private D-Bus session bus and gnome-keyring-daemon on it, its login
/// keyring unlocked with a test password, its files under the case's
/// directory (no real keyring is touched); both stopped by PID at cleanup.
/// Resolves with the environment a devflow run needs to use it.
async function startKeyring(ctx) {
  const base = mkdtempSync('/tmp/devflow-kr-');  // socket paths must be short
  const runtime = join(base, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const home = join(ctx.dir, 'keyring-home');
  mkdirSync(home, { recursive: true });
  const conf = join(base, 'bus.conf');
  writeFileSync(conf, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=${runtime}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`);
  const bus = spawn('dbus-daemon', ['--nofork', `--config-file=${conf}`, '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let keyring = null;
  ctx.onCleanup(async () => {
    for (const child of [keyring, bus]) {
      if (child === null || child.exitCode !== null || child.signalCode !== null) continue;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(3000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(base, { recursive: true, force: true });
  });
  let out = '';
  const address = await new Promise((resolveAddress, reject) => {
    const timer = setTimeout(() => reject(new Failure('dbus-daemon did not start in 10 s')), 10000);
    bus.once('error', (e) => { clearTimeout(timer); reject(new Failure(`cannot run dbus-daemon (scripts/setup.sh installs it): ${e.message}`)); });
    bus.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(timer); resolveAddress(out.slice(0, nl)); }
    });
  });
  keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    env: { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: runtime, XDG_DATA_HOME: join(home, '.local', 'share'), DBUS_SESSION_BUS_ADDRESS: address },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  keyring.stdin.end('devflow-test-password');
  const env = { DBUS_SESSION_BUS_ADDRESS: address };
  // Ready when the keyring answers: a keyring status is "not signed in" (7), not a storage failure (8).
  for (let i = 0; ; i += 1) {
    const r = spawnSync(ctx.devflow, ['status', '--store', 'keyring', '--issuer', 'http://127.0.0.1:9/ready', '--client-id', 'ready'],
      { env: toolEnv(ctx.dir, env), encoding: 'utf8' });
    if (r.status === 7) return env;
    check(i < 100, 'the private keyring did not answer in 10 s', r.stderr);
    await sleep(100);
  }
}

/// The devflow items in the keyring of `env`, as secret-tool shows them:
/// [{label, attributes}]. Tokens in their secrets are remembered (redacted
/// from any failure output), never returned.
function keyringItems(env) {
  // secret-tool writes each item's label and secret to stdout and its
  // attributes to stderr: one stream, in order, keeps each item whole.
  const r = spawnSync('sh', ['-c', 'exec secret-tool search --all xdg:schema org.devflow.Session 2>&1'],
    { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  check(!r.error && !/not found/.test(r.stdout), `cannot run secret-tool (scripts/setup.sh installs it): ${r.error?.message ?? r.stdout}`);
  const items = [];
  for (const block of r.stdout.split(/^\[/m).slice(1)) {
    const item = { label: '', attributes: {} };
    for (const line of block.split('\n')) {
      const m = /^(label|secret|attribute\.(\S+)) = (.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'label') item.label = m[3];
      else if (m[1] === 'secret') {
        try {
          const j = JSON.parse(m[3]);
          for (const k of ['access_token', 'refresh_token', 'id_token']) remember(j[k]);
        } catch { /* not a record */ }
      } else item.attributes[m[2]] = m[3];
    }
    items.push(item);
  }
  return items;
}

/// The token records in the default cache directory (file names).
function recordFiles(ctx) {
  const d = join(ctx.dir, 'state', 'devflow');
  return existsSync(d) ? readdirSync(d).filter((n) => /^[0-9a-f]{32}\.json$/.test(n)) : [];
}

cases.store_keyring = {
  title: 'store keyring keeps the session in a private keyring and status says so',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const env = await startKeyring(ctx);
    const login = await loginApproved(ctx, ['--store', 'keyring', '--issuer', info.issuer, '--client-id', PUBLIC], { env });
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    const items = keyringItems(env);
    checkEqual(items.length, 1, 'one keyring item', JSON.stringify(items));
    checkEqual(items[0].label, `devflow: ${PUBLIC} at ${info.issuer}`, 'the item label');
    checkEqual(items[0].attributes.issuer, info.issuer, 'issuer attribute');
    checkEqual(items[0].attributes.client_id, PUBLIC, 'client attribute');
    checkEqual(items[0].attributes.scopes, 'openid', 'scopes attribute');
    checkEqual(recordFiles(ctx).length, 0, 'no token record in files');
    const settings = readFileSync(join(ctx.dir, 'state', 'devflow', 'cli-settings.json'), 'utf8');
    check(settings.includes('"store": "keyring"'), 'login remembers the store', settings);

    // Later commands without flags use the keyring (remembered), and say so.
    const tok = await run(ctx, ['token'], { env });
    check(tok.code === 0, `token exit ${tok.code}`, tok.stderr);
    const token = tok.stdout.trim();
    remember(token);
    checkEqual((await userinfo(info, token)).status, 200, 'the keyring token works');
    const st = await run(ctx, ['status'], { env });
    check(st.code === 0 && /\n  store +keyring \(Secret Service\)\n/.test(st.stdout), 'status names the keyring', st.stdout, st.stderr);
    const sj = JSON.parse((await run(ctx, ['status', '--json'], { env })).stdout);
    checkEqual(sj.store, 'keyring', 'status --json store');
    // auto, for a client with nothing remembered, picks the reachable keyring.
    const other = JSON.parse((await run(ctx, ['status', '--json', '--issuer', info.issuer, '--client-id', 'another'], { env })).stdout);
    checkEqual(other.store, 'keyring', 'auto with a keyring');
    // Without the keyring's bus, `profiles` still lists the profile, as unknown.
    const deadBus = { ...env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(ctx.dir, 'no-bus')}` };
    const listed = await run(ctx, ['profiles', '--json'], { env: deadBus });
    check(listed.code === 0, `profiles without the keyring: exit ${listed.code}`, listed.stderr);
    const row = JSON.parse(listed.stdout).profiles.find((p) => p.name === 'default');
    check(row && row.signed_in === null && /keyring store: .*D-Bus/.test(row.problem ?? ''), 'the profile is listed as unknown, saying why', listed.stdout);

    const out = await run(ctx, ['logout'], { env });
    check(out.code === 0, `logout exit ${out.code}`, out.stderr);
    checkEqual(keyringItems(env).length, 0, 'logout removes the keyring item');
    const gone = await run(ctx, ['token'], { env });
    checkEqual(gone.code, 7, 'no token after logout');
  },
};

cases.store_keyring_profiles = {
  title: 'two caches signed in to one client as two users keep two keyring items',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const env = await startKeyring(ctx);
    // Two profiles of one client (a work and a home account): each cache is
    // its own keyring partition, as it is its own directory of files.
    const caches = { alice: join(ctx.dir, 'work'), bob: join(ctx.dir, 'home') };
    for (const [user, cache] of Object.entries(caches)) {
      const login = await loginApproved(ctx, ['--force', '--store', 'keyring', '--cache', cache, '--issuer', info.issuer, '--client-id', PUBLIC], { env, user });
      check(login.code === 0, `login of ${user} exit ${login.code}`, login.stderr);
    }
    const items = keyringItems(env);
    checkEqual(items.length, 2, 'one keyring item per cache', JSON.stringify(items));
    checkEqual(items.map((i) => i.attributes.partition).sort().join(' '), [caches.bob, caches.alice].sort().join(' '), 'each item names its cache', JSON.stringify(items));
    for (const [user, cache] of Object.entries(caches)) {
      const tok = await run(ctx, ['token', '--cache', cache], { env });
      check(tok.code === 0, `token of ${user} exit ${tok.code}`, tok.stderr);
      const token = tok.stdout.trim();
      remember(token);
      const who = await userinfo(info, token);
      checkEqual(who.status, 200, `the token of ${user}'s cache works`);
      checkEqual(who.body?.sub, user, `the token of ${user}'s cache is ${user}'s`);
    }
    // Signing one out leaves the other signed in.
    const out = await run(ctx, ['logout', '--cache', caches.bob], { env });
    check(out.code === 0, `logout exit ${out.code}`, out.stderr);
    checkEqual(keyringItems(env).length, 1, 'logout removes only its own item');
    const still = await run(ctx, ['token', '--cache', caches.alice], { env });
    check(still.code === 0, `alice's token after bob's logout: exit ${still.code}`, still.stderr);
    remember(still.stdout.trim());
  },
};

cases.store_switch = {
  title: 'a login into the keyring removes the copy of the session in files and back again',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const env = await startKeyring(ctx);
    const onFiles = await loginApproved(ctx, ['--store', 'file', '--issuer', info.issuer, '--client-id', PUBLIC], { env });
    check(onFiles.code === 0, `login on files exit ${onFiles.code}`, onFiles.stderr);
    checkEqual(recordFiles(ctx).length, 1, 'the session is in files');
    // Moving to the keyring must not leave the tokens on disk.
    const toKeyring = await loginApproved(ctx, ['--store', 'keyring'], { env });
    check(toKeyring.code === 0, `login into the keyring exit ${toKeyring.code}`, toKeyring.stderr);
    checkEqual(keyringItems(env).length, 1, 'the session is in the keyring');
    checkEqual(recordFiles(ctx).length, 0, 'no token record left in files');
    check(toKeyring.stderr.includes('devflow: removed the earlier copy of this session from files'), 'login says it removed the copy in files', toKeyring.stderr);
    const tok = await run(ctx, ['token'], { env });
    check(tok.code === 0, `token from the keyring exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
    // And back: the keyring item goes.
    const back = await loginApproved(ctx, ['--store', 'file'], { env });
    check(back.code === 0, `login back on files exit ${back.code}`, back.stderr);
    checkEqual(recordFiles(ctx).length, 1, 'the session is in files again');
    checkEqual(keyringItems(env).length, 0, 'no item left in the keyring');
    check(back.stderr.includes('devflow: removed the earlier copy of this session from the keyring'), 'login says it removed the copy in the keyring', back.stderr);
  },
};

cases.store_files = {
  title: 'store auto falls back to files without D-Bus and a bad store is a usage error',
  async run(ctx) {
    const server = await ctx.server();
    const { info } = server;
    const noBus = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(ctx.dir, 'no-bus')}` };
    // The keyring by name fails closed, naming D-Bus, before anything is sent.
    const keyring = await run(ctx, ['login', '--no-browser', '--store', 'keyring', '--issuer', info.issuer, '--client-id', PUBLIC], { env: noBus });
    checkFailure(keyring, 8, /^devflow: keyring store: no D-Bus session bus \(DBUS_SESSION_BUS_ADDRESS names none that answers: .*\); the keyring store needs a desktop session's D-Bus and a Secret Service such as gnome-keyring$/);
    checkEqual((await server.stats()).device_authorization_requests, 0, 'nothing sent');
    checkFailure(await run(ctx, ['token', '--store', 'vault']), 2, 'devflow: --store takes file, keyring or auto, not "vault"; see `devflow --help`');
    checkFailure(await run(ctx, ['token'], { env: { DEVFLOW_STORE: 'etcd://127.0.0.1:2379/devflow' } }), 2,
      'devflow: DEVFLOW_STORE: an etcd store is not supported in this build of devflow (file, keyring or auto); see `devflow --help`');

    // auto without D-Bus: files, said with --verbose and by status.
    const login = await loginApproved(ctx, ['--issuer', info.issuer, '--client-id', PUBLIC, '--verbose'], { env: noBus });
    check(login.code === 0, `login exit ${login.code}`, login.stderr);
    check(login.stderr.includes('devflow: tokens in files, not the keyring: keyring store: no D-Bus session bus'), 'verbose says why files', login.stderr);
    checkEqual(recordFiles(ctx).length, 1, 'the record is a file');
    harvestSecrets(ctx.dir);
    const sj = JSON.parse((await run(ctx, ['status', '--json'], { env: noBus })).stdout);
    checkEqual(sj.store, 'file', 'status --json store');
    const st = await run(ctx, ['status']);
    check(/\n  store +files\n/.test(st.stdout), 'status names files', st.stdout);
    const tok = await run(ctx, ['token', '--store', 'file']);
    check(tok.code === 0, `token --store file exit ${tok.code}`, tok.stderr);
    remember(tok.stdout.trim());
    checkEqual((await userinfo(info, tok.stdout.trim())).status, 200, 'the file token works');
  },
};

// ---------------------------------------------------------------- main

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const [id, c] of Object.entries(cases)) process.stdout.write(`${id}\t${c.title}\n`);
    return 0;
  }
  const c = cases[args.case];
  if (!c || !args.devflow) {
    process.stderr.write(`usage: cli_test.mjs --devflow PATH --case NAME (cases: ${Object.keys(cases).join(', ')})\n`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'devflow-cli-test-'));
  const servers = [];
  const cleanups = [];
  const ctx = {
    dir,
    devflow: resolve(args.devflow),
    outputs: [],
    children: [],
    async server() {
      const s = await startServer(dir, c.server ?? {});
      servers.push(s);
      return s;
    },
    stopLater(s) { servers.push(s); },
    onCleanup(f) { cleanups.push(f); },
  };
  const started = Date.now();
  let status = 0;
  try {
    await c.run(ctx);
    harvestSecrets(dir);
    // No output of any run may hold a secret, except the token `devflow token` printed on purpose.
    for (const r of ctx.outputs) {
      for (const s of secrets) {
        check(!r.stderr.includes(s), 'a secret in stderr');
        const printedOnPurpose = r.stdout.trim() === s || r.stdout.includes(`"access_token":"${s}"`) || r.stdout.includes(`"id_token":"${s}"`) || r.stdout.includes(`"token":"${s}"`)
          || r.stdout.includes(`\npassword=${s}\n`);  // git's credential protocol: the helper's answer
        check(printedOnPurpose || !r.stdout.includes(s), 'a secret in stdout');
      }
    }
    process.stdout.write(`ok: ${c.title} (${Date.now() - started} ms)\n`);
  } catch (e) {
    status = 1;
    process.stdout.write(`FAILED: ${c.title}\n${redact(e instanceof Failure ? e.message : e.stack)}\n`);
  } finally {
    for (const child of ctx.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const f of cleanups) await f();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return status;
}

process.exitCode = await main();
