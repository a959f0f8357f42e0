#pragma once
// Opens the configured store. `serve` and `migrate` create a missing store (the embedded SQLite
// default makes its data directory and file); the other commands refuse a store that does not
// exist yet unless asked with --create, so a command run from the wrong folder, or with a
// mistyped --store, fails instead of quietly working on a new empty database.

#include <memory>
#include <string>

#include "app/config.h"
#include "store/db.h"

namespace portcullis::app {

enum class StoreCreation {
  kCreate,     // create what is missing (serve, migrate, --create)
  kMustExist,  // refuse a missing SQLite file or a store without a schema
};

Result<std::unique_ptr<store::Database>> OpenStore(const Config& config,
                                                   StoreCreation creation = StoreCreation::kCreate);

// `portcullis config check`: tries the configured store without changing it. An existing SQLite
// file is opened and its schema version read; a missing one passes when its directory can be
// made (serve creates the file); PostgreSQL is connected to (store.connect_timeout_s) and
// queried. Returns a line saying what was found, or an error whose description names the key:
// "config: store.url (URL): ..." (the URL without its password).
Result<std::string> CheckStore(const Config& config);

// The file of a sqlite: URL ("sqlite:PATH", "sqlite://PATH"); empty for other URLs.
std::string SqlitePath(const std::string& url);

// The store URL without a password, for messages.
std::string RedactedStoreUrl(const std::string& url);

}  // namespace portcullis::app
