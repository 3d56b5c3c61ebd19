#pragma once
// Private to archive/store/pack*.cpp: how a pack the packbuilder makes reaches its writer (an odb writepack or an
// indexer) in pieces.

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

namespace avow::store::detail {

struct WritepackFree {
  void operator()(git_odb_writepack* w) const noexcept { w->free(w); }
};
using WritepackPtr = std::unique_ptr<git_odb_writepack, WritepackFree>;

// git_packbuilder_foreach callback: pass the pack to an indexer or an odb writepack as it is made, in pieces of up to
// k_piece bytes. The packbuilder writes tiny pieces (an object header, then zlib chunks), and the indexer unmaps its
// pack windows on every append: one call per piece spent most of a large write in munmap. Memory stays bounded: one
// piece per pack being written (they were 4 MiB; 1 MiB lowered a batch's peak by 11 MiB at the same speed).
constexpr std::size_t k_piece = 1u << 20;
template <class Append> struct PackSink {
  Append append;                   // int(const char* data, size_t size)
  std::string pending;
  static int collect(void* buf, size_t size, void* payload) {
    auto* self = static_cast<PackSink*>(payload);
    self->pending.append(static_cast<const char*>(buf), size);
    return self->pending.size() >= k_piece ? self->flush() : 0;
  }
  int flush() {
    if (pending.empty()) return 0;
    const int rc = append(pending.data(), pending.size());
    pending.clear();
    return rc;
  }
};
template <class Append> PackSink<Append> pack_sink(Append append) {
  PackSink<Append> sink{std::move(append), {}};
  sink.pending.reserve(k_piece + 64 * 1024);
  return sink;
}

} // namespace avow::store::detail
