#include "cli.hpp"

#include <archive/util/file.hpp>

namespace avow::tool {
namespace {

// Read the TSA CA certificate file named by --tsa-cert; nullopt when not given.
Expected<std::optional<std::string>> read_tsa_cert(const std::string& file) {
  if (file.empty()) return std::optional<std::string>{};
  auto pem = read_file(file, crypto::k_max_tsa_cert_bytes);
  if (!pem) return std::unexpected(Error{pem.error().code, fmt::format("--tsa-cert: {}", pem.error().message)});
  return std::optional<std::string>(std::move(*pem));
}

void print_token(const Globals& g, const Archive::Timestamp& t) {
  if (g.json) {
    print_json({{"tree_size", t.tree_size}, {"path", t.path}, {"gen_time", t.info.gen_time_text},
                {"tsa", t.info.tsa_name}, {"signer", t.info.signer}, {"serial", t.info.serial},
                {"policy", t.info.policy}, {"verified", t.verified}, {"commit", t.commit}});
    return;
  }
  std::printf("time-stamped checkpoint %llu: existed by %s (%s), token stored at %s\n",
              static_cast<unsigned long long>(t.tree_size), t.info.gen_time_text.c_str(),
              t.info.tsa_name.empty() ? "TSA not named" : t.info.tsa_name.c_str(), t.path.c_str());
  if (!t.verified)
    std::printf("the token was not checked against a TSA certificate (give --tsa-cert FILE to check it)\n");
  std::printf("commit %s\n", t.commit.c_str());
}

} // namespace

void add_timestamp(CLI::App& app, Globals& g) {
  auto* ts = app.add_subcommand("timestamp", k_about_timestamp);
  ts->footer("Examples:\n  avow -C archive timestamp fetch --tsa https://freetsa.org/tsr --tsa-cert cacert.pem\n"
             "  avow -C archive timestamp request -o checkpoint.tsq\n"
             "  avow -C archive timestamp attach reply.tsr --tsa-cert cacert.pem");
  ts->require_subcommand(1);
  ts->fallthrough();

  auto* req = ts->add_subcommand("request", "Write an RFC 3161 time-stamp request (DER) for the current checkpoint.");
  req->footer("Examples:\n  avow -C archive timestamp request -o checkpoint.tsq\n"
              "  curl -sS -H 'Content-Type: application/timestamp-query' --data-binary @checkpoint.tsq "
              "https://freetsa.org/tsr -o reply.tsr");
  req->fallthrough();
  auto out = std::make_shared<std::string>();
  req->add_option("-o,--out", *out, "Request file to write (.tsq).")->required();
  req->callback([&g, out] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->timestamp_request();
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (auto ok = write_file_atomic(*out, r->der, FileMode::public_0644, Overwrite::yes); !ok) {
      g.exit_code = report(ok.error());
      return;
    }
    if (g.json) {
      print_json({{"file", *out}, {"tree_size", r->tree_size}, {"body_sha256", r->body_sha256}});
      return;
    }
    std::printf("time-stamp request for checkpoint %llu (body SHA-256 %s) written to %s\n",
                static_cast<unsigned long long>(r->tree_size), r->body_sha256.c_str(), out->c_str());
  });

  auto* attach = ts->add_subcommand("attach", "Check a time-stamp response (DER .tsr) and store it in the archive.");
  attach->footer("Examples:\n  avow -C archive timestamp attach reply.tsr\n"
                 "  avow -C archive timestamp attach reply.tsr --tsa-cert cacert.pem --json\n"
                 "Exit 3: not granted, or for another checkpoint; 4: that checkpoint already has a token; 5: the "
                 "token does not verify under --tsa-cert.");
  attach->fallthrough();
  auto tsr = std::make_shared<std::string>();
  auto attach_cert = std::make_shared<std::string>();
  attach->add_option("tsr", *tsr, "Time-stamp response file (DER TimeStampResp).")->required();
  attach->add_option("--tsa-cert", *attach_cert, "PEM certificate(s) of the TSA's CA: refuse a token it does not vouch for.");
  attach->callback([&g, tsr, attach_cert] {
    auto cert = read_tsa_cert(*attach_cert);
    if (!cert) {
      g.exit_code = report(cert.error());
      return;
    }
    auto der = read_file(*tsr, crypto::k_max_timestamp_bytes);
    if (!der) {
      g.exit_code = report(der.error());
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->timestamp_attach(*der, {*cert, passphrase_source(g), std::chrono::milliseconds{10000}});
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    print_token(g, *r);
  });

  auto* fetch = ts->add_subcommand("fetch", "Ask a time-stamp authority over HTTP for a token on the current checkpoint, "
                                            "and store it.");
  fetch->footer("Examples:\n  avow -C archive timestamp fetch --tsa https://freetsa.org/tsr --tsa-cert cacert.pem\n"
                "  avow -C archive timestamp fetch --tsa http://127.0.0.1:3180/ --json\n"
                "Exit 6: the TSA cannot be reached or answers with an HTTP error (the reason is printed).");
  fetch->fallthrough();
  auto url = std::make_shared<std::string>();
  auto fetch_cert = std::make_shared<std::string>();
  fetch->add_option("--tsa", *url, "URL of the time-stamp authority (http:// or https://; redirects are not followed).")
      ->required();
  fetch->add_option("--tsa-cert", *fetch_cert, "PEM certificate(s) of the TSA's CA: refuse a token it does not vouch for.");
  fetch->callback([&g, url, fetch_cert] {
    auto cert = read_tsa_cert(*fetch_cert);
    if (!cert) {
      g.exit_code = report(cert.error());
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->timestamp_fetch(*url, {*cert, passphrase_source(g), std::chrono::milliseconds{10000}});
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    print_token(g, *r);
  });
}

} // namespace avow::tool
