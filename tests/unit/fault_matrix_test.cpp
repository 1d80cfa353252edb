// The fault matrix, fake-server half (docs/fault-matrix.md): one table of
// protocol-level faults, each run through device_flow in virtual time against
// the fake authorization server behind a tampering proxy. Every row says what
// the server does, the expected outcome (a typed devflow::errc, or tokens with
// the virtual time of every token-endpoint request, so "retried then
// succeeded" carries its backoff) and what the stored record looks like
// afterwards. The table is the source of the document: a test compares them.
// The transport half (real sockets, real adapters) is tests/faults/.
#include "doc_table.hpp"
#include "flow_fixture.hpp"

#include <devflow/detail/display_text.hpp>

#if __has_include(<devflow/discovery.hpp>)
#include <devflow/discovery.hpp>
#define DEVFLOW_FAULT_MATRIX_DISCOVERY 1
#endif

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace devflow_test;

namespace {

using devflow::errc;
using devflow::http_response;
using devflow::transport_error;
using devflow::testing::recorded_request;

// ================================================================ the table

/// Where in the flow the fault strikes.
enum class phase {
    device,           ///< the device authorization answer (RFC 8628 §3.2)
    poll,             ///< device-code poll answers (RFC 8628 §3.5), from the first
    refresh,          ///< a proactive refresh: the access token still has 50 s (RFC 6749 §6)
    refresh_expired,  ///< a refresh after the access token expired
    config,           ///< the configuration, before any request
    discovery,        ///< the metadata document (RFC 8414, OpenID Connect Discovery)
};

/// What the operation must end with.
enum class result { tokens, cached_token, error };

/// What the stored record must look like afterwards.
enum class record_after {
    unchanged,  ///< byte-identical to before (absent stays absent)
    replaced,   ///< a complete record of the new tokens
    erased,     ///< gone: the session is over (invalid_grant)
};

/// The expected outcome of one row.
struct expectation {
    result kind = result::error;
    errc code = errc::malformed_response;  ///< for result::error
    /// Every token-endpoint request, in seconds of virtual time from the start
    /// of the operation (login() or authorization_header()).
    std::vector<double> requests_at;
    record_after record = record_after::unchanged;
    std::string note;  ///< replaces the generated outcome text when set
};

/// Calls the real (fake) authorization server with the request in flight.
using upstream = std::function<http_response()>;
/// Produces the answer the flow sees, with or without asking the server.
using tamper = std::function<http_response(const upstream&)>;

/// One row of the matrix.
struct fault_row {
    std::string name;         ///< a sentence; also the Catch2 section name
    phase where;              ///< which answers are tampered with
    std::string server_does;  ///< for the document
    tamper answer;            ///< applied to the first `hits` answers of the phase
    expectation expect;
    int hits = 1;
    std::function<void(devflow::testing::server_options&)> server = {};
    std::function<void(devflow::client_config&)> config = {};
    /// Extra checks on the tokens the operation returned (result::tokens).
    std::function<void(const devflow::token_set&)> check = {};
};

// ------------------------------------------------------------ answers

using header_list = std::vector<std::pair<std::string, std::string>>;

http_response reply(int status, std::string body, std::string content_type = "application/json",
                    header_list headers = {}) {
    http_response r;
    r.status = status;
    r.body = devflow::secret{std::move(body)};
    if (!content_type.empty()) r.headers.push_back({"content-type", devflow::secret{content_type}});
    for (auto& [name, value] : headers) r.headers.push_back({name, devflow::secret{value}});
    return r;
}

/// The server is not asked; the flow gets this answer.
tamper replace(int status, std::string body, std::string content_type = "application/json",
               header_list headers = {}) {
    return [=](const upstream&) { return reply(status, body, content_type, headers); };
}

/// The server is not asked; the body is made when the answer is needed.
tamper replace_with(int status, std::function<std::string()> make_body) {
    return [=](const upstream&) { return reply(status, make_body()); };
}

/// The server answers; its body is edited (and its content type replaced).
tamper edit(std::function<std::string(std::string)> change, std::string content_type = {}) {
    return [=](const upstream& up) {
        http_response r = up();
        r.body = devflow::secret{change(r.body.reveal())};
        if (!content_type.empty())
            for (auto& h : r.headers)
                if (h.name == "content-type") h.value = devflow::secret{content_type};
        return r;
    };
}

/// The server answers untouched.
tamper pass() {
    return [](const upstream& up) { return up(); };
}

/// The request gets no answer.
tamper no_answer(transport_error why, std::string message) {
    return [=](const upstream&) { return devflow::testing::transport_failure(why, message); };
}

// The fake server writes compact objects of strings and numbers (no nesting,
// no escaped quotes), so members can be edited as text.

/// `body` without member `name`.
std::string without(std::string body, const std::string& name) {
    const std::string key = '"' + name + "\":";
    const auto at = body.find(key);
    if (at == std::string::npos) return body;
    auto end = at + key.size();
    if (body[end] == '"')
        end = body.find('"', end + 1) + 1;
    else
        end = body.find_first_of(",}", end);
    if (at > 0 && body[at - 1] == ',')
        body.erase(at - 1, end - at + 1);
    else if (body[end] == ',')
        body.erase(at, end - at + 1);
    else
        body.erase(at, end - at);
    return body;
}

/// `body` with member `name` set to the raw JSON text `raw` (appended last).
std::string with(std::string body, const std::string& name, const std::string& raw) {
    body = without(std::move(body), name);
    const auto close = body.rfind('}');
    const std::string member = (body.size() > 2 ? "," : "") + ('"' + name + "\":" + raw);
    body.insert(close, member);
    return body;
}

/// `body` with one more member `name`: a duplicate name.
std::string duplicated(std::string body, const std::string& name, const std::string& raw) {
    body.insert(body.rfind('}'), ",\"" + name + "\":" + raw);
    return body;
}

tamper set_member(std::string name, std::string raw) {
    return edit([=](std::string b) { return with(std::move(b), name, raw); });
}
tamper drop_member(std::string name) {
    return edit([=](std::string b) { return without(std::move(b), name); });
}

const std::string html_page =
    "<!DOCTYPE html><html><head><title>Service unavailable</title></head>"
    "<body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>";

/// A valid-looking JSON object of about 1.5 MiB (the cap is 1 MiB).
std::string huge_object() {
    return R"({"device_code":"CANARY-huge","access_token":"CANARY-huge","padding":")" +
           std::string(1536 * 1024, 'x') + "\"}";
}

/// An object with a member nested `depth` arrays deep (the limit is 32).
std::string deep_object(int depth) {
    return R"({"access_token":"CANARY-deep","token_type":"Bearer","x":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}";
}

// ------------------------------------------------------------ outcomes

expectation fails(errc code, std::vector<double> at, record_after record = record_after::unchanged) {
    return {result::error, code, std::move(at), record, {}};
}
expectation tokens_at(std::vector<double> at, std::string note = {}) {
    return {result::tokens, errc::malformed_response, std::move(at), record_after::replaced,
            std::move(note)};
}
expectation cached() {
    return {result::cached_token, errc::malformed_response, {0}, record_after::unchanged, {}};
}

void lenient(devflow::testing::server_options& o) { o.strict = false; }

// ------------------------------------------------------------ the rows

/// The matrix. Default server: Keycloak-like and strict, interval 5 s,
/// approves on the first poll, 300 s access tokens; the flow adds no poll
/// margin, so the first poll is at 5 s.
const std::vector<fault_row>& fault_table() {
    static const std::vector<fault_row> rows = [] {
        std::vector<fault_row> t;
        const auto D = phase::device;
        const auto P = phase::poll;
        const auto R = phase::refresh;
        const auto X = phase::refresh_expired;
        const auto C = phase::config;
        const auto M = errc::malformed_response;

        // ---- the device authorization answer (RFC 8628 §3.2)
        t.push_back({"An empty device authorization answer is malformed", D,
                     "200 with an empty body", replace(200, ""), fails(M, {})});
        t.push_back({"A truncated device authorization answer is malformed", D,
                     "200 with the JSON cut in half",
                     edit([](std::string b) { return b.substr(0, b.size() / 2); }), fails(M, {})});
        t.push_back({"A form-encoded device authorization answer is malformed", D,
                     "200 with `device_code=...&user_code=...`",
                     replace(200, "device_code=CANARY-form&user_code=WDJB-MJHT"), fails(M, {})});
        t.push_back({"A device authorization answer over 1 MiB is malformed", D,
                     "200 with a 1.5 MiB JSON object", replace_with(200, huge_object), fails(M, {})});
        t.push_back({"A device authorization answer nested 10000 deep is malformed", D,
                     "200 with a member nested 10000 arrays deep",
                     replace_with(200, [] { return deep_object(10000); }), fails(M, {})});
        t.push_back({"An HTML page with 200 from the device endpoint is malformed", D,
                     "200 text/html error page", replace(200, html_page, "text/html"), fails(M, {})});
        t.push_back({"An HTML page with 400 from the device endpoint is malformed", D,
                     "400 text/html error page", replace(400, html_page, "text/html"), fails(M, {})});
        t.push_back({"An HTML page with 500 from the device endpoint is a server error", D,
                     "500 text/html error page", replace(500, html_page, "text/html"),
                     fails(errc::server_error, {})});
        t.push_back({"A 503 temporarily_unavailable from the device endpoint is a server error", D,
                     "503 `{\"error\":\"temporarily_unavailable\"}`",
                     replace(503, R"({"error":"temporarily_unavailable"})"),
                     fails(errc::server_error, {})});
        t.push_back({"A 429 with Retry-After from the device endpoint is a server error", D,
                     "429 with `Retry-After: 30` and an empty body",
                     replace(429, "", "text/plain", {{"retry-after", "30"}}),
                     fails(errc::server_error, {})});
        t.push_back({"A device authorization answer labelled text/html is read by its body", D,
                     "a valid answer with `Content-Type: text/html`",
                     edit([](std::string b) { return b; }, "text/html"), tokens_at({5})});
        t.push_back({"A non-JSON device authorization answer labelled JSON is malformed", D,
                     "200 `application/json` with `OK`", replace(200, "OK"), fails(M, {})});
        t.push_back({"A device authorization answer with a duplicate device_code is malformed", D,
                     "`device_code` twice in one object",
                     edit([](std::string b) { return duplicated(b, "device_code", "\"CANARY-dup\""); }),
                     fails(M, {})});
        for (const char* field : {"device_code", "user_code", "verification_uri", "expires_in"})
            t.push_back({std::string("A device authorization answer without ") + field +
                             " is malformed",
                         D, std::string("`") + field + "` missing", drop_member(field), fails(M, {})});
        t.push_back({"A device authorization answer with an empty device_code is malformed", D,
                     "`\"device_code\":\"\"`", set_member("device_code", "\"\""), fails(M, {})});
        t.push_back({"A device authorization answer without interval means 5 s", D,
                     "no `interval` (the server's own pace is 3 s)", pass(), tokens_at({5}),
                     1, [](auto& o) { o.interval = std::chrono::seconds{3}; o.send_interval = false; }});
        t.push_back({"A negative expires_in in the device authorization answer is malformed", D,
                     "`\"expires_in\":-600`", set_member("expires_in", "-600"), fails(M, {})});
        t.push_back({"A zero expires_in in the device authorization answer is malformed", D,
                     "`\"expires_in\":0`", set_member("expires_in", "0"), fails(M, {})});
        t.push_back({"A huge expires_in in the device authorization answer is malformed", D,
                     "`\"expires_in\":1e300`", set_member("expires_in", "1e300"), fails(M, {})});
        t.push_back({"A fractional expires_in in the device authorization answer is accepted", D,
                     "`\"expires_in\":600.9`", set_member("expires_in", "600.9"), tokens_at({5})});
        t.push_back({"A string expires_in in the device authorization answer is accepted", D,
                     "`\"expires_in\":\"600\"`", set_member("expires_in", "\"600\""),
                     tokens_at({5})});
        t.push_back({"A non-numeric string expires_in in the device authorization answer is malformed",
                     D, "`\"expires_in\":\"ten minutes\"`",
                     set_member("expires_in", "\"ten minutes\""), fails(M, {})});
        t.push_back({"A boolean expires_in in the device authorization answer is malformed", D,
                     "`\"expires_in\":true`", set_member("expires_in", "true"), fails(M, {})});
        t.push_back({"A negative interval in the device authorization answer is malformed", D,
                     "`\"interval\":-5`", set_member("interval", "-5"), fails(M, {})});
        t.push_back({"A zero interval in the device authorization answer polls at the 1 s floor", D,
                     "`\"interval\":0` (lenient server)", set_member("interval", "0"),
                     tokens_at({1}), 1, lenient});
        t.push_back({"A fractional interval in the device authorization answer is rounded up", D,
                     "`\"interval\":2.5` (lenient server)", set_member("interval", "2.5"),
                     tokens_at({3}), 1, lenient});
        t.push_back({"A huge interval in the device authorization answer is malformed", D,
                     "`\"interval\":1e9`", set_member("interval", "1e9"), fails(M, {})});
        t.push_back({"A string interval in the device authorization answer is accepted", D,
                     "`\"interval\":\"2\"` (lenient server)", set_member("interval", "\"2\""),
                     tokens_at({2}), 1, lenient});
        t.push_back({"A javascript verification_uri is malformed", D,
                     "`\"verification_uri\":\"javascript:alert(1)\"`",
                     set_member("verification_uri", "\"javascript:alert(1)\""), fails(M, {})});
        t.push_back({"A numeric verification_uri is malformed", D, "`\"verification_uri\":42`",
                     set_member("verification_uri", "42"), fails(M, {})});
        t.push_back({"A user_code with a terminal escape sequence is malformed", D,
                     "`user_code` holding ESC [2J", set_member("user_code", "\"\\u001b[2JWDJB\""),
                     fails(M, {})});
        // ---- server text and URL confusion (docs/security.md S8, S9)
        t.push_back({"A user_code with a right-to-left override is malformed", D,
                     "`user_code` holding U+202E", set_member("user_code", "\"WDJB\\u202eTHJM\""),
                     fails(M, {})});
        t.push_back({"A user_code with a C1 control is malformed", D,
                     "`user_code` holding U+009B (the 8-bit CSI)",
                     set_member("user_code", "\"WDJB\\u009b2JMJHT\""), fails(M, {})});
        t.push_back({"A verification_uri with a bidi isolate is malformed", D,
                     "`verification_uri` holding U+2066",
                     set_member("verification_uri", "\"https://auth.example.com/\\u2066device\""),
                     fails(M, {})});
        t.push_back({"A verification_uri with a backslash before @ is malformed", D,
                     "`\"verification_uri\":\"https://good.example\\\\@evil.example/\"`",
                     set_member("verification_uri", "\"https://good.example\\\\@evil.example/\""),
                     fails(M, {})});
        t.push_back({"A verification_uri_complete with userinfo is malformed", D,
                     "`verification_uri_complete` of `https://good.example@evil.example/`",
                     set_member("verification_uri_complete", "\"https://good.example@evil.example/\""),
                     fails(M, {})});
        t.push_back({"A verification_uri with a percent-encoded host is malformed", D,
                     "`\"verification_uri\":\"https://%65vil.example/\"`",
                     set_member("verification_uri", "\"https://%65vil.example/\""), fails(M, {})});
        t.push_back({"A verification_uri with a numeric host is malformed", D,
                     "`\"verification_uri\":\"https://2130706433/device\"`",
                     set_member("verification_uri", "\"https://2130706433/device\""), fails(M, {})});
        t.push_back({"A verification_uri with a look-alike non-ASCII letter is malformed", D,
                     "`verification_uri` with a fullwidth letter in its host",
                     set_member("verification_uri", "\"https://\\uff47ood.example/device\""),
                     fails(M, {})});

        // ---- device-code polling (RFC 8628 §3.4-3.5)
        t.push_back({"A 500 HTML page on a poll is retried after the backoff", P,
                     "500 text/html error page, then the real answer",
                     replace(500, html_page, "text/html"), tokens_at({5, 15})});
        t.push_back({"A 502 with an empty body on a poll is retried after the backoff", P,
                     "502 with no body", replace(502, "", ""), tokens_at({5, 15})});
        t.push_back({"A 503 temporarily_unavailable on a poll is retried after the backoff", P,
                     "503 `{\"error\":\"temporarily_unavailable\"}`",
                     replace(503, R"({"error":"temporarily_unavailable"})"),
                     tokens_at({5, 15})});
        t.push_back({"A 429 with Retry-After in seconds is honoured", P,
                     "429 with `Retry-After: 30`",
                     replace(429, "", "text/plain", {{"retry-after", "30"}}),
                     tokens_at({5, 35})});
        t.push_back({"A 429 with Retry-After as an HTTP-date is honoured", P,
                     "429 with `Retry-After: Thu, 01 Jan 2026 00:00:45 GMT` (40 s ahead)",
                     replace(429, "", "text/plain", {{"retry-after", "Thu, 01 Jan 2026 00:00:45 GMT"}}),
                     tokens_at({5, 45})});
        t.push_back({"A Retry-After shorter than the backoff does not shorten it", P,
                     "503 with `Retry-After: 1`",
                     replace(503, "", "text/plain", {{"retry-after", "1"}}), tokens_at({5, 15})});
        t.push_back({"A garbage Retry-After is ignored", P, "503 with `Retry-After: soon`",
                     replace(503, "", "text/plain", {{"retry-after", "soon"}}),
                     tokens_at({5, 15})});
        t.push_back({"A refused connection on a poll is retried after the backoff", P,
                     "no answer: connection refused",
                     no_answer(transport_error::connect, "connection refused"),
                     tokens_at({5, 15})});
        t.push_back({"A timed-out poll is retried after the backoff", P, "no answer: timeout",
                     no_answer(transport_error::timeout, "timed out"), tokens_at({5, 15})});
        t.push_back({"Three failed polls in a row double the wait each time", P,
                     "500 three times, then the real answer", replace(500, html_page, "text/html"),
                     tokens_at({5, 15, 35, 75}), 3});
        t.push_back({"An empty 200 token answer is malformed", P, "200 with an empty body",
                     replace(200, ""), fails(M, {5})});
        t.push_back({"A truncated token answer is malformed", P, "200 with the JSON cut in half",
                     edit([](std::string b) { return b.substr(0, b.size() / 2); }),
                     fails(M, {5})});
        t.push_back({"An HTML page with 200 on a poll is malformed", P, "200 text/html error page",
                     replace(200, html_page, "text/html"), fails(M, {5})});
        t.push_back({"An HTML page with 400 on a poll is malformed", P, "400 text/html error page",
                     replace(400, html_page, "text/html"), fails(M, {5})});
        t.push_back({"A token answer over 1 MiB is malformed", P, "200 with a 1.5 MiB JSON object",
                     replace_with(200, huge_object), fails(M, {5})});
        t.push_back({"A token answer nested 10000 deep is malformed", P,
                     "200 with a member nested 10000 arrays deep",
                     replace_with(200, [] { return deep_object(10000); }), fails(M, {5})});
        t.push_back({"A token answer nested 40 deep is malformed", P,
                     "200 with a member nested 40 arrays deep",
                     replace_with(200, [] { return deep_object(40); }), fails(M, {5})});
        t.push_back({"A JSON array token answer is malformed", P, "200 with `[]`", replace(200, "[]"),
                     fails(M, {5})});
        t.push_back({"A token answer labelled text/html is read by its body", P,
                     "the real token answer with `Content-Type: text/html`",
                     edit([](std::string b) { return b; }, "text/html"), tokens_at({5})});
        t.push_back({"authorization_pending with 428 and text/html keeps polling", P,
                     "428 text/html `{\"error\":\"authorization_pending\"}`",
                     replace(428, R"({"error":"authorization_pending"})", "text/html"),
                     tokens_at({5, 10}, "polled again then succeeded")});
        t.push_back({"A non-JSON token answer labelled JSON is malformed", P,
                     "200 `application/json` with `access_token=CANARY...`",
                     replace(200, "access_token=CANARY-form&token_type=Bearer"), fails(M, {5})});
        t.push_back({"A token answer with a duplicate access_token is malformed", P,
                     "`access_token` twice in one object",
                     edit([](std::string b) { return duplicated(b, "access_token", "\"CANARY-dup\""); }),
                     fails(M, {5})});
        t.push_back({"A token answer without access_token is malformed", P, "`access_token` missing",
                     drop_member("access_token"), fails(M, {5})});
        t.push_back({"A token answer with an empty access_token is malformed", P,
                     "`\"access_token\":\"\"`", set_member("access_token", "\"\""), fails(M, {5})});
        t.push_back({"A token answer with a numeric access_token is malformed", P,
                     "`\"access_token\":42`", set_member("access_token", "42"), fails(M, {5})});
        t.push_back({"A token answer with a null access_token is malformed", P,
                     "`\"access_token\":null`", set_member("access_token", "null"), fails(M, {5})});
        t.push_back({"A token answer with an object access_token is malformed", P,
                     "`\"access_token\":{\"value\":\"CANARY...\"}`",
                     set_member("access_token", R"({"value":"CANARY-obj"})"), fails(M, {5})});
        t.push_back({"A mac token_type is refused", P, "`\"token_type\":\"mac\"`",
                     set_member("token_type", "\"mac\""), fails(M, {5})});
        t.push_back({"A DPoP token_type is refused", P, "`\"token_type\":\"DPoP\"`",
                     set_member("token_type", "\"DPoP\""), fails(M, {5})});
        t.push_back({"A missing token_type is taken as Bearer", P, "`token_type` missing",
                     drop_member("token_type"), tokens_at({5})});
        t.push_back({"A mixed-case bEaReR token_type is Bearer", P, "`\"token_type\":\"bEaReR\"`",
                     set_member("token_type", "\"bEaReR\""), tokens_at({5})});
        t.push_back({"A negative expires_in in the token answer is malformed", P,
                     "`\"expires_in\":-1`", set_member("expires_in", "-1"), fails(M, {5})});
        t.push_back({"A huge expires_in in the token answer is malformed", P, "`\"expires_in\":1e20`",
                     set_member("expires_in", "1e20"), fails(M, {5})});
        t.push_back({"A string expires_in in the token answer is read as a number", P,
                     "`\"expires_in\":\"300\"`", set_member("expires_in", "\"300\""),
                     tokens_at({5}), 1, {}, {}, [](const devflow::token_set& s) {
                         REQUIRE(s.expires_at);
                         CHECK(*s.expires_at - s.obtained_at == std::chrono::seconds{300});
                     }});
        t.push_back({"A fractional expires_in in the token answer is rounded down", P,
                     "`\"expires_in\":300.9`", set_member("expires_in", "300.9"), tokens_at({5}),
                     1, {}, {}, [](const devflow::token_set& s) {
                         REQUIRE(s.expires_at);
                         CHECK(*s.expires_at - s.obtained_at == std::chrono::seconds{300});
                     }});
        t.push_back({"A zero expires_in in the token answer gives an already-stale token", P,
                     "`\"expires_in\":0`", set_member("expires_in", "0"), tokens_at({5}), 1, {},
                     {}, [](const devflow::token_set& s) {
                         REQUIRE(s.expires_at);
                         CHECK(*s.expires_at == s.obtained_at);
                     }});
        t.push_back({"An error member beside an access_token wins", P,
                     "200 `{\"access_token\":\"CANARY...\",\"error\":\"access_denied\"}`",
                     replace(200, R"({"access_token":"CANARY-both","token_type":"Bearer","error":"access_denied"})"),
                     fails(errc::access_denied, {5})});
        t.push_back({"An unknown error code stops polling as server_error", P,
                     "400 `{\"error\":\"quota_exceeded\"}`",
                     replace(400, R"({"error":"quota_exceeded","error_description":"try tomorrow"})"),
                     fails(errc::server_error, {5})});
        t.push_back({"An error_description with terminal escapes and bidi overrides reaches what() "
                     "neutralised", P,
                     "400 `access_denied` whose `error_description` holds an OSC 8 link, ESC [2J and U+202E",
                     replace(400, R"({"error":"access_denied","error_description":")"
                                  R"(\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007)"
                                  R"(\u001b[2J\u202elanigiro"})"),
                     fails(errc::access_denied, {5})});
        t.push_back({"An unknown error code holding a C1 control stops polling as server_error", P,
                     "400 `{\"error\":\"quota\\u009bexceeded\"}`",
                     replace(400, R"({"error":"quota\u009bexceeded"})"),
                     fails(errc::server_error, {5})});
        t.push_back({"access_denied with a 500 KB error_description stops polling", P,
                     "400 `access_denied` with a 500 KB `error_description`",
                     replace_with(400, [] {
                         return R"({"error":"access_denied","error_description":")" +
                                std::string(500 * 1024, 'd') + "\"}";
                     }),
                     fails(errc::access_denied, {5})});
        t.push_back({"invalid_client with 401 stops polling", P, "401 `{\"error\":\"invalid_client\"}`",
                     replace(401, R"({"error":"invalid_client"})"),
                     fails(errc::invalid_client, {5})});
        t.push_back({"slow_down with a fractional interval in its body is rounded up", P,
                     "400 `{\"error\":\"slow_down\",\"interval\":12.5}`",
                     replace(400, R"({"error":"slow_down","interval":12.5})"),
                     tokens_at({5, 21.25}, "slowed down then succeeded")});
        t.push_back({"slow_down with a negative interval in its body adds 5 s", P,
                     "400 `{\"error\":\"slow_down\",\"interval\":-30}`",
                     replace(400, R"({"error":"slow_down","interval":-30})"),
                     tokens_at({5, 17.5}, "slowed down then succeeded")});
        t.push_back({"slow_down with a string interval in its body is honoured", P,
                     "400 `{\"error\":\"slow_down\",\"interval\":\"20\"}`",
                     replace(400, R"({"error":"slow_down","interval":"20"})"),
                     tokens_at({5, 30}, "slowed down then succeeded")});

        // ---- refresh (RFC 6749 §6), a record exists
        t.push_back({"A 500 during a proactive refresh serves the still-valid token", R,
                     "500 text/html error page", replace(500, html_page, "text/html"), cached()});
        t.push_back({"A dropped connection during a proactive refresh serves the still-valid token", R,
                     "no answer: connection reset",
                     no_answer(transport_error::connect, "connection reset"), cached()});
        t.push_back({"A 429 during a proactive refresh serves the still-valid token", R,
                     "429 with `Retry-After: 60`",
                     replace(429, "", "text/plain", {{"retry-after", "60"}}), cached()});
        t.push_back({"A garbage 200 during a proactive refresh serves the still-valid token", R,
                     "200 text/html error page", replace(200, html_page, "text/html"), cached()});
        t.push_back({"invalid_grant during a proactive refresh ends the session", R,
                     "400 `{\"error\":\"invalid_grant\"}`; `session_end = raise`",
                     replace(400, R"({"error":"invalid_grant"})"),
                     fails(errc::reauth_required, {0}, record_after::erased), 1, {},
                     [](devflow::client_config& c) { c.session_end = devflow::on_session_end::raise; }});
        t.push_back({"A 500 on a refresh after expiry fails and loses nothing", X,
                     "500 text/html error page", replace(500, html_page, "text/html"),
                     fails(errc::transport_failed, {0})});
        t.push_back({"A dropped connection on a refresh after expiry fails and loses nothing", X,
                     "no answer: connection reset",
                     no_answer(transport_error::connect, "connection reset"),
                     fails(errc::transport_failed, {0})});
        t.push_back({"A timeout on a refresh after expiry fails and loses nothing", X,
                     "no answer: timeout", no_answer(transport_error::timeout, "timed out"),
                     fails(errc::transport_failed, {0})});
        t.push_back({"A garbage 200 on a refresh after expiry is malformed and loses nothing", X,
                     "200 text/html error page", replace(200, html_page, "text/html"),
                     fails(M, {0})});
        t.push_back({"A truncated refresh answer is malformed and loses nothing", X,
                     "200 with the JSON cut in half",
                     edit([](std::string b) { return b.substr(0, b.size() / 2); }), fails(M, {0})});
        t.push_back({"A mac token_type on refresh is refused and loses nothing", X,
                     "`\"token_type\":\"mac\"`", set_member("token_type", "\"mac\""), fails(M, {0})});
        t.push_back({"A refresh answer without access_token is malformed and loses nothing", X,
                     "`access_token` missing", drop_member("access_token"), fails(M, {0})});
        t.push_back({"A huge expires_in on refresh is malformed and loses nothing", X,
                     "`\"expires_in\":1e20`", set_member("expires_in", "1e20"), fails(M, {0})});
        t.push_back({"invalid_client on refresh fails and loses nothing", X,
                     "401 `{\"error\":\"invalid_client\"}`",
                     replace(401, R"({"error":"invalid_client"})"),
                     fails(errc::invalid_client, {0})});
        t.push_back({"invalid_grant on refresh after expiry ends the session", X,
                     "400 `{\"error\":\"invalid_grant\"}`; `session_end = raise`",
                     replace(400, R"({"error":"invalid_grant"})"),
                     fails(errc::reauth_required, {0}, record_after::erased), 1, {},
                     [](devflow::client_config& c) { c.session_end = devflow::on_session_end::raise; }});
        t.push_back({"invalid_grant on refresh with interactive session end signs in again", X,
                     "400 `{\"error\":\"invalid_grant\"}`; `session_end = interactive`",
                     replace(400, R"({"error":"invalid_grant"})"),
                     tokens_at({0, 5}, "session over then a new device flow succeeded")});
        t.push_back({"A refresh answer without refresh_token keeps the old one", X,
                     "`refresh_token` missing (no rotation)", drop_member("refresh_token"),
                     tokens_at({0}, "refreshed"), 1, {}, {}, [](const devflow::token_set& s) {
                         CHECK(s.refresh_token.reveal().rfind("CANARY-refresh-", 0) == 0);
                     }});

        // ---- configuration (docs/design.md §3: https only, except loopback)
        auto endpoint_row = [&](std::string name, std::string does,
                                std::function<void(devflow::client_config&)> change) {
            t.push_back({std::move(name), C, std::move(does), pass(),
                         fails(errc::insecure_endpoint, {}), 1, {}, std::move(change)});
        };
        endpoint_row("An http token endpoint on a non-loopback host is refused",
                     "`token_endpoint` = `http://auth.example.com/token`",
                     [](auto& c) { c.token_endpoint = "http://auth.example.com/token"; });
        endpoint_row("An http device endpoint on a non-loopback host is refused",
                     "`device_authorization_endpoint` = `http://auth.example.com/device`",
                     [](auto& c) { c.device_authorization_endpoint = "http://auth.example.com/device"; });
        endpoint_row("An http revocation endpoint on a non-loopback host is refused",
                     "`revocation_endpoint` = `http://auth.example.com/revoke`",
                     [](auto& c) { c.revocation_endpoint = "http://auth.example.com/revoke"; });
        endpoint_row("A host that only starts with 127.0.0.1 is not loopback",
                     "`token_endpoint` = `http://127.0.0.1.evil.example/token`",
                     [](auto& c) { c.token_endpoint = "http://127.0.0.1.evil.example/token"; });
        endpoint_row("A localhost user name before another host is not loopback",
                     "`token_endpoint` = `http://localhost@evil.example/token`",
                     [](auto& c) { c.token_endpoint = "http://localhost@evil.example/token"; });
        endpoint_row("An upper-case HTTP scheme is still http",
                     "`token_endpoint` = `HTTP://auth.example.com/token`",
                     [](auto& c) { c.token_endpoint = "HTTP://auth.example.com/token"; });
        endpoint_row("A non-http scheme is refused", "`token_endpoint` = `ftp://auth.example.com/token`",
                     [](auto& c) { c.token_endpoint = "ftp://auth.example.com/token"; });
#if defined(DEVFLOW_FAULT_MATRIX_DISCOVERY)
        // ---- discovery (RFC 8414 §3.3: the issuer must match byte for byte)
        const auto S = phase::discovery;
        const std::string issuer = devflow::testing::server_options{}.issuer;
        t.push_back({"A metadata document naming another issuer is refused", S,
                     "`\"issuer\":\"https://evil.example.com/realms/test\"`",
                     set_member("issuer", "\"https://evil.example.com/realms/test\""),
                     fails(errc::issuer_mismatch, {})});
        t.push_back({"A metadata issuer with a trailing slash is a mismatch", S,
                     "the configured issuer plus `/`", set_member("issuer", '"' + issuer + "/\""),
                     fails(errc::issuer_mismatch, {})});
        t.push_back({"A metadata issuer differing only in case is a mismatch", S,
                     "the configured issuer with an upper-case host",
                     set_member("issuer", "\"https://AUTH.example.com/realms/test\""),
                     fails(errc::issuer_mismatch, {})});
        t.push_back({"A metadata document without an issuer is malformed", S, "`issuer` missing",
                     drop_member("issuer"), fails(M, {})});
        t.push_back({"A metadata document that is an HTML page is malformed", S,
                     "200 text/html error page", replace(200, html_page, "text/html"),
                     fails(M, {})});
        t.push_back({"A metadata document with an http token endpoint is refused", S,
                     "`token_endpoint` = `http://auth.example.com/token`",
                     set_member("token_endpoint", "\"http://auth.example.com/token\""),
                     fails(errc::insecure_endpoint, {})});
        t.push_back({"A metadata document labelled text/html is read by its body", S,
                     "a valid document with `Content-Type: text/html`",
                     edit([](std::string b) { return b; }, "text/html"), tokens_at({5})});
        t.push_back({"A 500 at both metadata locations is a server error", S,
                     "500 text/html at both well-known URLs", replace(500, html_page, "text/html"),
                     fails(errc::server_error, {}), 2});
#endif
        return t;
    }();
    return rows;
}

// ================================================================ the runner

/// A flow whose HTTP goes through a proxy in front of the fake server: the
/// row's tamper decides what the flow sees.
struct harness {
    explicit harness(const fault_row& r) : row(r), server(upstream_http, clock, options(r)) {
        auto route = [this](const recorded_request& rec) { return forward(rec); };
        http.handle(server.device_endpoint(), route);
        http.handle(server.token_endpoint(), route);
        http.handle(server.revocation_endpoint(), route);
        // The metadata document (RFC 8414 §3), at both places discovery looks.
        const std::string doc = R"({"issuer":")" + server.config().issuer +
                                R"(","device_authorization_endpoint":")" + server.device_endpoint() +
                                R"(","token_endpoint":")" + server.token_endpoint() +
                                R"(","revocation_endpoint":")" + server.revocation_endpoint() +
                                R"(","grant_types_supported":["urn:ietf:params:oauth:grant-type:device_code","refresh_token"]})";
        upstream_http.handle(openid_configuration(), [doc](const recorded_request&) {
            return devflow::testing::respond(200, doc);
        });
        http.handle(openid_configuration(), route);
        http.handle(oauth_metadata(), route);
    }

    std::string openid_configuration() const {
        return server.config().issuer + "/.well-known/openid-configuration";
    }
    /// RFC 8414 §3.1: the well-known segment goes before the issuer's path.
    std::string oauth_metadata() const {
        return "https://auth.example.com/.well-known/oauth-authorization-server/realms/test";
    }

    static devflow::testing::server_options options(const fault_row& r) {
        devflow::testing::server_options o;
        o.approve_on_poll = 1;
        if (r.server) r.server(o);
        return o;
    }

    http_response forward(const recorded_request& rec) {
        devflow::http_request req;
        req.method = rec.method;
        req.url = rec.url;
        for (const auto& [name, value] : rec.headers) req.headers.push_back({name, devflow::secret{value}});
        req.body = devflow::secret{rec.body};
        const upstream up = [this, req] { return upstream_http.send(req); };
        if (!armed || hits >= row.hits) return up();
        const bool device = rec.url == server.device_endpoint();
        const std::string grant = rec.field("grant_type");
        const bool metadata = rec.url.find("/.well-known/") != std::string::npos;
        const bool match =
            (row.where == phase::discovery && metadata) ||
            (row.where == phase::device && device) ||
            (row.where == phase::poll && grant == "urn:ietf:params:oauth:grant-type:device_code") ||
            ((row.where == phase::refresh || row.where == phase::refresh_expired) &&
             grant == "refresh_token");
        if (!match) return up();
        ++hits;
        return row.answer(up);
    }

    std::unique_ptr<test_flow> make_flow(devflow::client_config cfg) {
        auto flow = std::make_unique<test_flow>(std::move(cfg), http, devflow::nlohmann_json{}, store,
                                                clock, browser);
        flow->on_prompt([this](const devflow::prompt_info& p) {
            echo_captured("prompt", p.text);
            said.push_back(p.text);
        });
        flow->on_log([this](devflow::log_level level, std::string_view line) {
            echo_captured("log", line);
            said.emplace_back(line);
            if (level == devflow::log_level::warning) ++warnings;
        });
        return flow;
    }

    devflow::client_config config() const {
        auto c = server.config();
        if (row.config) row.config(c);
        return c;
    }

    /// A record another run left behind: expired access token, no refresh
    /// token, so the flow must sign in again and must not lose it on failure.
    void seed_stale_record() {
        const auto good = server.config();
        devflow::token_set t;
        t.access_token = devflow::secret{"CANARY-stale-access"};
        t.token_type = "Bearer";
        t.obtained_at = clock.now() - std::chrono::hours{2};
        t.expires_at = clock.now() - std::chrono::hours{1};
        const auto id = devflow::detail::identity_of(good);
        store.save(devflow::detail::store_key(id),
                   devflow::secret{devflow::nlohmann_json{}.write(
                       devflow::detail::record_to_json(id, t, {}))});
    }

    std::optional<std::string> record() const {
        const auto bytes = store.load(devflow::detail::store_key(devflow::detail::identity_of(server.config())));
        if (!bytes) return std::nullopt;
        return bytes->reveal();
    }

    const fault_row& row;
    devflow::testing::fake_clock clock;
    devflow::testing::fake_http upstream_http{clock};
    devflow::testing::fake_http http{clock};
    devflow::testing::fake_authorization_server server;
    devflow::memory_store store;
    devflow::testing::recording_browser browser;
    bool armed = false;
    int hits = 0;
    std::vector<std::string> said;  ///< every prompt and log line
    int warnings = 0;
};

double seconds_between(std::chrono::steady_clock::duration from, std::chrono::steady_clock::duration to) {
    return std::chrono::duration<double>(to - from).count();
}

/// Runs one row; `seeded` puts a stale record in the store first (device,
/// poll and config rows run both ways).
void run_row(const fault_row& row, bool seeded) {
    harness h(row);
    std::unique_ptr<test_flow> flow;
    std::string old_access;
    const bool refresh = row.where == phase::refresh || row.where == phase::refresh_expired;
    if (refresh) {
        // A signed-in session whose access token (300 s) is then 250 s old
        // (inside the 60 s margin) or 400 s old (expired).
        flow = h.make_flow(h.config());
        old_access = flow->login().access_token.reveal();
        h.clock.advance(std::chrono::seconds{row.where == phase::refresh ? 250 : 400});
        // A new process, nothing cached in memory, that signs in again by
        // itself when the session turns out to be over.
        auto cfg = h.server.config();
        cfg.session_end = devflow::on_session_end::interactive;
        if (row.config) row.config(cfg);  // a row may say otherwise
        flow = h.make_flow(cfg);
    } else if (seeded) {
        h.seed_stale_record();
    }
    const std::optional<std::string> before = h.record();
    REQUIRE(before.has_value() == (refresh || seeded));
    const auto start = h.clock.elapsed();
    const auto token_requests_before = h.http.requests_to(h.server.token_endpoint()).size();
    h.armed = true;

    std::optional<devflow::token_set> got;
    std::optional<devflow::error> failure;
    try {
#if defined(DEVFLOW_FAULT_MATRIX_DISCOVERY)
        if (row.where == phase::discovery) {
            const auto cfg = h.config();
            devflow::client_config base;
            base.issuer = cfg.issuer;
            base.client_id = cfg.client_id;
            base.scopes = cfg.scopes;
            devflow::nlohmann_json json;
            flow = h.make_flow(devflow::discover(h.http, json, base));
        }
#endif
        if (!flow) flow = h.make_flow(h.config());  // a config row throws here
        if (refresh) {
            const std::string header = flow->authorization_header();
            auto stored = flow->stored_tokens();
            REQUIRE(stored);
            CHECK((header == "Bearer " + stored->access_token.reveal()));
            got = std::move(*stored);
        } else {
            got = flow->login();
        }
    } catch (const devflow::error& e) {
        echo_captured("error", e.what());
        echo_captured("error_description", e.error_description());
        failure = e;
    }

    // The outcome.
    switch (row.expect.kind) {
        case result::error:
            REQUIRE(failure.has_value());
            CHECK(failure->code() == row.expect.code);
            CHECK(leak_free(failure->what()));
            CHECK(leak_free(failure->error_description()));
            // docs/security.md S8: whatever the server said, what() is safe to show.
            CHECK_FALSE(devflow::detail::has_unsafe_text(failure->what()));
            break;
        case result::tokens:
            if (failure) FAIL("unexpected devflow::error: " << failure->what());
            REQUIRE(got.has_value());
            CHECK((got->access_token.reveal() != old_access));
            CHECK(h.server.accepts(got->access_token.reveal()));
            if (row.check) row.check(*got);
            break;
        case result::cached_token:
            if (failure) FAIL("unexpected devflow::error: " << failure->what());
            REQUIRE(got.has_value());
            CHECK((got->access_token.reveal() == old_access));
            CHECK(h.warnings > 0);
            break;
    }

    // The virtual time of every token-endpoint request since the start.
    std::vector<double> at;
    const auto requests = h.http.requests_to(h.server.token_endpoint());
    for (std::size_t i = token_requests_before; i < requests.size(); ++i)
        at.push_back(seconds_between(start, requests[i].since_start));
    INFO("token requests at (s): " << [&] {
        std::ostringstream o;
        for (double s : at) o << s << ' ';
        return o.str();
    }());
    REQUIRE(at.size() == row.expect.requests_at.size());
    for (std::size_t i = 0; i < at.size(); ++i) CHECK(at[i] == Approx(row.expect.requests_at[i]).margin(1e-6));

    // The stored record.
    const std::optional<std::string> after = h.record();
    switch (row.expect.record) {
        case record_after::unchanged:
            CHECK((after == before));  // no decomposition: records hold tokens
            break;
        case record_after::erased:
            CHECK_FALSE(after.has_value());
            break;
        case record_after::replaced: {
            REQUIRE(after.has_value());
            CHECK((after != before));
            auto again = h.make_flow(h.server.config())->stored_tokens();
            REQUIRE(again.has_value());
            REQUIRE(got.has_value());
            CHECK((again->access_token.reveal() == got->access_token.reveal()));
            break;
        }
    }

    // Nothing the user or a log could see carries a secret.
    for (const auto& line : h.said) CHECK(leak_free(line));
}

void run_phase(phase p) {
    for (const auto& row : fault_table()) {
        if (row.where != p) continue;
        if (p == phase::refresh || p == phase::refresh_expired) {
            DYNAMIC_SECTION(row.name) { run_row(row, false); }
        } else {
            DYNAMIC_SECTION(row.name << " with no record before") { run_row(row, false); }
            DYNAMIC_SECTION(row.name << " with a stale record before") { run_row(row, true); }
        }
    }
}

// ================================================================ the document

const char* phase_name(phase p) {
    switch (p) {
        case phase::device: return "device authorization";
        case phase::poll: return "polling";
        case phase::refresh: return "proactive refresh";
        case phase::refresh_expired: return "refresh after expiry";
        case phase::config: return "configuration";
        case phase::discovery: return "discovery";
    }
    return "?";
}

std::string outcome_text(const expectation& e) {
    if (!e.note.empty()) return e.note;
    switch (e.kind) {
        case result::error: return std::string("`") + devflow::to_string(e.code) + "`";
        case result::cached_token: return "still-valid access token served; warning logged";
        case result::tokens:
            return e.requests_at.size() > 1 ? "retried then succeeded" : "succeeded";
    }
    return "?";
}

std::string requests_text(const std::vector<double>& at) {
    if (at.empty()) return "none";
    std::ostringstream o;
    for (std::size_t i = 0; i < at.size(); ++i) o << (i ? ", " : "") << at[i];
    return o.str();
}

const char* record_text(record_after r, phase p) {
    switch (r) {
        case record_after::unchanged:
            return p == phase::refresh || p == phase::refresh_expired
                       ? "byte-identical"
                       : "byte-identical (absent stays absent)";
        case record_after::replaced: return "replaced by the new tokens";
        case record_after::erased: return "erased (session over)";
    }
    return "?";
}

/// The table as docs/fault-matrix.md shows it.
std::string markdown_table() {
    std::ostringstream o;
    o << "| # | case | phase | the server does | expected outcome | token requests at (s) | "
         "stored record afterwards |\n";
    o << "|---|------|-------|-----------------|------------------|-----------------------|"
         "--------------------------|\n";
    int n = 0;
    for (const auto& r : fault_table())
        o << "| U" << ++n << " | " << r.name << " | " << phase_name(r.where) << " | "
          << r.server_does << " | " << outcome_text(r.expect) << " | "
          << requests_text(r.expect.requests_at) << " | " << record_text(r.expect.record, r.where)
          << " |\n";
    return o.str();
}

}  // namespace

TEST_CASE("Every device authorization fault in the matrix ends as the table says with the record intact",
          "[fault_matrix]") {
    run_phase(phase::device);
}

TEST_CASE("Every polling fault in the matrix ends as the table says with the record intact",
          "[fault_matrix]") {
    run_phase(phase::poll);
}

TEST_CASE("Every refresh fault in the matrix ends as the table says with the record intact",
          "[fault_matrix]") {
    run_phase(phase::refresh);
    run_phase(phase::refresh_expired);
}

TEST_CASE("Every configuration fault in the matrix is refused before any request", "[fault_matrix]") {
    run_phase(phase::config);
}

#if defined(DEVFLOW_FAULT_MATRIX_DISCOVERY)
TEST_CASE("Every discovery fault in the matrix is refused before any token request",
          "[fault_matrix]") {
    run_phase(phase::discovery);
}
#endif

TEST_CASE("The fault matrix has at least 40 distinct rows and every phase", "[fault_matrix]") {
    const auto& t = fault_table();
    CHECK(t.size() >= 40);
    std::vector<std::string> names;
    for (const auto& r : t) {
        CHECK(r.name.find(',') == std::string::npos);
        CHECK(r.server_does.find('|') == std::string::npos);
        names.push_back(r.name);
    }
    std::sort(names.begin(), names.end());
    CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
    std::vector<phase> phases{phase::device, phase::poll, phase::refresh, phase::refresh_expired,
                              phase::config};
#if defined(DEVFLOW_FAULT_MATRIX_DISCOVERY)
    phases.push_back(phase::discovery);
#endif
    for (phase p : phases) {
        INFO("phase " << phase_name(p));
        CHECK(std::count_if(t.begin(), t.end(), [p](const fault_row& r) { return r.where == p; }) > 0);
    }
}

TEST_CASE("docs/fault-matrix.md shows the fake-server table exactly as the test runs it",
          "[fault_matrix]") {
    // This file is tests/unit/fault_matrix_test.cpp; the document is docs/ at the top.
    const auto doc = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                     "docs/fault-matrix.md";
    devflow_test::check_doc_table(doc, "fault-matrix:unit", markdown_table());
}
