// export_test.cpp — `hearthnet export` (M12 §3.9) holds settings and state without
// secrets; with --include-keys the private key travels only sealed under a passphrase
// (Argon2id + secretbox) and opens again with it, never with another.
#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>

#include "cli/export_archive.h"
#include "cli/sealed_keys.h"
#include "core/encoding.h"
#include "core/file_util.h"
#include "core/json.h"
#include "support/test_node.h"
#include "support/test_support.h"

namespace hn {
namespace {

std::string base64_original(const std::string& bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.find('\0'));
  return out;
}

// Every form the private key could take in an archive: the raw seed and its hex, base64url
// and base64 encodings, and the TLS key file (PKCS#8 of the same key) and its base64 body.
std::vector<std::pair<std::string, std::string>> key_forms(const fs::path& keys_dir) {
  const std::string seed = *read_file(keys_dir / "device.ed25519");
  std::vector<std::pair<std::string, std::string>> forms = {
      {"raw seed", seed},
      {"hex seed", hex_encode(as_bytes(seed))},
      {"base64url seed", base64url_encode(as_bytes(seed))},
      {"base64 seed", base64_original(seed)},
  };
  if (auto pem = read_file(keys_dir / "tls_key.pem")) {
    forms.emplace_back("tls key file", *pem);
    std::istringstream lines(*pem);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.find("-----") == std::string::npos)
        forms.emplace_back("tls key body", line);
    }
  }
  return forms;
}

// Fails the test when any key form appears in the archive's bytes or in any entry.
void expect_no_key_bytes(const fs::path& archive, const fs::path& keys_dir) {
  const std::string raw = *read_file(archive);
  auto entries = cli::read_export_entries(archive);
  ASSERT_TRUE(entries.has_value()) << entries.error().to_string();
  for (const auto& [what, form] : key_forms(keys_dir)) {
    ASSERT_GE(form.size(), 16u) << what;
    EXPECT_EQ(raw.find(form), std::string::npos) << what << " in the ZIP bytes";
    for (const auto& [name, data] : *entries) {
      EXPECT_EQ(data.find(form), std::string::npos) << what << " in " << name;
    }
  }
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A node that ran once, so its keys folder also holds the TLS key.
    std::string error;
    ASSERT_TRUE(m_node.start(&error)) << error;
  }
  fs::path keys_dir() const { return m_node.home() / "keys"; }
  test::ProcessResult hearthnet(const std::vector<std::string>& args, const std::string& input = "",
                                std::vector<std::string> extra_env = {}) {
    auto env = m_node.env();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return test::run_process(m_node.command(args), env, input);
  }
  test::NodeProcess m_node;
  test::TempDir m_out;
};

TEST_F(ExportTest, WithoutIncludeKeysHoldsNoKeyBytes) {
  ASSERT_TRUE(fs::exists(keys_dir() / "tls_key.pem"));
  const auto out = m_out / "export.zip";
  auto r = hearthnet({"export", "--out", out.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = parse_json(r.out);
  ASSERT_TRUE(summary.has_value()) << r.out;
  EXPECT_EQ((*summary)["includes_keys"], false);

  auto manifest = cli::verify_signed_export(out);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().to_string();
  EXPECT_EQ((*manifest)["secrets"], "none");
  std::set<std::string> files;
  for (const auto& f : (*manifest)["files"]) files.insert(f["path"]);
  EXPECT_TRUE(files.count("config.toml"));
  EXPECT_TRUE(files.count("keys/device.pub"));
  EXPECT_TRUE(files.count("keys/tls_cert.pem"));
  EXPECT_TRUE(files.count("state/events.sqlite"));
  EXPECT_FALSE(files.count("keys/device.ed25519"));
  EXPECT_FALSE(files.count("keys/tls_key.pem"));
  expect_no_key_bytes(out, keys_dir());

  // Nothing to open in it.
  auto keys = cli::open_export_keys(out, "any passphrase");
  ASSERT_FALSE(keys.has_value());
  EXPECT_EQ(keys.error().code, ErrorCode::not_found);
}

TEST_F(ExportTest, IncludeKeysSealsTheKeyUnderThePassphraseAndRoundTrips) {
  const auto out = m_out / "backup.zip";
  const auto pass_file = m_out / "pass.txt";
  std::ofstream(pass_file) << "a long enough passphrase\n";
  auto r = hearthnet(
      {"export", "--include-keys", "--passphrase-file", pass_file.string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("WARNING"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("private key"), std::string::npos) << r.err;

  auto manifest = cli::verify_signed_export(out);
  ASSERT_TRUE(manifest.has_value()) << manifest.error().to_string();
  EXPECT_EQ((*manifest)["secrets"], "sealed");
  // Present only sealed: no form of the key in the clear anywhere.
  expect_no_key_bytes(out, keys_dir());

  auto opened = cli::open_export_keys(out, "a long enough passphrase");
  ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
  EXPECT_EQ((*opened)["device.ed25519"], *read_file(keys_dir() / "device.ed25519"));
  EXPECT_EQ((*opened)["tls_key.pem"], *read_file(keys_dir() / "tls_key.pem"));

  auto wrong = cli::open_export_keys(out, "a long enough passphrasE");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, ErrorCode::verify_failed);
  EXPECT_EQ(wrong.error().detail.value("reason", ""), "wrong_passphrase");
}

TEST_F(ExportTest, IncludeKeysTakesThePassphraseFromTheEnvironment) {
  const auto out = m_out / "env.zip";
  auto r = hearthnet({"export", "--include-keys", "--out", out.string(), "--json"}, "",
                     {"HEARTHNET_EXPORT_PASSPHRASE=from the environment"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = parse_json(r.out);
  ASSERT_TRUE(summary.has_value()) << r.out;
  EXPECT_EQ((*summary)["includes_keys"], true);
  EXPECT_TRUE(cli::open_export_keys(out, "from the environment").has_value());
}

TEST_F(ExportTest, IncludeKeysWithoutAPassphraseOrWithAShortOneWritesNothing) {
  const auto out = m_out / "none.zip";
  // No terminal to ask on (`setsid -w` drops the controlling terminal the test may run
  // under), no file, no variable.
  const std::string setsid = test::find_program("setsid");
  if (!setsid.empty()) {
    std::vector<std::string> argv = {setsid, "-w"};
    for (const auto& a : m_node.command({"export", "--include-keys", "--out", out.string()}))
      argv.push_back(a);
    auto r = test::run_process(argv, m_node.env());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("--passphrase-file"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }

  const auto pass_file = m_out / "short.txt";
  std::ofstream(pass_file) << "short\n";
  auto r = hearthnet(
      {"export", "--include-keys", "--passphrase-file", pass_file.string(), "--out", out.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad_request"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(SealedKeys, AlteredOrMalformedSealsAreTypedErrors) {
  auto sealed = cli::seal_secrets({{"device.ed25519", std::string(32, '\x07')}}, "passphrase 1");
  ASSERT_TRUE(sealed.has_value()) << sealed.error().to_string();
  EXPECT_EQ(canonical_json(*sealed).find(base64url_encode(as_bytes(std::string(32, '\x07')))),
            std::string::npos);

  Json altered = *sealed;
  auto cipher = *base64url_decode(altered["ciphertext"].get<std::string>());
  cipher[cipher.size() / 2] ^= 0x01;
  altered["ciphertext"] = base64url_encode(cipher);
  auto r = cli::open_secrets(altered, "passphrase 1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::verify_failed);

  Json greedy = *sealed;  // a crafted archive may not ask for unbounded memory
  greedy["memlimit"] = std::int64_t{1} << 40;
  r = cli::open_secrets(greedy, "passphrase 1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::bad_request);

  Json truncated = *sealed;
  truncated["nonce"] = "AAAA";
  EXPECT_EQ(cli::open_secrets(truncated, "passphrase 1").error().code, ErrorCode::bad_request);
  EXPECT_EQ(cli::open_secrets(Json{{"format", "zip"}}, "passphrase 1").error().code,
            ErrorCode::bad_request);
}

}  // namespace
}  // namespace hn
