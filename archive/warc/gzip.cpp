#include <archive/warc/gzip.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>

namespace avow::warc::detail {
namespace {

// zlib counts in uInt; feed it at most this much at a time.
constexpr std::size_t k_step = 1U << 20;

class Inflater {
public:
  explicit Inflater(int window_bits) {
    if (inflateInit2(&m_z, window_bits) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
  }
  ~Inflater() { inflateEnd(&m_z); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  z_stream& z() { return m_z; }

private:
  z_stream m_z{};
};

enum class Outcome { end, truncated, corrupt, too_big };

// Inflate from `input` into `out` until the end of one stream (member); `consumed` is how much input it took.
Outcome inflate_one(z_stream& z, std::string_view input, std::string& out, std::size_t max_bytes,
                    std::size_t& consumed) {
  std::array<unsigned char, 64 * 1024> buffer{};
  std::size_t offset = 0;
  for (;;) {
    if (z.avail_in == 0 && offset < input.size()) {
      const std::size_t n = std::min(k_step, input.size() - offset);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + offset));
      z.avail_in = static_cast<uInt>(n);
      offset += n;
    }
    z.next_out = buffer.data();
    z.avail_out = static_cast<uInt>(buffer.size());
    const int rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = buffer.size() - z.avail_out;
    if (produced > max_bytes - std::min(max_bytes, out.size())) return Outcome::too_big;
    out.append(reinterpret_cast<const char*>(buffer.data()), produced);
    if (rc == Z_STREAM_END) {
      consumed = offset - z.avail_in;
      return Outcome::end;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: out of input (truncated) unless there is more to feed.
      if (z.avail_in == 0 && offset >= input.size()) return Outcome::truncated;
      continue;
    }
    if (rc != Z_OK) return Outcome::corrupt;
    if (z.avail_in == 0 && offset >= input.size() && produced == 0) return Outcome::truncated;
  }
}

std::string outcome_message(Outcome o, std::size_t max_bytes) {
  switch (o) {
  case Outcome::truncated: return "it is truncated";
  case Outcome::corrupt: return "it does not inflate";
  case Outcome::too_big: return fmt::format("it inflates to more than {} bytes", max_bytes);
  case Outcome::end: break;
  }
  return "";
}

} // namespace

std::string gzip_member(std::string_view bytes) {
  z_stream z{};
  // windowBits 15 + 16: a gzip wrapper with zlib's default header (no name, mtime 0).
  if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out;
  std::array<unsigned char, 64 * 1024> buffer{};
  std::size_t offset = 0;
  int rc = Z_OK;
  do {
    const std::size_t n = std::min(k_step, bytes.size() - offset);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + offset));
    z.avail_in = static_cast<uInt>(n);
    offset += n;
    const int flush = offset == bytes.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = buffer.data();
      z.avail_out = static_cast<uInt>(buffer.size());
      rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) {
        deflateEnd(&z);
        throw std::runtime_error("zlib: deflate failed");
      }
      out.append(reinterpret_cast<const char*>(buffer.data()), buffer.size() - z.avail_out);
    } while (z.avail_out == 0);
  } while (rc != Z_STREAM_END);
  deflateEnd(&z);
  return out;
}

Expected<Member> gunzip_member(std::string_view input, std::size_t max_bytes) {
  if (input.size() < 2 || static_cast<unsigned char>(input[0]) != 0x1f || static_cast<unsigned char>(input[1]) != 0x8b)
    return fail(ErrorCode::invalid_input, "not a gzip member");
  Inflater inflater(15 + 16);
  Member member;
  const Outcome o = inflate_one(inflater.z(), input, member.bytes, max_bytes, member.consumed);
  if (o != Outcome::end) return fail(ErrorCode::invalid_input, "gzip member: {}", outcome_message(o, max_bytes));
  return member;
}

Expected<std::string> inflate_all(std::string_view input, Wrapper wrapper, std::size_t max_bytes) {
  std::string out;
  if (wrapper != Wrapper::gzip) {
    Inflater inflater(wrapper == Wrapper::zlib ? 15 : -15);
    std::size_t consumed = 0;
    const Outcome o = inflate_one(inflater.z(), input, out, max_bytes, consumed);
    if (o != Outcome::end) return fail(ErrorCode::invalid_input, "{}", outcome_message(o, max_bytes));
    if (consumed != input.size()) return fail(ErrorCode::invalid_input, "bytes follow the end of the stream");
    return out;
  }
  std::size_t offset = 0;
  do {
    const std::string_view rest = input.substr(offset);
    if (rest.size() < 2 || static_cast<unsigned char>(rest[0]) != 0x1f || static_cast<unsigned char>(rest[1]) != 0x8b)
      return fail(ErrorCode::invalid_input, "{}", offset == 0 ? "it is not gzip" : "bytes follow the last gzip member");
    Inflater inflater(15 + 16);
    std::size_t consumed = 0;
    const Outcome o = inflate_one(inflater.z(), rest, out, max_bytes, consumed);
    if (o != Outcome::end) return fail(ErrorCode::invalid_input, "{}", outcome_message(o, max_bytes));
    offset += consumed;
  } while (offset < input.size());
  return out;
}

} // namespace avow::warc::detail
