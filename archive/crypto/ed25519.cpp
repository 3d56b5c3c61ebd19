#include <archive/crypto/ed25519.hpp>

#include <archive/crypto/openssl_handles.hpp>
#include <archive/crypto/sha256.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <utility>

namespace avow::crypto {

namespace {

using detail::drain_openssl_errors;
using detail::MdCtxPtr;
using detail::PkeyPtr;

// OpenSSL wants a non-null pointer even for an empty message on some paths.
const unsigned char k_empty_byte = 0;
const unsigned char* data_or_empty(ByteView b) { return b.empty() ? &k_empty_byte : b.data(); }

void wipe(std::vector<std::uint8_t>& v) {
  if (!v.empty())
    OPENSSL_cleanse(v.data(), v.size());
  v.clear();
}

EVP_PKEY* as_pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

// Read the raw 32-byte public key out of an Ed25519 EVP_PKEY.
Expected<PublicKey> raw_public(EVP_PKEY* pkey) {
  PublicKey pk{};
  std::size_t len = pk.size();
  if (EVP_PKEY_get_raw_public_key(pkey, pk.data(), &len) != 1 || len != pk.size())
    return fail(ErrorCode::crypto, "cannot read ed25519 public key: {}", drain_openssl_errors());
  return pk;
}

} // namespace

// ---- SecretBytes ----------------------------------------------------------------------------

SecretBytes::SecretBytes(std::string_view data) : m_data(data.begin(), data.end()) {}

SecretBytes::~SecretBytes() { wipe(m_data); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : m_data(std::move(other.m_data)) {
  wipe(other.m_data); // a moved-from vector is empty, but never rely on it to hold no copy
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe(m_data);
    m_data = std::move(other.m_data);
    wipe(other.m_data);
  }
  return *this;
}

void wipe_secret(void* data, std::size_t size) {
  if (data != nullptr && size > 0)
    OPENSSL_cleanse(data, size);
}

// ---- PrivateKey -----------------------------------------------------------------------------

PrivateKey::PrivateKey(PrivateKey&& other) noexcept
    : m_pkey(std::exchange(other.m_pkey, nullptr)), m_public(std::exchange(other.m_public, PublicKey{})) {}

PrivateKey& PrivateKey::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    EVP_PKEY_free(as_pkey(m_pkey));
    m_pkey = std::exchange(other.m_pkey, nullptr);
    m_public = std::exchange(other.m_public, PublicKey{});
  }
  return *this;
}

PrivateKey::~PrivateKey() { EVP_PKEY_free(as_pkey(m_pkey)); }

Expected<PrivateKey> PrivateKey::generate() {
  PkeyPtr pkey{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
  if (!pkey)
    return fail(ErrorCode::crypto, "cannot generate ed25519 key: {}", drain_openssl_errors());
  return adopt_native(pkey.release());
}

Expected<PrivateKey> PrivateKey::from_seed(ByteView seed) {
  if (seed.size() != 32)
    return fail(ErrorCode::invalid_input, "cannot use ed25519 seed: expected 32 bytes, got {}", seed.size());
  PkeyPtr pkey{EVP_PKEY_new_raw_private_key_ex(nullptr, "ED25519", nullptr, seed.data(), seed.size())};
  if (!pkey)
    return fail(ErrorCode::crypto, "cannot build ed25519 key from seed: {}", drain_openssl_errors());
  return adopt_native(pkey.release());
}

Expected<PrivateKey> PrivateKey::adopt_native(void* evp_pkey) {
  // Takes ownership in every case: the handle is freed if it is refused.
  PkeyPtr pkey{as_pkey(evp_pkey)};
  if (!pkey)
    return fail(ErrorCode::key, "cannot use private key: no key");
  if (EVP_PKEY_is_a(pkey.get(), "ED25519") != 1) {
    std::string type = EVP_PKEY_get0_type_name(pkey.get()) ? EVP_PKEY_get0_type_name(pkey.get()) : "unknown";
    char group[64] = {};
    if (EVP_PKEY_get_utf8_string_param(pkey.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr) == 1)
      type += fmt::format(" ({})", group); // an EC key names its curve: "EC (prime256v1)"
    ERR_clear_error();
    return fail(ErrorCode::key, "cannot use private key: it is {}, not ed25519", type);
  }
  std::size_t priv_len = 0;
  if (EVP_PKEY_get_raw_private_key(pkey.get(), nullptr, &priv_len) != 1 || priv_len != 32) {
    drain_openssl_errors();
    return fail(ErrorCode::key, "cannot use private key: it holds no ed25519 private part");
  }
  auto pk = raw_public(pkey.get());
  if (!pk)
    return std::unexpected(pk.error());
  PrivateKey key;
  key.m_pkey = pkey.release();
  key.m_public = *pk;
  return key;
}

Expected<Signature> PrivateKey::sign(ByteView message) const {
  if (m_pkey == nullptr)
    return fail(ErrorCode::internal, "cannot sign: private key was moved from");
  MdCtxPtr ctx{EVP_MD_CTX_new()};
  if (!ctx)
    return fail(ErrorCode::crypto, "cannot sign: {}", drain_openssl_errors());
  if (EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, as_pkey(m_pkey), nullptr) != 1)
    return fail(ErrorCode::crypto, "cannot start ed25519 signature: {}", drain_openssl_errors());
  Signature sig{};
  std::size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, data_or_empty(message), message.size()) != 1 ||
      len != sig.size())
    return fail(ErrorCode::crypto, "cannot make ed25519 signature: {}", drain_openssl_errors());
  return sig;
}

// ---- free functions -------------------------------------------------------------------------

bool verify(const PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != 64)
    return false;
  PkeyPtr pkey{EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, key.data(), key.size())};
  if (!pkey) {
    ERR_clear_error();
    return false;
  }
  MdCtxPtr ctx{EVP_MD_CTX_new()};
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, pkey.get(), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  const int rc =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data_or_empty(message), message.size());
  ERR_clear_error(); // a bad signature leaves an entry in the queue; do not let it leak into later errors
  return rc == 1;
}

std::optional<VerifyKey> VerifyKey::make(const PublicKey& key) {
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, key.data(), key.size());
  if (pkey == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  VerifyKey out;
  out.m_pkey = std::shared_ptr<void>(pkey, [](void* p) { EVP_PKEY_free(as_pkey(p)); });
  out.m_key = key;
  return out;
}

bool VerifyKey::verify(ByteView message, ByteView signature) const {
  if (signature.size() != 64 || !m_pkey)
    return false;
  MdCtxPtr ctx{EVP_MD_CTX_new()};
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, as_pkey(m_pkey.get()), nullptr) != 1) {
    ERR_clear_error();
    return false;
  }
  const int rc =
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), data_or_empty(message), message.size());
  ERR_clear_error();
  return rc == 1;
}

std::string key_id(const PublicKey& key) { return to_hex(sha256(ByteView{key.data(), key.size()})); }

} // namespace avow::crypto
