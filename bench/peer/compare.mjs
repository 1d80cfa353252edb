// Runs devflow and openid-client through the same device flow against the same
// local provider, with the user approving the same fixed delay after the code
// is shown, and prints one table (bench/peer.sh runs this; docs/performance.md).
//
//   node compare.mjs --devflow PATH/devflow_bench_device_flow_peer
//                    [--rounds 3] [--interval 2] [--delay-ms 3000[,3500,...]]
//                    [--scenarios normal,keycloak,fast-keycloak,fast-rfc] [--timeout-s 60]
//                    [--json FILE]
//
// Per round and client: reset the server's counters, start the client, approve
// (approve.mjs) DELAY ms after it shows the code, wait for its tokens, read the
// counters. Clients alternate which goes first. With a list of delays, round
// r uses delay r (cycling), the same for both clients: when the approval
// falls within the polling period decides how long the next poll is, so a
// sweep over one period averages that out. Everything is on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = join(here, '..', '..', 'tests', 'integration', 'server');
const { approve } = await import(join(serverDir, 'approve.mjs'));

const { values: opt } = parseArgs({
  options: {
    devflow: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    interval: { type: 'string', default: '2' },
    'delay-ms': { type: 'string', default: '3000' },
    scenarios: { type: 'string', default: 'normal,fast-keycloak' },
    json: { type: 'string' },
    'timeout-s': { type: 'string', default: '60' },
  },
});
if (!opt.devflow || !existsSync(opt.devflow)) {
  console.error('compare: --devflow PATH to devflow_bench_device_flow_peer is required');
  process.exit(2);
}
const rounds = Number(opt.rounds);
const delays = opt['delay-ms'].split(',').map(Number);
if (delays.some((d) => !(d >= 0))) { console.error('compare: bad --delay-ms'); process.exit(2); }
const clientId = 'devflow-public';
const scope = 'openid';

// Server settings and client clock per scenario.
const scenarios = {
  normal: {
    title: 'RFC 8628 server (slow_down adds 5 s), accurate clocks',
    env: {},
    clockScale: 1,
  },
  keycloak: {
    title: 'Keycloak rules (whole seconds, slow_down when early, interval kept), accurate clocks',
    env: { DEVFLOW_SLOW_DOWN_STEP: '0', DEVFLOW_POLL_CLOCK: 'allowed', DEVFLOW_POLL_SECONDS: 'whole' },
    clockScale: 1,
  },
  'fast-keycloak': {
    title: 'Keycloak rules (slow_down when early, interval kept), client clock 10% fast',
    env: { DEVFLOW_SLOW_DOWN_STEP: '0', DEVFLOW_POLL_CLOCK: 'allowed' },
    clockScale: 0.9,
  },
  'fast-rfc': {
    title: 'RFC 8628 server, client clock 10% fast',
    env: {},
    clockScale: 0.9,
  },
};

function startServer(env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(serverDir, 'server.mjs')], {
      env: { ...process.env, PORT: '0', DEVFLOW_INTERVAL: opt.interval, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('the provider did not start in 30 s')), 30000);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, info: JSON.parse(buffer.slice(0, nl)) });
      }
    });
    child.on('exit', (code) => reject(new Error(`the provider exited with ${code}`)));
  });
}

async function stats(info, reset) {
  const url = info.stats_endpoint + (reset ? '/reset' : '');
  const r = await fetch(url, { method: reset ? 'POST' : 'GET' });
  return r.json();
}

// Runs one client to completion; resolves with its figures.
function runClient(name, argv, info, delayMs) {
  return new Promise((resolve, reject) => {
    const dir = mkdtempSync(join(tmpdir(), 'devflow-peer-'));
    const rssFile = join(dir, 'rss');
    const haveTime = existsSync('/usr/bin/time');
    const cmd = haveTime ? '/usr/bin/time' : argv[0];
    const args = haveTime ? ['-f', '%M', '-o', rssFile, ...argv] : argv.slice(1);
    const started = Date.now();
    // Its own process group, so a timeout stops the client and not only /usr/bin/time.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    const row = { client: name, started_ms: started };
    // A client that has no token by then is stopped and reported as such.
    const deadline = setTimeout(() => { row.timed_out = true; process.kill(-child.pid, 'SIGTERM'); },
      Number(opt['timeout-s']) * 1000);
    child.stderr.on('data', (c) => { err += c; });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        let event;
        try { event = JSON.parse(line); } catch { continue; }
        if (event.event === 'prompt') {
          row.prompt_ms = event.t_ms;
          row.approval = approve({ uri: event.verification_uri_complete, delayMs })
            .then(() => { row.approved_ms = Date.now(); })
            .catch((e) => { row.approve_error = String(e.message ?? e); });
        } else if (event.event === 'token') {
          row.token_ms = event.t_ms;
          row.vm_hwm_kib = event.vm_hwm_kib;
        }
      }
    });
    child.on('exit', async (code) => {
      clearTimeout(deadline);
      try {
        if (row.approval) await row.approval;
        delete row.approval;
        row.exit = code;
        row.wall_ms = Date.now() - started;
        if (haveTime && existsSync(rssFile)) row.max_rss_kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        const s = await stats(info, false);
        row.device_requests = s.device_authorization_requests;
        row.polls = s.device_code_polls;
        row.slow_down = s.slow_down;
        row.poll_times_ms = s.poll_times_ms ?? [];
        row.requests = s.device_authorization_requests + Object.values(s.token_requests).reduce((a, b) => a + b, 0);
        if (row.timed_out) row.error = `no token within ${opt['timeout-s']} s`;
        else if (code !== 0 || row.token_ms === undefined) row.error = (err.trim().split('\n').pop() || `exit ${code}`);
        rmSync(dir, { recursive: true, force: true });
        resolve(row);
      } catch (e) { reject(e); }
    });
  });
}

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

const results = [];
for (const key of opt.scenarios.split(',')) {
  const sc = scenarios[key];
  if (!sc) { console.error(`compare: unknown scenario ${key}`); process.exit(2); }
  const { child: server, info } = await startServer(sc.env);
  const clients = {
    devflow: [opt.devflow, '--issuer', info.issuer, '--device-endpoint', info.device_authorization_endpoint,
      '--token-endpoint', info.token_endpoint, '--client-id', clientId, '--scope', scope,
      '--clock-scale', String(sc.clockScale)],
    'openid-client': [process.execPath, join(here, 'device_flow.mjs'), '--issuer', info.issuer,
      '--client-id', clientId, '--scope', scope, '--clock-scale', String(sc.clockScale)],
  };
  try {
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['devflow', 'openid-client'] : ['openid-client', 'devflow'];
      for (const name of order) {
        await stats(info, true);
        const row = await runClient(name, clients[name], info, delays[r % delays.length]);
        row.delay_ms = delays[r % delays.length];
        row.scenario = key;
        row.round = r + 1;
        results.push(row);
        process.stderr.write(`compare: ${key} round ${r + 1} ${name}: ` +
          `${row.polls} polls, ${row.slow_down} slow_down, ` +
          (row.error ? `FAILED (${row.error})` : `${row.token_ms - row.approved_ms} ms after approval`) + '\n');
      }
    }
  } finally {
    server.kill('SIGTERM');
  }
}

// The table: medians over the rounds (min..max for the time after approval).
const pad = (s, n) => String(s).padEnd(n);
const lines = [];
lines.push(`interval ${opt.interval} s, user approves ${delays.join(', ')} ms after the code is shown, ` +
  `${rounds} rounds per client; medians, and for the time to the token also mean (min..max)`);
for (const key of opt.scenarios.split(',')) {
  lines.push('');
  lines.push(`${key}: ${scenarios[key].title}`);
  lines.push(`| client        | requests | polls | slow_down | start -> code ms | approval -> token ms: median, mean (min..max) | peak RSS MiB |`);
  lines.push(`|---------------|----------|-------|-----------|------------------|----------------------------------------------|--------------|`);
  for (const name of ['devflow', 'openid-client']) {
    const rows = results.filter((x) => x.scenario === key && x.client === name);
    const failed = rows.filter((x) => x.error);
    const ok = rows.filter((x) => !x.error);
    const after = ok.map((x) => x.token_ms - x.approved_ms);
    const rss = rows.map((x) => (x.max_rss_kib || x.vm_hwm_kib) / 1024);
    const afterText = ok.length
      ? `${Math.round(median(after))}, ${Math.round(after.reduce((a, b) => a + b, 0) / after.length)} ` +
        `(${Math.min(...after)}..${Math.max(...after)})`
      : 'no token';
    lines.push(`| ${pad(name, 13)} | ${pad(median(rows.map((x) => x.requests)), 8)} | ` +
      `${pad(median(rows.map((x) => x.polls)), 5)} | ${pad(median(rows.map((x) => x.slow_down)), 9)} | ` +
      `${pad(Math.round(median(rows.map((x) => x.prompt_ms - x.started_ms))), 16)} | ` +
      `${pad(afterText, 44)} | ${pad(Number.isFinite(median(rss)) ? median(rss).toFixed(1) : '-', 12)} |` +
      (failed.length ? ` ${failed.length} of ${rows.length} failed: ${failed[0].error}` : ''));
  }
  // Mean time to the token, devflow over openid-client, on the same approval moments.
  const mean = (name) => {
    const ok = results.filter((x) => x.scenario === key && x.client === name && !x.error);
    return ok.length ? ok.reduce((a, x) => a + (x.token_ms - x.approved_ms), 0) / ok.length : NaN;
  };
  if (Number.isFinite(mean('devflow')) && Number.isFinite(mean('openid-client')))
    lines.push(`mean approval -> token, devflow / openid-client: ${(mean('devflow') / mean('openid-client')).toFixed(3)}`);
  // The poll schedule of each client's first round: ms after the code was issued.
  for (const name of ['devflow', 'openid-client']) {
    const first = results.find((x) => x.scenario === key && x.client === name);
    if (first) lines.push(`${name} polls at (ms after the code): ${first.poll_times_ms.slice(0, 8).join(', ')}` +
      (first.poll_times_ms.length > 8 ? ', ...' : ''));
  }
}
console.log(lines.join('\n'));
if (opt.json) writeFileSync(opt.json, JSON.stringify(results, null, 2) + '\n');
// A peer that gets no token is a result; devflow getting none is a failure.
if (results.some((x) => x.error && x.client === 'devflow')) process.exit(1);
