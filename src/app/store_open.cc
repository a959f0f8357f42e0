#include "app/store_open.h"

#include <filesystem>

namespace portcullis::app {

Result<std::unique_ptr<store::Database>> OpenStore(const Config& c) {
  if (c.store.url.starts_with("sqlite:")) {
    std::filesystem::path path(c.store.url.substr(7));
    if (path.has_parent_path() && path.string() != ":memory:") {
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
    }
  }
  store::Options options;
  options.pool_size = c.store.url.starts_with("sqlite:") ? 0 : c.store.pool_size;
  options.busy_timeout_ms = c.store.busy_timeout_ms;
  options.connect_timeout_s = c.store.connect_timeout_s;
  return store::OpenDatabase(c.store.url, options);
}

}  // namespace portcullis::app
