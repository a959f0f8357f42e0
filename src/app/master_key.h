#pragma once
// The one master secret of an installation. It seals signing keys at rest and derives the
// pepper of client-secret digests. It comes from keys.master_key or keys.master_key_file and
// never enters the database. With the embedded SQLite store and neither set, a key file is
// created beside the database on first start (mode 0600) so that `serve` works out of the box;
// PostgreSQL deployments must provide one, since every instance needs the same key.
// Only commands that may create a store (`serve`, `--create`) may create that file: a CLI
// command that made a new key would write client-secret digests no server can verify.

#include "app/config.h"
#include "common/secret.h"
#include "oauth/key/key_manager.h"
#include "oauth/key/master_key.h"

namespace portcullis::app {

Result<oauth::MasterKey> LoadMasterKey(const Config& config, bool may_create = true);
// HMAC-SHA-256(master, "portcullis client-secret pepper v1").
Result<Secret> DerivePepper(const Config& config, bool may_create = true);
Secret DerivePepper(const oauth::MasterKey& master);
// HMAC-SHA-256(master, "portcullis dpop nonce v1"): the key of stateless DPoP nonces (RFC 9449
// §8), the same on every instance of an installation.
Secret DpopNonceKey(const oauth::MasterKey& master);

// The key lifecycle settings (keys.* and the longest token lifetime), for the server and the
// CLI alike.
oauth::KeyManagerConfig KeyManagerSettings(const Config& config);

}  // namespace portcullis::app
