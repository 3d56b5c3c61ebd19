// The offline proof bundle checker (archive/proof_bundle.hpp, verify_bundle): any bytes as a bundle, checked against
// the policy of the archive the seed bundles came from (tests/fuzz/README.md), give a result, never an error (the
// policy is usable), and a bundle found proven names what it proves; its text copy check runs on the bundle's text.

#include <archive/proof_bundle.hpp>
#include <archive/record/record.hpp>
#include <tests/fuzz/fuzz_check.hpp>

#include <optional>
#include <string>

namespace {

// `avow policy` of the two-statement archive the seeds were written from.
constexpr std::string_view k_policy = "log example.org/fuzz+6d227cdb+AeVQQJJOv4+Y5hJChUdi3wgXAl51a5CcTY0kSfBUqjB3\nquorum none\n";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  const auto result = verify_bundle(input, k_policy, std::nullopt);
  AVOW_FUZZ_CHECK(result.has_value());
  if (!result->proven) {
    AVOW_FUZZ_CHECK(!result->reason.empty());
    return 0;
  }
  AVOW_FUZZ_CHECK(result->record_id == record::record_id(result->payload));
  AVOW_FUZZ_CHECK(result->index < result->tree_size);
  AVOW_FUZZ_CHECK(result->origin == "example.org/fuzz");
  // The same bundle with a copy of a text that is not the proven one is not proven.
  const auto other = verify_bundle(input, k_policy, std::string("not the proven text\n"));
  AVOW_FUZZ_CHECK(other.has_value() && !other->proven);
  return 0;
}
