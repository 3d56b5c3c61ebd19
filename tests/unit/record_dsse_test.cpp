#include <archive/crypto/ed25519.hpp>
#include <archive/json/jcs.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/record.hpp>
#include <archive/util/bytes.hpp>

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace avow::record {
namespace {

namespace fs = std::filesystem;

const fs::path k_dsse_vector = fs::path(AVOW_VECTORS_DIR) / "dsse" / "dsse.json";

// RFC 8032 TEST 1 seed; its key id is SHA-256 of d75a9801...511a.
const char* const k_seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* const k_key_id = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9";

const char* const k_minimal_payload =
    R"({"archivist":"630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd",)"
    R"("captured":"2020-01-01T00:00:00Z","format":"avow.record/1","kind":"statement",)"
    R"("source":{"uri":"urn:isbn:9780000000002"},)"
    R"("text":{"bytes":97,"sha256":"d839eab0aabbbc85bfd08f4bcd417a7e1ad388277399768b8d57e8f1c1627554"}})";

// Produced independently with Python cryptography (Ed25519 over the PAE) and json.dumps(sort_keys, compact).
const char* const k_minimal_envelope =
    R"({"payload":"eyJhcmNoaXZpc3QiOiI2MzBkY2QyOTY2YzQzMzY2OTExMjU0NDhiYmIyNWI0ZmY0MTJhNDljNzMyZGIyYzhhYmMxYjg1ODFiZDcxMGRkIiwiY2FwdHVyZWQiOiIyMDIwLTAxLTAxVDAwOjAwOjAwWiIsImZvcm1hdCI6ImF2b3cucmVjb3JkLzEiLCJraW5kIjoic3RhdGVtZW50Iiwic291cmNlIjp7InVyaSI6InVybjppc2JuOjk3ODAwMDAwMDAwMDIifSwidGV4dCI6eyJieXRlcyI6OTcsInNoYTI1NiI6ImQ4MzllYWIwYWFiYmJjODViZmQwOGY0YmNkNDE3YTdlMWFkMzg4Mjc3Mzk5NzY4YjhkNTdlOGYxYzE2Mjc1NTQifX0=",)"
    R"("payloadType":"application/vnd.avow.record+json","signatures":[{"keyid":"21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9",)"
    R"("sig":"Kt8TA9iadXLCPvMcPDukDNWDZV3Lta398GADtBlKxqYUI1uoZn4/Q8pH4JE8PEk/XrJeRV3CBcUTbDjveXiJBw=="}]})";

crypto::PrivateKey test_key() {
  auto seed = from_hex(k_seed_hex);
  auto key = crypto::PrivateKey::from_seed(*seed);
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Verify an ECDSA P-256 / SHA-256 DER signature with OpenSSL directly (avow itself only does Ed25519).
bool ecdsa_verify(const std::string& spki_pem, const std::string& message, const Bytes& der_sig) {
  BIO* bio = BIO_new_mem_buf(spki_pem.data(), static_cast<int>(spki_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (pkey == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
            EVP_DigestVerify(ctx, der_sig.data(), der_sig.size(), reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

TEST(RecordDsse, PaeMatchesSpecVectorAndEcdsaSignatureVerifiesOverIt) {
  ASSERT_TRUE(fs::exists(k_dsse_vector)) << "no DSSE vector at " << k_dsse_vector;
  auto v = json::parse_strict(read_all(k_dsse_vector));
  ASSERT_TRUE(v.has_value()) << v.error().message;
  const std::string type = (*v)["payloadType"];
  const std::string body = (*v)["payload_utf8"];
  const std::string got = pae(type, body);
  EXPECT_EQ(to_hex(as_bytes(got)), (*v)["pae_hex"].get<std::string>());
  EXPECT_EQ(got, (*v)["pae_ascii"].get<std::string>());

  auto b64 = base64_decode((*v)["payload_b64"].get<std::string>());
  ASSERT_TRUE(b64.has_value());
  EXPECT_EQ(to_string(*b64), body);

  auto der = from_hex((*v)["signature_der_hex"].get<std::string>());
  ASSERT_TRUE(der.has_value());
  const std::string pem = (*v)["key"]["public_spki_pem"];
  EXPECT_TRUE(ecdsa_verify(pem, got, *der));
  EXPECT_FALSE(ecdsa_verify(pem, body, *der)) << "the signature must cover the PAE, not the bare payload";
}

TEST(RecordDsse, PaeEdgeCases) {
  EXPECT_EQ(pae("", ""), "DSSEv1 0  0 ");
  EXPECT_EQ(pae("t", std::string("\0x", 2)), std::string("DSSEv1 1 t 2 \0x", 15));
  EXPECT_EQ(pae(k_payload_type, "{}"), "DSSEv1 32 application/vnd.avow.record+json 2 {}");
}

TEST(RecordDsse, SignSerializeIsByteExact) {
  const auto key = test_key();
  auto e = sign(k_minimal_payload, key);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_EQ(e->payload_type, k_payload_type);
  EXPECT_EQ(e->payload, k_minimal_payload);
  ASSERT_EQ(e->signatures.size(), 1u);
  EXPECT_EQ(e->signatures[0].keyid, k_key_id);
  auto text = serialize(*e);
  ASSERT_TRUE(text.has_value()) << text.error().message;
  EXPECT_EQ(*text, k_minimal_envelope);
  // The serialization is canonical JCS.
  auto reparsed = json::parse_canonical(*text);
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().message;
  EXPECT_TRUE(verify(*e, e->signatures[0], key.public_key()));
}

TEST(RecordDsse, ParseRoundTrips) {
  auto e = parse(k_minimal_envelope);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  EXPECT_EQ(e->payload, k_minimal_payload);
  EXPECT_EQ(e->signatures[0].sig.size(), 64u);
  EXPECT_TRUE(verify(*e, e->signatures[0], test_key().public_key()));
  auto again = serialize(*e);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, k_minimal_envelope);
  // The payload inside is a valid statement.
  auto s = parse_payload(e->payload);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->source.uri, "urn:isbn:9780000000002");

  // Two signers round-trip in their order.
  auto other = crypto::PrivateKey::generate();
  ASSERT_TRUE(other.has_value());
  auto second = sign(k_minimal_payload, *other);
  ASSERT_TRUE(second.has_value());
  Envelope both = *e;
  both.signatures.push_back(second->signatures[0]);
  auto text = serialize(both);
  ASSERT_TRUE(text.has_value()) << text.error().message;
  auto back = parse(*text);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, both);
  EXPECT_TRUE(verify(*back, back->signatures[1], other->public_key()));
  EXPECT_FALSE(verify(*back, back->signatures[1], test_key().public_key()));
}

TEST(RecordDsse, TamperedEnvelopesDoNotVerify) {
  const auto key = test_key();
  const auto e = *sign(k_minimal_payload, key);
  const auto& pub = key.public_key();
  ASSERT_TRUE(verify(e, e.signatures[0], pub));

  Envelope payload_changed = e;
  payload_changed.payload[payload_changed.payload.size() / 2] ^= 0x01;
  EXPECT_FALSE(verify(payload_changed, e.signatures[0], pub));

  Envelope payload_extended = e;
  payload_extended.payload += " ";
  EXPECT_FALSE(verify(payload_extended, e.signatures[0], pub));

  Envelope type_changed = e;
  type_changed.payload_type = "application/vnd.avow.record+jsoN";
  EXPECT_FALSE(verify(type_changed, e.signatures[0], pub));

  for (std::size_t bit = 0; bit < 64 * 8; bit += 37) {
    Signature flipped = e.signatures[0];
    flipped.sig[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(e, flipped, pub)) << "bit " << bit;
  }
  Signature truncated = e.signatures[0];
  truncated.sig.pop_back();
  EXPECT_FALSE(verify(e, truncated, pub));

  auto other = crypto::PrivateKey::generate();
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(verify(e, e.signatures[0], other->public_key()));

  // The signature over the bare payload (no PAE) is not accepted.
  auto bare = key.sign(as_bytes(std::string_view(k_minimal_payload)));
  ASSERT_TRUE(bare.has_value());
  EXPECT_FALSE(verify(e, Signature{k_key_id, Bytes(bare->begin(), bare->end())}, pub));
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(RecordDsse, ParseRejectsMalformedEnvelopes) {
  const std::string good = k_minimal_envelope;
  ASSERT_TRUE(parse(good).has_value());
  const std::string sig_b64 = "Kt8TA9iadXLCPvMcPDukDNWDZV3Lta398GADtBlKxqYUI1uoZn4/Q8pH4JE8PEk/XrJeRV3CBcUTbDjveXiJBw==";
  const std::string sig_obj = std::string(R"({"keyid":")") + k_key_id + R"(","sig":")" + sig_b64 + R"("})";
  const std::string bad_cases[] = {
      good + "\n",
      std::string(" ") + good,
      replace(good, R"("payloadType":)", R"("payloadType": )"),
      // Members out of order.
      replace(replace(good, R"({"keyid":")" + std::string(k_key_id) + R"(",)", "{"), R"("}]})",
              std::string(R"(","keyid":")") + k_key_id + R"("}]})"),
      replace(good, "application/vnd.avow.record+json", "application/vnd.in-toto+json"),
      replace(good, sig_obj, ""),
      replace(good, R"("signatures":[)", R"("signatures":[],"x":[)"),
      replace(good, R"({"keyid")", R"({"extra":1,"keyid")"),
      replace(good, std::string(R"("keyid":")") + k_key_id + "\",", ""),
      replace(good, k_key_id, std::string(k_key_id).substr(0, 63)),
      replace(good, "21fe31df", "21FE31DF"),
      replace(good, sig_b64, sig_b64.substr(0, sig_b64.size() - 2)),          // unpadded
      replace(good, sig_b64, replace(sig_b64, "/", "_")),                       // base64url
      replace(good, sig_b64, sig_b64.substr(4)),                                 // 61 bytes
      replace(good, "eyJhcmNo", "eyJhcmNo\\n"),
      replace(good, "fX0=\"", "fX0\""),
      replace(good, sig_obj, sig_obj + "," + sig_obj),                            // two signatures, one keyid
      replace(good, R"("payload":")", R"("payload":1,"x":")"),
      R"({"payload":"","payloadType":"application/vnd.avow.record+json","signatures":{}})",
      "[]",
      "",
  };
  for (const auto& bad : bad_cases) {
    auto e = parse(bad);
    EXPECT_FALSE(e.has_value()) << "accepted: " << bad;
    if (!e) {
      EXPECT_EQ(e.error().code, ErrorCode::invalid_input);
      EXPECT_TRUE(e.error().message.starts_with("envelope")) << e.error().message;
    }
  }
}

TEST(RecordDsse, SizeLimitIsEnforcedBothWays) {
  const auto key = test_key();
  // base64 of 49,000 bytes is 65,336 characters: with the rest the envelope passes 65,535 bytes.
  auto big = sign(std::string(49000, 'x'), key);
  ASSERT_TRUE(big.has_value());
  auto text = serialize(*big);
  ASSERT_FALSE(text.has_value());
  EXPECT_NE(text.error().message.find("more than the limit of 65535"), std::string::npos) << text.error().message;
  EXPECT_FALSE(parse(std::string(k_max_envelope_bytes + 1, ' ')).has_value());

  auto fits = sign(std::string(48000, 'x'), key);
  ASSERT_TRUE(fits.has_value());
  auto ok = serialize(*fits);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_LE(ok->size(), k_max_envelope_bytes);
  auto back = parse(*ok);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, *fits);
}

TEST(RecordDsse, SerializeRefusesWhatParseWouldRefuse) {
  const auto e = *sign(k_minimal_payload, test_key());
  Envelope no_sigs = e;
  no_sigs.signatures.clear();
  EXPECT_FALSE(serialize(no_sigs).has_value());
  Envelope other_type = e;
  other_type.payload_type = "text/plain";
  EXPECT_FALSE(serialize(other_type).has_value());
  Envelope bad_keyid = e;
  bad_keyid.signatures[0].keyid = "\"";
  EXPECT_FALSE(serialize(bad_keyid).has_value());
  Envelope short_sig = e;
  short_sig.signatures[0].sig.resize(10);
  EXPECT_FALSE(serialize(short_sig).has_value());
  Envelope twice = e;
  twice.signatures.push_back(e.signatures[0]);
  EXPECT_FALSE(serialize(twice).has_value());
}

TEST(RecordDsse, SerializeIsFastEnough) {
  const auto e = *sign(k_minimal_payload, test_key());
  constexpr int n = 20000;
  const auto start = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) total += serialize(e)->size();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(total, n * std::string_view(k_minimal_envelope).size());
  EXPECT_LT(seconds, 2.0) << n / seconds << " per second";
  std::printf("serialize(): %.0f per second\n", n / seconds);
}

} // namespace
} // namespace avow::record
