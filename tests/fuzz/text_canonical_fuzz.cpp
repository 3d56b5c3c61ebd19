// Canonical text form v1 (archive/text/canonical.hpp): whatever the bytes, canonicalize either refuses them or
// returns a text that is its own canonical form (idempotence), that is_canonical agrees with, and that is valid UTF-8
// ending in exactly one '\n'. The UTF-8 validators of the text and json layers must agree byte for byte.

#include <archive/json/jcs.hpp>
#include <archive/text/canonical.hpp>
#include <tests/fuzz/fuzz_check.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  const auto invalid_at = text::find_invalid_utf8(input);
  AVOW_FUZZ_CHECK(invalid_at.has_value() == !json::is_valid_utf8(input));
  AVOW_FUZZ_CHECK(!invalid_at || *invalid_at < input.size());

  const auto canonical = text::canonicalize(input);
  if (!canonical) {
    AVOW_FUZZ_CHECK(!text::is_canonical(input));
    return 0;
  }
  AVOW_FUZZ_CHECK(!invalid_at.has_value());
  const std::string& out = canonical->text;
  AVOW_FUZZ_CHECK(!out.empty() && out.back() == '\n');
  AVOW_FUZZ_CHECK(out.size() < 2 || out[out.size() - 2] != '\n');
  AVOW_FUZZ_CHECK(out.find('\r') == std::string::npos);
  AVOW_FUZZ_CHECK(!text::find_invalid_utf8(out).has_value());
  AVOW_FUZZ_CHECK(text::is_canonical(input) == (out == input));

  const auto again = text::canonicalize(out);
  AVOW_FUZZ_CHECK(again.has_value());
  AVOW_FUZZ_CHECK(again->text == out);
  AVOW_FUZZ_CHECK(text::is_canonical(out));
  return 0;
}
