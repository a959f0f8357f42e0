#pragma once
// Opens the configured store; for the embedded SQLite default it creates the data directory.

#include <memory>

#include "app/config.h"
#include "store/db.h"

namespace portcullis::app {

Result<std::unique_ptr<store::Database>> OpenStore(const Config& config);

}  // namespace portcullis::app
