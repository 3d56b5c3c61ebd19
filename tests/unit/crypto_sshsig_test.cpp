#include <archive/crypto/sshsig.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

namespace avow::crypto {
namespace {

namespace fs = std::filesystem;

Bytes unhex(const std::string& s) {
  auto b = from_hex(s);
  if (!b)
    throw std::runtime_error("bad hex in vector: " + s);
  return *b;
}

PublicKey to_pk(const Bytes& b) {
  PublicKey pk{};
  if (b.size() != pk.size())
    throw std::runtime_error("public key is not 32 bytes");
  std::copy(b.begin(), b.end(), pk.begin());
  return pk;
}

std::optional<nlohmann::json> load_vectors() {
  const auto file = fs::path(AVOW_VECTORS_DIR) / "sshsig" / "sshsig.json";
  std::ifstream in(file);
  if (!in)
    return std::nullopt;
  return nlohmann::json::parse(in).at("vectors");
}

#define LOAD_VECTORS_OR_FAIL(var)                                                                                 \
  const auto var##_opt = load_vectors();                                                                          \
  if (!var##_opt)                                                                                                 \
    FAIL() << "SSHSIG vectors not found under " << AVOW_VECTORS_DIR << "/sshsig";                                \
  const auto& var = *var##_opt

std::string hash_field(const nlohmann::json& v) {
  return v.contains("hash_algorithm") ? v.at("hash_algorithm").get<std::string>()
                                      : v.at("decoded").at("hash_algorithm").get<std::string>();
}

TEST(SshsigVectors, HasThreeVectors) {
  LOAD_VECTORS_OR_FAIL(vectors);
  EXPECT_EQ(vectors.size(), 3u);
}

TEST(SshsigVectors, DearmorParseAndRearmor) {
  LOAD_VECTORS_OR_FAIL(vectors);
  for (const auto& v : vectors) {
    const std::string id = v.at("id");
    const std::string armored = v.at("armored_signature");
    auto blob = sshsig_dearmor(armored);
    ASSERT_TRUE(blob) << id << ": " << blob.error().message;
    EXPECT_EQ(to_hex(*blob), v.at("sshsig_blob_hex").get<std::string>()) << id;
    EXPECT_EQ(sshsig_armor(*blob), armored) << id;

    auto parsed = sshsig_parse(*blob);
    ASSERT_TRUE(parsed) << id << ": " << parsed.error().message;
    EXPECT_EQ(to_hex(parsed->public_key), v.at("public_key_hex").get<std::string>()) << id;
    EXPECT_EQ(parsed->ns, v.at("namespace").get<std::string>()) << id;
    EXPECT_EQ(parsed->reserved, "") << id;
    EXPECT_EQ(parsed->hash, hash_field(v) == "sha256" ? SshsigHash::sha256 : SshsigHash::sha512) << id;
    const std::string sig_hex = v.contains("ed25519_signature_hex")
                                    ? v.at("ed25519_signature_hex").get<std::string>()
                                    : v.at("decoded").at("ed25519_signature_hex").get<std::string>();
    EXPECT_EQ(to_hex(parsed->signature), sig_hex) << id;

    const Bytes message = unhex(v.at("message_hex"));
    const Bytes signed_data = sshsig_signed_data(parsed->ns, parsed->hash, message);
    EXPECT_EQ(to_hex(signed_data), v.at("signed_data_hex").get<std::string>()) << id;
    EXPECT_TRUE(verify(parsed->public_key, signed_data, parsed->signature)) << id;
  }
}

TEST(SshsigVectors, OpensshPublicKeyLine) {
  LOAD_VECTORS_OR_FAIL(vectors);
  for (const auto& v : vectors) {
    const std::string line = v.at("public_key_openssh");
    const PublicKey pk = to_pk(unhex(v.at("public_key_hex")));
    // The vector line has a comment; ours has none.
    EXPECT_EQ(openssh_public_key(pk), line.substr(0, line.rfind(' '))) << v.at("id");
    auto parsed = parse_openssh_public_key(line);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(*parsed, pk);
    auto blob = from_hex(v.at("public_key_blob_hex").get<std::string>());
    ASSERT_TRUE(blob);
    EXPECT_EQ(openssh_public_key(pk), "ssh-ed25519 " + base64_encode(*blob));
  }
}

TEST(SshsigVectors, VerifyAcceptsAndRejects) {
  LOAD_VECTORS_OR_FAIL(vectors);
  for (const auto& v : vectors) {
    const std::string id = v.at("id");
    const std::string armored = v.at("armored_signature");
    const std::string ns = v.at("namespace");
    const Bytes message = unhex(v.at("message_hex"));
    auto ok = sshsig_verify(armored, ns, message);
    ASSERT_TRUE(ok) << id << ": " << ok.error().message;
    EXPECT_EQ(to_hex(*ok), v.at("public_key_hex").get<std::string>()) << id;

    auto wrong_ns = sshsig_verify(armored, "bogus namespace", message);
    ASSERT_FALSE(wrong_ns) << id;
    EXPECT_EQ(wrong_ns.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(wrong_ns.error().message, "ssh signature has namespace 'example', expected 'bogus namespace'");
    EXPECT_FALSE(sshsig_verify(armored, "git", message)) << id;

    auto wrong_msg = sshsig_verify(armored, ns, as_bytes("bogus!"));
    ASSERT_FALSE(wrong_msg) << id;
    EXPECT_EQ(wrong_msg.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(wrong_msg.error().message, "ssh signature does not verify for this message and key");
    Bytes newline = message;
    newline.push_back('\n');
    EXPECT_FALSE(sshsig_verify(armored, ns, newline)) << id;

    // Other wrapping (whitespace is ignored) still verifies; CRLF armor too.
    std::string crlf;
    for (char c : armored) {
      if (c == '\n')
        crlf += '\r';
      crlf += c;
    }
    EXPECT_TRUE(sshsig_verify(crlf, ns, message)) << id;
  }
}

TEST(SshsigVectors, SigningReproducesDerivedVectorsByteForByte) {
  LOAD_VECTORS_OR_FAIL(vectors);
  int derived = 0;
  for (const auto& v : vectors) {
    if (!v.contains("private_seed_hex"))
      continue;
    ++derived;
    auto key = PrivateKey::from_seed(unhex(v.at("private_seed_hex")));
    ASSERT_TRUE(key);
    EXPECT_EQ(to_hex(key->public_key()), v.at("public_key_hex").get<std::string>());
    const SshsigHash hash = hash_field(v) == "sha256" ? SshsigHash::sha256 : SshsigHash::sha512;
    auto armored = sshsig_sign(*key, v.at("namespace").get<std::string>(), unhex(v.at("message_hex")), hash);
    ASSERT_TRUE(armored) << armored.error().message;
    EXPECT_EQ(*armored, v.at("armored_signature").get<std::string>()) << v.at("id");
    if (hash == SshsigHash::sha512) { // the default overload is sha512
      auto def = sshsig_sign(*key, v.at("namespace").get<std::string>(), unhex(v.at("message_hex")));
      ASSERT_TRUE(def);
      EXPECT_EQ(*def, *armored);
    }
  }
  EXPECT_EQ(derived, 2);
}

// Flip every bit of a valid blob: each mutation must be rejected (parse or verify), never crash.
TEST(SshsigVectors, EveryFlippedBitIsRejected) {
  LOAD_VECTORS_OR_FAIL(vectors);
  const auto& v = vectors.at(0);
  const Bytes blob = unhex(v.at("sshsig_blob_hex"));
  const Bytes message = unhex(v.at("message_hex"));
  const std::string ns = v.at("namespace");
  for (std::size_t i = 0; i < blob.size() * 8; ++i) {
    Bytes b = blob;
    b[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    EXPECT_FALSE(sshsig_verify(sshsig_armor(b), ns, message)) << "bit " << i;
  }
  for (std::size_t n = 0; n < blob.size(); ++n) {
    const Bytes truncated(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(sshsig_verify(sshsig_armor(truncated), ns, message)) << "truncated to " << n;
  }
  Bytes longer = blob;
  longer.push_back(0);
  EXPECT_FALSE(sshsig_verify(sshsig_armor(longer), ns, message));
}

TEST(Sshsig, MalformedArmorIsInvalidInput) {
  const std::string good_body = "U1NIU0lH\n";
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("hello"),
           std::string_view("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n"),
           std::string_view("x-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"),
           std::string_view("-----BEGIN SSH SIGNATURE-----\nU1NIU0l!\n-----END SSH SIGNATURE-----\n"),
           std::string_view("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\ntrailing"),
           std::string_view("-----BEGIN SSH SIGNATURE-----U1NIU0lH\n-----END SSH SIGNATURE-----\n"),
       }) {
    auto r = sshsig_verify(bad, "git", as_bytes("m"));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input) << bad;
  }
  auto d = sshsig_dearmor("-----BEGIN SSH SIGNATURE-----\n" + good_body + "-----END SSH SIGNATURE-----\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(to_string(*d), "SSHSIG");
}

TEST(Sshsig, SignRejectsEmptyNamespace) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key);
  auto r = sshsig_sign(*key, "", as_bytes("m"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

TEST(Sshsig, SignVerifyRoundTripAndLayout) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key);
  auto armored = sshsig_sign(*key, "git", as_bytes("tree 0000\n\nmessage\n"));
  ASSERT_TRUE(armored);
  // 173-byte blob = 232 base64 chars = 70+70+70+22.
  EXPECT_TRUE(armored->starts_with("-----BEGIN SSH SIGNATURE-----\n"));
  EXPECT_TRUE(armored->ends_with("\n-----END SSH SIGNATURE-----\n"));
  EXPECT_EQ(armored->size(), 30u + 71 * 3 + 23 + 28);
  auto pk = sshsig_verify(*armored, "git", as_bytes("tree 0000\n\nmessage\n"));
  ASSERT_TRUE(pk) << pk.error().message;
  EXPECT_EQ(*pk, key->public_key());
}

TEST(Sshsig, ParseOpensshPublicKeyRejectsOtherTypes) {
  for (std::string_view bad : {
           std::string_view(""),
           std::string_view("ssh-ed25519"),
           std::string_view("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ=="),
           std::string_view("ssh-ed25519 !!!!"),
           // string "ssh-ed25519" || string of 31 bytes
           std::string_view("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH9damAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1E="),
       }) {
    auto r = parse_openssh_public_key(bad);
    EXPECT_FALSE(r) << bad;
  }
}

int run_shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

class SshKeygenInterop : public ::testing::Test {
protected:
  void SetUp() override {
    if (run_shell("ssh-keygen -? >/dev/null 2>&1; command -v ssh-keygen >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "ssh-keygen not available";
    std::string tmpl = (fs::temp_directory_path() / "avow-sshsig-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    m_dir = tmpl;
  }
  void TearDown() override {
    if (m_dir.empty())
      return;
    if (HasFailure())
      std::fprintf(stderr, "kept temp dir %s\n", m_dir.c_str());
    else
      fs::remove_all(m_dir);
  }
  // Write the files and run ssh-keygen -Y verify; return its exit code.
  int ssh_verify(const std::string& allowed_line, const std::string& ns, const std::string& armored,
                 const std::string& message) {
    std::ofstream(m_dir / "allowed") << allowed_line << "\n";
    std::ofstream(m_dir / "sig.sig") << armored;
    std::ofstream(m_dir / "msg", std::ios::binary) << message;
    const std::string d = "'" + m_dir.string() + "/";
    return run_shell("ssh-keygen -Y verify -f " + d + "allowed' -I test@avow -n " + ns + " -s " + d + "sig.sig' < " +
                     d + "msg' > " + d + "out' 2>&1");
  }
  fs::path m_dir;
};

TEST_F(SshKeygenInterop, SshKeygenVerifiesOurSignature) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key);
  const std::string message = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 0 +0000\n\nhello\n";
  auto armored = sshsig_sign(*key, "git", as_bytes(message));
  ASSERT_TRUE(armored);
  const std::string allowed = "test@avow " + openssh_public_key(key->public_key());
  EXPECT_EQ(ssh_verify(allowed, "git", *armored, message), 0);
  // And it refuses a changed message or namespace, so the check above is meaningful.
  EXPECT_NE(ssh_verify(allowed, "git", *armored, message + "x"), 0);
  EXPECT_NE(ssh_verify(allowed, "file", *armored, message), 0);

  auto armored256 = sshsig_sign(*key, "git", as_bytes(message), SshsigHash::sha256);
  ASSERT_TRUE(armored256);
  EXPECT_EQ(ssh_verify(allowed, "git", *armored256, message), 0);
}

TEST_F(SshKeygenInterop, WeVerifySshKeygenSignature) {
  // Sign with ssh-keygen using an OpenSSH key it generates, verify with sshsig_verify.
  const std::string d = "'" + m_dir.string() + "/";
  ASSERT_EQ(run_shell("ssh-keygen -q -t ed25519 -N '' -C '' -f " + d + "id' >/dev/null 2>&1"), 0);
  std::ofstream(m_dir / "msg", std::ios::binary) << "payload\n";
  ASSERT_EQ(run_shell("ssh-keygen -Y sign -f " + d + "id' -n git " + d + "msg' >/dev/null 2>&1"), 0);
  std::ifstream sig_in(m_dir / "msg.sig");
  const std::string armored((std::istreambuf_iterator<char>(sig_in)), {});
  std::ifstream pub_in(m_dir / "id.pub");
  std::string pub_line;
  std::getline(pub_in, pub_line);
  auto pk = parse_openssh_public_key(pub_line);
  ASSERT_TRUE(pk) << pk.error().message;
  auto got = sshsig_verify(armored, "git", as_bytes("payload\n"));
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, *pk);
  EXPECT_FALSE(sshsig_verify(armored, "git", as_bytes("payload")));
}

} // namespace
} // namespace avow::crypto
