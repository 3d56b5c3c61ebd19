// The DSSE envelope and statement record decoders (archive/record/dsse.hpp, record.hpp): what they accept is written
// back byte for byte (both insist on canonical JCS), an envelope's payload is decoded as a record, and a record
// survives to_json -> from_json unchanged. The input is tried both as an envelope and as a bare record payload.

#include <archive/json/jcs.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/record.hpp>
#include <tests/fuzz/fuzz_check.hpp>

namespace {

void check_payload(std::string_view bytes) {
  using namespace avow;
  const auto statement = record::parse_payload(bytes);
  if (!statement) return;
  AVOW_FUZZ_CHECK(record::validate(*statement).has_value());
  const auto written = record::payload(*statement);
  AVOW_FUZZ_CHECK(written.has_value() && *written == bytes);
  const auto value = record::to_json(*statement);
  AVOW_FUZZ_CHECK(value.has_value());
  const auto jcs = json::canonicalize(*value);
  AVOW_FUZZ_CHECK(jcs.has_value() && *jcs == bytes);
  const auto back = record::from_json(*value);
  AVOW_FUZZ_CHECK(back.has_value() && *back == *statement);
  AVOW_FUZZ_CHECK(record::record_id(bytes).size() == 64);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  if (const auto envelope = record::parse(input)) {
    AVOW_FUZZ_CHECK(envelope->payload_type == record::k_payload_type);
    AVOW_FUZZ_CHECK(!envelope->signatures.empty());
    const auto written = record::serialize(*envelope);
    AVOW_FUZZ_CHECK(written.has_value() && *written == input);
    const auto reread = record::parse(*written);
    AVOW_FUZZ_CHECK(reread.has_value() && *reread == *envelope);
    const std::string pae = record::pae(envelope->payload_type, envelope->payload);
    AVOW_FUZZ_CHECK(pae.size() > envelope->payload.size());
    check_payload(envelope->payload);
  }
  check_payload(input);
  return 0;
}
