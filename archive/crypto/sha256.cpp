#include <archive/crypto/sha256.hpp>

#include <archive/crypto/openssl_handles.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <new>
#include <stdexcept>

namespace avow::crypto {

namespace {

using detail::MdCtxPtr;

// Return the explicitly fetched digest (fetched once, then shared; EVP_MD objects are thread-safe).
const EVP_MD* fetched_md(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr)
    throw std::runtime_error("openssl: cannot fetch digest " + std::string(name) + ": " +
                             detail::drain_openssl_errors());
  return md; // kept for the life of the process
}

const EVP_MD* sha256_md() {
  static const EVP_MD* md = fetched_md("SHA256");
  return md;
}

const EVP_MD* sha512_md() {
  static const EVP_MD* md = fetched_md("SHA512");
  return md;
}

const EVP_MD* sha1_md() {
  static const EVP_MD* md = fetched_md("SHA1");
  return md;
}

// One-shot digest; OpenSSL failing here means memory exhaustion or a broken library: a bug, not input.
template <std::size_t N> std::array<std::uint8_t, N> one_shot(const EVP_MD* md, ByteView data) {
  std::array<std::uint8_t, N> out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, md, nullptr) != 1 || len != N)
    throw std::runtime_error("openssl: digest failed: " + detail::drain_openssl_errors());
  return out;
}

} // namespace

struct Sha256::Impl {
  MdCtxPtr ctx;
  bool finished = false;
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
  m_impl->ctx.reset(EVP_MD_CTX_new());
  if (!m_impl->ctx)
    throw std::bad_alloc();
  if (EVP_DigestInit_ex(m_impl->ctx.get(), sha256_md(), nullptr) != 1)
    throw std::runtime_error("openssl: cannot start sha-256: " + detail::drain_openssl_errors());
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(ByteView data) {
  if (!m_impl || m_impl->finished)
    throw std::logic_error("Sha256::update after finish() or on a moved-from object");
  if (data.empty())
    return;
  if (EVP_DigestUpdate(m_impl->ctx.get(), data.data(), data.size()) != 1)
    throw std::runtime_error("openssl: sha-256 update failed: " + detail::drain_openssl_errors());
}

Digest Sha256::finish() {
  if (!m_impl || m_impl->finished)
    throw std::logic_error("Sha256::finish called twice or on a moved-from object");
  m_impl->finished = true;
  Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(m_impl->ctx.get(), out.data(), &len) != 1 || len != out.size())
    throw std::runtime_error("openssl: sha-256 final failed: " + detail::drain_openssl_errors());
  return out;
}

Digest sha256(ByteView data) { return one_shot<32>(sha256_md(), data); }

std::array<std::uint8_t, 64> sha512(ByteView data) { return one_shot<64>(sha512_md(), data); }

std::array<std::uint8_t, 20> sha1(ByteView data) { return one_shot<20>(sha1_md(), data); }

bool equal_constant_time(ByteView a, ByteView b) {
  if (a.size() != b.size())
    return false;
  if (a.empty())
    return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace avow::crypto
