#pragma once
// Escaping of values that Portcullis puts into LDAP filters and DNs, so that a user name can
// never change the structure of what is sent: RFC 4515 §3 for filter assertion values and
// RFC 4514 §2.4 for attribute values in a DN. Templates name the places with {user} and {dn}.
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis::oauth::ldap {

// RFC 4515 §3: '*', '(', ')', '\' and NUL become \2a \28 \29 \5c \00; everything else
// (UTF-8 included) stays.
std::string EscapeFilterValue(std::string_view value);

// RFC 4514 §2.4: '"', '+', ',', ';', '<', '>', '\' and '=' get a backslash, so do a leading
// '#' or space and a trailing space; NUL becomes \00.
std::string EscapeDnValue(std::string_view value);

// `tmpl` with each {name} replaced by its value as given (callers escape the values first).
// Unknown {names} stay as they are.
std::string FillTemplate(std::string_view tmpl,
                         const std::vector<std::pair<std::string_view, std::string>>& values);

// The value of a DN's first RDN ("admins" for "cn=admins,ou=groups,dc=example"), with
// RFC 4514 escapes undone; empty when `dn` has no '='.
std::string FirstRdnValue(std::string_view dn);

// A DN in a form fit for comparing: lower case, no spaces around ',' '=' and '+'.
std::string NormalizeDn(std::string_view dn);

}  // namespace portcullis::oauth::ldap
