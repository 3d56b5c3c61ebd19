#include <archive/util/file.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace avow {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

} // namespace

Expected<std::string> read_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    const int e = errno;
    if (e == ENOENT) return fail(ErrorCode::not_found, "cannot read '{}': no such file", path.string());
    return fail(ErrorCode::io, "cannot read '{}': {}", path.string(), errno_text(e));
  }
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) return fail(ErrorCode::io, "cannot read '{}': {}", path.string(), errno_text(errno));
  if (S_ISDIR(st.st_mode)) return fail(ErrorCode::invalid_input, "cannot read '{}': is a directory", path.string());
  const bool regular = S_ISREG(st.st_mode);
  if (regular && static_cast<std::uintmax_t>(st.st_size) > max_bytes)
    return fail(ErrorCode::invalid_input, "cannot read '{}': {} bytes is over the limit of {} bytes", path.string(),
                static_cast<std::uintmax_t>(st.st_size), max_bytes);
  std::string out;
  if (regular) out.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::io, "cannot read '{}': {}", path.string(), errno_text(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      return fail(ErrorCode::invalid_input, "cannot read '{}': over the limit of {} bytes", path.string(), max_bytes);
  }
  return out;
}

Expected<void> write_file_atomic(const std::filesystem::path& path, std::string_view data, FileMode mode,
                                 Overwrite overwrite) {
  std::error_code ec;
  if (overwrite == Overwrite::no && std::filesystem::exists(path, ec))
    return fail(ErrorCode::already_exists, "cannot write '{}': file exists", path.string());
  std::string tmp_template = path.string() + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp_template.data());
  if (fd < 0) return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(errno));
  Fd f{fd};
  const auto cleanup = [&] { ::unlink(tmp_template.c_str()); };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    cleanup();
    return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(errno));
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup();
      return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    cleanup();
    return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(errno));
  }
  if (overwrite == Overwrite::no) {
    // link() fails if the target exists, so a concurrent creator is never overwritten.
    if (::link(tmp_template.c_str(), path.c_str()) != 0) {
      const int e = errno;
      cleanup();
      if (e == EEXIST) return fail(ErrorCode::already_exists, "cannot write '{}': file exists", path.string());
      return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(e));
    }
    cleanup();
  } else if (::rename(tmp_template.c_str(), path.c_str()) != 0) {
    const int e = errno;
    cleanup();
    return fail(ErrorCode::io, "cannot write '{}': {}", path.string(), errno_text(e));
  }
  return {};
}

} // namespace avow
