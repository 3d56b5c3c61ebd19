// End-to-end: `avow proof`, `avow verify-proof`, `avow checkpoint`, `avow policy`: offline proof bundles checked
// with no archive present, and every kind of damaged bundle refused.

#include <archive/proof_bundle.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

const std::string k_text = "Statement of the coalition\n\nThe office condemned the shelling.\n";

class CliProof : public ::testing::Test {
protected:
  TempArchive a{"proof.avow.example/log"};
  std::string id;
  fs::path bundle_file, policy_file;

  void SetUp() override {
    a.archive_text("An earlier statement.\n");
    id = a.archive_text(k_text, {"--published", "Friday, 29 March 2019 18:36", "--tz", "Europe/Istanbul"});
    a.archive_text("A later statement.\n");
    bundle_file = a.tmp() / "s.avow-proof";
    policy_file = a.tmp() / "archive.policy";
    auto p = a.avow({"proof", id.substr(0, 12), "-o", bundle_file.string(), "--json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    EXPECT_EQ(p.json()["index"], 2);
    EXPECT_EQ(p.json()["tree_size"], 4);
    auto pol = a.avow({"policy"});
    ASSERT_EQ(pol.exit_code, 0);
    write_file(policy_file, pol.out);
  }

  RunResult verify_proof(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{avow_bin(), "verify-proof", bundle_file.string(), "--policy", policy_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_process(args, {}, a.env());
  }
};

TEST_F(CliProof, PolicyAndCheckpointCommands) {
  const auto config = nlohmann::json::parse(a.git_show("avow.json"));
  const std::string policy = read_file(policy_file);
  EXPECT_NE(policy.find("\nlog " + config["log_key"]["vkey"].get<std::string>() + "\n"), std::string::npos) << policy;
  EXPECT_TRUE(policy.ends_with("quorum none\n")) << policy;
  auto cp = a.avow({"checkpoint"});
  ASSERT_EQ(cp.exit_code, 0);
  EXPECT_EQ(cp.out, a.git_show("log/checkpoint"));
}

TEST_F(CliProof, BundleVerifiesOfflineWithTheArchiveDeleted) {
  fs::remove_all(a.dir());
  auto r = verify_proof({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto j = r.json();
  EXPECT_EQ(j["proven"], true);
  EXPECT_EQ(j["id"], id);
  EXPECT_EQ(j["index"], 2);
  EXPECT_EQ(j["tree_size"], 4);
  EXPECT_EQ(j["origin"], "proof.avow.example/log");
  EXPECT_EQ(j["key_added_at"], 0);
  EXPECT_EQ(j["record"]["published"]["utc"], "2019-03-29T15:36:00Z");
  auto text = verify_proof();
  EXPECT_TRUE(text.out.starts_with("proven: record " + id + " is entry 2 of log 'proof.avow.example/log'")) << text.out;
}

TEST_F(CliProof, TextCopyInAnyLineEndingOrNormalizationIsRecognized) {
  std::string crlf;
  for (char c : k_text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(a.tmp() / "crlf.txt", "\xEF\xBB\xBF" + crlf + "\r\n");
  auto r = verify_proof({"--text", (a.tmp() / "crlf.txt").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("the given text is the proven text"), std::string::npos);
  write_file(a.tmp() / "other.txt", "Statement of the coalition\n\nThe office welcomed the shelling.\n");
  auto bad = verify_proof({"--text", (a.tmp() / "other.txt").string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "NOT proven: the given text is not the proven text\n");
}

TEST_F(CliProof, EveryFlippedBitIsNotProven) {
  const std::string bundle = read_file(bundle_file);
  const std::string policy = read_file(policy_file);
  ASSERT_TRUE(verify_bundle(bundle, policy, std::nullopt)->proven);
  test::expect_every_bit_flip_unproven(bundle, policy);
  // And through the CLI: exit 1, never 0 or a crash.
  std::string damaged = bundle;
  damaged[bundle.size() / 2] = static_cast<char>(damaged[bundle.size() / 2] ^ 0x04);
  write_file(bundle_file, damaged);
  auto r = verify_proof();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("NOT proven: ")) << r.out;
}

TEST_F(CliProof, TruncatedGarbledAndWrongBundles) {
  const std::string bundle = read_file(bundle_file);
  const std::string policy = read_file(policy_file);
  for (std::size_t n : {0ul, 1ul, 10ul, bundle.size() / 3, bundle.size() - 2}) {
    auto r = verify_bundle(bundle.substr(0, n), policy, std::nullopt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->proven) << n;
  }
  auto garbage = verify_bundle("\x00\xff garbage", policy, std::nullopt);
  ASSERT_TRUE(garbage);
  EXPECT_FALSE(garbage->proven);

  // A proof for another entry: swap in the envelope of the key.add entry.
  auto j = nlohmann::json::parse(bundle);
  auto swapped = j;
  swapped["envelope"] = j["key"]["envelope"];
  auto s = verify_bundle(swapped.dump(), policy, std::nullopt);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->proven);

  // Another archive's policy: wrong origin and key.
  TempArchive other("other.avow.example/log");
  auto r = verify_bundle(bundle, other.avow({"policy"}).out, std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->proven);
  EXPECT_NE(r->reason.find("not a log of the policy"), std::string::npos) << r->reason;
  // Same origin, wrong key.
  TempArchive twin("proof.avow.example/log");
  auto w = verify_bundle(bundle, twin.avow({"policy"}).out, std::nullopt);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->proven) << "a bundle verified under another key";
}

TEST_F(CliProof, UnknownSignatureLinesAreIgnoredEvenMoreThanSixteen) {
  auto j = nlohmann::json::parse(read_file(bundle_file));
  std::string extra;
  for (int i = 0; i < 20; ++i) // well-formed lines by keys the policy does not know (64-byte signatures, random ids)
    extra += "\xE2\x80\x94 witness" + std::to_string(i) +
             ".example/w AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
  for (auto* field : {&j["proof"], &j["key"]["proof"]}) {
    std::string p = *field;
    p += extra;
    *field = p;
  }
  auto r = verify_bundle(j.dump(), read_file(policy_file), std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->proven) << r->reason;
}

TEST_F(CliProof, PolicySyntaxErrorIsExitThree) {
  write_file(policy_file, "log not-a-vkey\nquorum none\n");
  auto r = verify_proof();
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_TRUE(r.err.starts_with("avow: error: ")) << r.err;
  write_file(policy_file, "");
  EXPECT_EQ(verify_proof().exit_code, 3);
}

TEST_F(CliProof, UnknownIdIsExitOne) {
  auto r = a.avow({"proof", "0123456789abcdef"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
}

// A proof for the 10,000th entry of a 14,000-entry archive is a few KB and verifies with the archive deleted.
TEST(CliProofLarge, TenThousandthOfFourteenThousand) {
  TempArchive a("large.avow.example/log");
  std::string manifest;
  for (int i = 1; i <= 14000; ++i)
    manifest += "{\"text\":\"Statement number " + std::to_string(i) + ".\\n\",\"source\":\"urn:test:" +
                std::to_string(i) + "\"}\n";
  write_file(a.tmp() / "m.jsonl", manifest);
  auto r = a.avow({"archive", "--batch", (a.tmp() / "m.jsonl").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = r.json();
  const std::string id = j["records"][9998]["id"]; // entry 0 is the key.add: the 10,000th entry is index 9999
  ASSERT_EQ(j["records"][9998]["index"], 9999);
  auto p = a.avow({"proof", id, "-o", (a.tmp() / "p").string(), "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_LT(p.json()["bytes"].get<std::size_t>(), 6000u);
  EXPECT_LE(p.json()["tiles_read"].get<std::size_t>(), 8u);
  write_file(a.tmp() / "policy", a.avow({"policy"}).out);
  fs::remove_all(a.dir());
  auto v = run_process({avow_bin(), "verify-proof", (a.tmp() / "p").string(), "--policy", (a.tmp() / "policy").string(),
                        "--json"},
                       {}, a.env());
  ASSERT_EQ(v.exit_code, 0) << v.out;
  EXPECT_EQ(v.json()["index"], 9999);
  EXPECT_EQ(v.json()["tree_size"], 14001);
}

} // namespace
} // namespace avow::test
