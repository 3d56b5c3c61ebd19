// The strict JSON reader and RFC 8785 writer (archive/json/jcs.hpp): a value parse_strict accepts canonicalizes, its
// canonical form reads back to a value with the same canonical form (a fixed point), and parse_canonical accepts an
// input exactly when it is the canonical form of what it says.

#include <archive/json/jcs.hpp>
#include <tests/fuzz/fuzz_check.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  const auto value = json::parse_strict(input);
  const auto canonical_value = json::parse_canonical(input);
  if (!value) {
    AVOW_FUZZ_CHECK(!canonical_value.has_value());
    return 0;
  }
  const auto bytes = json::canonicalize(*value);
  AVOW_FUZZ_CHECK(bytes.has_value());
  AVOW_FUZZ_CHECK(canonical_value.has_value() == (*bytes == input));
  if (canonical_value) AVOW_FUZZ_CHECK(*canonical_value == *value);

  const auto reread = json::parse_canonical(*bytes);
  AVOW_FUZZ_CHECK(reread.has_value());
  const auto bytes_again = json::canonicalize(*reread);
  AVOW_FUZZ_CHECK(bytes_again.has_value() && *bytes_again == *bytes);

  // A string member holding the input: append_string escapes exactly what the reader accepts.
  if (json::is_valid_utf8(input)) {
    std::string quoted;
    AVOW_FUZZ_CHECK(json::append_string(quoted, input).has_value());
    const auto back = json::parse_canonical(quoted);
    AVOW_FUZZ_CHECK(back.has_value() && back->is_string() && back->get<std::string>() == input);
  } else {
    std::string quoted;
    AVOW_FUZZ_CHECK(!json::append_string(quoted, input).has_value());
  }
  return 0;
}
