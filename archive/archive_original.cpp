// Archive::original: the original bytes a statement names (for `avow show --warc`), read from the tree of main.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/record/layout.hpp>
#include <archive/record/record.hpp>
#include <archive/util/bytes.hpp>

namespace avow {

Expected<std::optional<Archive::Original>> Archive::original(const RecordView& view) const {
  auto st = record::parse_payload(view.payload);
  if (!st) return fail(ErrorCode::invalid_input, "record {} is not a statement", view.id.substr(0, 16));
  if (!st->original) return std::optional<Original>{};
  const auto& store = m_impl->store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "the archive has no commit");
  const std::string path = record::original_path(st->original->sha256);
  auto bytes = store.read(**head, path);
  if (!bytes) return std::unexpected(bytes.error());
  // Hand out only the bytes the signed record names.
  if (to_hex(crypto::sha256(*bytes)) != st->original->sha256 || bytes->size() != st->original->bytes)
    return fail(ErrorCode::failed_precondition, "original '{}' does not hash to its name; run avow verify", path);
  return std::optional<Original>{Original{*st->original, std::move(*bytes)}};
}

} // namespace avow
