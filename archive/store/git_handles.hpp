#pragma once
// Private to archive/store/*.cpp: RAII owners for libgit2 handles and the error helper.

#include <archive/store/git_store.hpp>
#include <archive/util/error.hpp>

#include <git2.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

namespace avow::store::detail {

template <auto Free> struct CFree { // unique_ptr never calls the deleter on null
  template <class T> void operator()(T* p) const noexcept { Free(p); }
};

using RepoPtr = std::unique_ptr<git_repository, CFree<&git_repository_free>>;
using OdbPtr = std::unique_ptr<git_odb, CFree<&git_odb_free>>;
using CommitPtr = std::unique_ptr<git_commit, CFree<&git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, CFree<&git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, CFree<&git_tree_entry_free>>;
using BlobPtr = std::unique_ptr<git_blob, CFree<&git_blob_free>>;
using ObjectPtr = std::unique_ptr<git_object, CFree<&git_object_free>>;
using OdbObjectPtr = std::unique_ptr<git_odb_object, CFree<&git_odb_object_free>>;
using ReferencePtr = std::unique_ptr<git_reference, CFree<&git_reference_free>>;
using SignaturePtr = std::unique_ptr<git_signature, CFree<&git_signature_free>>;
using DiffPtr = std::unique_ptr<git_diff, CFree<&git_diff_free>>;
using ConfigPtr = std::unique_ptr<git_config, CFree<&git_config_free>>;
using IndexPtr = std::unique_ptr<git_index, CFree<&git_index_free>>;

inline git_oid to_git(const Oid& id) {
  git_oid out;
  std::memcpy(out.id, id.bytes.data(), id.bytes.size());
  return out;
}

inline Oid from_git(const git_oid& id) {
  Oid out;
  std::memcpy(out.bytes.data(), id.id, out.bytes.size());
  return out;
}

// Owns a git_buf's memory.
struct Buf {
  git_buf buf = GIT_BUF_INIT;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  ~Buf() { git_buf_dispose(&buf); }
  std::string str() const { return buf.ptr ? std::string(buf.ptr, buf.size) : std::string(); }
};

// Return the last libgit2 error message (or a fallback naming `rc`). libgit2 sets no message when some writes fail
// (its file buffer's flush, e.g. on a full disk): the system error `err` (errno at the failure) is named then.
inline std::string git_message(int rc, int err = errno) {
  const git_error* e = git_error_last();
  if (e && e->message && *e->message) return e->message;
  if (err != 0) return std::strerror(err);
  return "libgit2 error " + std::to_string(rc);
}

// Return an unexpected Error "<what>: <libgit2 message>" with `code`.
template <class... Args>
std::unexpected<Error> git_failure(int rc, ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  const int err = errno;
  std::string what = fmt::format(format, std::forward<Args>(args)...);
  return std::unexpected<Error>(Error{code, what + ": " + git_message(rc, err)});
}

} // namespace avow::store::detail
