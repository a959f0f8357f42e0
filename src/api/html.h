#pragma once
// Server-rendered HTML for the pages people see (login, consent, errors): an escape function,
// one page layout with a small inline stylesheet, and the security headers every page carries
// (a Content-Security-Policy without scripts, no framing, no caching, no referrer).
//
// Every dynamic value is escaped with Escape() at the point it is written into markup; page
// bodies are built from trusted literals and escaped values only.

#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace portcullis::api::html {

// Escapes & < > " ' for text and double- or single-quoted attribute values.
std::string Escape(std::string_view text);
// <input type="hidden" name=".." value="..">
std::string Hidden(std::string_view name, std::string_view value);

struct Page {
  std::string title;  // plain text
  std::string body;   // markup, inside <main>
  // Origins a form on the page may end up at after a redirect (Chromium applies CSP
  // form-action to the redirects that follow a submission): the client's redirect URI origin.
  std::vector<std::string> form_targets;
};

// The page as a response: text/html, with CSP (default-src 'none'; the stylesheet by hash;
// form-action 'self' plus form_targets; frame-ancestors 'none'), X-Frame-Options: DENY,
// Referrer-Policy: no-referrer, Cache-Control: no-store, X-Content-Type-Options: nosniff.
http::Response Render(int status, const Page& page);

// The CSP source expression for where a URI leads: "scheme://host[:port]" for hierarchical
// URIs, "scheme:" for a private-use scheme (RFC 8252 §7.1). Empty when the URI has characters
// that could not be written into the header safely.
std::string CspSource(std::string_view uri);

}  // namespace portcullis::api::html
