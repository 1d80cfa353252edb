// The two shipped transports as the fault tests build them: 500 ms timeouts
// (httplib's total timeout at 1 s, above its idle limits), a 1 MiB body cap,
// every other setting at its default.
#pragma once

#include <devflow/adapters/curl_http.hpp>
#include <devflow/adapters/httplib_http.hpp>

#include <chrono>
#include <cstddef>

namespace devflow_faults {

template <class Http>
Http make_transport();

template <>
inline devflow::curl_http make_transport<devflow::curl_http>() {
    using namespace std::chrono_literals;
    devflow::curl_http::options o;
    o.connect_timeout = 500ms;
    o.total_timeout = 500ms;
    o.max_body_bytes = std::size_t{1} << 20;
    return devflow::curl_http{o};
}

template <>
inline devflow::httplib_http make_transport<devflow::httplib_http>() {
    using namespace std::chrono_literals;
    devflow::httplib_http::options o;
    o.connect_timeout = 500ms;
    o.read_timeout = 500ms;
    o.write_timeout = 500ms;
    o.total_timeout = 1000ms;  // above the idle limits, so those fire first when they apply
    o.max_body_bytes = std::size_t{1} << 20;
    return devflow::httplib_http{o};
}

}  // namespace devflow_faults
