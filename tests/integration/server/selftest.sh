#!/usr/bin/env bash
# End-to-end check of the devflow test provider with curl, on 127.0.0.1 only.
# Starts and stops its own servers; exits nonzero on any failure; < 60 s.
#
#   bash tests/integration/server/selftest.sh
#
# Needs node (>= 20), npm (only if node_modules is missing), curl, openssl.
set -u -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

if [ ! -d node_modules/oidc-provider ]; then
  echo "selftest: node_modules missing, running npm ci" >&2
  npm ci --no-audit --no-fund >&2 || { echo "selftest: npm ci failed" >&2; exit 1; }
fi

T="$(mktemp -d "${TMPDIR:-/tmp}/devflow-selftest.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

PASSED=0
FAILED=0
ok()   { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
bad()  { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
eq() { [ "$1" = "$2" ] || { echo "       expected [$2], got [$1]" >&2; return 1; }; }
ne() { [ "$1" != "$2" ] || { echo "       expected something other than [$2]" >&2; return 1; }; }
nonempty() { [ -n "$1" ] || { echo "       empty value" >&2; return 1; }; }

# json FILE KEY -> value (empty when absent or null); KEY is a dotted path.
# Each file is flattened once into FILE.kv ("path<TAB>value" lines; objects
# and arrays as compact JSON), by jq when present, else by node.
flatten() {
  if command -v jq >/dev/null 2>&1; then
    jq -r 'paths as $p | getpath($p) as $v | select($v != null)
           | "\($p | map(tostring) | join("."))\t\(if ($v | type) == "object" or ($v | type) == "array"
                                                 then ($v | tojson) else ($v | tostring) end)"' "$1" 2>/dev/null
  else
    node -e '
      let v;
      try { v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch { process.exit(0); }
      const out = [];
      const walk = (x, p) => {
        if (x === null || typeof x !== "object") return;
        for (const [k, c] of Object.entries(x)) {
          if (c === null) continue;
          const path = p ? `${p}.${k}` : k;
          out.push(`${path}\t${typeof c === "object" ? JSON.stringify(c) : String(c)}`);
          walk(c, path);
        }
      };
      walk(v, "");
      process.stdout.write(out.length ? out.join("\n") + "\n" : "");
    ' "$1"
  fi
}
json() {
  [ -f "$1.kv" ] || flatten "$1" >"$1.kv"
  awk -F'\t' -v k="$2" '$1 == k { print $2; exit }' "$1.kv"
}

# launch NAME [VAR=VALUE...]: starts server.mjs in the background.
# await_ready NAME: waits for its JSON line, sets NAME_ISSUER and NAME_PID.
# stdout must be exactly that one line.
launch() {
  local name="$1"; shift
  env "$@" node server.mjs >"$T/$name.out" 2>"$T/$name.err" &
  printf -v "${name}_PID" '%s' "$!"
  PIDS+=("$!")
}
await_ready() {
  local name="$1" pid_var="${1}_PID"
  local pid="${!pid_var}"
  for _ in $(seq 1 200); do
    [ -s "$T/$name.out" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$T/$name.out" ]; then
    echo "selftest: server $name did not start" >&2; cat "$T/$name.err" >&2; exit 1
  fi
  sleep 0.05
  head -n 1 "$T/$name.out" >"$T/$name.json"
  printf -v "${name}_ISSUER" '%s' "$(json "$T/$name.json" issuer)"
}

# Monotonic-enough milliseconds, and "sleep until MS after a mark".
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
sleep_until() { # sleep_until MARK_MS DELAY_MS
  local left=$(( $1 + $2 - $(now_ms) ))
  if [ "$left" -gt 0 ]; then sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"; fi
}

DEVICE_GRANT='urn:ietf:params:oauth:grant-type:device_code'
SECRET='selftest-secret'

# req NAME URL [curl args...]: body in $T/NAME.body, status in $T/NAME.status.
req() {
  local name="$1" url="$2"; shift 2
  rm -f "$T/$name.body.kv"
  curl -sS -o "$T/$name.body" -w '%{http_code}' "$@" "$url" >"$T/$name.status" 2>"$T/$name.curlerr" \
    || echo "000" >"$T/$name.status"
}
status() { cat "$T/$1.status"; }
field() { json "$T/$1.body" "$2"; }

# device_auth NAME ISSUER [curl args]: public client unless args say otherwise.
device_auth() {
  local name="$1" iss="$2"; shift 2
  if [ $# -eq 0 ]; then set -- -d client_id=devflow-public; fi
  req "$name" "$iss/device/auth" "$@" -d 'scope=openid offline_access profile'
}
# poll NAME ISSUER DEVICE_CODE [curl args]
poll() {
  local name="$1" iss="$2" dc="$3"; shift 3
  if [ $# -eq 0 ]; then set -- -d client_id=devflow-public; fi
  req "$name" "$iss/token" "$@" -d "grant_type=$DEVICE_GRANT" --data-urlencode "device_code=$dc"
}
approve() { node approve.mjs "$@" >"$T/approve.out" 2>"$T/approve.err"; }

SECONDS=0

# ------------------------------------------------------------ servers
# A test CA and a server certificate for 127.0.0.1 and localhost, made now.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj '/CN=devflow selftest CA' -keyout "$T/ca.key" -out "$T/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj '/CN=localhost' \
  -keyout "$T/srv.key" -out "$T/srv.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 1 \
  -extfile "$T/ext.cnf" -out "$T/srv.pem" >/dev/null 2>&1
[ -s "$T/srv.pem" ] || { echo "selftest: openssl could not make the test certificate" >&2; exit 1; }

# All servers start at once (each takes a moment to boot node).
launch A DEVFLOW_INTERVAL=1 DEVFLOW_CONFIDENTIAL_SECRET="$SECRET" DEVFLOW_SERVER_INFO_FILE="$T/A.info"
launch B DEVFLOW_DEVICE_CODE_TTL=3 DEVFLOW_STOCK_POLLING=1
launch S DEVFLOW_TLS_CERT="$T/srv.pem" DEVFLOW_TLS_KEY="$T/srv.key"
launch L DEVFLOW_TLS_CERT="$T/srv.pem" DEVFLOW_TLS_KEY="$T/srv.key" DEVFLOW_ISSUER_HOST=localhost
for s in A B S L; do await_ready "$s"; done

check "ready line is one JSON line with issuer http://127.0.0.1:PORT" \
  eq "$(json "$T/A.json" issuer)" "http://127.0.0.1:$(json "$T/A.json" port)"
check "nothing else on stdout" eq "$(wc -l <"$T/A.out")" "1"
check "info file holds the same JSON line" eq "$(cat "$T/A.info")" "$(cat "$T/A.json")"
check "ready line names the endpoints" \
  eq "$(json "$T/A.json" token_endpoint)|$(json "$T/A.json" stats_endpoint)" "$A_ISSUER/token|$A_ISSUER/__devflow/stats"

req disco "$A_ISSUER/.well-known/openid-configuration"
check "discovery lists the device authorization endpoint" \
  eq "$(field disco device_authorization_endpoint)" "$A_ISSUER/device/auth"
check "discovery lists revocation and userinfo" \
  eq "$(field disco revocation_endpoint)|$(field disco userinfo_endpoint)" "$A_ISSUER/token/revocation|$A_ISSUER/me"

# ------------------------------------------------------------ expiry (server B, stock polling)
device_auth E "$B_ISSUER"
E_DC="$(field E device_code)"
poll E1 "$B_ISSUER" "$E_DC"; poll E2 "$B_ISSUER" "$E_DC"
E_UC="$(field E user_code)"
check "stock mode: no interval in the device authorization answer" eq "$(field E interval)" ""
check "short device code TTL is announced" eq "$(field E expires_in)" "3"
check "stock mode: back-to-back polls are both authorization_pending (no slow_down)" \
  eq "$(field E1 error)|$(field E2 error)" "authorization_pending|authorization_pending"

# ------------------------------------------------------------ interval and slow_down (server A)
device_auth X "$A_ISSUER"; X_DC="$(field X device_code)"
device_auth Y "$A_ISSUER"; Y_DC="$(field Y device_code)"; Y_UC="$(field Y user_code)"
check "device authorization answers 200" eq "$(status Y)" "200"
check "device authorization answer carries interval (DEVFLOW_INTERVAL=1)" eq "$(field Y interval)" "1"
check "device authorization answer has user_code and verification_uri" \
  nonempty "$(field Y user_code)$(field Y verification_uri_complete)"
poll X1 "$A_ISSUER" "$X_DC"; poll X2 "$A_ISSUER" "$X_DC"; X2_AT=$(now_ms)
poll Y1 "$A_ISSUER" "$Y_DC"; poll Y2 "$A_ISSUER" "$Y_DC"; Y2_AT=$(now_ms)
check "first poll is authorization_pending" eq "$(status Y1) $(field Y1 error)" "400 authorization_pending"
check "a poll sooner than the interval gets HTTP 400 slow_down" eq "$(status Y2) $(field Y2 error)" "400 slow_down"
check "slow_down for the other code too" eq "$(field X2 error)" "slow_down"
sleep_until "$X2_AT" 1500
poll X3 "$A_ISSUER" "$X_DC"
check "after slow_down the interval is raised: a poll 1.5 s later (> 1 s) is still slow_down" eq "$(field X3 error)" "slow_down"
check "approve.mjs approves through the real pages" \
  approve --uri "$(field Y verification_uri)" --code "$Y_UC" --user alice
check "approve.mjs prints one line saying what happened" \
  grep -qx "approved: user code $Y_UC as alice at ${A_ISSUER#http://} ([0-9]* requests)" "$T/approve.out"

# ------------------------------------------------------------ revocation (verification_uri_complete path)
device_auth Z "$A_ISSUER"; Z_DC="$(field Z device_code)"
check "approve.mjs works from verification_uri_complete alone" \
  approve --uri "$(field Z verification_uri_complete)" --user bob
poll Z1 "$A_ISSUER" "$Z_DC"
check "first poll after approval gets tokens" eq "$(status Z1)" "200"
Z_AT="$(field Z1 access_token)"; Z_RT="$(field Z1 refresh_token)"
req UIZ "$A_ISSUER/me" -H "Authorization: Bearer $Z_AT"
check "userinfo names the user who logged in" eq "$(field UIZ sub)" "bob"
req REV "$A_ISSUER/token/revocation" -d client_id=devflow-public -d token_type_hint=refresh_token --data-urlencode "token=$Z_RT"
check "revocation answers 200" eq "$(status REV)" "200"
req RZ "$A_ISSUER/token" -d grant_type=refresh_token -d client_id=devflow-public --data-urlencode "refresh_token=$Z_RT"
check "a revoked refresh token no longer works" eq "$(status RZ) $(field RZ error)" "400 invalid_grant"
req UIZ2 "$A_ISSUER/me" -H "Authorization: Bearer $Z_AT"
check "revoking the refresh token also killed the access token" eq "$(status UIZ2)" "401"

device_auth Q "$A_ISSUER"; Q_DC="$(field Q device_code)"
approve --uri "$(field Q verification_uri_complete)"
poll Q1 "$A_ISSUER" "$Q_DC"
req REVQ "$A_ISSUER/token/revocation" -d client_id=devflow-public --data-urlencode "token=$(field Q1 access_token)"
req RQ "$A_ISSUER/token" -d grant_type=refresh_token -d client_id=devflow-public --data-urlencode "refresh_token=$(field Q1 refresh_token)"
check "revoking the access token kills the refresh token too" eq "$(status REVQ) $(field RQ error)" "200 invalid_grant"

# ------------------------------------------------------------ polling again after success
device_auth W "$A_ISSUER"; W_DC="$(field W device_code)"
approve --uri "$(field W verification_uri_complete)"
poll W1 "$A_ISSUER" "$W_DC"
sleep 1.1
poll W2 "$A_ISSUER" "$W_DC"
check "polling again after success gives invalid_grant" eq "$(status W1) $(field W2 error)" "200 invalid_grant"
req UIW "$A_ISSUER/me" -H "Authorization: Bearer $(field W1 access_token)"
check "polling again after success revoked the issued tokens" eq "$(status UIW)" "401"

# ------------------------------------------------------------ deny
device_auth D "$A_ISSUER"; D_DC="$(field D device_code)"
check "approve.mjs --deny exits 0" approve --uri "$(field D verification_uri)" --code "$(field D user_code)" --deny
check "and reports the denial" grep -q '^denied: ' "$T/approve.out"
poll D1 "$A_ISSUER" "$D_DC"
check "a denied code answers access_denied" eq "$(status D1) $(field D1 error)" "400 access_denied"
device_auth D2 "$A_ISSUER"; D2_DC="$(field D2 device_code)"
check "approve.mjs --deny-at login (the login page's Cancel link) exits 0" \
  approve --uri "$(field D2 verification_uri_complete)" --deny-at login
poll D2P "$A_ISSUER" "$D2_DC"
check "cancelling at login also answers access_denied" eq "$(field D2P error)" "access_denied"
check "approve.mjs refuses a code already denied" \
  bash -c "! node approve.mjs --uri '$(field D verification_uri)' --code '$(field D user_code)' 2>/dev/null >/dev/null"

# ------------------------------------------------------------ confidential client, client_secret_basic
device_auth C "$A_ISSUER" -u "devflow-confidential:$SECRET"
C_DC="$(field C device_code)"
check "confidential client: device authorization with Basic auth" eq "$(status C) $(field C interval)" "200 1"
poll C0 "$A_ISSUER" "$C_DC" -u "devflow-confidential:wrong"
check "confidential client: a poll with a wrong secret is invalid_client, never timed" \
  eq "$(status C0) $(field C0 error)" "401 invalid_client"
approve --uri "$(field C verification_uri_complete)" --user carol
poll C1 "$A_ISSUER" "$C_DC" -u "devflow-confidential:$SECRET"
check "confidential client: tokens with Basic auth" eq "$(status C1)" "200"
check "confidential client: a refresh token is issued" nonempty "$(field C1 refresh_token)"
req CR "$A_ISSUER/token" -u "devflow-confidential:$SECRET" -d grant_type=refresh_token --data-urlencode "refresh_token=$(field C1 refresh_token)"
check "confidential client: refresh rotates too" eq "$(status CR) $([ "$(field CR refresh_token)" != "$(field C1 refresh_token)" ] && echo rotated)" "200 rotated"
req CBAD "$A_ISSUER/device/auth" -u "devflow-confidential:wrong" -d scope=openid
check "confidential client: a wrong secret is invalid_client" eq "$(status CBAD) $(field CBAD error)" "401 invalid_client"
device_auth CB2 "$A_ISSUER" -d client_id=devflow-confidential -d client_secret="$SECRET"
check "confidential client: client_secret_post is refused (Basic only)" eq "$(field CB2 error)" "invalid_client"
device_auth CB3 "$A_ISSUER" -u "devflow-confidential:$SECRET" -d client_id=devflow-confidential
check "Basic plus the same client_id in the body is tolerated (and counted)" eq "$(status CB3)" "200"

# ------------------------------------------------------------ TLS with a CA made now
check "TLS: issuer is https://127.0.0.1:PORT" eq "$(json "$T/S.json" issuer)|$(json "$T/S.json" tls)" "https://127.0.0.1:$(json "$T/S.json" port)|true"
req SN "$S_ISSUER/device/auth" -d client_id=devflow-public -d scope=openid
check "TLS: rejected without the test CA" eq "$(status SN)" "000"
device_auth SD "$S_ISSUER" --cacert "$T/ca.pem" -d client_id=devflow-public
check "TLS: accepted with the test CA; default interval is 5" eq "$(status SD) $(field SD interval)" "200 5"
check "TLS: approve.mjs without the CA fails" \
  bash -c "! node approve.mjs --uri '$(field SD verification_uri_complete)' >/dev/null 2>&1"
check "TLS: approve.mjs --ca approves" approve --uri "$(field SD verification_uri_complete)" --ca "$T/ca.pem"
poll SP "$S_ISSUER" "$(field SD device_code)" --cacert "$T/ca.pem" -d client_id=devflow-public
check "TLS: tokens after approval" eq "$(status SP)" "200"
device_auth SD2 "$S_ISSUER" --cacert "$T/ca.pem" -d client_id=devflow-public
check "TLS: approve.mjs honours NODE_EXTRA_CA_CERTS" \
  env NODE_EXTRA_CA_CERTS="$T/ca.pem" node approve.mjs --uri "$(field SD2 verification_uri_complete)" --deny >/dev/null
device_auth LD "$L_ISSUER" --cacert "$T/ca.pem" -d client_id=devflow-public
check "TLS: DEVFLOW_ISSUER_HOST=localhost serves https://localhost:PORT" \
  eq "$(status LD) $(field LD verification_uri)" "200 $L_ISSUER/device"
check "TLS: approve.mjs via https://localhost" approve --uri "$(field LD verification_uri_complete)" --ca "$T/ca.pem"


# ------------------------------------------------------------ tokens after slow_down
sleep_until "$Y2_AT" 6300
poll Y3 "$A_ISSUER" "$Y_DC"
check "a poll 6.3 s after slow_down (interval 1+5) gets tokens" eq "$(status Y3)" "200"
AT1="$(field Y3 access_token)"; RT1="$(field Y3 refresh_token)"
check "token answer has access_token and refresh_token" nonempty "$AT1"
check "token answer has a refresh_token" nonempty "$RT1"
check "token answer: Bearer with expires_in 3600" eq "$(field Y3 token_type) $(field Y3 expires_in)" "Bearer 3600"


# ------------------------------------------------------------ expiry check (B's code is now > 6 s old; its TTL is 3 s)
poll E3 "$B_ISSUER" "$E_DC"
check "a device code left to expire answers expired_token" eq "$(status E3) $(field E3 error)" "400 expired_token"
check "approve.mjs fails clearly on an expired code" \
  bash -c "! node approve.mjs --uri '$B_ISSUER/device' --code '$E_UC' >/dev/null 2>'$T/exp.err'"
check "and says why" grep -q "rejected user code" "$T/exp.err"

# ------------------------------------------------------------ userinfo, refresh with rotation, replay
req UI "$A_ISSUER/me" -H "Authorization: Bearer $AT1"
check "userinfo with the access token names the user" eq "$(status UI) $(field UI sub)" "200 alice"
req R1 "$A_ISSUER/token" -d grant_type=refresh_token -d client_id=devflow-public --data-urlencode "refresh_token=$RT1"
AT2="$(field R1 access_token)"; RT2="$(field R1 refresh_token)"
check "refresh answers 200 with a new access token" eq "$(status R1)" "200"
check "refresh rotates the refresh token" ne "$RT2" "$RT1"
check "the rotated refresh token is not empty" nonempty "$RT2"
req UI2 "$A_ISSUER/me" -H "Authorization: Bearer $AT2"
check "the refreshed access token works at userinfo" eq "$(status UI2)" "200"
req R2 "$A_ISSUER/token" -d grant_type=refresh_token -d client_id=devflow-public --data-urlencode "refresh_token=$RT1"
check "replaying the old refresh token gives invalid_grant" eq "$(status R2) $(field R2 error)" "400 invalid_grant"
req R3 "$A_ISSUER/token" -d grant_type=refresh_token -d client_id=devflow-public --data-urlencode "refresh_token=$RT2"
check "the replay killed the grant: the new refresh token is dead too" eq "$(field R3 error)" "invalid_grant"
req UI3 "$A_ISSUER/me" -H "Authorization: Bearer $AT2"
check "the replay killed the grant: the new access token is dead too" eq "$(status UI3)" "401"

# ------------------------------------------------------------ stats
req ST "$A_ISSUER/__devflow/stats"
check "stats: slow_down answers counted" eq "$(field ST slow_down)" "3"
check "stats: refresh requests counted" eq "$(field ST refresh_requests)|$(field ST token_requests.refresh_token)" "6|6"
check "stats: device authorization requests counted" eq "$(field ST device_authorization_requests)" "11"
check "stats: revocations counted" eq "$(field ST revocation_requests)|$(field ST revocations)" "2|2"
check "stats: token errors by code" eq "$(field ST token_errors.access_denied)|$(field ST token_errors.authorization_pending)" "2|2"
check "stats: userinfo requests counted" eq "$(field ST userinfo_requests)" "6"
req STR "$A_ISSUER/__devflow/stats/reset" -X POST
req ST2 "$A_ISSUER/__devflow/stats"
check "stats: client authentication counted by what was sent" \
  eq "$(field ST client_auth.client_secret_basic)|$(field ST client_auth.client_secret_post)|$(field ST client_auth.basic_with_body_client_id)" "6|1|1"
check "stats reset zeroes the counters" eq "$(field ST2 slow_down)|$(field ST2 token_requests)" "0|{}"

# ------------------------------------------------------------ clean stop
kill -TERM "$A_PID"
for _ in $(seq 1 30); do kill -0 "$A_PID" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the server" bash -c "! kill -0 $A_PID 2>/dev/null"
wait "$A_PID"; rc=$?
check "and it exits 0" eq "$rc" "0"
check "no server error was logged" bash -c "! grep -qi 'server_error\|unhandled\|TypeError' '$T'/[ABSL].err"

echo "selftest: ${SECONDS}s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
