#include "version.hpp"

#include <openssl/crypto.h>

namespace avow::crypto {

std::string openssl_version() { return OpenSSL_version(OPENSSL_VERSION); }

} // namespace avow::crypto
