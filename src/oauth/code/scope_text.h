#pragma once
// Scopes in words, for the consent page. light-oauth2 scopes follow `<api>.r` / `<api>.w`
// (reference §3.1, §8) and admin scopes `read:<thing>` / `write:<thing>`; OpenID Connect
// defines a few more. Anything else is shown as the scope itself.

#include <string>
#include <string_view>

namespace portcullis::oauth {

// A short sentence that completes "This application wants to: ...", e.g. "petstore.r" ->
// "Read your petstore data". Plain text: the caller escapes it.
std::string DescribeScope(std::string_view scope);

}  // namespace portcullis::oauth
