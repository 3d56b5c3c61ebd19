#include <archive/crypto/timestamp.hpp>

#include <archive/crypto/openssl_handles.hpp>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <limits>

namespace avow::crypto {
namespace {

using detail::BioPtr;
using detail::CFree;
using detail::drain_openssl_errors;
using TsReqPtr = std::unique_ptr<TS_REQ, CFree<&TS_REQ_free>>;
using TsRespPtr = std::unique_ptr<TS_RESP, CFree<&TS_RESP_free>>;
using TsImprintPtr = std::unique_ptr<TS_MSG_IMPRINT, CFree<&TS_MSG_IMPRINT_free>>;
using TsVerifyCtxPtr = std::unique_ptr<TS_VERIFY_CTX, CFree<&TS_VERIFY_CTX_free>>;
using AlgorPtr = std::unique_ptr<X509_ALGOR, CFree<&X509_ALGOR_free>>;
using AsnIntPtr = std::unique_ptr<ASN1_INTEGER, CFree<&ASN1_INTEGER_free>>;
using BnPtr = std::unique_ptr<BIGNUM, CFree<&BN_free>>;
using X509Ptr = std::unique_ptr<X509, CFree<&X509_free>>;
using StorePtr = std::unique_ptr<X509_STORE, CFree<&X509_STORE_free>>;

struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); } // references only: never pop_free
};
using SignersPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string{};
}

// Keep printable ASCII only: these strings come from a hostile token and end up in terminal output.
std::string printable(std::string s) {
  for (auto& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return s;
}

Expected<TsRespPtr> decode_response(std::string_view der) {
  if (der.empty()) return fail(ErrorCode::invalid_input, "not a time-stamp response: empty");
  if (der.size() > k_max_timestamp_bytes)
    return fail(ErrorCode::invalid_input, "not a time-stamp response: {} bytes, over the limit of {}", der.size(),
                k_max_timestamp_bytes);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  TsRespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return fail(ErrorCode::invalid_input, "not a DER time-stamp response: {}", drain_openssl_errors());
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    return fail(ErrorCode::invalid_input, "not a time-stamp response: {} trailing bytes after the DER",
                reinterpret_cast<const unsigned char*>(der.data()) + der.size() - p);
  return resp;
}

const char* status_name(long status) {
  switch (status) {
  case 0: return "granted";
  case 1: return "grantedWithMods";
  case 2: return "rejection";
  case 3: return "waiting";
  case 4: return "revocationWarning";
  case 5: return "revocationNotification";
  default: return "unknown status";
  }
}

// The failure bits of PKIFailureInfo (RFC 3161 §2.4.2).
std::string failure_text(const ASN1_BIT_STRING* bits) {
  if (bits == nullptr) return {};
  static const std::pair<int, const char*> names[] = {
      {0, "bad algorithm"},         {2, "bad request"},         {5, "bad data format"},
      {14, "time not available"},   {15, "unaccepted policy"}, {16, "unaccepted extension"},
      {17, "add info not available"}, {25, "system failure"}};
  std::string out;
  for (const auto& [bit, name] : names)
    if (ASN1_BIT_STRING_get_bit(bits, bit)) out += std::string(out.empty() ? "" : ", ") + name;
  return out;
}

Expected<SysSeconds> to_sys_seconds(const ASN1_GENERALIZEDTIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return fail(ErrorCode::invalid_input, "time-stamp token has an invalid genTime");
  const std::chrono::year_month_day ymd{std::chrono::year{tm.tm_year + 1900},
                                        std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                        std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  if (!ymd.ok()) return fail(ErrorCode::invalid_input, "time-stamp token has an invalid genTime");
  return SysSeconds{std::chrono::sys_days{ymd}} + std::chrono::hours{tm.tm_hour} + std::chrono::minutes{tm.tm_min} +
         std::chrono::seconds{tm.tm_sec};
}

} // namespace

Expected<std::string> timestamp_request(const Digest& digest) {
  TsReqPtr req(TS_REQ_new());
  TsImprintPtr imprint(TS_MSG_IMPRINT_new());
  AlgorPtr algo(X509_ALGOR_new());
  if (!req || !imprint || !algo) return fail(ErrorCode::crypto, "cannot build a time-stamp request: out of memory");
  X509_ALGOR_set_md(algo.get(), EVP_sha256());
  unsigned char nonce_bytes[8];
  if (RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1)
    return fail(ErrorCode::crypto, "cannot draw a nonce: {}", drain_openssl_errors());
  nonce_bytes[0] &= 0x7f; // a positive INTEGER without a leading zero byte when the top bit is set
  BnPtr bn(BN_bin2bn(nonce_bytes, sizeof nonce_bytes, nullptr));
  AsnIntPtr nonce(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
  // The setters copy their arguments.
  if (!nonce || TS_REQ_set_version(req.get(), 1) != 1 || TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest.data()), static_cast<int>(digest.size())) != 1 ||
      TS_REQ_set_msg_imprint(req.get(), imprint.get()) != 1 || TS_REQ_set_nonce(req.get(), nonce.get()) != 1 ||
      TS_REQ_set_cert_req(req.get(), 1) != 1)
    return fail(ErrorCode::crypto, "cannot build a time-stamp request: {}", drain_openssl_errors());
  unsigned char* out = nullptr;
  const int len = i2d_TS_REQ(req.get(), &out);
  if (len <= 0) return fail(ErrorCode::crypto, "cannot encode a time-stamp request: {}", drain_openssl_errors());
  std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(len));
  OPENSSL_free(out);
  return der;
}

Expected<TimestampInfo> parse_timestamp_response(std::string_view der) {
  auto resp = decode_response(der);
  if (!resp) return std::unexpected(resp.error());
  TimestampInfo info;
  TS_STATUS_INFO* status_info = TS_RESP_get_status_info(resp->get());
  const long status = status_info ? ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status_info)) : -1;
  if (status != 0 && status != 1) {
    std::string why;
    if (status_info) {
      if (const auto* texts = TS_STATUS_INFO_get0_text(status_info))
        for (int i = 0; i < sk_ASN1_UTF8STRING_num(texts); ++i) {
          const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(texts, i);
          why += std::string(why.empty() ? "" : "; ") +
                 printable(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                       static_cast<std::size_t>(ASN1_STRING_length(s))));
        }
      if (auto f = failure_text(TS_STATUS_INFO_get0_failure_info(status_info)); !f.empty())
        why += std::string(why.empty() ? "" : "; ") + f;
    }
    return fail(ErrorCode::invalid_input, "the time-stamp authority did not grant the request: {}{}",
                status_name(status), why.empty() ? "" : ": " + why);
  }
  info.status = status_name(status);
  TS_TST_INFO* tst = TS_RESP_get_tst_info(resp->get());
  PKCS7* token = TS_RESP_get_token(resp->get());
  if (tst == nullptr || token == nullptr)
    return fail(ErrorCode::invalid_input, "time-stamp response is granted but holds no token");
  if (TS_TST_INFO_get_version(tst) != 1)
    return fail(ErrorCode::invalid_input, "time-stamp token has version {}, not 1", TS_TST_INFO_get_version(tst));
  auto when = to_sys_seconds(TS_TST_INFO_get_time(tst));
  if (!when) return std::unexpected(when.error());
  info.gen_time = *when;
  info.gen_time_text = format_rfc3339_utc(*when);

  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
  const ASN1_OBJECT* oid = nullptr;
  X509_ALGOR_get0(&oid, nullptr, nullptr, imprint ? TS_MSG_IMPRINT_get_algo(imprint) : nullptr);
  if (oid == nullptr || OBJ_obj2nid(oid) != NID_sha256)
    return fail(ErrorCode::invalid_input, "time-stamp token imprint is not SHA-256");
  info.hash_algorithm = "sha256";
  const ASN1_OCTET_STRING* msg = TS_MSG_IMPRINT_get_msg(imprint);
  if (msg == nullptr || ASN1_STRING_length(msg) != static_cast<int>(info.imprint.size()))
    return fail(ErrorCode::invalid_input, "time-stamp token imprint is not 32 bytes");
  std::memcpy(info.imprint.data(), ASN1_STRING_get0_data(msg), info.imprint.size());

  if (const ASN1_INTEGER* serial = TS_TST_INFO_get_serial(tst)) {
    BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
    if (bn) {
      char* hex = BN_bn2hex(bn.get());
      if (hex) info.serial = hex;
      OPENSSL_free(hex);
    }
  }
  if (const ASN1_OBJECT* policy = TS_TST_INFO_get_policy_id(tst)) {
    char buf[128];
    if (OBJ_obj2txt(buf, sizeof buf, policy, 1) > 0) info.policy = buf;
  }
  if (const GENERAL_NAME* name = TS_TST_INFO_get_tsa(tst)) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (bio && GENERAL_NAME_print(bio.get(), const_cast<GENERAL_NAME*>(name)) == 1) info.tsa_name = printable(bio_text(bio.get()));
  }
  if (PKCS7_type_is_signed(token)) {
    SignersPtr signers(PKCS7_get0_signers(token, nullptr, 0));
    if (signers && sk_X509_num(signers.get()) == 1) {
      BioPtr bio(BIO_new(BIO_s_mem()));
      if (bio && X509_NAME_print_ex(bio.get(), X509_get_subject_name(sk_X509_value(signers.get(), 0)), 0,
                                    XN_FLAG_RFC2253) >= 0)
        info.signer = printable(bio_text(bio.get()));
    }
  }
  ERR_clear_error(); // a token without certificates makes PKCS7_get0_signers queue an error: not ours to report
  return info;
}

Expected<void> verify_timestamp_response(std::string_view der, const Digest& digest, std::string_view ca_pem) {
  auto resp = decode_response(der);
  if (!resp) return std::unexpected(resp.error());
  if (ca_pem.size() > k_max_tsa_cert_bytes)
    return fail(ErrorCode::invalid_input, "TSA certificate file is over {} bytes", k_max_tsa_cert_bytes);
  StorePtr store(X509_STORE_new());
  if (!store) return fail(ErrorCode::crypto, "cannot make a certificate store: {}", drain_openssl_errors());
  BioPtr in(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (!in) return fail(ErrorCode::crypto, "cannot read the TSA certificate: {}", drain_openssl_errors());
  int count = 0;
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) // up-refs the certificate
      return fail(ErrorCode::invalid_input, "cannot use a TSA certificate: {}", drain_openssl_errors());
    ++count;
  }
  ERR_clear_error(); // the end of the PEM data is reported as an error
  if (count == 0) return fail(ErrorCode::invalid_input, "the TSA certificate file holds no PEM certificate");

  TsVerifyCtxPtr ctx(TS_VERIFY_CTX_new());
  auto* imprint = static_cast<unsigned char*>(OPENSSL_memdup(digest.data(), digest.size()));
  if (!ctx || !imprint) {
    OPENSSL_free(imprint);
    return fail(ErrorCode::crypto, "cannot make a time-stamp verifier: out of memory");
  }
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_SIGNER | TS_VFY_IMPRINT);
  // The context owns what it is given (TS_VERIFY_CTX_cleanup frees imprint and store).
#if OPENSSL_VERSION_NUMBER >= 0x30400000L
  TS_VERIFY_CTX_set0_imprint(ctx.get(), imprint, static_cast<long>(digest.size()));
  TS_VERIFY_CTX_set0_store(ctx.get(), store.release());
#else
  TS_VERIFY_CTX_set_imprint(ctx.get(), imprint, static_cast<long>(digest.size()));
  TS_VERIFY_CTX_set_store(ctx.get(), store.release());
#endif
  if (TS_RESP_verify_response(ctx.get(), resp->get()) != 1) {
    const std::string why = drain_openssl_errors();
    if (why.find("message imprint mismatch") != std::string::npos)
      return fail(ErrorCode::invalid_input, "the time-stamp token is for other data: {}", why);
    return fail(ErrorCode::key, "the time-stamp token does not verify under the given TSA certificate: {}", why);
  }
  return {};
}

} // namespace avow::crypto
