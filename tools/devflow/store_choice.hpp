// devflow CLI — which token store a run uses: --store, else $DEVFLOW_STORE,
// else the profile's `store`, else auto (pure; tested in
// tests/cli/store_choice_test.cpp). docs/cli.md "Where tokens live".
#pragma once

#include "failure.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace devflow::cli {

/// A store the tool can use.
enum class store_kind {
    file,     ///< devflow::file_store under the cache
    keyring,  ///< devflow::secret_service_store, the desktop keyring
};

/// What the user asked for.
enum class store_request {
    automatic,  ///< the keyring when one is reachable (and no cache was named), else files
    file,
    keyring,
};

/// The words --store takes, for the help and the errors.
inline constexpr std::string_view store_choices = "file, keyring or auto";

/// "file", "keyring".
inline std::string_view store_name(store_kind k) { return k == store_kind::keyring ? "keyring" : "file"; }

/// A --store value read, or why it cannot be.
struct store_parse {
    std::optional<store_request> request;
    std::string error;  ///< one line, no prefix, when `request` is empty
};

/// Reads a --store (or DEVFLOW_STORE) value; `source` names where it came
/// from in the error ("--store", "DEVFLOW_STORE", "profile \"x\"").
inline store_parse parse_store(std::string_view text, std::string_view source) {
    store_parse r;
    if (text == "auto") r.request = store_request::automatic;
    else if (text == "file") r.request = store_request::file;
    else if (text == "keyring") r.request = store_request::keyring;
    else if (text.substr(0, 7) == "etcd://" || text.substr(0, 8) == "etcds://")
        r.error = std::string(source) + ": an etcd store is not supported in this build of devflow (" +
                  std::string(store_choices) + ")";
    else
        r.error = std::string(source) + " takes " + std::string(store_choices) + ", not \"" +
                  one_line(std::string(text), 80) + "\"";
    return r;
}

/// The store a run uses, and why, in words for --verbose and status.
struct store_decision {
    store_kind kind = store_kind::file;
    /// Why not the keyring under auto (its unavailable reason), else "".
    std::string note;
    /// Set when the run cannot go on: the keyring was asked for by name and
    /// is not usable (devflow fails closed, never falls back).
    std::optional<failure> failed;
};

/// Decides the store. `keyring_built`: this devflow has the keyring store;
/// `cache_named`: --cache or DEVFLOW_CACHE (or the profile's cache) named
/// where tokens live, which auto honours with files; `keyring_problem()`:
/// why the keyring is not usable ("" when it is), asked only when needed
/// (it talks to D-Bus).
template <class Problem>
inline store_decision decide_store(store_request request, bool keyring_built, bool cache_named,
                                   Problem&& keyring_problem) {
    store_decision d;
    auto storage = [](const std::string& line) {
        return failure{exit_code::storage, "devflow: " + one_line(line),
                       std::string{devflow::to_string(devflow::errc::storage_failed)}};
    };
    switch (request) {
        case store_request::file:
            return d;
        case store_request::keyring: {
            if (!keyring_built) {
                d.failed = storage("this devflow was built without the keyring store (libsecret); "
                                   "use --store file");
                return d;
            }
            const std::string why = keyring_problem();
            if (!why.empty()) {
                d.failed = storage(why);
                return d;
            }
            d.kind = store_kind::keyring;
            return d;
        }
        case store_request::automatic:
            break;
    }
    if (!keyring_built) {
        d.note = "this devflow was built without the keyring store";
    } else if (cache_named) {
        d.note = "a cache was named (--cache, DEVFLOW_CACHE or the profile's cache)";
    } else if (std::string why = keyring_problem(); !why.empty()) {
        d.note = std::move(why);
    } else {
        d.kind = store_kind::keyring;
    }
    return d;
}

}  // namespace devflow::cli
