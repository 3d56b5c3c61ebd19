// The witness state machine (archive/witness/witness.hpp), without HTTP: every answer of C2SP tlog-witness
// add-checkpoint, the state persisted before a cosignature, and a witness that refuses to start on a bad state file.

#include <archive/witness/witness.hpp>

#include <archive/crypto/keyfile.hpp>
#include <archive/log/merkle.hpp>
#include <archive/util/file.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

namespace avow::witness {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

crypto::PrivateKey key_of(std::uint8_t n) {
  auto key = crypto::PrivateKey::from_seed(Bytes(32, n));
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

const std::string k_origin = "example.com/log";
constexpr std::uint64_t k_now = 1'800'000'000;

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  ::stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

std::string slurp(const fs::path& p) { return test::read_file(p); }

class WitnessTest : public ::testing::Test {
protected:
  void SetUp() override {
    for (int i = 0; i < 40; ++i) m_leaves.push_back(log::leaf_hash(fmt::format("entry {}", i)));
    for (int i = 0; i < 40; ++i) m_forked.push_back(log::leaf_hash(fmt::format("{} {}", i < 5 ? "entry" : "forked", i)));
    InitOptions o;
    o.dir = m_tmp / "w";
    o.log_vkeys = {log::vkey(k_origin, m_log.public_key()), log::vkey("other.example/log", m_other.public_key())};
    o.name = "w.example/witness";
    auto r = init(o);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    m_init = *r;
    auto w = Witness::load(m_tmp / "w");
    ASSERT_TRUE(w.has_value()) << w.error().message;
    m_witness.emplace(std::move(*w));
  }

  // The signed checkpoint of the first `size` of `leaves`, signed by `key` under the name `name`.
  std::string checkpoint(std::uint64_t size, const std::vector<log::Hash>* leaves = nullptr,
                         const crypto::PrivateKey* key = nullptr, const std::string& origin = k_origin) {
    const auto& l = leaves ? *leaves : m_leaves;
    const std::string text = log::checkpoint_text(
        log::Checkpoint{origin, size, log::root_of(std::span(l).first(size)), {}});
    auto note = log::sign_note(text, origin, key ? *key : m_log);
    if (!note) throw std::runtime_error(note.error().message);
    return *note;
  }
  std::string body(std::uint64_t old_size, std::uint64_t size, const std::vector<log::Hash>* leaves = nullptr) {
    Request r;
    r.old_size = old_size;
    if (old_size > 0) {
      const auto& l = leaves ? *leaves : m_leaves;
      auto proof = log::consistency_proof(old_size, size, l);
      if (!proof) throw std::runtime_error(proof.error().message);
      for (const auto& h : *proof) r.proof.emplace_back(h.begin(), h.end());
    }
    r.checkpoint = checkpoint(size, leaves);
    return format_request(r);
  }
  fs::path state_file() const { return state_path(m_tmp / "w", k_origin); }

  TempDir m_tmp;
  crypto::PrivateKey m_log = key_of(1);
  crypto::PrivateKey m_other = key_of(2);
  std::vector<log::Hash> m_leaves, m_forked;
  InitResult m_init;
  std::optional<Witness> m_witness;
};

TEST_F(WitnessTest, InitWritesKeyVkeyAndConfig) {
  const fs::path dir = m_tmp / "w";
  EXPECT_EQ(mode_of(dir), 0700u);
  EXPECT_EQ(mode_of(dir / k_key_file), 0600u);
  EXPECT_EQ(m_init.name, "w.example/witness");
  EXPECT_TRUE(m_init.generated_key);
  EXPECT_EQ(slurp(dir / k_vkey_file), m_init.vkey + "\n");
  auto v = log::parse_vkey(m_init.vkey);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->type, log::k_sig_cosignature_v1);
  EXPECT_EQ(v->name, "w.example/witness");
  auto key = crypto::read_private_key(dir / k_key_file, [] { return Expected<std::optional<crypto::SecretBytes>>(std::nullopt); });
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(v->key, key->public_key());
  EXPECT_EQ(slurp(dir / k_pub_file), crypto::public_key_pem(key->public_key()));
  EXPECT_EQ(slurp(dir / k_config_file),
            "# avow witness configuration (docs/FORMAT.md section 19)\nname w.example/witness\nkey witness.key\n"
            "log " + log::vkey(k_origin, m_log.public_key()) + "\nlog " +
                log::vkey("other.example/log", m_other.public_key()) + "\n");
  EXPECT_EQ(m_witness->vkey(), m_init.vkey);
  EXPECT_EQ(m_init.origins, (std::vector<std::string>{k_origin, "other.example/log"}));
}

TEST_F(WitnessTest, InitRefusesBadInput) {
  InitOptions o;
  o.dir = m_tmp / "w";
  o.log_vkeys = {log::vkey(k_origin, m_log.public_key())};
  EXPECT_EQ(init(o).error().code, ErrorCode::already_exists); // not empty
  o.dir = m_tmp / "w2";
  o.log_vkeys = {"garbage"};
  EXPECT_EQ(init(o).error().code, ErrorCode::invalid_input);
  o.log_vkeys = {log::vkey("w", m_log.public_key(), log::k_sig_cosignature_v1)};
  EXPECT_EQ(init(o).error().message, "log vkey '" + o.log_vkeys[0] + "' is not an Ed25519 (type 0x01) log key");
  o.log_vkeys = {log::vkey(k_origin, m_log.public_key()), log::vkey(k_origin, m_other.public_key())};
  EXPECT_EQ(init(o).error().code, ErrorCode::invalid_input);
  o.log_vkeys = {};
  EXPECT_EQ(init(o).error().message, "a witness needs at least one --log VKEY");
  o.log_vkeys = {log::vkey(k_origin, m_log.public_key())};
  o.name = "has space";
  EXPECT_EQ(init(o).error().code, ErrorCode::invalid_input);
  EXPECT_FALSE(fs::exists(m_tmp / "w2"));
}

TEST_F(WitnessTest, CosignsFirstCheckpointAndPersistsItBeforeReplying) {
  bool persisted_before_reply = false;
  m_witness->set_after_persist([&] { persisted_before_reply = fs::exists(state_file()); });
  const std::string note = checkpoint(10);
  Reply r = m_witness->add_checkpoint(body(0, 10), k_now);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(persisted_before_reply);
  EXPECT_EQ(slurp(state_file()), note);
  EXPECT_EQ(mode_of(state_file()), 0600u);
  // One signature line, a cosignature/v1 by the witness key with the timestamp given.
  ASSERT_TRUE(r.body.starts_with("\u2014 w.example/witness ")) << r.body;
  ASSERT_TRUE(r.body.ends_with("\n"));
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 1);
  auto parsed = log::parse_note(note.substr(0, note.find("\n\n") + 1) + "\n" + r.body);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  auto v = log::parse_vkey(m_init.vkey);
  auto t = log::verify_cosignature(parsed->text, parsed->signatures.at(0), *v);
  ASSERT_TRUE(t.has_value()) << t.error().message;
  EXPECT_EQ(*t, k_now);

  // The next checkpoint with a consistency proof from 10.
  r = m_witness->add_checkpoint(body(10, 25), k_now + 1);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(slurp(state_file()), checkpoint(25));
  // The same checkpoint again is cosigned again.
  r = m_witness->add_checkpoint(body(25, 25), k_now + 2);
  EXPECT_EQ(r.status, 200) << r.body;

  // A second load while this one holds the folder is refused; after it is gone, a reload sees the state.
  auto second = Witness::load(m_tmp / "w");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message, "cannot use witness '" + (m_tmp / "w").string() +
                                        "': another process is using it (is a witness already serving this folder?)");
  m_witness.reset();
  auto again = Witness::load(m_tmp / "w");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_TRUE(again->state(k_origin).has_value());
  EXPECT_EQ(again->state(k_origin)->size, 25u);
  EXPECT_FALSE(again->state("other.example/log").has_value());
}

TEST_F(WitnessTest, RefusalsLeaveTheStateAsItWas) {
  ASSERT_EQ(m_witness->add_checkpoint(body(0, 10), k_now).status, 200);
  const std::string before = slurp(state_file());
  const auto expect = [&](const std::string& b, int status, const std::string& detail) {
    SCOPED_TRACE(detail);
    Reply r = m_witness->add_checkpoint(b, k_now);
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_TRUE(r.detail.starts_with(detail)) << r.detail;
    EXPECT_EQ(slurp(state_file()), before);
    EXPECT_EQ(m_witness->state(k_origin)->size, 10u);
    return r;
  };
  // 404: a log the witness does not know.
  const crypto::PrivateKey stranger = key_of(9);
  {
    Request r{0, {}, checkpoint(5, nullptr, &stranger, "stranger.example/log")};
    expect(format_request(r), 404, "unknown log 'stranger.example/log'");
  }
  // 403: the right origin signed by another key.
  {
    Request r{10, {}, checkpoint(20, nullptr, &stranger)};
    auto p = log::consistency_proof(10, 20, m_leaves);
    for (const auto& h : *p) r.proof.emplace_back(h.begin(), h.end());
    Reply reply = expect(format_request(r), 403,
                         "no valid signature by the log key of 'example.com/log': note has no verifiable signature");
    EXPECT_EQ(reply.origin, k_origin);
  }
  // 400: old size larger than the checkpoint's, and malformed bodies.
  expect(body(0, 5).replace(0, 5, "old 9"), 400, "old size 9 is larger than the checkpoint size 5");
  expect("old 01\n\n" + checkpoint(5), 400, "the body does not start with 'old <size>' and a newline");
  expect("old 0\nnot base64\n\n" + checkpoint(5), 400, "proof line 1 is not the base64 of a 32-byte hash");
  expect("old 0\n\nno signature\n", 400,
         "the checkpoint is not a signed note: malformed note: no blank line before the signatures");
  // 409: a stale old size, with the witness's size as the body.
  {
    Reply r = expect(body(0, 20), 409, "old size 0 is not the size this witness cosigned last (10)");
    EXPECT_EQ(r.content_type, "text/x.tlog.size");
    EXPECT_EQ(r.body, "10\n");
    r = expect(body(5, 20), 409, "old size 5 is not the size this witness cosigned last (10)");
    EXPECT_EQ(r.body, "10\n");
  }
  // 422: a consistency proof that does not verify: a fork of the log from entry 5 on, whose proof from 10 to 20 is
  // made from its own tree, does not lead from the root the witness holds.
  expect(body(10, 20, &m_forked), 422, "the consistency proof from 10 to 20 does not verify: ");
  // 409: the same size with another root.
  {
    Request r{10, {}, {}};
    std::vector<log::Hash> other = m_leaves;
    other[3] = log::leaf_hash("changed");
    r.checkpoint = checkpoint(10, &other);
    Reply reply = expect(format_request(r), 409, "checkpoint of size 10 has another root than the one this witness cosigned");
    EXPECT_EQ(reply.body, "10\n");
  }
  // 422: a proof from old size 0 must be empty.
  {
    Request r{0, {Bytes(32, 1)}, checkpoint(5, nullptr, &m_other, "other.example/log")};
    Reply reply = m_witness->add_checkpoint(format_request(r), k_now);
    EXPECT_EQ(reply.status, 422);
    EXPECT_FALSE(fs::exists(state_path(m_tmp / "w", "other.example/log")));
  }
}

TEST_F(WitnessTest, RefusesToStartOnAStateFileThatDoesNotParse) {
  ASSERT_EQ(m_witness->add_checkpoint(body(0, 10), k_now).status, 200);
  m_witness.reset();
  // A leftover temp file of an interrupted write is ignored.
  test::write_file(state_file().string() + ".tmp.abc123", "half");
  EXPECT_TRUE(Witness::load(m_tmp / "w").has_value());
  fs::remove(state_file().string() + ".tmp.abc123");

  test::write_file(state_file(), "garbage\n");
  auto w = Witness::load(m_tmp / "w");
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(w.error().message.find("does not parse"), std::string::npos) << w.error().message;
  // A checkpoint signed by another key is refused as well.
  test::write_file(state_file(), checkpoint(10, nullptr, &m_other));
  EXPECT_EQ(Witness::load(m_tmp / "w").error().code, ErrorCode::failed_precondition);
  // A file that is no log's state.
  fs::remove(state_file());
  test::write_file(m_tmp / "w" / "state" / "stray.checkpoint", checkpoint(10));
  EXPECT_EQ(Witness::load(m_tmp / "w").error().code, ErrorCode::failed_precondition);
}

TEST_F(WitnessTest, RequestRoundTrip) {
  const std::string b = body(10, 25);
  auto r = parse_request(b);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->old_size, 10u);
  EXPECT_EQ(r->proof.size(), log::consistency_proof(10, 25, m_leaves)->size());
  EXPECT_EQ(format_request(*r), b);
  std::string many = "old 1\n";
  for (int i = 0; i < 64; ++i) many += base64_encode(Bytes(32, 7)) + "\n";
  EXPECT_EQ(parse_request(many + "\n" + checkpoint(5)).error().message, "more than 63 consistency proof lines");
}

} // namespace
} // namespace avow::witness
