#include <archive/crypto/keyfile.hpp>

#include <archive/crypto/openssl_handles.hpp>
#include <archive/crypto/ssh_agent.hpp>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace avow::crypto {

namespace {

using detail::BioPtr;
using detail::drain_openssl_errors;
using detail::Pkcs8InfoPtr;
using detail::PkeyPtr;
using detail::X509AlgorPtr;
using detail::X509SigPtr;

// A PEM Ed25519 key is a few hundred bytes; anything this large is not a key file.
constexpr std::size_t k_max_key_file = 64 * 1024;
// scrypt parameters of `openssl pkcs8 -scrypt` (16 MiB, within OpenSSL's default 32 MiB limit).
constexpr std::uint64_t k_scrypt_n = 16384;
constexpr std::uint64_t k_scrypt_r = 8;
constexpr std::uint64_t k_scrypt_p = 1;

std::string errno_text(int e) {
  std::string s = std::strerror(e);
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A file descriptor closed on scope exit.
class Fd {
public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0)
      ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }

private:
  int m_fd;
};

// A heap buffer wiped on scope exit.
class WipedBuffer {
public:
  explicit WipedBuffer(std::size_t n) : m_data(n) {}
  ~WipedBuffer() {
    if (!m_data.empty())
      OPENSSL_cleanse(m_data.data(), m_data.size());
  }
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  char* data() { return m_data.data(); }
  std::size_t size() const { return m_data.size(); }

private:
  std::vector<char> m_data;
};

// Create the missing folders above `path` with mode 0700 (existing folders are left alone).
Expected<void> create_parents(const std::filesystem::path& path) {
  const auto parent = path.parent_path();
  if (parent.empty())
    return {};
  std::filesystem::path current;
  for (const auto& part : parent) {
    current /= part;
    struct stat st{};
    if (::stat(current.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return fail(ErrorCode::io, "cannot create folder '{}': a file is in the way", current.string());
      continue;
    }
    if (errno != ENOENT)
      return fail(ErrorCode::io, "cannot create folder '{}': {}", current.string(), errno_text(errno));
    if (::mkdir(current.c_str(), 0700) != 0) {
      if (errno == EEXIST)
        continue; // created by someone else meanwhile: leave its mode alone
      return fail(ErrorCode::io, "cannot create folder '{}': {}", current.string(), errno_text(errno));
    }
    ::chmod(current.c_str(), 0700); // umask can only have narrowed it; make it exactly 0700
  }
  return {};
}

// Encode `pkey` as PKCS#8 PEM into a secure memory BIO, encrypted with scrypt + AES-256-CBC when
// `passphrase` is non-empty.
Expected<BioPtr> encode_private(EVP_PKEY* pkey, const SecretBytes& passphrase) {
  BioPtr bio{BIO_new(BIO_s_secmem())};
  if (!bio)
    return fail(ErrorCode::crypto, "cannot encode private key: {}", drain_openssl_errors());
  if (passphrase.empty()) {
    if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1)
      return fail(ErrorCode::crypto, "cannot encode private key: {}", drain_openssl_errors());
    return bio;
  }
  if (passphrase.size() > INT_MAX)
    return fail(ErrorCode::invalid_input, "cannot encrypt private key: passphrase too long");
  Pkcs8InfoPtr info{EVP_PKEY2PKCS8(pkey)};
  if (!info)
    return fail(ErrorCode::crypto, "cannot encode private key: {}", drain_openssl_errors());
  X509AlgorPtr pbe{PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, k_scrypt_n, k_scrypt_r, k_scrypt_p)};
  if (!pbe)
    return fail(ErrorCode::crypto, "cannot set up key encryption: {}", drain_openssl_errors());
  X509SigPtr sig{PKCS8_set0_pbe(reinterpret_cast<const char*>(passphrase.data()),
                                static_cast<int>(passphrase.size()), info.get(), pbe.get())};
  if (!sig)
    return fail(ErrorCode::crypto, "cannot encrypt private key: {}", drain_openssl_errors());
  pbe.release(); // owned by `sig` now
  if (PEM_write_bio_PKCS8(bio.get(), sig.get()) != 1)
    return fail(ErrorCode::crypto, "cannot encode private key: {}", drain_openssl_errors());
  return bio;
}

Expected<void> write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(ErrorCode::io, "cannot write private key '{}': {}", path.string(), errno_text(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

// State of the PEM password callback: asks the PassphraseSource at most once, only when OpenSSL needs it.
struct PassphraseState {
  const PassphraseSource* source = nullptr;
  bool asked = false;
  bool gave_up = false;
  bool too_long = false;
  std::optional<Error> error; // the source failed (e.g. an unreadable passphrase file)
  std::optional<SecretBytes> value;
};

extern "C" int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* state = static_cast<PassphraseState*>(user);
  if (state == nullptr || state->source == nullptr || !*state->source) {
    if (state != nullptr)
      state->gave_up = true;
    return -1;
  }
  if (!state->asked) {
    state->asked = true;
    try {
      auto got = (*state->source)();
      if (got)
        state->value = std::move(*got);
      else
        state->error = std::move(got.error());
    } catch (...) {
      state->value.reset();
    }
  }
  if (state->error)
    return -1;
  if (!state->value) {
    state->gave_up = true;
    return -1;
  }
  if (size < 0 || state->value->size() > static_cast<std::size_t>(size)) {
    state->too_long = true;
    return -1;
  }
  if (!state->value->empty())
    std::memcpy(buf, state->value->data(), state->value->size());
  return static_cast<int>(state->value->size());
}

} // namespace

Expected<void> write_private_key(const std::filesystem::path& path, const PrivateKey& key,
                                 const SecretBytes& passphrase) {
  auto* pkey = static_cast<EVP_PKEY*>(key.native_handle());
  if (pkey == nullptr)
    return fail(ErrorCode::internal, "cannot write private key '{}': key was moved from", path.string());

  auto bio = encode_private(pkey, passphrase);
  if (!bio)
    return std::unexpected(bio.error());
  char* pem = nullptr;
  const long pem_len = BIO_get_mem_data(bio->get(), &pem);
  if (pem_len <= 0 || pem == nullptr)
    return fail(ErrorCode::crypto, "cannot encode private key: {}", drain_openssl_errors());
  // Wipe the encoded key whatever happens below (BIO_s_secmem also clears on free).
  struct Wipe {
    char* p;
    std::size_t n;
    ~Wipe() { OPENSSL_cleanse(p, n); }
  } wipe{pem, static_cast<std::size_t>(pem_len)};

  if (auto ok = create_parents(path); !ok)
    return ok;

  Fd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (fd.get() < 0) {
    if (errno == EEXIST)
      return fail(ErrorCode::already_exists, "cannot write private key '{}': file exists", path.string());
    return fail(ErrorCode::io, "cannot create private key '{}': {}", path.string(), errno_text(errno));
  }
  auto written = [&]() -> Expected<void> {
    if (::fchmod(fd.get(), 0600) != 0)
      return fail(ErrorCode::io, "cannot set mode of private key '{}': {}", path.string(), errno_text(errno));
    if (auto ok = write_all(fd.get(), pem, static_cast<std::size_t>(pem_len), path); !ok)
      return ok;
    if (::fsync(fd.get()) != 0)
      return fail(ErrorCode::io, "cannot sync private key '{}': {}", path.string(), errno_text(errno));
    if (::close(fd.release()) != 0)
      return fail(ErrorCode::io, "cannot close private key '{}': {}", path.string(), errno_text(errno));
    return {};
  }();
  if (!written) {
    ::unlink(path.c_str()); // never leave a half-written key behind
    return written;
  }
  // Make the new directory entry durable too.
  const auto parent = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  Fd dir{::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.get() >= 0)
    ::fsync(dir.get());
  return {};
}

Expected<PrivateKey> read_private_key(const std::filesystem::path& path, const PassphraseSource& passphrase) {
  const std::string name = path.string();
  // O_NONBLOCK: a FIFO planted at the path must not hang us; the fstat below refuses it.
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (fd.get() < 0) {
    if (errno == ENOENT)
      return fail(ErrorCode::key, "cannot read private key '{}': no such file", name);
    return fail(ErrorCode::key, "cannot read private key '{}': {}", name, errno_text(errno));
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0)
    return fail(ErrorCode::key, "cannot read private key '{}': {}", name, errno_text(errno));
  if (!S_ISREG(st.st_mode))
    return fail(ErrorCode::key, "cannot read private key '{}': not a regular file", name);
  if ((st.st_mode & 077) != 0)
    return fail(ErrorCode::key, "private key '{}' has permissions {:04o}, which are too open (must be 0600)", name,
                static_cast<unsigned>(st.st_mode & 07777));
  if (static_cast<std::uintmax_t>(st.st_size) > k_max_key_file)
    return fail(ErrorCode::key, "cannot read private key '{}': file is too large ({} bytes) to be a key", name,
                static_cast<std::uintmax_t>(st.st_size));

  WipedBuffer buf{k_max_key_file + 1};
  std::size_t len = 0;
  while (len < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + len, buf.size() - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fail(ErrorCode::key, "cannot read private key '{}': {}", name, errno_text(errno));
    }
    if (n == 0)
      break;
    len += static_cast<std::size_t>(n);
  }
  if (len > k_max_key_file)
    return fail(ErrorCode::key, "cannot read private key '{}': file is too large to be a key", name);

  BioPtr bio{BIO_new_mem_buf(buf.data(), static_cast<int>(len))};
  if (!bio)
    return fail(ErrorCode::crypto, "cannot read private key '{}': {}", name, drain_openssl_errors());
  PassphraseState state;
  state.source = &passphrase;
  ERR_clear_error();
  PkeyPtr pkey{PEM_read_bio_PrivateKey(bio.get(), nullptr, &passphrase_callback, &state)};
  if (!pkey) {
    const std::string why = drain_openssl_errors();
    if (state.error)
      return std::unexpected(*state.error);
    if (state.gave_up)
      return fail(ErrorCode::key, "cannot read private key '{}': it is encrypted and no passphrase was given", name);
    if (state.too_long)
      return fail(ErrorCode::key, "cannot read private key '{}': passphrase too long", name);
    if (state.asked)
      return fail(ErrorCode::key, "cannot decrypt private key '{}': wrong passphrase or damaged file ({})", name,
                  why);
    return fail(ErrorCode::key, "cannot read private key '{}': not a pem private key ({})", name, why);
  }
  ERR_clear_error(); // the decoder may leave entries from formats it tried first
  auto key = PrivateKey::adopt_native(pkey.release());
  if (!key)
    return fail(ErrorCode::key, "cannot read private key '{}': {}", name, key.error().message);
  return key;
}

Expected<std::unique_ptr<Signer>> open_signer(std::string_view spec, const PassphraseSource& passphrase) {
  if (is_agent_spec(spec)) {
    auto agent = AgentSigner::open(spec);
    if (!agent)
      return std::unexpected(agent.error());
    return std::unique_ptr<Signer>(std::move(*agent));
  }
  auto key = read_private_key(std::filesystem::path(spec), passphrase);
  if (!key)
    return std::unexpected(key.error());
  return std::unique_ptr<Signer>(std::make_unique<PrivateKey>(std::move(*key)));
}

std::string public_key_pem(const PublicKey& key) {
  PkeyPtr pkey{EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, key.data(), key.size())};
  BioPtr bio{BIO_new(BIO_s_mem())};
  if (!pkey || !bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1)
    throw std::runtime_error("openssl: cannot encode public key: " + drain_openssl_errors());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  if (n <= 0 || data == nullptr)
    throw std::runtime_error("openssl: cannot encode public key: empty output");
  return {data, static_cast<std::size_t>(n)};
}

Expected<PublicKey> parse_public_key_pem(std::string_view pem) {
  if (pem.size() > k_max_key_file)
    return fail(ErrorCode::invalid_input, "cannot parse public key pem: too large ({} bytes)", pem.size());
  BioPtr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!bio)
    return fail(ErrorCode::crypto, "cannot parse public key pem: {}", drain_openssl_errors());
  ERR_clear_error();
  PkeyPtr pkey{PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)};
  if (!pkey)
    return fail(ErrorCode::invalid_input, "cannot parse public key pem: {}", drain_openssl_errors());
  ERR_clear_error();
  if (EVP_PKEY_is_a(pkey.get(), "ED25519") != 1) {
    const char* type = EVP_PKEY_get0_type_name(pkey.get());
    return fail(ErrorCode::invalid_input, "cannot use public key: it is {}, not ed25519", type ? type : "unknown");
  }
  PublicKey pk{};
  std::size_t len = pk.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), pk.data(), &len) != 1 || len != pk.size())
    return fail(ErrorCode::invalid_input, "cannot parse public key pem: {}", drain_openssl_errors());
  return pk;
}

} // namespace avow::crypto
