#include "app/store_open.h"

#include <unistd.h>

#include <filesystem>
#include <string_view>

namespace portcullis::app {
namespace {

Error StoreError(std::string line) {
  Error e = Error::Unavailable(line);
  e.description = std::move(line);
  return e;
}

std::string MissingStore(const std::string& url, std::string_view what) {
  return RedactedStoreUrl(url) + " " + std::string(what) +
         "; pass --create to create it (or run `portcullis migrate`)";
}

}  // namespace

std::string SqlitePath(const std::string& url) {
  if (!url.starts_with("sqlite:")) return {};
  std::string path = url.substr(7);
  if (path.starts_with("//")) path.erase(0, 2);
  return path;
}

std::string RedactedStoreUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (url.starts_with("sqlite:") || scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

Result<std::string> CheckStore(const Config& c) {
  const std::string shown = RedactedStoreUrl(c.store.url);
  auto refuse = [&shown](std::string_view why) {
    return Fail(StoreError("config: store.url (" + shown + "): " + std::string(why)));
  };
  if (c.store.url.starts_with("sqlite:")) {
    std::filesystem::path path(SqlitePath(c.store.url));
    std::error_code ec;
    if (path.empty()) return refuse("names no file");
    if (path.string() != ":memory:" && !std::filesystem::exists(path, ec)) {
      // serve creates the file and its directories: the nearest existing ancestor must let it.
      std::filesystem::path dir = std::filesystem::absolute(path, ec).parent_path();
      while (!dir.empty() && !std::filesystem::exists(dir, ec) && dir != dir.root_path()) {
        dir = dir.parent_path();
      }
      if (!std::filesystem::is_directory(dir, ec)) {
        return refuse(dir.string() + " is not a directory");
      }
      if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        return refuse("cannot create the database: " + dir.string() + " is not writable");
      }
      return shown + " does not exist yet; `portcullis serve` creates it";
    }
  }
  store::Options options;
  options.pool_size = 1;
  options.busy_timeout_ms = c.store.busy_timeout_ms;
  options.connect_timeout_s = c.store.connect_timeout_s;
  auto db = store::OpenDatabase(c.store.url, options);
  if (!db) return refuse(db.error().detail.empty() ? db.error().description : db.error().detail);
  auto version = (*db)->SchemaVersion();
  if (!version) {
    return refuse(version.error().detail.empty() ? version.error().description
                                                 : version.error().detail);
  }
  if (*version == 0)
    return shown + " answers; no schema yet (serve or `portcullis migrate` applies it)";
  return shown + " answers; schema version " + std::to_string(*version);
}

Result<std::unique_ptr<store::Database>> OpenStore(const Config& c, StoreCreation creation) {
  const bool sqlite = c.store.url.starts_with("sqlite:");
  if (sqlite) {
    std::filesystem::path path(SqlitePath(c.store.url));
    if (path.string() != ":memory:") {
      std::error_code ec;
      if (creation == StoreCreation::kMustExist && !std::filesystem::exists(path, ec)) {
        return Fail(StoreError(MissingStore(c.store.url, "does not exist")));
      }
      if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    }
  }
  store::Options options;
  options.pool_size = sqlite ? 0 : c.store.pool_size;
  options.busy_timeout_ms = c.store.busy_timeout_ms;
  options.connect_timeout_s = c.store.connect_timeout_s;
  auto db = store::OpenDatabase(c.store.url, options);
  if (!db || creation == StoreCreation::kCreate) return db;
  // An existing but empty SQLite file, or a PostgreSQL database nobody migrated.
  auto version = (*db)->SchemaVersion();
  if (!version) return Fail(std::move(version.error()));
  if (*version == 0) return Fail(StoreError(MissingStore(c.store.url, "has no Portcullis schema")));
  return db;
}

}  // namespace portcullis::app
