#pragma once
// Reading claims of our own verified tokens. Pure functions over borrowed arguments; results are
// owned by the caller. Thread-safe.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace portcullis::oauth {

// The claim as a string; empty when absent or not a string.
std::string StringClaim(const boost::json::object& claims, std::string_view name);
// `scope` as RFC 9068 writes it (a space-separated string) or as light-4j does (an array).
std::vector<std::string> ScopeClaim(const boost::json::object& claims);
// A JWS compact serialisation has exactly two dots; reference and refresh tokens have none.
bool LooksLikeJwt(std::string_view token);

}  // namespace portcullis::oauth
