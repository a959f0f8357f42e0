#pragma once
// The id_token_hint check (OIDC Core §3.1.2.1) shared by the authorization endpoint (code
// module) and pushed authorization requests (token module): an ID token of ours, signed by a
// key in the published ring, `iss` this server, issued to the requesting client (its `aud`
// names it). Expiry is not enforced (oauth/oidc/id_token.h ReadIdTokenHint).
//
// Ownership: the reader borrows `keys` and `clock`, which must outlive it (both live in Shared).
// Thread-safe: it reads the ring snapshot and the clock only.

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "oauth/code/authorization_service.h"
#include "oauth/key/key_manager.h"

namespace portcullis::app {

oauth::IdTokenHintReader MakeIdTokenHintReader(const oauth::KeyManager& keys, std::string issuer,
                                               int64_t leeway_s, const Clock& clock);

}  // namespace portcullis::app
