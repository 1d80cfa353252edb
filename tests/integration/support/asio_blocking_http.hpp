// devflow::asio_http behind the blocking http_client interface, so that the
// transport scenarios (transport_test.cpp) run against it as they do against
// curl_http and httplib_http: each send() runs the exchange to completion on
// a private io_context.
#pragma once

#include <devflow/adapters/asio.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>
#include <utility>

namespace devflow_test {

class asio_blocking_http {
public:
    using options = devflow::asio_http_options;

    explicit asio_blocking_http(options settings = {})
        : io_(std::make_unique<boost::asio::io_context>()),
          http_(std::make_unique<devflow::asio_http>(io_->get_executor(), std::move(settings))) {}

    devflow::http_response send(const devflow::http_request& request) {
        auto answer = http_->async_send(request, boost::asio::use_future);
        io_->run();
        io_->restart();
        return answer.get();
    }

    [[nodiscard]] const options& settings() const noexcept { return http_->settings(); }

private:
    std::unique_ptr<boost::asio::io_context> io_;  // outlives http_
    std::unique_ptr<devflow::asio_http> http_;
};

}  // namespace devflow_test
