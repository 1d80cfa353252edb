// The peer's side of the side-by-side benchmark (bench/peer.sh): one device
// flow with openid-client (npm, pinned in package-lock.json) against the local
// provider. Same output as bench/device_flow_peer.cpp: one JSON object a line
// on stdout, never a token (only its length).
//
//   node device_flow.mjs --issuer URL --client-id ID [--scope S] [--clock-scale F]
//
// --clock-scale 0.9 plays a client whose clock runs 10% fast: every timer
// fires after 0.9 of its delay (openid-client waits with setTimeout).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    scope: { type: 'string', multiple: true, default: [] },
    'clock-scale': { type: 'string', default: '1' },
  },
});
const scale = Number(values['clock-scale']);
if (!(scale > 0)) throw new Error('--clock-scale must be a positive number');
if (scale !== 1) {
  const original = globalThis.setTimeout;
  globalThis.setTimeout = (fn, ms, ...args) => original(fn, (ms ?? 0) * scale, ...args);
}

// Imported after the clock is set, so the library sees the same timers.
const client = await import('openid-client');

function vmHwmKib() {
  const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : -1;
}

const config = await client.discovery(new URL(values.issuer), values['client-id'], undefined, undefined, {
  execute: [client.allowInsecureRequests], // http on 127.0.0.1 only
});
const scope = values.scope.join(' ');
const response = await client.initiateDeviceAuthorization(config, scope ? { scope } : {});
console.log(JSON.stringify({
  event: 'prompt',
  t_ms: Date.now(),
  verification_uri_complete: response.verification_uri_complete,
  user_code: response.user_code,
}));
const tokens = await client.pollDeviceAuthorizationGrant(config, response);
console.log(JSON.stringify({
  event: 'token',
  t_ms: Date.now(),
  access_token_bytes: tokens.access_token.length,
  vm_hwm_kib: vmHwmKib(),
}));
