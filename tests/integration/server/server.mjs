#!/usr/bin/env node
// Local OpenID provider for devflow's integration tests and demos.
//
// Runs oidc-provider (npm, pinned in package-lock.json) on 127.0.0.1 with an
// in-memory store, the device flow, refresh tokens with rotation, revocation
// and userinfo, plus what stock oidc-provider 9.x lacks and Keycloak has:
// `interval` in the device authorization answer and `slow_down` enforcement
// (RFC 8628 §3.2, §3.5). See docs/integration-server.md for the contract.
//
// stdout carries exactly one line: the JSON "ready" record. Everything else
// (oidc-provider notices and warnings, optional request log) goes to stderr.

import { createHash, randomBytes, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname, basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';

// oidc-provider prints its notices with console.info (stdout). Keep stdout for
// the ready line only: route the console to stderr before loading it.
const verbose = flag('DEVFLOW_LOG', false);
const toStderr = (...args) => {
  const text = args.map(String).join(' ');
  if (!verbose && text.startsWith('oidc-provider NOTICE')) return;
  // Expected: the token route's form is read by our middleware first.
  if (!verbose && text.includes('already parsed request body detected')) return;
  process.stderr.write(`${text}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = toStderr;

const { default: Provider } = await import('oidc-provider');
// The package has no "exports" map, so its bundled memory adapter can be
// imported directly; we use it with a longer retention (see below).
const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');

// ---------------------------------------------------------------- settings

function flag(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

function seconds(name, fallback, { min = 0 } = {}) {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`devflow server: ${name} must be a number >= ${min}, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const PUBLIC_CLIENT_ID = 'devflow-public';
const CONFIDENTIAL_CLIENT_ID = 'devflow-confidential';
const DEFAULT_CONFIDENTIAL_SECRET = 'devflow-test-secret';

const settings = {
  port: seconds('PORT', 0),
  issuerHost: process.env.DEVFLOW_ISSUER_HOST || '127.0.0.1',
  tlsCert: process.env.DEVFLOW_TLS_CERT || '',
  tlsKey: process.env.DEVFLOW_TLS_KEY || '',
  confidentialSecret: process.env.DEVFLOW_CONFIDENTIAL_SECRET || DEFAULT_CONFIDENTIAL_SECRET,
  accessTokenTtl: Math.floor(seconds('DEVFLOW_ACCESS_TOKEN_TTL', 3600, { min: 1 })),
  refreshTokenTtl: Math.floor(seconds('DEVFLOW_REFRESH_TOKEN_TTL', 86400, { min: 1 })),
  deviceCodeTtl: Math.floor(seconds('DEVFLOW_DEVICE_CODE_TTL', 600, { min: 1 })),
  interval: seconds('DEVFLOW_INTERVAL', 5),
  slowDownStep: seconds('DEVFLOW_SLOW_DOWN_STEP', 5),
  pollClock: process.env.DEVFLOW_POLL_CLOCK || 'every',
  // 'whole': poll times kept in whole seconds, as Keycloak's Time.currentTime()
  // does (a poll is early when the whole seconds since the last one are fewer
  // than the interval); 'exact' (default): milliseconds.
  pollSeconds: process.env.DEVFLOW_POLL_SECONDS || 'exact',
  stockPolling: flag('DEVFLOW_STOCK_POLLING', false),
  strictFirstPoll: flag('DEVFLOW_STRICT_FIRST_POLL', false),
  slowDownCarriesInterval: flag('DEVFLOW_SLOW_DOWN_INTERVAL_IN_BODY', false),
  sendRefreshExpiresIn: flag('DEVFLOW_REFRESH_EXPIRES_IN', false),
  requireOfflineAccess: flag('DEVFLOW_REQUIRE_OFFLINE_ACCESS', false),
  clockTolerance: Math.floor(seconds('DEVFLOW_CLOCK_TOLERANCE', 0)),
  expiredRetention: Math.floor(seconds('DEVFLOW_EXPIRED_RETENTION', 600)),
  infoFile: process.env.DEVFLOW_SERVER_INFO_FILE || '',
  // Seconds to hold the first refresh request before handling it; a client
  // that goes away meanwhile (killed mid-refresh) has it dropped unhandled,
  // its refresh token unspent (etcd fleet takeover test).
  holdFirstRefresh: seconds('DEVFLOW_HOLD_FIRST_REFRESH', 0),
};

if (settings.issuerHost !== '127.0.0.1' && settings.issuerHost !== 'localhost') {
  process.stderr.write('devflow server: DEVFLOW_ISSUER_HOST must be 127.0.0.1 or localhost\n');
  process.exit(2);
}
if (settings.pollSeconds !== 'exact' && settings.pollSeconds !== 'whole') {
  process.stderr.write('devflow server: DEVFLOW_POLL_SECONDS must be "exact" or "whole"\n');
  process.exit(2);
}
if (settings.pollClock !== 'every' && settings.pollClock !== 'allowed') {
  process.stderr.write('devflow server: DEVFLOW_POLL_CLOCK must be "every" or "allowed"\n');
  process.exit(2);
}
if (Boolean(settings.tlsCert) !== Boolean(settings.tlsKey)) {
  process.stderr.write('devflow server: set both DEVFLOW_TLS_CERT and DEVFLOW_TLS_KEY, or neither\n');
  process.exit(2);
}
const tls = Boolean(settings.tlsCert);

// ---------------------------------------------------------------- listener

// Listen first (port 0 = ephemeral), then build the provider: its issuer must
// carry the real port.
let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = tls
  ? https.createServer({
    cert: readFileSync(settings.tlsCert),
    key: readFileSync(settings.tlsKey),
  }, (req, res) => handler(req, res))
  : http.createServer((req, res) => handler(req, res));

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(settings.port, '127.0.0.1', resolve);
});
server.on('error', (err) => {
  process.stderr.write(`devflow server: ${err.message}\n`);
});
const { port } = server.address();
const issuer = `${tls ? 'https' : 'http'}://${settings.issuerHost}:${port}`;

// ---------------------------------------------------------------- provider

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'devflow-test' };

const clientCommon = {
  grant_types: [DEVICE_GRANT, 'refresh_token'],
  response_types: [],
  redirect_uris: [],
  id_token_signed_response_alg: 'ES256',
};

const configuration = {
  clients: [
    {
      ...clientCommon,
      client_id: PUBLIC_CLIENT_ID,
      client_name: 'devflow public test client',
      token_endpoint_auth_method: 'none',
    },
    {
      ...clientCommon,
      client_id: CONFIDENTIAL_CLIENT_ID,
      client_name: 'devflow confidential test client',
      client_secret: settings.confidentialSecret,
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Basic only for the confidential client: 9.x otherwise accepts a
  // client_secret in the body from a client registered for client_secret_basic.
  clientAuthMethods: ['none', 'client_secret_basic'],
  responseTypes: ['code'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  // Any user name logs in (devInteractions); give userinfo something to say.
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          name: sub,
          preferred_username: sub,
          email: `${sub}@devflow.test`,
          email_verified: true,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    introspection: { enabled: true },
  },
  // Rotate on every refresh, for every client (9.x's default rotates public
  // clients always but confidential ones only after 70 % of the TTL).
  rotateRefreshToken: true,
  ttl: {
    AccessToken: () => settings.accessTokenTtl,
    RefreshToken: () => settings.refreshTokenTtl,
    DeviceCode: () => settings.deviceCodeTtl,
    IdToken: () => settings.accessTokenTtl,
    Interaction: () => 3600,
    Session: () => 14 * 24 * 3600,
    Grant: () => 14 * 24 * 3600,
  },
  clockTolerance: settings.clockTolerance,
  // The bundled memory adapter drops a record clockTolerance seconds after it
  // expires; an expired device code would then answer invalid_grant ("not
  // found") instead of expired_token. Keep expired records a while longer.
  adapter: createMemoryAdapter(settings.clockTolerance + settings.expiredRetention),
};

if (!settings.requireOfflineAccess) {
  // Like Keycloak: a refresh token comes with every device-flow grant, with or
  // without the offline_access scope, and tokens do not die with the approving
  // browser's session.
  configuration.issueRefreshToken = async (ctx, client) => client.grantTypeAllowed('refresh_token');
  configuration.expiresWithSession = async () => false;
}

const provider = new Provider(issuer, configuration);

const paths = {
  token: provider.pathFor('token'),
  deviceAuthorization: provider.pathFor('device_authorization'),
  codeVerification: provider.pathFor('code_verification'),
  revocation: provider.pathFor('revocation'),
  userinfo: provider.pathFor('userinfo'),
  introspection: provider.pathFor('introspection'),
  stats: '/__devflow/stats',
  statsReset: '/__devflow/stats/reset',
  // Test-only: destroys one access token and nothing else, as a resource
  // server's key rotation or an administrator's push would make it refused
  // while the session lives on (the provider's RFC 7009 revocation of an
  // access token also revokes the whole grant).
  dropAccessToken: '/__devflow/access-token/drop',
};

// ---------------------------------------------------------------- stats

function freshStats() {
  return {
    device_authorization_requests: 0,
    device_authorizations_issued: 0,
    token_requests: {},
    token_successes: {},
    token_errors: {},
    device_code_polls: 0,
    // How many different device codes were polled (a resumed sign-in polls on
    // with the code it saved: one).
    device_codes_polled: 0,
    // When each device-code poll arrived, in ms after the last device
    // authorization answer (the poll schedule; bench/peer/compare.mjs).
    poll_times_ms: [],
    refresh_requests: 0,
    // When each refresh request arrived, in ms since the epoch (fleet tests:
    // two refreshes of one expiry arrive close together).
    refresh_times_ms: [],
    // The client port of the refresh request being held (0: none), and how
    // many held requests were dropped because their client went away.
    held_refresh_port: 0,
    refreshes_dropped: 0,
    slow_down: 0,
    revocation_requests: 0,
    revocations: 0,
    grants_revoked: 0,
    userinfo_requests: 0,
    // How clients authenticated at the device authorization, token and
    // revocation endpoints (RFC 6749 §2.3.1): by what they sent, before the
    // provider judged it. basic_with_body_client_id counts requests that sent
    // Basic auth and also client_id in the body.
    client_auth: { none: 0, client_secret_basic: 0, client_secret_post: 0, basic_with_body_client_id: 0 },
    started_at: new Date().toISOString(),
  };
}
let stats = freshStats();
// SHA-256 of each device code polled since the last reset (never the code).
let polledCodes = new Set();
let lastDeviceAnswerAt = null;
const bump = (map, key) => { map[key] = (map[key] ?? 0) + 1; };

provider.on('grant.revoked', () => { stats.grants_revoked += 1; });

// ---------------------------------------------------------------- polling

// device_code -> { clientId, interval (s), last (ms, monotonic) | null,
//                  codeExpiresAt (ms), forgetAt (ms) }
// Never logged or exposed: device codes are secrets.
const polls = new Map();

function purgePolls(now) {
  for (const [code, entry] of polls) {
    if (entry.forgetAt < now) polls.delete(code);
  }
}

// The client a token request authenticates as, judged the way the provider
// will (so a poll with a wrong secret is never timed, and fails in the
// provider with invalid_client): undefined when it would not authenticate.
function authenticatedClientId(ctx, params) {
  const auth = ctx.get('authorization');
  if (auth) {
    const m = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    const unform = (v) => decodeURIComponent(v.replace(/\+/g, '%20'));
    let id;
    let secret;
    try {
      id = unform(decoded.slice(0, colon));
      secret = unform(decoded.slice(colon + 1));
    } catch {
      return undefined;
    }
    if (params.has('client_id') && params.get('client_id') !== id) return undefined;
    return id === CONFIDENTIAL_CLIENT_ID && secret === settings.confidentialSecret ? id : undefined;
  }
  if (params.has('client_secret')) return undefined;
  return params.get('client_id') === PUBLIC_CLIENT_ID ? PUBLIC_CLIENT_ID : undefined;
}

async function readRawBody(req, limit = 56 * 1024) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function json(ctx, status, body) {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.type = 'application/json';
  ctx.body = body;
}

// ---------------------------------------------------------------- middleware

provider.use(async (ctx, next) => {
  const started = performance.now();
  try {
    await route(ctx, next);
  } finally {
    if (verbose) {
      // Method, path and status only: no query, body or header is logged.
      process.stderr.write(`devflow server: ${ctx.method} ${ctx.path} -> ${ctx.status} (${Math.round(performance.now() - started)} ms)\n`);
    }
  }
});

async function route(ctx, next) {
  // Test-only statistics.
  if (ctx.path === paths.stats && ctx.method === 'GET') {
    json(ctx, 200, stats);
    return;
  }
  if (ctx.path === paths.statsReset && ctx.method === 'POST') {
    stats = freshStats();
    polledCodes = new Set();
    json(ctx, 200, stats);
    return;
  }

  if (ctx.path === paths.dropAccessToken && ctx.method === 'POST') {
    const form = new URLSearchParams(await readRawBody(ctx.req));
    const token = await provider.AccessToken.find(form.get('token') ?? '');
    if (token) await token.destroy();
    json(ctx, token ? 200 : 404, {});
    return;
  }

  const formRoute = ctx.method === 'POST'
    && [paths.deviceAuthorization, paths.token, paths.revocation].includes(ctx.path);
  let params = new URLSearchParams();
  if (formRoute) {
    // Read the form here (to count client authentication and to enforce the
    // polling interval before the provider consumes a device code); the
    // provider then parses ctx.request.body instead of the stream.
    let raw = '';
    try {
      raw = await readRawBody(ctx.req);
    } catch {
      json(ctx, 400, { error: 'invalid_request', error_description: 'failed to read the request body' });
      return;
    }
    ctx.request.body = raw;
    if (ctx.is('application/x-www-form-urlencoded')) params = new URLSearchParams(raw);
    const basic = /^basic /i.test(ctx.get('authorization') || '');
    if (basic) {
      stats.client_auth.client_secret_basic += 1;
      if (params.has('client_id')) stats.client_auth.basic_with_body_client_id += 1;
    } else if (params.has('client_secret')) {
      stats.client_auth.client_secret_post += 1;
    } else {
      stats.client_auth.none += 1;
    }
  }

  if (ctx.path === paths.deviceAuthorization && ctx.method === 'POST') {
    stats.device_authorization_requests += 1;
    await next();
    const body = ctx.body;
    if (ctx.status === 200 && body && typeof body === 'object' && body.device_code) {
      stats.device_authorizations_issued += 1;
      if (!settings.stockPolling) {
        // RFC 8628 §3.2: interval, the minimum seconds between polling requests.
        body.interval = settings.interval;
        const now = performance.now();
        lastDeviceAnswerAt = now;
        purgePolls(now);
        polls.set(body.device_code, {
          clientId: ctx.oidc?.client?.clientId,
          interval: settings.interval,
          last: settings.strictFirstPoll ? now : null,
          codeExpiresAt: now + Number(body.expires_in) * 1000,
          forgetAt: now + (Number(body.expires_in) + settings.expiredRetention) * 1000,
        });
      }
    }
    return;
  }

  if (ctx.path === paths.token && ctx.method === 'POST') {
    const grantType = params.get('grant_type') ?? '';
    bump(stats.token_requests, grantType);
    if (grantType === DEVICE_GRANT) {
      stats.device_code_polls += 1;
      if (lastDeviceAnswerAt !== null) stats.poll_times_ms.push(Math.round(performance.now() - lastDeviceAnswerAt));
      polledCodes.add(createHash('sha256').update(params.get('device_code') ?? '').digest('hex'));
      stats.device_codes_polled = polledCodes.size;
    }
    if (grantType === 'refresh_token') {
      stats.refresh_requests += 1;
      stats.refresh_times_ms.push(Date.now());
      if (settings.holdFirstRefresh > 0 && stats.refresh_requests === 1) {
        const socket = ctx.req.socket;
        stats.held_refresh_port = socket.remotePort ?? 0;
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, settings.holdFirstRefresh * 1000);
          socket.once('close', () => { clearTimeout(timer); resolve(); });
        });
        stats.held_refresh_port = 0;
        if (socket.destroyed) {
          stats.refreshes_dropped += 1;
          ctx.status = 499;
          return;
        }
      }
    }

    if (grantType === DEVICE_GRANT && !settings.stockPolling) {
      const entry = polls.get(params.get('device_code') ?? '');
      const now = performance.now();
      // Like Keycloak: the client is checked first, and an expired code answers
      // expired_token (from the provider) rather than slow_down.
      if (entry && entry.clientId === authenticatedClientId(ctx, params) && now < entry.codeExpiresAt) {
        const early = entry.last !== null && (settings.pollSeconds === 'whole'
          ? Math.floor(now / 1000) - Math.floor(entry.last / 1000) < entry.interval
          : now - entry.last < entry.interval * 1000);
        // 'every': each poll restarts the clock (RFC 8628 §3.5 reading);
        // 'allowed': only polls let through do (Keycloak's putIfAbsent).
        if (!early || settings.pollClock === 'every') entry.last = now;
        if (early) {
          // RFC 8628 §3.5: slow_down, and the interval grows by 5 s for this
          // and all later requests (DEVFLOW_SLOW_DOWN_STEP; Keycloak keeps
          // its interval fixed, which is step 0).
          entry.interval += settings.slowDownStep;
          stats.slow_down += 1;
          bump(stats.token_errors, 'slow_down');
          const answer = {
            error: 'slow_down',
            error_description: 'polling too frequently; wait the interval between requests',
          };
          if (settings.slowDownCarriesInterval) answer.interval = entry.interval;
          json(ctx, 400, answer);
          return;
        }
      }
    }

    await next();

    const body = ctx.body;
    if (body && typeof body === 'object') {
      if (body.error) {
        bump(stats.token_errors, String(body.error));
      } else if (ctx.status === 200) {
        bump(stats.token_successes, grantType);
        if (settings.sendRefreshExpiresIn && body.refresh_token) {
          // Keycloak's non-standard companion of expires_in.
          body.refresh_expires_in = settings.refreshTokenTtl;
        }
      }
    }
    return;
  }

  if (ctx.path === paths.revocation && ctx.method === 'POST') {
    stats.revocation_requests += 1;
    await next();
    if (ctx.status === 200) stats.revocations += 1;
    return;
  }

  if (ctx.path === paths.userinfo) {
    stats.userinfo_requests += 1;
  }

  await next();
}

handler = provider.callback();

// ---------------------------------------------------------------- ready

const url = (path) => `${issuer}${path}`;
const info = {
  issuer,
  port,
  pid: process.pid,
  tls,
  discovery_endpoint: url('/.well-known/openid-configuration'),
  device_authorization_endpoint: url(paths.deviceAuthorization),
  token_endpoint: url(paths.token),
  verification_uri: url(paths.codeVerification),
  userinfo_endpoint: url(paths.userinfo),
  revocation_endpoint: url(paths.revocation),
  introspection_endpoint: url(paths.introspection),
  stats_endpoint: url(paths.stats),
  drop_access_token_endpoint: url(paths.dropAccessToken),
  public_client_id: PUBLIC_CLIENT_ID,
  confidential_client_id: CONFIDENTIAL_CLIENT_ID,
  interval: settings.stockPolling ? null : settings.interval,
  slow_down_step: settings.stockPolling ? null : settings.slowDownStep,
  access_token_ttl: settings.accessTokenTtl,
  refresh_token_ttl: settings.refreshTokenTtl,
  device_code_ttl: settings.deviceCodeTtl,
};
const line = JSON.stringify(info);

if (settings.infoFile) {
  // Atomic: write a temp file beside the target, then rename over it.
  const tmp = join(dirname(settings.infoFile), `.${basename(settings.infoFile)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${line}\n`, { mode: 0o600 });
  renameSync(tmp, settings.infoFile);
}
process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------- shutdown

let stopping = false;
function stop(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`devflow server: ${signal}, stopping\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
