#include <archive/crypto/keyfile.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace avow::crypto {
namespace {

namespace fs = std::filesystem;

class Keyfile : public ::testing::Test {
protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "avow-keyfile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override {
    if (HasFailure())
      std::fprintf(stderr, "kept temp dir %s\n", m_dir.c_str());
    else
      fs::remove_all(m_dir);
  }
  const fs::path& dir() const { return m_dir; }

  static unsigned mode_of(const fs::path& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // Run `cmd` through the shell; return its exit status.
  static int run(const std::string& cmd) {
    const int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  static std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

  static PrivateKey test_key() {
    auto k = PrivateKey::from_seed(*from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    EXPECT_TRUE(k);
    return std::move(*k);
  }

private:
  fs::path m_dir;
};

PassphraseSource never_called(bool& called) {
  return [&called]() -> std::optional<SecretBytes> {
    called = true;
    return std::nullopt;
  };
}

PassphraseSource giving(std::string pass, int& calls) {
  return [pass, &calls]() -> std::optional<SecretBytes> {
    ++calls;
    return SecretBytes(pass);
  };
}

TEST_F(Keyfile, RoundTripWithoutPassphrase) {
  const auto key = test_key();
  const auto path = dir() / "k.pem";
  auto ok = write_private_key(path, key, SecretBytes{});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(mode_of(path), 0600u);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "-----BEGIN PRIVATE KEY-----");

  bool called = false;
  auto back = read_private_key(path, never_called(called));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_FALSE(called);
  EXPECT_EQ(back->public_key(), key.public_key());
  // Same key: same deterministic signature.
  EXPECT_EQ(*back->sign(as_bytes("m")), *key.sign(as_bytes("m")));
}

TEST_F(Keyfile, RoundTripWithPassphrase) {
  const auto key = test_key();
  const auto path = dir() / "enc.pem";
  auto ok = write_private_key(path, key, SecretBytes("correct horse"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(mode_of(path), 0600u);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "-----BEGIN ENCRYPTED PRIVATE KEY-----");

  int calls = 0;
  auto back = read_private_key(path, giving("correct horse", calls));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(back->public_key(), key.public_key());
}

TEST_F(Keyfile, WrongPassphraseIsRefused) {
  const auto path = dir() / "enc.pem";
  ASSERT_TRUE(write_private_key(path, test_key(), SecretBytes("right")));
  int calls = 0;
  auto back = read_private_key(path, giving("wrong", calls));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::key);
  EXPECT_TRUE(back.error().message.starts_with("cannot decrypt private key '" + path.string() +
                                               "': wrong passphrase or damaged file"))
      << back.error().message;
  EXPECT_GE(calls, 1);
}

TEST_F(Keyfile, EncryptedWithoutPassphraseSourceIsRefused) {
  const auto path = dir() / "enc.pem";
  ASSERT_TRUE(write_private_key(path, test_key(), SecretBytes("right")));
  bool called = false;
  auto back = read_private_key(path, never_called(called));
  ASSERT_FALSE(back);
  EXPECT_TRUE(called);
  EXPECT_EQ(back.error().code, ErrorCode::key);
  EXPECT_EQ(back.error().message,
            "cannot read private key '" + path.string() + "': it is encrypted and no passphrase was given");
  auto empty = read_private_key(path, PassphraseSource{});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::key);
}

TEST_F(Keyfile, ModeIsExactly0600EvenWithPermissiveUmask) {
  const mode_t old = ::umask(0);
  const auto path = dir() / "sub" / "deeper" / "k.pem";
  auto ok = write_private_key(path, test_key(), SecretBytes{});
  ::umask(old);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(dir() / "sub"), 0700u);
  EXPECT_EQ(mode_of(dir() / "sub" / "deeper"), 0700u);
}

TEST_F(Keyfile, ExistingFileIsNotOverwritten) {
  const auto path = dir() / "k.pem";
  { std::ofstream(path) << "precious"; }
  auto ok = write_private_key(path, test_key(), SecretBytes{});
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, ErrorCode::already_exists);
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "precious");
}

TEST_F(Keyfile, SymlinkAtPathIsNotFollowed) {
  const auto target = dir() / "target";
  const auto link = dir() / "k.pem";
  fs::create_symlink(target, link);
  auto ok = write_private_key(link, test_key(), SecretBytes{});
  ASSERT_FALSE(ok);
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(Keyfile, TooOpenPermissionsAreRefused) {
  const auto path = dir() / "k.pem";
  ASSERT_TRUE(write_private_key(path, test_key(), SecretBytes{}));
  for (unsigned mode : {0644u, 0640u, 0604u, 0660u, 0602u}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    bool called = false;
    auto back = read_private_key(path, never_called(called));
    ASSERT_FALSE(back) << std::oct << mode;
    EXPECT_EQ(back.error().code, ErrorCode::key);
    char expected_mode[8];
    std::snprintf(expected_mode, sizeof expected_mode, "%04o", mode);
    EXPECT_EQ(back.error().message, "private key '" + path.string() + "' has permissions " + expected_mode +
                                        ", which are too open (must be 0600)");
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  bool called = false;
  EXPECT_TRUE(read_private_key(path, never_called(called)));
}

TEST_F(Keyfile, MissingFileIsAKeyError) {
  const auto path = dir() / "nope.pem";
  bool called = false;
  auto back = read_private_key(path, never_called(called));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::key);
  EXPECT_EQ(back.error().message, "cannot read private key '" + path.string() + "': no such file");
}

TEST_F(Keyfile, GarbageIsAKeyError) {
  const auto path = dir() / "junk.pem";
  {
    std::ofstream(path) << "-----BEGIN PRIVATE KEY-----\nnot base64 at all!!\n-----END PRIVATE KEY-----\n";
  }
  ::chmod(path.c_str(), 0600);
  bool called = false;
  auto back = read_private_key(path, never_called(called));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::key);
  EXPECT_TRUE(back.error().message.starts_with("cannot read private key '" + path.string() + "': not a pem"))
      << back.error().message;

  const auto empty = dir() / "empty.pem";
  { std::ofstream{empty}; }
  ::chmod(empty.c_str(), 0600);
  auto e = read_private_key(empty, never_called(called));
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, ErrorCode::key);
  EXPECT_FALSE(called);
}

TEST_F(Keyfile, DirectoryIsAKeyError) {
  const auto sub = dir() / "d";
  fs::create_directory(sub);
  ::chmod(sub.c_str(), 0700);
  bool called = false;
  auto back = read_private_key(sub, never_called(called));
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::key);
}

TEST_F(Keyfile, OpensslCliAcceptsWrittenFiles) {
  if (run("openssl version") != 0)
    GTEST_SKIP() << "openssl command not available";
  const auto plain = dir() / "plain.pem";
  const auto enc = dir() / "enc.pem";
  const auto pub = dir() / "pub.pem";
  const auto key = test_key();
  ASSERT_TRUE(write_private_key(plain, key, SecretBytes{}));
  ASSERT_TRUE(write_private_key(enc, key, SecretBytes("s3cret pass")));
  { std::ofstream(pub) << public_key_pem(key.public_key()); }

  EXPECT_EQ(run("openssl pkey -in " + quote(plain) + " -noout -passin pass:"), 0);
  EXPECT_EQ(run("openssl pkey -in " + quote(enc) + " -noout -passin 'pass:s3cret pass'"), 0);
  EXPECT_NE(run("openssl pkey -in " + quote(enc) + " -noout -passin pass:wrong"), 0);
  EXPECT_EQ(run("openssl pkey -pubin -in " + quote(pub) + " -noout"), 0);
  // openssl derives the same public key from the private file as we wrote.
  const auto derived = dir() / "derived.pem";
  ASSERT_EQ(run("openssl pkey -in " + quote(enc) + " -passin 'pass:s3cret pass' -pubout -out " + quote(derived)), 0);
  std::ifstream in(derived);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, public_key_pem(key.public_key()));
}

TEST_F(Keyfile, ReadsKeyGeneratedByOpensslCli) {
  if (run("openssl version") != 0)
    GTEST_SKIP() << "openssl command not available";
  const auto path = dir() / "gen.pem";
  const auto pub = dir() / "gen.pub";
  ASSERT_EQ(run("openssl genpkey -algorithm ed25519 -out " + quote(path)), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(run("openssl pkey -in " + quote(path) + " -pubout -out " + quote(pub)), 0);
  bool called = false;
  auto key = read_private_key(path, never_called(called));
  ASSERT_TRUE(key) << key.error().message;
  std::ifstream in(pub);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto pk = parse_public_key_pem(text);
  ASSERT_TRUE(pk) << pk.error().message;
  EXPECT_EQ(*pk, key->public_key());

  // And an encrypted one (openssl's default PBES2 / PBKDF2 / AES-256-CBC).
  const auto enc = dir() / "gen-enc.pem";
  ASSERT_EQ(run("openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:pw -out " + quote(enc)), 0);
  ASSERT_EQ(::chmod(enc.c_str(), 0600), 0);
  int calls = 0;
  auto k2 = read_private_key(enc, giving("pw", calls));
  ASSERT_TRUE(k2) << k2.error().message;
  EXPECT_EQ(calls, 1);
}

TEST_F(Keyfile, NonEd25519KeyIsRefused) {
  if (run("openssl version") != 0)
    GTEST_SKIP() << "openssl command not available";
  const auto path = dir() / "ec.pem";
  const auto pub = dir() / "ec.pub";
  ASSERT_EQ(run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + quote(path)), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  bool called = false;
  auto key = read_private_key(path, never_called(called));
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, ErrorCode::key);
  EXPECT_NE(key.error().message.find("not ed25519"), std::string::npos) << key.error().message;

  ASSERT_EQ(run("openssl pkey -in " + quote(path) + " -pubout -out " + quote(pub)), 0);
  std::ifstream in(pub);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto pk = parse_public_key_pem(text);
  ASSERT_FALSE(pk);
  EXPECT_EQ(pk.error().code, ErrorCode::invalid_input);
}

TEST(PublicKeyPem, KnownEncodingAndRoundTrip) {
  // RFC 8032 TEST 1 public key; SPKI = 302a300506032b6570032100 || pk.
  PublicKey pk{};
  const auto raw = *from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  std::copy(raw.begin(), raw.end(), pk.begin());
  const std::string pem = public_key_pem(pk);
  EXPECT_EQ(pem, "-----BEGIN PUBLIC KEY-----\n"
                 "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
                 "-----END PUBLIC KEY-----\n");
  auto back = parse_public_key_pem(pem);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, pk);
}

TEST(PublicKeyPem, GarbageIsInvalidInput) {
  for (std::string_view bad : {"", "hello", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n"}) {
    auto r = parse_public_key_pem(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
  }
}

} // namespace
} // namespace avow::crypto
