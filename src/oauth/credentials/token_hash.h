#pragma once
// How bearer artefacts (refresh tokens, authorization codes, reference tokens) are stored: only
// their SHA-256, base64url without padding. They are 256-bit random values, so an unkeyed hash
// is enough to make a leaked table useless, and lookups stay exact-match on an indexed column.
// The token service and the admin APIs both use this one function, so they agree on the key.

#include <string>
#include <string_view>

namespace portcullis::oauth {

// base64url(SHA-256(token)), 43 characters.
std::string TokenHash(std::string_view token);

}  // namespace portcullis::oauth
