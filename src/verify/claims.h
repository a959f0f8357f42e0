#pragma once
// Reading identity and scope out of verified claims, the same way on both sides: the library
// (libportcullis-verify) and the server's /oauth2/verify.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace portcullis::verify {

// "scope" as an RFC 9068 space-separated string or a light-4j JSON array; "scp" (Okta, Azure)
// when "scope" gives nothing (light-4j does the same).
std::vector<std::string> ScopesOf(const boost::json::object& claims);

// The first of `names` that is a non-empty string claim; empty when none is.
std::string FirstString(const boost::json::object& claims,
                        std::initializer_list<std::string_view> names);

// RFC 7519 §4.1.3, RFC 9068 §4: whether service `service_id` may accept a token with these
// claims. A token without "aud" names no audience and is accepted. Otherwise "aud" (a string or
// an array of strings) must hold `service_id` or one of `shared`: audiences that name no
// particular service (the authorization server's default token audience). A token whose "aud"
// names only other services, or whose "aud" is malformed, is refused.
bool AudienceAdmits(const boost::json::object& claims, std::string_view service_id,
                    const std::vector<std::string>& shared);

// The JWS header's "typ" of a compact token ("" when absent or unreadable). Read it only from a
// token whose signature has been verified.
std::string HeaderTyp(std::string_view jwt);

// RFC 8725 §3.11 explicit typing: POST /oauth2/signing issues "payload+jwt" tokens, which sign
// data and must never pass as access tokens. Case-insensitive, with or without "application/".
bool IsSignedPayloadTyp(std::string_view typ);

}  // namespace portcullis::verify
