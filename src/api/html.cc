#include "api/html.h"

#include <openssl/sha.h>

#include "common/encoding.h"

namespace portcullis::api::html {
namespace {

// One stylesheet for every page: readable type, a visible focus ring, light and dark schemes.
constexpr std::string_view kStyle =
    ":root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f3f5f7;--card:#fff;"
    "--line:#c9d1d9;--accent:#0b57d0;--on-accent:#fff;--err:#a50e0e;--err-bg:#fce8e6}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#a0aab4;--bg:#0d1117;"
    "--card:#161b22;--line:#3d444d;--accent:#7cacf8;--on-accent:#0d1117;--err:#ffb4ab;"
    "--err-bg:#3c1414}}"
    "*{box-sizing:border-box}"
    "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;"
    "background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}"
    "main{width:100%;max-width:25rem;margin:1rem;padding:2rem;background:var(--card);"
    "border:1px solid var(--line);border-radius:12px}"
    ".brand{margin:0 0 1.25rem;font-size:.85rem;font-weight:600;letter-spacing:.08em;"
    "text-transform:uppercase;color:var(--muted)}"
    "h1{font-size:1.45rem;line-height:1.25;margin:0 0 .5rem}"
    "p{margin:.5rem 0}.muted{color:var(--muted);font-size:.92rem}"
    "label{display:block;font-weight:600;margin:1rem 0 .3rem}"
    "input[type=text],input[type=password]{width:100%;padding:.6rem .75rem;font:inherit;"
    "color:inherit;background:var(--card);border:1px solid var(--line);border-radius:8px}"
    "input[aria-invalid=true]{border-color:var(--err)}"
    ":focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
    "label.check{display:flex;gap:.5rem;align-items:center;font-weight:400}"
    "input[type=checkbox]{width:1.1rem;height:1.1rem;margin:0}"
    "button{width:100%;margin-top:1.25rem;padding:.65rem 1rem;font:inherit;font-weight:600;"
    "border-radius:8px;border:1px solid var(--accent);background:var(--accent);"
    "color:var(--on-accent);cursor:pointer}"
    "button.secondary{background:transparent;color:var(--fg);border-color:var(--line)}"
    ".actions{display:flex;gap:.75rem}.actions button{flex:1}"
    ".error{margin:1rem 0 0;padding:.6rem .8rem;border-radius:8px;color:var(--err);"
    "background:var(--err-bg)}.error:empty{display:none}"
    "ul{padding-left:1.25rem;margin:.75rem 0}li{margin:.35rem 0}"
    "code{font-size:.85em;color:var(--muted)}"
    "a{color:var(--accent)}"
    "table{width:100%;border-collapse:collapse;margin:1rem 0}"
    "td,th{text-align:left;padding:.4rem .25rem;border-bottom:1px solid var(--line);"
    "vertical-align:top}td button{width:auto;margin:0;padding:.3rem .7rem}";

const std::string& StyleHash() {
  static const std::string hash = [] {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(kStyle.data()), kStyle.size(), digest);
    return "'sha256-" +
           Base64Encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest)) + "'";
  }();
  return hash;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string Escape(std::string_view text) { return EscapeMarkup(text); }

std::string Hidden(std::string_view name, std::string_view value) {
  return "<input type=\"hidden\" name=\"" + Escape(name) + "\" value=\"" + Escape(value) + "\">";
}

std::string CspSource(std::string_view uri) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1)
  size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(uri[0])) return {};
  std::string_view scheme = uri.substr(0, colon);
  for (char c : scheme) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return {};
  }
  std::string_view rest = uri.substr(colon + 1);
  if (rest.substr(0, 2) != "//") return std::string(scheme) + ":";
  rest.remove_prefix(2);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return {};
  for (char c : authority) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '.' && c != '-' && c != ':' && c != '[' && c != ']') {
      return {};
    }
  }
  return std::string(scheme) + "://" + std::string(authority);
}

http::Response Render(int status, const Page& page) {
  std::string html;
  html.reserve(kStyle.size() + page.body.size() + 512);
  html +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>";
  html += Escape(page.title);
  html += " - Portcullis</title><style>";
  html += kStyle;
  html += "</style></head>\n<body><main>\n<p class=\"brand\">Portcullis</p>\n";
  html += page.body;
  html += "\n</main></body></html>\n";

  std::string form_action = "'self'";
  for (const auto& t : page.form_targets) {
    if (!t.empty()) form_action += " " + t;
  }
  http::Response r = http::Response::Text(status, std::move(html), "text/html; charset=utf-8");
  r.With("Content-Security-Policy", "default-src 'none'; style-src " + StyleHash() +
                                        "; form-action " + form_action +
                                        "; frame-ancestors 'none'; base-uri 'none'");
  r.With("X-Frame-Options", "DENY");
  r.With("Referrer-Policy", "no-referrer");
  r.With("Cache-Control", "no-store");
  r.With("Pragma", "no-cache");
  r.With("X-Content-Type-Options", "nosniff");
  return r;
}

}  // namespace portcullis::api::html
