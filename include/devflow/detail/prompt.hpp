// devflow — the words shown to the user (RFC 8628 §3.3, §5.4). Pure; tested
// in tests/unit/prompt_test.cpp.
#pragma once

#include <devflow/detail/url.hpp>
#include <devflow/display.hpp>
#include <devflow/types.hpp>

#include <chrono>
#include <string>

namespace devflow::detail {

/// Builds what the prompt callback receives, including a ready-made text
/// with the remote-phishing notice of RFC 8628 §5.4. Never contains the
/// device code.
inline prompt_info make_prompt(const device_authorization& da, bool browser_opened,
                               std::chrono::steady_clock::time_point expires_at,
                               bool resumed = false) {
    prompt_info p;
    p.resumed = resumed;
    p.user_code = da.user_code;
    p.verification_uri = da.verification_uri;
    p.verification_uri_complete = da.verification_uri_complete;
    p.host = host_of(da.verification_uri_complete.empty() ? da.verification_uri
                                                          : da.verification_uri_complete);
    p.expires_in = da.expires_in;
    p.expires_at = expires_at;
    p.browser_opened = browser_opened;
    std::string& t = p.text;
    if (resumed) t += "Resuming the sign-in started earlier; the code is the same.\n";
    t += "To sign in, open " + da.verification_uri + "\n";
    t += "and enter the code: " + da.user_code + "\n";
    if (browser_opened) t += "(A browser window has been opened at that page.)\n";
    // RFC 8628 §5.4: tell the user where they are going and to approve only
    // a sign-in they started themselves.
    t += "You are signing in at " + p.host +
         ". Approve only if you started this sign-in yourself, just now;\n"
         "if someone sent you this code or link, do not enter it.\n";
    t += "The code expires in " + describe_duration(da.expires_in) + ".\n";
    return p;
}

}  // namespace devflow::detail
