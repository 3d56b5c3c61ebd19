// The WARC reader and HTTP message parser (archive/warc/warc.hpp): any bytes either fail with invalid_input or give
// records within the limits given; digests are checked and the capture view read without crashing; a capture the
// reader accepts has a response payload whose SHA-256 it reports.

#include <archive/warc/warc.hpp>
#include <tests/fuzz/fuzz_check.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  warc::ReadLimits limits;
  limits.max_member = std::size_t{1} << 20;
  limits.max_total = std::size_t{4} << 20;
  limits.max_records = 100;
  if (const auto records = warc::read(input, limits)) {
    AVOW_FUZZ_CHECK(records->size() <= limits.max_records);
    for (const auto& record : *records) {
      AVOW_FUZZ_CHECK(record.version == "WARC/1.1" || record.version == "WARC/1.0");
      (void)warc::check_digests(record);
    }
  } else {
    AVOW_FUZZ_CHECK(records.error().code == ErrorCode::invalid_input);
  }
  if (const auto capture = warc::read_capture(input)) {
    AVOW_FUZZ_CHECK(capture->exchanges >= 1 && capture->records >= capture->exchanges);
    AVOW_FUZZ_CHECK(capture->payload_sha256.size() == 64);
  }
  (void)warc::parse_http_response(input);
  (void)warc::parse_http_request(input);
  return 0;
}
