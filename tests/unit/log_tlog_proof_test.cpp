#include <archive/log/tlog_proof.hpp>

#include <archive/log/proof.hpp>
#include <archive/log/tiles.hpp>

#include <gtest/gtest.h>

#include <map>

namespace avow::log {
namespace {

// The real sum.golang.org checkpoint of the shared note vectors (sumdb-checkpoint-real), inlined so
// that these byte-exact tests do not depend on the vectors folder.
const std::string k_sumdb_note =
    "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
    "\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n";
const std::string k_sumdb_vkey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

// SHA-256("hash1") and SHA-256("hash2"), as in transparency-dev/formats proof/tlog_proof_test.go.
const std::string k_h1_b64 = "rzFuy5Go7nrpkhBwKy1HWPMM3eO/YePY54fXRoH5Cm4=";
const std::string k_h2_b64 = "5784L25ZFbP4hhm4ZiI+vx1RxMUyHMzeLp/3AKMlkIY=";

Hash hash_of_b64(const std::string& b64) {
  Hash h{};
  auto raw = base64_decode(b64);
  EXPECT_TRUE(raw.has_value() && raw->size() == 32);
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

TEST(LogTlogProof, FormatIsByteExact) {
  const Hash h1 = hash_of_b64(k_h1_b64);
  const Hash h2 = hash_of_b64(k_h2_b64);
  ASSERT_EQ(h1, crypto::sha256(std::string_view("hash1")));

  TlogProof p{std::nullopt, 5, {h1, h2}, k_sumdb_note};
  const std::string want = "c2sp.org/tlog-proof@v1\nindex 5\n" + k_h1_b64 + "\n" + k_h2_b64 + "\n\n" + k_sumdb_note;
  EXPECT_EQ(format_tlog_proof(p), want);
  auto back = parse_tlog_proof(want);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, p);

  const std::string extra = "extra information";
  TlogProof q{Bytes(extra.begin(), extra.end()), 10, {h1}, k_sumdb_note};
  const std::string want_q =
      "c2sp.org/tlog-proof@v1\nextra ZXh0cmEgaW5mb3JtYXRpb24=\nindex 10\n" + k_h1_b64 + "\n\n" + k_sumdb_note;
  EXPECT_EQ(format_tlog_proof(q), want_q);
  EXPECT_EQ(*parse_tlog_proof(want_q), q);

  TlogProof r{std::nullopt, 0, {}, k_sumdb_note};
  EXPECT_EQ(format_tlog_proof(r), "c2sp.org/tlog-proof@v1\nindex 0\n\n" + k_sumdb_note);
  EXPECT_EQ(*parse_tlog_proof(format_tlog_proof(r)), r);

  // Empty extra data is kept apart from no extra data.
  TlogProof e{Bytes{}, 7, {h2}, k_sumdb_note};
  EXPECT_EQ(format_tlog_proof(e), "c2sp.org/tlog-proof@v1\nextra \nindex 7\n" + k_h2_b64 + "\n\n" + k_sumdb_note);
  EXPECT_EQ(*parse_tlog_proof(format_tlog_proof(e)), e);
}

TEST(LogTlogProof, SpecExample) {
  // The example of C2SP tlog-proof.md: its signatures are elided ("[...]"), so the note is invalid.
  const std::string head =
      "c2sp.org/tlog-proof@v1\n"
      "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
      "index 73894\n"
      "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
      "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
      "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
      "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
      "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
      "\n";
  const std::string spec = head +
                           "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
                           "\u2014 example.com/fancylog hI2DJw[...]1roloI=\n"
                           "\u2014 witness1.example mJirIklj[...]qY9v2B/5bg==\n"
                           "\u2014 witness2.example TnKKVHLX[...]xwYwrSjgow==\n"
                           "\u2014 witness3.example S4X82uH5[...]3oEcROGLFQ==\n";
  auto bad = parse_tlog_proof(spec);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message,
            "malformed tlog-proof: checkpoint: malformed note: invalid signature by 'example.com/fancylog'");

  // With a real checkpoint in place of the elided one, the rest parses as the spec describes.
  auto p = parse_tlog_proof(head + k_sumdb_note);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  ASSERT_TRUE(p->extra.has_value());
  EXPECT_EQ(to_string(*p->extra).substr(0, 30), "age-v1.2.1-darwin-arm64.tar.gz");
  EXPECT_EQ(p->extra->size(), 39u);
  EXPECT_EQ(p->index, 73894u);
  ASSERT_EQ(p->path.size(), 5u);
  EXPECT_EQ(base64_encode(p->path[0]), "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=");
  EXPECT_EQ(base64_encode(p->path[4]), "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=");
  EXPECT_EQ(p->checkpoint, k_sumdb_note);
  EXPECT_EQ(format_tlog_proof(*p), head + k_sumdb_note);
}

TEST(LogTlogProof, StrictParsing) {
  const std::string cp = k_sumdb_note;
  const std::string h = k_h1_b64;
  const std::string h64 = base64_encode(Bytes(64, 7));
  const std::string h31 = base64_encode(Bytes(31, 7));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "missing the c2sp.org/tlog-proof@v1 header"},
      {"wrong-header\nindex 0\n\n" + cp, "missing the c2sp.org/tlog-proof@v1 header"},
      {"c2sp.org/tlog-proof@v2\nindex 0\n\n" + cp, "missing the c2sp.org/tlog-proof@v1 header"},
      {"c2sp.org/tlog-proof@v1\r\nindex 0\n\n" + cp, "missing the c2sp.org/tlog-proof@v1 header"},
      {" c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp, "missing the c2sp.org/tlog-proof@v1 header"},
      {"c2sp.org/tlog-proof@v1", "missing the c2sp.org/tlog-proof@v1 header"},
      {"c2sp.org/tlog-proof@v1\n", "missing the index line"},
      {"c2sp.org/tlog-proof@v1\n\n\n" + cp, "missing the index line"},
      {"c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\n" + cp, "extra data is not base64"},
      {"c2sp.org/tlog-proof@v1\nextra YQ\nindex 0\n\n" + cp, "extra data is not base64"},
      {"c2sp.org/tlog-proof@v1\nextra YR==\nindex 0\n\n" + cp, "extra data is not base64"},
      {"c2sp.org/tlog-proof@v1\nextra YQ==\n", "missing the index line"},
      {"c2sp.org/tlog-proof@v1\nextra YQ==\nextra YQ==\nindex 0\n\n" + cp, "missing the index line"},
      {"c2sp.org/tlog-proof@v1\nindex 0\nextra YQ==\n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex notanumber\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex -5\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex +5\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex 05\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex 00\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex \n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex  5\n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex 5 \n\n" + cp, "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" + cp,
       "index is not a decimal number without leading zeros"},
      {"c2sp.org/tlog-proof@v1\nindex\t5\n\n" + cp, "missing the index line"},
      {"c2sp.org/tlog-proof@v1\nIndex 5\n\n" + cp, "missing the index line"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h64 + "\n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h31 + "\n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h + " \n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h + "\r\n\n" + cp, "proof hash is not base64 of 32 bytes"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h + "\n", "missing the empty line before the checkpoint"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n" + h, "missing the empty line before the checkpoint"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n", "missing the empty line before the checkpoint"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\n", "checkpoint: malformed note: no blank line before the signatures"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\ntest checkpoint\n",
       "checkpoint: malformed note: no blank line before the signatures"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\n\n" + cp, "checkpoint: malformed checkpoint: empty line"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp.substr(0, cp.size() - 1),
       "checkpoint: malformed note: signature block does not end in a newline"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp + "trailing\n",
       "checkpoint: malformed note: signature line does not start with an em dash and a space"},
      {"c2sp.org/tlog-proof@v1\nindex 0\n\nnot a checkpoint\n\n\u2014 k AAAAAAAA\n",
       "checkpoint: malformed checkpoint: fewer than three lines"},
  };
  for (const auto& [text, why] : cases) {
    auto p = parse_tlog_proof(text);
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_EQ(p.error().code, ErrorCode::invalid_input);
    EXPECT_EQ(p.error().message, "malformed tlog-proof: " + why) << text;
  }

  // 63 hashes are accepted, 64 are not.
  std::string many = "c2sp.org/tlog-proof@v1\nindex 0\n";
  for (int i = 0; i < 63; ++i) many += h + "\n";
  EXPECT_EQ(parse_tlog_proof(many + "\n" + cp)->path.size(), 63u);
  EXPECT_EQ(parse_tlog_proof(many + h + "\n\n" + cp).error().message, "malformed tlog-proof: more than 63 proof hashes");
  // The largest index.
  EXPECT_EQ(parse_tlog_proof("c2sp.org/tlog-proof@v1\nindex 18446744073709551615\n\n" + cp)->index, UINT64_MAX);
}

TEST(LogTlogProof, EveryTruncationAndBitFlipIsRejectedOrChangesTheParse) {
  const TlogProof p{Bytes{1, 2, 3, 4, 5}, 1234, {hash_of_b64(k_h1_b64), hash_of_b64(k_h2_b64)}, k_sumdb_note};
  const std::string wire = format_tlog_proof(p);
  ASSERT_EQ(*parse_tlog_proof(wire), p);
  std::size_t accepted = 0;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    auto q = parse_tlog_proof(std::string_view(wire).substr(0, n));
    if (q) {
      EXPECT_NE(*q, p) << n;
      ++accepted;
    }
  }
  EXPECT_EQ(accepted, 0u); // the only signature line cannot be cut and stay valid
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = wire;
      flipped[i] = char(flipped[i] ^ (1 << bit));
      auto q = parse_tlog_proof(flipped);
      if (q) {
        EXPECT_NE(*q, p) << "byte " << i << " bit " << bit;
      }
    }
  }
}

TEST(LogTlogProof, EndToEndFromTilesWithPolicy) {
  // A log of 1000 entries in tiles, a checkpoint signed by the log and cosigned by 2 of 3 witnesses.
  std::map<std::string, Bytes> files;
  TileBuilder builder([&files](TileWrite&& t) { files.emplace(std::move(t.path), std::move(t.data)); });
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(builder.append_entry(fmt::format("entry {}", i)).has_value());
  for (TileWrite& t : builder.partial_tiles()) files.emplace(std::move(t.path), std::move(t.data));
  const TileReader read = [&files](const std::string& path) -> Expected<Bytes> {
    const auto it = files.find(path);
    if (it == files.end()) return fail(ErrorCode::not_found, "no file '{}'", path);
    return it->second;
  };

  auto log_key = crypto::PrivateKey::from_seed(Bytes(32, 1));
  auto w1 = crypto::PrivateKey::from_seed(Bytes(32, 2));
  auto w2 = crypto::PrivateKey::from_seed(Bytes(32, 3));
  auto w3 = crypto::PrivateKey::from_seed(Bytes(32, 4));
  const std::string origin = "avow.example/log";
  const std::uint64_t size = 900; // an older checkpoint than the tiles' size
  const Checkpoint cp{origin, size, *root_from_tiles(size, 1000, read), {}};
  const std::string text = checkpoint_text(cp);
  Note note{text, {*note_signature(text, origin, *log_key), *cosign(text, "w1", *w1, 1700000000),
                   *cosign(text, "w3", *w3, 1700000001)}};
  auto policy = parse_policy(fmt::format("log {}\nwitness W1 {}\nwitness W2 {}\nwitness W3 {}\ngroup g 2 W1 W2 W3\n"
                                         "quorum g\n",
                                         vkey(origin, log_key->public_key()),
                                         vkey("w1", w1->public_key(), k_sig_cosignature_v1),
                                         vkey("w2", w2->public_key(), k_sig_cosignature_v1),
                                         vkey("w3", w3->public_key(), k_sig_cosignature_v1)));
  ASSERT_TRUE(policy.has_value()) << policy.error().message;

  const std::uint64_t index = 777;
  TlogProof proof{std::nullopt, index, *inclusion_proof_from_tiles(index, size, 1000, read), *format_note(note)};
  const std::string wire = format_tlog_proof(proof);
  auto parsed = parse_tlog_proof(wire);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_EQ(*parsed, proof);
  const Hash leaf = leaf_hash(fmt::format("entry {}", index));
  std::vector<std::string> cosigned;
  auto ok = verify_tlog_proof(*parsed, leaf, *policy, &cosigned);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(*ok, cp);
  EXPECT_EQ(cosigned, (std::vector<std::string>{"W1", "W3"}));

  // Another entry, another index, a changed path, or too few witnesses: rejected.
  EXPECT_FALSE(verify_tlog_proof(*parsed, leaf_hash("entry 778"), *policy).has_value());
  TlogProof moved = *parsed;
  moved.index = 778;
  EXPECT_FALSE(verify_tlog_proof(moved, leaf, *policy).has_value());
  moved.index = size;
  EXPECT_FALSE(verify_tlog_proof(moved, leaf, *policy).has_value());
  TlogProof bent = *parsed;
  bent.path[3][0] ^= 1;
  EXPECT_FALSE(verify_tlog_proof(bent, leaf, *policy).has_value());
  TlogProof shorter = *parsed;
  shorter.path.pop_back();
  EXPECT_FALSE(verify_tlog_proof(shorter, leaf, *policy).has_value());
  note.signatures.pop_back();
  TlogProof lonely = *parsed;
  lonely.checkpoint = *format_note(note);
  EXPECT_EQ(verify_tlog_proof(lonely, leaf, *policy).error().message,
            "quorum not reached: 1 of 2 needed in group 'g'; cosigned by W1; missing W2, W3");
}

} // namespace
} // namespace avow::log
