#include <archive/crypto/sha256.hpp>

#include <gtest/gtest.h>

#include <string>

namespace avow::crypto {
namespace {

std::string hex(const Digest& d) { return to_hex(ByteView{d.data(), d.size()}); }

struct KnownAnswer {
  std::string input;
  std::string sha256_hex;
};

// FIPS 180-2 appendix B / NIST CSRC examples.
std::vector<KnownAnswer> known_answers() {
  return {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {std::string(1000000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
  };
}

TEST(Sha256, KnownAnswersOneShot) {
  for (const auto& ka : known_answers())
    EXPECT_EQ(hex(sha256(ka.input)), ka.sha256_hex) << "input length " << ka.input.size();
}

TEST(Sha256, KnownAnswersStreamingWhole) {
  for (const auto& ka : known_answers()) {
    Sha256 h;
    h.update(ka.input);
    EXPECT_EQ(hex(h.finish()), ka.sha256_hex);
  }
}

TEST(Sha256, SplitAtEveryOffsetGivesSameDigest) {
  const std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
                          "and some more bytes so that the input crosses a 64-byte block boundary!";
  const std::string expected = hex(sha256(msg));
  for (std::size_t i = 0; i <= msg.size(); ++i) {
    Sha256 h;
    h.update(std::string_view(msg).substr(0, i));
    h.update(std::string_view(msg).substr(i));
    EXPECT_EQ(hex(h.finish()), expected) << "split at " << i;
  }
  // Three-way splits too.
  for (std::size_t i = 0; i <= msg.size(); i += 7)
    for (std::size_t j = i; j <= msg.size(); j += 5) {
      Sha256 h;
      h.update(std::string_view(msg).substr(0, i));
      h.update(std::string_view(msg).substr(i, j - i));
      h.update(std::string_view(msg).substr(j));
      ASSERT_EQ(hex(h.finish()), expected) << "split at " << i << "," << j;
    }
}

TEST(Sha256, KnownAnswerSplitAtEveryOffset) {
  const std::string abc = "abc";
  for (std::size_t i = 0; i <= abc.size(); ++i) {
    Sha256 h;
    h.update(std::string_view(abc).substr(0, i));
    h.update(std::string_view(abc).substr(i));
    EXPECT_EQ(hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}

TEST(Sha256, MillionAByteAtATimeChunks) {
  Sha256 h;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i)
    h.update(chunk);
  EXPECT_EQ(hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, MovedObjectKeepsState) {
  Sha256 a;
  a.update(std::string_view("ab"));
  Sha256 b = std::move(a);
  b.update(std::string_view("c"));
  EXPECT_EQ(hex(b.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, UseAfterFinishIsABug) {
  Sha256 h;
  (void)h.finish();
  EXPECT_THROW(h.update(std::string_view("x")), std::logic_error);
  EXPECT_THROW((void)h.finish(), std::logic_error);
}

TEST(Sha512, KnownAnswers) {
  const auto e = sha512(as_bytes(""));
  EXPECT_EQ(to_hex(ByteView{e.data(), e.size()}),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  const auto abc = sha512(as_bytes("abc"));
  EXPECT_EQ(to_hex(ByteView{abc.data(), abc.size()}),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(EqualConstantTime, ComparesBytesAndLengths) {
  EXPECT_TRUE(equal_constant_time(as_bytes(""), as_bytes("")));
  EXPECT_TRUE(equal_constant_time(as_bytes("abc"), as_bytes("abc")));
  EXPECT_FALSE(equal_constant_time(as_bytes("abc"), as_bytes("abd")));
  EXPECT_FALSE(equal_constant_time(as_bytes("abc"), as_bytes("ab")));
  EXPECT_FALSE(equal_constant_time(as_bytes(""), as_bytes("a")));
  const auto d1 = sha256(std::string_view("x"));
  auto d2 = d1;
  EXPECT_TRUE(equal_constant_time(d1, d2));
  d2[31] ^= 1;
  EXPECT_FALSE(equal_constant_time(d1, d2));
}

} // namespace
} // namespace avow::crypto
