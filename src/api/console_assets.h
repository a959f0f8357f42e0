#pragma once
// The console's static files (src/console/), embedded at build time by
// src/api/embed_console.cmake: no front-end toolchain, nothing to install beside the binary.

#include <span>
#include <string_view>

namespace portcullis::api::console_assets {

struct Asset {
  std::string_view name;          // file name, e.g. "app.js"
  std::string_view content_type;  // by extension
  std::string_view body;
};

std::span<const Asset> All();

}  // namespace portcullis::api::console_assets
