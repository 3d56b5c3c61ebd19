#pragma once

#include <archive/store/git_store.hpp>
#include <archive/util/error.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Git remotes of a repository (libgit2 1.5): the remotes in its config, fetching a remote's main into a local ref,
// pushing main as a fast-forward, and local refs other than main. It knows nothing about archives: the façade checks
// what it fetched before any of it becomes main.
//
// URLs: a path or file:// URL (a local repository), git://, ssh:// (or scp-like user@host:path) and https://, as
// libgit2 supports them. Credentials: ssh asks the ssh-agent (SSH_AUTH_SOCK) for the URL's user (default "git");
// other transports use none. Connection and transfer failures are io errors carrying libgit2's message.
namespace avow::store {

// The ref a remote's main is fetched into, before it is checked: refs/avow/quarantine/<name>.
std::string quarantine_ref(std::string_view remote_name);

struct RemoteInfo {
  std::string name;
  std::string url;
};

// Add the remote `name` with `url` to the repository config (remote.<name>.url, and a fetch refspec that brings its
// main into the quarantine ref only). invalid_input for a name git refuses; already_exists for a remote already
// configured; git otherwise.
Expected<void> remote_add(const std::filesystem::path& git_dir, std::string_view name, std::string_view url);
// List the configured remotes, by name.
Expected<std::vector<RemoteInfo>> remote_list(const std::filesystem::path& git_dir);
// Return the URL of remote `name`; not_found when it is not configured.
Expected<std::string> remote_url(const std::filesystem::path& git_dir, std::string_view name);

// Fetch `refs/heads/main` of `url` into `ref` (created or replaced; no other ref, no FETCH_HEAD, no tags) and return
// the fetched commit, or nullopt when the remote has no main (then `ref` is left as it was). io when the remote
// cannot be reached or the transfer fails.
Expected<std::optional<Oid>> fetch_main(const std::filesystem::path& git_dir, std::string_view url, std::string_view ref);

struct RemoteRef {
  std::string name;
  Oid id;
};
// List the refs `url` advertises (as `git ls-remote`). io when it cannot be reached.
Expected<std::vector<RemoteRef>> list_remote_refs(const std::filesystem::path& git_dir, std::string_view url);

// Push `commit` to refs/heads/main of `url` as a fast-forward only, and only while the remote's main is still
// `expected` (nullopt: the remote has no main yet): a lease on what was just fetched. failed_precondition "remote
// 'URL' moved since it was fetched" when it is not, or when the remote refuses the update (not a fast-forward);
// io when it cannot be reached or the transfer fails.
Expected<void> push_main(const std::filesystem::path& git_dir, std::string_view url, const Oid& commit,
                         const std::optional<Oid>& expected);

// Read the local ref `ref` (a full name such as refs/avow/quarantine/origin); nullopt when it does not exist.
Expected<std::optional<Oid>> read_ref(const std::filesystem::path& git_dir, std::string_view ref);
// Delete the local ref `ref`; nothing to do when it does not exist.
Expected<void> delete_ref(const std::filesystem::path& git_dir, std::string_view ref);
// Move the local ref `ref` to `to` by compare-and-swap: only if it is `from` now (nullopt: it must not exist).
// failed_precondition "'REF' changed meanwhile" otherwise.
Expected<void> move_ref(const std::filesystem::path& git_dir, std::string_view ref, const Oid& to,
                        const std::optional<Oid>& from, std::string_view log_message);
// Return whether commit `ancestor` is `descendant` or one of its ancestors (any parent line).
Expected<bool> is_ancestor(const std::filesystem::path& git_dir, const Oid& ancestor, const Oid& descendant);

} // namespace avow::store
