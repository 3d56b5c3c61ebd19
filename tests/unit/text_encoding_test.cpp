// ICU charset detection behind the encoding hints and the wrong-decoding doubt (archive/text/encoding.hpp), and the
// private key material check (archive/text/key_material.hpp). The legacy texts are real sentences transcoded with
// iconv; their UTF-8 forms are in the comments.

#include <archive/text/encoding.hpp>
#include <archive/text/key_material.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using avow::text::decoding_doubt;
using avow::text::detect_encodings;
using avow::text::encoding_hint;
using avow::text::private_key_material;
using avow::text::to_utf8;

// أعلنت وزارة الخارجية اليوم أن الوفد سيصل إلى العاصمة يوم الجمعة ... (windows-1256, 232 bytes)
const std::string k_arabic_1256 = avow::test::test_data("encodings/ar-windows-1256.txt");
// Die Regierung verurteilt die Angriffe auf Wohngebiete aufs Schärfste. Außenminister Müller ... (ISO-8859-15)
const std::string k_german_latin9 = avow::test::test_data("encodings/de-iso-8859-15.txt");
// Le ministère des Affaires étrangères a annoncé ... Le coût est estimé à 5 millions d'€ ; l'œuvre ... (ISO-8859-15)
const std::string k_french_latin9 = avow::test::test_data("encodings/fr-iso-8859-15.txt");
// 政府は本日、住宅地への砲撃を強く非難すると発表した。... (Shift_JIS)
const std::string k_japanese_sjis =
    "\x90\xAD\x95{\x82\xCD\x96{\x93\xFA\x81" "A\x8FZ\x91\xEE\x92n\x82\xD6\x82\xCC\x96" "C\x8C\x82\x82\xF0\x8B\xAD\x82"
    "\xAD\x94\xF1\x93\xEF\x82\xB7\x82\xE9\x82\xC6\x94\xAD\x95\x5C\x82\xB5\x82\xBD\x81" "B\x8AO\x96\xB1\x8F\xC8\x82\xCC"
    "\x95\xF1\x93\xB9\x8A\xAF\x82\xCD\x81" "A\x82\xB7\x82\xD7\x82\xC4\x82\xCC\x93\x96\x8E\x96\x8E\xD2\x82\xC9\x8D\x91"
    "\x8D\xDB\x90l\x93\xB9\x96@\x82\xF0\x91\xB8\x8F" "d\x82\xB7\x82\xE9\x82\xE6\x82\xA4\x8B\x81\x82\xDF\x82\xBD\x81"
    "B\x0A";
// 外交部今天宣布，代表团将于星期五抵达首都，... (GB18030)
const std::string k_chinese_gb18030 =
    "\xCD\xE2\xBD\xBB\xB2\xBF\xBD\xF1\xCC\xEC\xD0\xFB\xB2\xBC\xA3\xAC\xB4\xFA\xB1\xED\xCD\xC5\xBD\xAB\xD3\xDA\xD0\xC7\xC6"
    "\xDA\xCE\xE5\xB5\xD6\xB4\xEF\xCA\xD7\xB6\xBC\xA3\xAC\xBE\xCD\xB8\xC3\xB5\xD8\xC7\xF8\xB5\xC4\xC8\xCB\xB5\xC0\xD6\xF7"
    "\xD2\xE5\xBE\xD6\xCA\xC6\xBD\xF8\xD0\xD0\xBB\xE1\xCC\xB8\xA1\xA3\xB7\xA2\xD1\xD4\xC8\xCB\xCB\xB5\xA3\xAC\xD5\xFE\xB8"
    "\xAE\xC7\xBF\xC1\xD2\xC7\xB4\xD4\xF0\xB6\xD4\xBE\xD3\xC3\xF1\xC7\xF8\xB5\xC4\xC5\xDA\xBB\xF7\xA1\xA3\x0A";

std::optional<std::string> doubt(const std::string& bytes, const std::string& encoding) {
  auto decoded = to_utf8(bytes, encoding);
  EXPECT_TRUE(decoded.has_value()) << encoding << ": " << (decoded ? "" : decoded.error().message);
  if (!decoded) return "undecodable";
  return decoding_doubt(bytes, encoding, *decoded);
}

TEST(TextEncoding, DetectionNamesTheEncodingOfRealText) {
  const auto first = [](const std::string& b) {
    auto g = detect_encodings(b);
    return g.empty() ? std::string("<none>") : g.front().name + "/" + g.front().language;
  };
  EXPECT_EQ(first(k_arabic_1256), "windows-1256/ar");
  EXPECT_EQ(first(k_german_latin9), "ISO-8859-1/de");
  EXPECT_EQ(first(k_japanese_sjis), "Shift_JIS/ja");
  EXPECT_EQ(first(k_chinese_gb18030), "GB18030/zh");
  EXPECT_GE(detect_encodings(k_arabic_1256).front().confidence, 50);
}

TEST(TextEncoding, HintNamesWhatInvalidUtf8LooksLike) {
  EXPECT_EQ(encoding_hint(k_arabic_1256), "it looks like windows-1256: try --encoding windows-1256");
  EXPECT_EQ(encoding_hint(k_japanese_sjis), "it looks like Shift_JIS: try --encoding Shift_JIS");
  EXPECT_EQ(encoding_hint(k_chinese_gb18030), "it looks like GB18030: try --encoding GB18030");
  EXPECT_EQ(encoding_hint(k_german_latin9), "it looks like ISO-8859-1: try --encoding ISO-8859-1");
  // Nothing to go on: no hint rather than a guess.
  EXPECT_EQ(encoding_hint("\xFF"), std::nullopt);
}

TEST(TextEncoding, CorrectDecodingsRaiseNoDoubt) {
  EXPECT_EQ(doubt(k_arabic_1256, "windows-1256"), std::nullopt);
  EXPECT_EQ(doubt(k_arabic_1256, "cp1256"), std::nullopt);
  EXPECT_EQ(doubt(k_french_latin9, "latin9"), std::nullopt);     // detected as ISO-8859-1: same family
  EXPECT_EQ(doubt(k_french_latin9, "ISO-8859-15"), std::nullopt);
  EXPECT_EQ(doubt(k_german_latin9, "latin9"), std::nullopt);
  EXPECT_EQ(doubt(k_german_latin9, "windows-1252"), std::nullopt);
  EXPECT_EQ(doubt(k_japanese_sjis, "Shift_JIS"), std::nullopt);
  EXPECT_EQ(doubt(k_chinese_gb18030, "GB18030"), std::nullopt);
  // UTF-16 with a BOM: "UTF-16" consumes it, the detected "UTF-16LE" keeps it; the same text either way.
  std::string utf16{"\xFF\xFE", 2};
  for (const char c : std::string("Bonjour, le monde.\n")) utf16 += std::string{c, '\0'};
  EXPECT_EQ(doubt(utf16, "UTF-16"), std::nullopt);
  EXPECT_EQ(doubt(utf16, "UTF-16LE"), std::nullopt);
  EXPECT_EQ(encoding_hint(utf16), "it looks like UTF-16LE: try --encoding UTF-16LE");
  // Short texts give weak detection: no false refusal.
  EXPECT_EQ(doubt("\xC7\xE1\xD3\xE1\xC7\xE3\r\n", "windows-1256"), std::nullopt);
  EXPECT_EQ(doubt("caf\xE9 cr\xE8me\n", "latin9"), std::nullopt);
  EXPECT_EQ(doubt("plain ASCII\n", "latin9"), std::nullopt);
}

TEST(TextEncoding, WrongDecodingsRaiseADoubt) {
  // Arabic windows-1256 read as latin9: detection confidently says windows-1256.
  EXPECT_EQ(doubt(k_arabic_1256, "latin9"),
            "decoded as ISO-8859-15 it does not look right: ICU charset detection says windows-1256, language 'ar' "
            "(confidence 89%)");
  // And the reverse: German latin9 read as windows-1256 (ä, ß, ö become Arabic letters).
  EXPECT_EQ(doubt(k_german_latin9, "windows-1256"),
            "decoded as windows-1256 it does not look right: ICU charset detection says ISO-8859-1, language 'de' "
            "(confidence 79%)");
  EXPECT_NE(doubt(k_chinese_gb18030, "latin9"), std::nullopt);
  EXPECT_NE(doubt(k_german_latin9, "GB18030"), std::nullopt);
  // A wrong single-byte decoding of Shift_JIS yields C1 controls.
  EXPECT_EQ(doubt(k_japanese_sjis, "latin9"),
            "decoded as ISO-8859-15 it holds the C1 control character U+0090, which a wrong decoding produces");
  // UTF-8 given as latin9 (mojibake).
  EXPECT_NE(doubt("\xD8\xA7\xD9\x84\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 \xD8\xB9\xD9\x84\xD9\x8A\xD9\x83\xD9\x85\n", "latin9"),
            std::nullopt);
  EXPECT_EQ(decoding_doubt("x", "UTF-8", "a \xEF\xBF\xBD b"), "decoded as UTF-8 it holds U+FFFD replacement characters");
}

TEST(TextKeyMaterial, PemAndOpenSshPrivateKeysAreFound) {
  EXPECT_EQ(private_key_material("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n"),
            "a PEM 'PRIVATE KEY' block");
  EXPECT_EQ(private_key_material("note\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n"),
            "a PEM 'ENCRYPTED PRIVATE KEY' block");
  for (const char* label : {"RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY"})
    EXPECT_EQ(private_key_material(std::string("> -----BEGIN ") + label + "-----\n"),
              std::string("a PEM '") + label + "' block");
  EXPECT_EQ(private_key_material("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n"), "a PEM 'SSH2 ENCRYPTED PRIVATE KEY' block");
  EXPECT_EQ(private_key_material("-----BEGIN PGP PRIVATE KEY BLOCK-----\n"), "a PEM 'PGP PRIVATE KEY BLOCK' block");
  EXPECT_EQ(private_key_material("PuTTY-User-Key-File-3: ssh-ed25519\n"), "a PuTTY private key file");
  EXPECT_EQ(private_key_material("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"), "an OpenSSH private key");
  // Public keys, certificates and prose about keys are statements like any other.
  EXPECT_EQ(private_key_material("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"), std::nullopt);
  EXPECT_EQ(private_key_material("-----BEGIN CERTIFICATE-----\n"), std::nullopt);
  EXPECT_EQ(private_key_material("The minister said the private key was never shared.\n"), std::nullopt);
}

} // namespace
