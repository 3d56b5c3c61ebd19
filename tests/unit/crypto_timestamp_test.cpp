// RFC 3161 requests and responses (archive/crypto/timestamp): the fixture TSA is made with stock openssl
// (tests/support/make_tsa.sh) and answers with `openssl ts -reply`, so the code is checked against another
// implementation, not against itself.

#include <archive/crypto/timestamp.hpp>

#include <tests/support/support.hpp>

#include <gtest/gtest.h>

namespace avow::crypto {
namespace {

namespace fs = std::filesystem;
using test::run_process;

class CryptoTimestamp : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    s_tmp = new test::TempDir();
    for (const char* name : {"ca1", "ca2"}) {
      auto r = run_process({"bash", std::string(AVOW_SOURCE_DIR) + "/tests/support/make_tsa.sh",
                            (s_tmp->path() / name).string(), std::string("unit ") + name});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    s_data = "origin.example/log\n7\nAAAA\n";
    s_digest = sha256(s_data);
    auto req = timestamp_request(s_digest);
    ASSERT_TRUE(req) << req.error().message;
    s_request = *req;
    s_response = reply("ca1", s_request);
  }
  static void TearDownTestSuite() {
    delete s_tmp;
    s_tmp = nullptr;
  }

  // `openssl ts -reply` by the TSA `ca` to the DER request `tsq`.
  static std::string reply(const std::string& ca, const std::string& tsq) {
    static int n = 0;
    const fs::path q = s_tmp->path() / ("q" + std::to_string(++n) + ".tsq");
    const fs::path r = s_tmp->path() / ("r" + std::to_string(n) + ".tsr");
    test::write_file(q, tsq);
    auto res = run_process({"openssl", "ts", "-reply", "-config", (s_tmp->path() / ca / "ts.cnf").string(),
                            "-queryfile", q.string(), "-out", r.string()});
    EXPECT_EQ(res.exit_code, 0) << res.err;
    return test::read_file(r);
  }
  static std::string ca_pem(const std::string& ca) { return test::read_file(s_tmp->path() / ca / "ca.pem"); }

  static inline test::TempDir* s_tmp = nullptr;
  static inline std::string s_data, s_request, s_response;
  static inline Digest s_digest{};
};

TEST_F(CryptoTimestamp, RequestIsWhatStockOpensslReads) {
  const fs::path q = s_tmp->path() / "mine.tsq";
  test::write_file(q, s_request);
  auto r = run_process({"openssl", "ts", "-query", "-in", q.string(), "-text"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Version: 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Hash Algorithm: sha256\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Policy OID: unspecified\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Certificate required: yes\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Nonce: unspecified"), std::string::npos) << r.out;
  // The imprint bytes, as openssl dumps them: "0000 - 4f 2e ..." over two lines.
  const std::string hex = to_hex(s_digest);
  std::string first_bytes;
  for (std::size_t i = 0; i < 4; ++i) first_bytes += (i ? " " : "") + hex.substr(2 * i, 2);
  EXPECT_NE(r.out.find("0000 - " + first_bytes), std::string::npos) << r.out;
  // A fresh nonce each time.
  auto again = timestamp_request(s_digest);
  ASSERT_TRUE(again);
  EXPECT_NE(*again, s_request);
}

TEST_F(CryptoTimestamp, ParsesAGrantedResponse) {
  auto info = parse_timestamp_response(s_response);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->status, "granted");
  EXPECT_EQ(info->hash_algorithm, "sha256");
  EXPECT_EQ(info->imprint, s_digest);
  EXPECT_EQ(info->policy, "1.2.3.4.1");
  EXPECT_EQ(info->tsa_name, "DirName:CN = unit ca1 TSA");
  EXPECT_EQ(info->signer, "CN=unit ca1 TSA");
  EXPECT_FALSE(info->serial.empty());
  const auto now = now_seconds();
  EXPECT_LE(info->gen_time, now + std::chrono::seconds(1));
  EXPECT_GE(info->gen_time, now - std::chrono::minutes(5));
  EXPECT_EQ(info->gen_time_text, format_rfc3339_utc(info->gen_time));
}

TEST_F(CryptoTimestamp, VerifiesUnderItsCaOnly) {
  EXPECT_TRUE(verify_timestamp_response(s_response, s_digest, ca_pem("ca1")));
  // Both CAs in one file: still fine.
  EXPECT_TRUE(verify_timestamp_response(s_response, s_digest, ca_pem("ca2") + ca_pem("ca1")));
  auto other = verify_timestamp_response(s_response, s_digest, ca_pem("ca2"));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::key);
  EXPECT_TRUE(other.error().message.starts_with("the time-stamp token does not verify under the given TSA certificate: "))
      << other.error().message;
  Digest wrong = s_digest;
  wrong[0] ^= 1;
  auto mismatch = verify_timestamp_response(s_response, wrong, ca_pem("ca1"));
  ASSERT_FALSE(mismatch);
  EXPECT_EQ(mismatch.error().code, ErrorCode::invalid_input) << mismatch.error().message;
  auto empty = verify_timestamp_response(s_response, s_digest, "not a PEM\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "the TSA certificate file holds no PEM certificate");
  // The TSA's own certificate is not a CA: it does not vouch for itself.
  auto self = verify_timestamp_response(s_response, s_digest, test::read_file(s_tmp->path() / "ca1" / "tsa.pem"));
  EXPECT_FALSE(self);
}

TEST_F(CryptoTimestamp, NoAlteredByteChangesWhatAVerifiedTokenSays) {
  // CMS leaves parts of a response unauthenticated (the status, the certificate bag, which here holds the TSA
  // certificate twice, algorithm parameters), so some single-byte changes still verify. None may change what the
  // token says: each altered response is refused by the parser, fails verification, or says exactly the same.
  const auto original = parse_timestamp_response(s_response);
  ASSERT_TRUE(original);
  std::size_t refused = 0;
  for (std::size_t i = 0; i < s_response.size(); ++i) {
    std::string bad = s_response;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto info = parse_timestamp_response(bad);
    if (!info || !verify_timestamp_response(bad, info->imprint, ca_pem("ca1"))) {
      ++refused;
      continue;
    }
    EXPECT_EQ(info->imprint, original->imprint) << "byte " << i;
    EXPECT_EQ(info->gen_time, original->gen_time) << "byte " << i;
    EXPECT_EQ(info->serial, original->serial) << "byte " << i;
    EXPECT_EQ(info->policy, original->policy) << "byte " << i;
    EXPECT_EQ(info->tsa_name, original->tsa_name) << "byte " << i;
  }
  EXPECT_GT(refused, s_response.size() / 2);
}

TEST_F(CryptoTimestamp, HostileInputIsRefused) {
  for (std::size_t n = 0; n < s_response.size(); ++n) EXPECT_FALSE(parse_timestamp_response(s_response.substr(0, n))) << n;
  auto trailing = parse_timestamp_response(s_response + "x");
  ASSERT_FALSE(trailing);
  EXPECT_EQ(trailing.error().message, "not a time-stamp response: 1 trailing bytes after the DER");
  auto big = parse_timestamp_response(std::string(k_max_timestamp_bytes + 1, '\x30'));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, ErrorCode::invalid_input);
  EXPECT_FALSE(parse_timestamp_response(s_request)); // a request is not a response
}

TEST_F(CryptoTimestamp, RejectionCarriesTheStatusText) {
  // A request for a policy the TSA does not offer, made by stock openssl.
  const fs::path data = s_tmp->path() / "policy.data";
  const fs::path q = s_tmp->path() / "policy.tsq";
  test::write_file(data, "x");
  ASSERT_EQ(run_process({"openssl", "ts", "-query", "-data", data.string(), "-sha256", "-tspolicy", "1.9.9.9", "-out",
                         q.string()})
                .exit_code,
            0);
  const std::string rejected = reply("ca1", test::read_file(q));
  auto info = parse_timestamp_response(rejected);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(info.error().message, "the time-stamp authority did not grant the request: rejection: Requested policy is "
                                  "not supported.; unaccepted policy");
}

} // namespace
} // namespace avow::crypto
