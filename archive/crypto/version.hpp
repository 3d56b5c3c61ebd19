#pragma once

#include <string>

namespace avow::crypto {

// Return the version of the OpenSSL library linked at run time, e.g. "OpenSSL 3.0.11 19 Sep 2023".
std::string openssl_version();

} // namespace avow::crypto
