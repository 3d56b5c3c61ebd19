#include <archive/store/remote.hpp>

#include <archive/store/git_handles.hpp>

#include <git2.h>

#include <algorithm>
#include <cstring>

namespace avow::store {
namespace {

namespace fs = std::filesystem;
using namespace detail;

using RemotePtr = std::unique_ptr<git_remote, CFree<&git_remote_free>>;

// Open the repository whose git dir is `git_dir` (no search upwards).
Expected<RepoPtr> open_git_dir(const fs::path& git_dir) {
  git_repository* raw = nullptr;
  if (int rc = git_repository_open_ext(&raw, git_dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot open repository '{}'", git_dir.string());
  return RepoPtr{raw};
}

// What the transfer callbacks share.
struct Transfer {
  int ssh_attempts = 0;
  std::optional<Oid> expected;   // push: the remote main we fetched (nullopt: none)
  Oid pushing{};                 // push: the commit we mean to send
  std::string refused;           // push: why the update was refused
};

// ssh: ask the agent once for the URL's user; other transports get no credentials (libgit2 then fails with its
// message, which the caller reports).
int credentials(git_credential** out, const char* /*url*/, const char* user, unsigned int allowed, void* payload) {
  auto* t = static_cast<Transfer*>(payload);
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && t->ssh_attempts++ == 0)
    return git_credential_ssh_key_from_agent(out, user != nullptr ? user : "git");
  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0 && t->ssh_attempts++ == 0)
    return git_credential_username_new(out, user != nullptr ? user : "git");
  return GIT_PASSTHROUGH;
}

// The lease: refuse to push unless the remote's main is still what we fetched and we send what we checked.
int push_negotiation(const git_push_update** updates, size_t len, void* payload) {
  auto* t = static_cast<Transfer*>(payload);
  for (size_t i = 0; i < len; ++i) {
    const git_push_update* u = updates[i];
    if (std::strcmp(u->dst_refname, "refs/heads/main") != 0) continue;
    const bool none = git_oid_is_zero(&u->src) != 0;
    const bool same = t->expected ? !none && from_git(u->src) == *t->expected : none;
    if (!same) {
      t->refused = "its main moved since it was fetched";
      return GIT_EUSER;
    }
    if (from_git(u->dst) != t->pushing) {
      t->refused = "the local main moved since it was checked";
      return GIT_EUSER;
    }
  }
  return 0;
}

int push_update_reference(const char* refname, const char* status, void* payload) {
  auto* t = static_cast<Transfer*>(payload);
  if (status != nullptr) t->refused = fmt::format("it refused to update {}: {}", refname, status);
  return 0;
}

git_remote_callbacks callbacks_for(Transfer& t) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = credentials;
  cb.push_negotiation = push_negotiation;
  cb.push_update_reference = push_update_reference;
  cb.payload = &t;
  return cb;
}

Expected<RemotePtr> anonymous_remote(git_repository* repo, std::string_view url) {
  git_remote* raw = nullptr;
  const std::string u(url);
  if (int rc = git_remote_create_anonymous(&raw, repo, u.c_str()); rc < 0)
    return git_failure(rc, ErrorCode::io, "cannot use remote '{}'", u);
  return RemotePtr{raw};
}

// An anonymous remote for `url` in the repository at `git_dir`, with its transfer state and callbacks.
struct Connection {
  LibGit2Session session; // first: outlives the handles below
  RepoPtr repo;
  RemotePtr remote;
  Transfer transfer;
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
};
Expected<std::unique_ptr<Connection>> open_remote(const fs::path& git_dir, std::string_view url) {
  auto c = std::make_unique<Connection>();
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  c->repo = std::move(*repo);
  auto remote = anonymous_remote(c->repo.get(), url);
  if (!remote) return std::unexpected(remote.error());
  c->remote = std::move(*remote);
  c->callbacks = callbacks_for(c->transfer);
  return c;
}

// Connect to `url` for `direction` and return its advertised refs.
Expected<std::vector<RemoteRef>> connect_and_list(git_remote* remote, std::string_view url, git_direction direction,
                                                  const git_remote_callbacks& cb) {
  if (int rc = git_remote_connect(remote, direction, &cb, nullptr, nullptr); rc < 0)
    return git_failure(rc, ErrorCode::io, "cannot reach remote '{}'", url);
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  if (int rc = git_remote_ls(&heads, &n, remote); rc < 0)
    return git_failure(rc, ErrorCode::io, "cannot list the refs of remote '{}'", url);
  std::vector<RemoteRef> out;
  for (size_t i = 0; i < n; ++i) out.push_back({heads[i]->name, from_git(heads[i]->oid)});
  return out;
}

std::optional<Oid> main_of(const std::vector<RemoteRef>& refs) {
  for (const auto& r : refs)
    if (r.name == "refs/heads/main") return r.id;
  return std::nullopt;
}

} // namespace

std::string quarantine_ref(std::string_view remote_name) { return "refs/avow/quarantine/" + std::string(remote_name); }

Expected<void> remote_add(const fs::path& git_dir, std::string_view name, std::string_view url) {
  LibGit2Session session;
  const std::string n(name);
  const std::string u(url);
  int valid = 0;
  if (n.empty() || git_remote_name_is_valid(&valid, n.c_str()) < 0 || valid == 0)
    return fail(ErrorCode::invalid_input, "invalid remote name '{}'", n);
  if (u.empty()) return fail(ErrorCode::invalid_input, "invalid remote URL '': empty");
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const std::string fetchspec = "+refs/heads/main:" + quarantine_ref(n);
  git_remote* raw = nullptr;
  if (int rc = git_remote_create_with_fetchspec(&raw, repo->get(), n.c_str(), u.c_str(), fetchspec.c_str()); rc < 0) {
    if (rc == GIT_EEXISTS) return fail(ErrorCode::already_exists, "remote '{}' already exists", n);
    return git_failure(rc, rc == GIT_EINVALIDSPEC ? ErrorCode::invalid_input : ErrorCode::git,
                       "cannot add remote '{}'", n);
  }
  RemotePtr remote{raw};
  return {};
}

Expected<std::vector<RemoteInfo>> remote_list(const fs::path& git_dir) {
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  git_strarray names{};
  if (int rc = git_remote_list(&names, repo->get()); rc < 0) return git_failure(rc, ErrorCode::git, "cannot list remotes");
  std::vector<RemoteInfo> out;
  for (size_t i = 0; i < names.count; ++i) {
    git_remote* raw = nullptr;
    if (git_remote_lookup(&raw, repo->get(), names.strings[i]) < 0) continue;
    RemotePtr remote{raw};
    const char* url = git_remote_url(raw);
    out.push_back({names.strings[i], url ? url : ""});
  }
  git_strarray_dispose(&names);
  std::sort(out.begin(), out.end(), [](const RemoteInfo& a, const RemoteInfo& b) { return a.name < b.name; });
  return out;
}

Expected<std::string> remote_url(const fs::path& git_dir, std::string_view name) {
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const std::string n(name);
  git_remote* raw = nullptr;
  if (int rc = git_remote_lookup(&raw, repo->get(), n.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC)
      return fail(ErrorCode::not_found, "no remote '{}' (add it with: avow remote add {} URL)", n, n);
    return git_failure(rc, ErrorCode::git, "cannot read remote '{}'", n);
  }
  RemotePtr remote{raw};
  const char* url = git_remote_url(raw);
  return std::string(url ? url : "");
}

Expected<std::optional<Oid>> fetch_main(const fs::path& git_dir, std::string_view url, std::string_view ref) {
  auto c = open_remote(git_dir, url);
  if (!c) return std::unexpected(c.error());
  git_remote* remote = (*c)->remote.get();
  const git_remote_callbacks& cb = (*c)->callbacks;
  auto refs = connect_and_list(remote, url, GIT_DIRECTION_FETCH, cb);
  if (!refs) return std::unexpected(refs.error());
  const auto main = main_of(*refs);
  if (!main) {
    git_remote_disconnect(remote);
    return std::optional<Oid>{};
  }
  git_fetch_options opts = GIT_FETCH_OPTIONS_INIT;
  opts.callbacks = cb;
  opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  opts.update_fetchhead = 0;
  char spec[] = "refs/heads/main";
  char* specs[] = {spec};
  const git_strarray refspecs{specs, 1};
  if (int rc = git_remote_download(remote, &refspecs, &opts); rc < 0)
    return git_failure(rc, ErrorCode::io, "cannot fetch from remote '{}'", url);
  git_remote_disconnect(remote);
  // The objects are in; point the quarantine ref at the advertised main (which must now be a local commit).
  const git_oid oid = to_git(*main);
  git_commit* commit = nullptr;
  if (int rc = git_commit_lookup(&commit, (*c)->repo.get(), &oid); rc < 0)
    return git_failure(rc, ErrorCode::io, "remote '{}' did not send its main commit", url);
  git_commit_free(commit);
  const std::string r(ref);
  git_reference* out = nullptr;
  if (int rc = git_reference_create(&out, (*c)->repo.get(), r.c_str(), &oid, 1, "avow: fetch main"); rc < 0)
    return git_failure(rc, ErrorCode::git, "cannot write ref '{}'", r);
  git_reference_free(out);
  return std::optional<Oid>{*main};
}

Expected<std::vector<RemoteRef>> list_remote_refs(const fs::path& git_dir, std::string_view url) {
  auto c = open_remote(git_dir, url);
  if (!c) return std::unexpected(c.error());
  git_remote* remote = (*c)->remote.get();
  const git_remote_callbacks& cb = (*c)->callbacks;
  auto refs = connect_and_list(remote, url, GIT_DIRECTION_FETCH, cb);
  git_remote_disconnect(remote);
  return refs;
}

Expected<void> push_main(const fs::path& git_dir, std::string_view url, const Oid& commit,
                         const std::optional<Oid>& expected) {
  auto c = open_remote(git_dir, url);
  if (!c) return std::unexpected(c.error());
  Transfer& t = (*c)->transfer;
  t.expected = expected;
  t.pushing = commit;
  git_push_options opts = GIT_PUSH_OPTIONS_INIT;
  opts.callbacks = (*c)->callbacks;
  // Not forced ("+" absent): the remote refuses anything but a fast-forward on its own as well.
  char spec[] = "refs/heads/main:refs/heads/main";
  char* specs[] = {spec};
  const git_strarray refspecs{specs, 1};
  const int rc = git_remote_push((*c)->remote.get(), &refspecs, &opts);
  if (!t.refused.empty())
    return fail(ErrorCode::failed_precondition, "cannot push to remote '{}': {}", url, t.refused);
  if (rc < 0) return git_failure(rc, ErrorCode::io, "cannot push to remote '{}'", url);
  return {};
}

Expected<std::optional<Oid>> read_ref(const fs::path& git_dir, std::string_view ref) {
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const std::string r(ref);
  git_oid oid;
  if (int rc = git_reference_name_to_id(&oid, repo->get(), r.c_str()); rc < 0) {
    if (rc == GIT_ENOTFOUND) return std::optional<Oid>{};
    return git_failure(rc, ErrorCode::git, "cannot read ref '{}'", r);
  }
  return std::optional<Oid>{from_git(oid)};
}

Expected<void> delete_ref(const fs::path& git_dir, std::string_view ref) {
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const std::string r(ref);
  if (int rc = git_reference_remove(repo->get(), r.c_str()); rc < 0 && rc != GIT_ENOTFOUND)
    return git_failure(rc, ErrorCode::git, "cannot delete ref '{}'", r);
  return {};
}

Expected<void> move_ref(const fs::path& git_dir, std::string_view ref, const Oid& to, const std::optional<Oid>& from,
                        std::string_view log_message) {
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const std::string r(ref);
  const std::string msg(log_message);
  const git_oid new_id = to_git(to);
  git_reference* out = nullptr;
  int rc = 0;
  if (from) {
    const git_oid old_id = to_git(*from);
    rc = git_reference_create_matching(&out, repo->get(), r.c_str(), &new_id, 1, &old_id, msg.c_str());
  } else {
    rc = git_reference_create(&out, repo->get(), r.c_str(), &new_id, 0, msg.c_str());
  }
  git_reference_free(out);
  if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
    return fail(ErrorCode::failed_precondition, "'{}' changed meanwhile (another writer?)", r);
  if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot move '{}'", r);
  return {};
}

Expected<bool> is_ancestor(const fs::path& git_dir, const Oid& ancestor, const Oid& descendant) {
  if (ancestor == descendant) return true;
  LibGit2Session session;
  auto repo = open_git_dir(git_dir);
  if (!repo) return std::unexpected(repo.error());
  const git_oid a = to_git(ancestor);
  const git_oid d = to_git(descendant);
  const int rc = git_graph_descendant_of(repo->get(), &d, &a);
  if (rc < 0) return git_failure(rc, ErrorCode::git, "cannot compare commits");
  return rc == 1;
}

} // namespace avow::store
