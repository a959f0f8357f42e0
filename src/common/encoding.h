#pragma once
// Byte encodings used across the product: base64 (standard and URL-safe, RFC 4648), hex, and
// percent-encoding for forms and query strings (application/x-www-form-urlencoded), and markup
// escaping.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portcullis {

std::string Base64UrlEncode(std::string_view bytes);
// Strict: rejects padding, whitespace and characters outside the URL-safe alphabet, and
// non-canonical trailing bits.
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view text);

// Percent-decoding; `plus_is_space` for form bodies. nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space);
std::string PercentEncode(std::string_view text);

using FormFields = std::vector<std::pair<std::string, std::string>>;
// Parses a=b&c=d. nullopt on a malformed escape. Linear in the size of `body`.
std::optional<FormFields> ParseForm(std::string_view body);
// The number of fields ParseForm would return (non-empty `&`-separated pairs), counted without
// decoding anything: one cheap pass, so a flood of parameters can be refused before parsing.
size_t CountFormFields(std::string_view body);
// The value of the first field `name`; empty when absent.
std::string FormField(const FormFields& fields, std::string_view name);

// Without the spaces and tabs at either end (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view TrimBlanks(std::string_view s);

// Escapes & < > " ' for HTML/XML text and double- or single-quoted attribute values.
std::string EscapeMarkup(std::string_view text);

}  // namespace portcullis
