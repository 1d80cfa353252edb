// The start-up floor of any program linked with libcurl (bench/cli_token.sh):
// loads libcurl and its dependencies, asks its version, exits.
#include <curl/curl.h>

#include <cstdio>

int main() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    std::printf("libcurl %s\n", info->version);
    return 0;
}
