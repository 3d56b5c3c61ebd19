// The C2SP tlog-proof parser (archive/log/tlog_proof.hpp): an accepted proof is written back byte for byte, its
// checkpoint is a signed checkpoint note, and its path is within the cap.

#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <archive/log/tlog_proof.hpp>
#include <tests/fuzz/fuzz_check.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  const auto proof = log::parse_tlog_proof(input);
  if (!proof) return 0;
  AVOW_FUZZ_CHECK(proof->path.size() <= log::k_max_tlog_proof_hashes);
  AVOW_FUZZ_CHECK(log::format_tlog_proof(*proof) == input);
  const auto note = log::parse_note(proof->checkpoint);
  AVOW_FUZZ_CHECK(note.has_value());
  AVOW_FUZZ_CHECK(log::parse_checkpoint_text(note->text).has_value());
  const auto again = log::parse_tlog_proof(log::format_tlog_proof(*proof));
  AVOW_FUZZ_CHECK(again.has_value() && *again == *proof);
  return 0;
}
