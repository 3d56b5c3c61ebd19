#pragma once

// Private to archive/crypto/*.cpp: RAII owners for OpenSSL handles and the error-queue drain.
// Never included by a public header (OpenSSL stays behind this layer).

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace avow::crypto::detail {

// Call `Free` on a non-null pointer (unique_ptr never calls its deleter on null).
template <auto Free> struct CFree {
  template <class T> void operator()(T* p) const noexcept { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, CFree<&EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, CFree<&EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, CFree<&EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, CFree<&BIO_free_all>>;
using Pkcs8InfoPtr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, CFree<&PKCS8_PRIV_KEY_INFO_free>>;
using X509SigPtr = std::unique_ptr<X509_SIG, CFree<&X509_SIG_free>>;
using X509AlgorPtr = std::unique_ptr<X509_ALGOR, CFree<&X509_ALGOR_free>>;

// Return the drained OpenSSL error queue of this thread as "msg1; msg2" ("no openssl error" if empty).
// Always empties the queue so that a later failure does not report a stale error.
inline std::string drain_openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const std::string msg = buf;
    if (out.find(msg) != std::string::npos)
      continue; // the decoders often report the same error once per attempt
    if (!out.empty())
      out += "; ";
    out += msg;
  }
  return out.empty() ? std::string("no openssl error") : out;
}

} // namespace avow::crypto::detail
