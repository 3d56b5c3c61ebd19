// `avow policy --witness`: a C2SP tlog-policy with a witness quorum over the witness keys of the archive. Apart from
// archive_cosign.cpp (which talks HTTP to witnesses) so that the avow command does not link libcurl for it.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>

#include <archive/log/policy.hpp>
#include <archive/verify/log_reader.hpp>

#include <algorithm>
#include <charconv>

namespace avow {

log::Verifier detail::witness_verifier(const record::KeyEntry& k) {
  const std::string name = k.name.value_or("");
  return log::Verifier{name, log::key_id(name, log::k_sig_cosignature_v1, k.public_key), log::k_sig_cosignature_v1,
                       k.public_key};
}

Expected<std::string> Archive::policy(const std::vector<PolicyWitness>& witnesses, std::string_view quorum) const {
  auto base = policy();
  if (!base) return std::unexpected(base.error());
  if (witnesses.empty()) return base;
  auto head = m_impl->store.head();
  if (!head) return std::unexpected(head.error());
  auto keyed = detail::read_keyed_checkpoint(*m_impl, **head);
  if (!keyed) return std::unexpected(keyed.error());
  auto keys = verify::key_state_at(m_impl->store, **head, keyed->signed_checkpoint, m_impl->log_verifier);
  if (!keys) return std::unexpected(keys.error());

  log::Policy p;
  p.logs.push_back({keyed->log_key, {}});
  log::PolicyGroup group{"witnesses", 0, {}};
  for (const auto& w : witnesses) {
    if (p.witnesses.contains(w.name)) return fail(ErrorCode::invalid_input, "witness '{}' is named twice", w.name);
    const auto k = std::find_if(keys->keys.begin(), keys->keys.end(), [&](const record::KeyEntry& e) {
      return e.role == record::k_role_witness && e.name == w.name && !e.revoked();
    });
    if (k == keys->keys.end())
      return fail(ErrorCode::not_found, "no witness key named '{}' in force in this archive (add its vkey with avow key add)",
                  w.name);
    if (!log::is_valid_key_name(w.name))
      return fail(ErrorCode::invalid_input, "witness name '{}' is not a key name (no '+', no white space)", w.name);
    if (w.url.find_first_of(" \t\n") != std::string::npos)
      return fail(ErrorCode::invalid_input, "witness URL '{}' has white space", w.url);
    p.witnesses.emplace(w.name, log::PolicyWitness{detail::witness_verifier(*k), w.url});
    group.members.push_back(w.name);
  }
  const std::size_t n = group.members.size();
  if (quorum.empty()) group.threshold = n / 2 + 1;
  else if (quorum == "any") group.threshold = 1;
  else if (quorum == "all") group.threshold = n;
  else {
    std::size_t k = 0;
    auto [ptr, ec] = std::from_chars(quorum.data(), quorum.data() + quorum.size(), k);
    if (ec != std::errc{} || ptr != quorum.data() + quorum.size() || k < 1 || k > n)
      return fail(ErrorCode::invalid_input, "invalid quorum '{}': want any, all or a number from 1 to {}", quorum, n);
    group.threshold = k;
  }
  p.groups.push_back(std::move(group));
  p.quorum = "witnesses";
  return fmt::format("# Trust policy (C2SP tlog-policy) for the avow archive {}: {} of {} witnesses must cosign\n{}",
                     m_impl->config.origin, p.groups.front().threshold, n, log::format_policy(p));
}

} // namespace avow
