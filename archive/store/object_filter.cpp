// ObjectFilter: which objects a repository may hold, in memory, for a write of many new objects.

#include <archive/store/git_internal.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <system_error>

namespace avow::store::detail {

namespace fs = std::filesystem;

namespace {

// Bits of the filter an object at least (the size is rounded up to a power of two, so 8 to 16): with four probes,
// a false positive rate of 2.4% at 8 bits, 0.24% at 16.
constexpr std::uint64_t k_bits_per_object = 8;
constexpr std::uint64_t k_min_bits = std::uint64_t{1} << 16;
// A version 2 pack index holds 28 bytes an object (id, CRC, offset) besides its fixed 1,112 bytes; dividing its size
// by 24 over-counts a little, which only lowers the false positive rate. An estimate: the filter is sized before the
// objects are listed, and a wrong one costs look-ups, never an answer.
constexpr std::uintmax_t k_index_bytes_per_object = 24;

std::uint64_t estimate_objects(const fs::path& git_dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(git_dir / "objects" / "pack", ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".idx") continue;
    const auto bytes = it->file_size(ec);
    if (!ec) n += bytes / k_index_bytes_per_object;
    ec.clear();
  }
  return n;
}

std::uint32_t probe(const git_oid& id, int k) {
  std::uint32_t w;
  std::memcpy(&w, id.id + 4 * k, sizeof w);
  return w;
}

} // namespace

ObjectFilter::ObjectFilter(std::uint64_t capacity) {
  const std::uint64_t bits = std::bit_ceil(std::max(k_min_bits, capacity * k_bits_per_object));
  m_words.assign(bits / 64, 0);
  m_mask = bits - 1;
}

Expected<ObjectFilter> ObjectFilter::of_repository(const fs::path& git_dir, std::uint64_t more) {
  ObjectFilter filter(estimate_objects(git_dir) + more);
  const auto add = [](const git_oid* id, void* payload) -> int {
    static_cast<ObjectFilter*>(payload)->add(*id);
    return 0;
  };
  // Each source through a backend of its own, freed before the next: listing a pack maps its whole index and keeps an
  // array of 8 bytes an object beside it for as long as the pack is open (git_pack_foreach_entry), so all at once
  // would hold every pack's index in memory (70 MiB at 1,000,000 entries). libgit2 shares an open pack between the
  // handles of a process, so the caller has none open. Alternates are not listed: an object only there is taken as
  // new and written again, with the same id.
  const auto list = [&](git_odb_backend* backend, const std::string& what) -> Expected<void> {
    const int rc = backend->foreach(backend, add, &filter);
    backend->free(backend);
    if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot list the objects of '{}'", what);
    return {};
  };
  const fs::path objects = git_dir / "objects";
  std::vector<fs::path> indexes;
  std::error_code ec;
  for (fs::directory_iterator it(objects / "pack", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".idx") indexes.push_back(it->path());
  if (ec && ec != std::errc::no_such_file_or_directory)
    return fail(ErrorCode::io, "cannot list '{}': {}", (objects / "pack").string(), ec.message());
  for (const auto& idx : indexes) {
    git_odb_backend* backend = nullptr;
    if (int rc = git_odb_backend_one_pack(&backend, idx.c_str()); rc < 0) {
      // Gone since the folder was read (only `git gc` runs beside a write), or an index without its pack (which git
      // ignores as well): nothing of it to list. libgit2 says -1 either way, not GIT_ENOTFOUND. Any object of it is
      // then taken as new and written again, with the same id.
      std::error_code gone;
      if (!fs::exists(idx, gone) || !fs::exists(fs::path(idx).replace_extension(".pack"), gone)) continue;
      return git_failure(rc, ErrorCode::git, "cannot open pack index '{}'", idx.string());
    }
    if (auto ok = list(backend, idx.string()); !ok) return std::unexpected(ok.error());
  }
  git_odb_backend* loose = nullptr;
  if (int rc = git_odb_backend_loose(&loose, objects.c_str(), -1, 0, 0, 0); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open the loose objects of '{}'", git_dir.string());
  if (auto ok = list(loose, objects.string()); !ok) return std::unexpected(ok.error());
  return filter;
}

void ObjectFilter::add(const git_oid& id) {
  for (int k = 0; k < k_probes; ++k) {
    const std::uint64_t bit = probe(id, k) & m_mask;
    m_words[bit / 64] |= std::uint64_t{1} << (bit % 64);
  }
}

bool ObjectFilter::may_contain(const git_oid& id) const {
  for (int k = 0; k < k_probes; ++k) {
    const std::uint64_t bit = probe(id, k) & m_mask;
    if ((m_words[bit / 64] & (std::uint64_t{1} << (bit % 64))) == 0) return false;
  }
  return true;
}

bool object_exists(const RepoState& rs, const git_oid& id) {
  if (rs.filter && !rs.filter->may_contain(id)) return false;
  // 1 is found; 0 not found, and an error (a closed handle) is taken as not found too: the object is then written
  // again (a duplicate, harmless), never left out. The odb's object cache answers as well as its backends: it holds
  // nothing of an earlier write because begin() opens the handle anew for every filtered write.
  return git_odb_exists_ext(rs.odb.get(), &id, GIT_ODB_LOOKUP_NO_REFRESH) == 1;
}

} // namespace avow::store::detail
