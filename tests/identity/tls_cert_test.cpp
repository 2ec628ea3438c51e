// tls_cert_test.cpp — M01 §3.1 generate_self_signed_cert, §8 test_tls_cert_includes_short_node_id;
// fingerprint and public-key extraction for X01 §4 pinning.
#include "identity/tls_cert.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <regex>

#include "core/encoding.h"

namespace hn::identity {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_pem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x);
}

std::string common_name(X509* x) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  return buf;
}

std::vector<std::string> san_dns_names(X509* x) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                       static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      out.emplace_back("IP");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

TEST(IdentityTlsCert, CommonNameIsShortNodeId) {
  KeyPair kp = KeyPair::generate();
  auto cert = generate_self_signed_cert(kp);
  ASSERT_TRUE(cert.has_value()) << cert.error().to_string();
  X509Ptr x = parse_pem(cert->cert_pem);
  ASSERT_TRUE(x);
  std::string expected = kp.short_id().substr(8);
  std::transform(expected.begin(), expected.end(), expected.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  expected += ".hearthnet.local";
  EXPECT_EQ(common_name(x.get()), expected);
  EXPECT_EQ(tls_host_name(kp.public_key()), expected);
  EXPECT_TRUE(std::regex_match(expected, std::regex("[a-z2-7]{4}(-[a-z2-7]{4}){3}\\.hearthnet\\.local")));
  // Self-signed: issuer == subject.
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(san_dns_names(x.get()), std::vector<std::string>{expected});
}

TEST(IdentityTlsCert, TenYearValidity) {
  KeyPair kp = KeyPair::generate();
  ManualClock clock(1'780'000'000'000);
  auto cert = generate_self_signed_cert(kp, {}, clock);
  ASSERT_TRUE(cert.has_value());
  X509Ptr x = parse_pem(cert->cert_pem);
  ASSERT_TRUE(x);
  int days = 0, secs = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x.get()), X509_get0_notAfter(x.get())), 1);
  EXPECT_EQ(days, TLS_CERT_VALIDITY_DAYS + 1);  // backdated one day for clock skew
  EXPECT_EQ(secs, 0);
  time_t now = static_cast<time_t>(clock.now_seconds());
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(x.get()), &now), -1);
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(x.get()), &now), 1);
}

TEST(IdentityTlsCert, KeyIsTheDeviceKeyAndCertVerifies) {
  KeyPair kp = KeyPair::generate();
  auto cert = generate_self_signed_cert(kp);
  ASSERT_TRUE(cert.has_value());
  auto pub = public_key_from_cert(cert->cert_pem);
  ASSERT_TRUE(pub.has_value()) << pub.error().to_string();
  EXPECT_EQ(*pub, kp.public_key());
  EXPECT_TRUE(verify_cert_for_node_id(cert->cert_pem, kp.node_id().str()).has_value());
  KeyPair other = KeyPair::generate();
  EXPECT_EQ(verify_cert_for_node_id(cert->cert_pem, other.node_id().str()).error().code,
            ErrorCode::invalid_signature);

  // The private key PEM is the device seed.
  BIO* bio = BIO_new_mem_buf(cert->key_pem.data(), static_cast<int>(cert->key_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pkey, nullptr);
  std::array<std::uint8_t, 32> seed{};
  std::size_t len = seed.size();
  ASSERT_EQ(EVP_PKEY_get_raw_private_key(pkey, seed.data(), &len), 1);
  EXPECT_EQ(seed, kp.seed());
  X509Ptr x = parse_pem(cert->cert_pem);
  EXPECT_EQ(X509_check_private_key(x.get(), pkey), 1);
  EVP_PKEY_free(pkey);
}

TEST(IdentityTlsCert, SerialsAreRandomAndPositive) {
  KeyPair kp = KeyPair::generate();
  auto a = generate_self_signed_cert(kp);
  auto b = generate_self_signed_cert(kp);
  ASSERT_TRUE(a.has_value() && b.has_value());
  X509Ptr xa = parse_pem(a->cert_pem), xb = parse_pem(b->cert_pem);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(xa.get()), X509_get0_serialNumber(xb.get())), 0);
  EXPECT_NE(a->cert_pem, b->cert_pem);
  // Different certificates of the same key: fingerprints differ, the key does not.
  EXPECT_NE(*cert_fingerprint(a->cert_pem), *cert_fingerprint(b->cert_pem));
  EXPECT_EQ(*public_key_from_cert(a->cert_pem), *public_key_from_cert(b->cert_pem));
}

TEST(IdentityTlsCert, FingerprintIsSha256OfDer) {
  KeyPair kp = KeyPair::generate();
  auto cert = generate_self_signed_cert(kp);
  ASSERT_TRUE(cert.has_value());
  auto fp = cert_fingerprint(cert->cert_pem);
  ASSERT_TRUE(fp.has_value());
  EXPECT_TRUE(std::regex_match(*fp, std::regex("sha256:[0-9a-f]{64}"))) << *fp;
  X509Ptr x = parse_pem(cert->cert_pem);
  unsigned char* der = nullptr;
  int der_len = i2d_X509(x.get(), &der);
  ASSERT_GT(der_len, 0);
  unsigned char md[32];
  unsigned int md_len = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<std::size_t>(der_len), md, &md_len, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  EXPECT_EQ(*fp, "sha256:" + hex_encode(std::span<const std::uint8_t>(md, md_len)));
  EXPECT_EQ(*cert_fingerprint(cert->cert_pem), *fp);  // stable
}

TEST(IdentityTlsCert, HostGoesIntoSan) {
  KeyPair kp = KeyPair::generate();
  auto with_ip = generate_self_signed_cert(kp, "192.168.188.25");
  ASSERT_TRUE(with_ip.has_value()) << with_ip.error().to_string();
  X509Ptr x = parse_pem(with_ip->cert_pem);
  EXPECT_EQ(san_dns_names(x.get()).size(), 2u);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "192.168.188.25", 0), 1);
  auto with_name = generate_self_signed_cert(kp, "garage-pc.local");
  ASSERT_TRUE(with_name.has_value());
  x = parse_pem(with_name->cert_pem);
  EXPECT_EQ(X509_check_host(x.get(), "garage-pc.local", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(x.get(), tls_host_name(kp.public_key()).c_str(), 0, 0, nullptr), 1);
  EXPECT_EQ(generate_self_signed_cert(kp, "bad host,DNS:evil").error().code,
            ErrorCode::bad_request);
}

TEST(IdentityTlsCert, GarbageAndForeignCertsAreErrors) {
  EXPECT_EQ(cert_fingerprint("not a cert").error().code, ErrorCode::bad_request);
  EXPECT_EQ(public_key_from_cert("").error().code, ErrorCode::bad_request);
  EXPECT_EQ(public_key_from_cert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .error()
                .code,
            ErrorCode::bad_request);
  KeyPair kp = KeyPair::generate();
  EXPECT_EQ(verify_cert_for_node_id("junk", kp.node_id().str()).error().code,
            ErrorCode::bad_request);

  // A certificate with a non-Ed25519 key (P-256) is refused with keys_invalid.
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  X509Ptr x(X509_new());
  X509_set_version(x.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), ec);
  ASSERT_GT(X509_sign(x.get(), ec, EVP_sha256()), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  EXPECT_EQ(public_key_from_cert(pem).error().code, ErrorCode::keys_invalid);
  EXPECT_EQ(verify_cert_for_node_id(pem, kp.node_id().str()).error().code,
            ErrorCode::invalid_signature);
}

}  // namespace
}  // namespace hn::identity
