// The C2SP signed-note, checkpoint and vkey parsers (archive/log/note.hpp, checkpoint.hpp): what they accept is
// written back byte for byte by their formatters, and a note's text, when it is a checkpoint, round-trips too.

#include <archive/log/checkpoint.hpp>
#include <archive/log/note.hpp>
#include <tests/fuzz/fuzz_check.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  if (const auto note = log::parse_note(input)) {
    AVOW_FUZZ_CHECK(!note->signatures.empty() && note->signatures.size() <= log::k_max_note_signatures);
    AVOW_FUZZ_CHECK(log::is_valid_note_text(note->text));
    for (const auto& sig : note->signatures) AVOW_FUZZ_CHECK(log::is_valid_key_name(sig.name));
    const auto written = log::format_note(*note);
    AVOW_FUZZ_CHECK(written.has_value() && *written == input);
    if (const auto checkpoint = log::parse_checkpoint_text(note->text)) {
      AVOW_FUZZ_CHECK(log::checkpoint_text(*checkpoint) == note->text);
    }
    // No known key: nothing verifies, and nothing crashes on the way.
    AVOW_FUZZ_CHECK(!log::verify_note(*note, {}).has_value());
  }

  if (const auto checkpoint = log::parse_checkpoint_text(input)) {
    AVOW_FUZZ_CHECK(log::is_valid_note_text(input));
    AVOW_FUZZ_CHECK(log::checkpoint_text(*checkpoint) == input);
    const auto again = log::parse_checkpoint_text(log::checkpoint_text(*checkpoint));
    AVOW_FUZZ_CHECK(again.has_value() && *again == *checkpoint);
  }

  if (const auto verifier = log::parse_vkey(input)) {
    AVOW_FUZZ_CHECK(log::is_valid_key_name(verifier->name));
    AVOW_FUZZ_CHECK(verifier->id == log::key_id(verifier->name, verifier->type, verifier->key));
    AVOW_FUZZ_CHECK(log::vkey(verifier->name, verifier->key, verifier->type) == input);
  }
  return 0;
}
