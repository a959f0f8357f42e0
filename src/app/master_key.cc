#include "app/master_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "app/store_open.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/random.h"

namespace portcullis::app {
namespace {

Error KeyError(std::string line) {
  Error e = Error::Internal(line);
  e.description = std::move(line);
  return e;
}

}  // namespace

Result<oauth::MasterKey> LoadMasterKey(const Config& c, bool may_create) {
  if (!c.keys.master_key.empty()) {
    auto k = oauth::MasterKey::Parse(c.keys.master_key);
    if (!k) return Fail(KeyError("config: keys.master_key: " + k.error().description));
    return k;
  }
  if (!c.keys.master_key_file.empty()) {
    auto k = oauth::MasterKey::FromFile(c.keys.master_key_file);
    if (!k) return Fail(KeyError("config: keys.master_key_file: " + k.error().description));
    return k;
  }
  if (!c.store.url.starts_with("sqlite:")) {
    return Fail(
        KeyError("config: keys.master_key or keys.master_key_file is required with PostgreSQL"));
  }
  std::filesystem::path db(SqlitePath(c.store.url));
  std::filesystem::path path = db.parent_path() / "master.key";
  if (std::filesystem::exists(path)) {
    auto k = oauth::MasterKey::FromFile(path.string());
    if (!k) return Fail(KeyError("keys: " + path.string() + ": " + k.error().description));
    return k;
  }
  if (!may_create) {
    return Fail(KeyError("keys: no master key: " + path.string() +
                         " does not exist and keys.master_key_file is not set; pass --create "
                         "to make one (or set PORTCULLIS_KEYS_MASTER_KEY_FILE)"));
  }
  auto key = oauth::MasterKey::Generate(Random::System());
  std::string text = HexEncode(key.bytes().Reveal()) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (fd >= 0) ::close(fd);
    return Fail(KeyError("keys: cannot create master key file " + path.string()));
  }
  ::close(fd);
  log::Warn("keys.master_key_created",
            {{"path", path.string()},
             {"hint", "back this file up; without it signing keys cannot be read"}});
  return key;
}

Secret DerivePepper(const oauth::MasterKey& master) {
  static constexpr std::string_view kLabel = "portcullis client-secret pepper v1";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto key = master.bytes().Reveal();
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), out, &len);
  return Secret(std::string(reinterpret_cast<char*>(out), len));
}

Secret DpopNonceKey(const oauth::MasterKey& master) {
  static constexpr std::string_view kLabel = "portcullis dpop nonce v1";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto key = master.bytes().Reveal();
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), out, &len);
  return Secret(std::string(reinterpret_cast<char*>(out), len));
}

Result<Secret> DerivePepper(const Config& config, bool may_create) {
  auto master = LoadMasterKey(config, may_create);
  if (!master) return Fail(master.error());
  return DerivePepper(*master);
}

oauth::KeyManagerConfig KeyManagerSettings(const Config& c) {
  oauth::KeyManagerConfig kc;
  kc.alg = *jose::ParseAlg(c.keys.algorithm);  // validated by the config loader
  // ID tokens: RS256 is always available (OpenID Connect Core §15.1).
  if (kc.alg != jose::Alg::kRS256) kc.extra_algs.push_back(jose::Alg::kRS256);
  kc.publish_ahead_seconds = c.keys.publish_ahead_s;
  kc.rotation_interval_seconds = c.keys.rotation_interval_s;
  // A previous key stays published until the longest-lived token it signed has expired.
  kc.max_token_lifetime_seconds =
      std::max({c.token.access_token_ttl_s, c.token.bootstrap_token_ttl_s, c.token.id_token_ttl_s});
  kc.provider_id = c.keys.provider_id;
  return kc;
}

}  // namespace portcullis::app
