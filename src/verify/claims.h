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

}  // namespace portcullis::verify
