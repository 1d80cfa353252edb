// openid-client's side of the warm-token comparison (bench/cli_token.sh):
// what a Node.js CLI built on openid-client does to hand over a cached
// token — load the library (it would refresh an expired token), read the
// same record file, check the expiry, print the access token.
//
//   node cached_token.mjs RECORD_FILE
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';

const record = JSON.parse(readFileSync(process.argv[2], 'utf8'));
if (typeof client.refreshTokenGrant !== 'function') throw new Error('openid-client without refreshTokenGrant');
if (!(record.expires_at > Date.now() / 1000 + 60)) throw new Error('the cached token would need a refresh');
process.stdout.write(`${record.access_token}\n`);
