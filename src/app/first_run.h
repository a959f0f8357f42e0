#pragma once
// The first run: an `admin` user with a random password, so that a new installation can sign in
// to the console without environment variables or curl (issue 17, README "Console").
//
// CreateAdminUser makes a user with role `admin`, userType `admin`, a random password (24 random
// bytes, base64url) and password_change_required, in one transaction with its audit row; only
// after the commit is the password written to a file (mode 0600) whose path is returned. The
// password itself is never logged. Several instances may start at once on one PostgreSQL store:
// the insert is the single winner (UserExists for the others), and only the winner writes a file.
//
// Thread-safety: call from one thread at start-up (or the CLI). Blocking (argon2id, store, file).
// Borrows everything only for the call.

#include <optional>
#include <string>
#include <string_view>

#include "app/config.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/random.h"
#include "oauth/audit/audit.h"
#include "oauth/client/client_store.h"
#include "oauth/user/user_store.h"
#include "store/db.h"

namespace portcullis::app {

// Where the password goes: console.admin_password_file, else `admin-password` beside the SQLite
// database, else beside keys.master_key_file; empty when none applies (PostgreSQL with an inline
// master key), and then the first run logs `first_run.skipped` instead.
std::string AdminPasswordFile(const Config& config);

struct CreatedAdmin {
  std::string user_id;
  std::string password_file;
};

// Creates `user_id` as described above and writes its password to `password_file`. UserExists
// (ERR12020) when the id is taken; Internal when the file cannot be written (the user then
// exists: `portcullis user set-password` recovers).
Result<CreatedAdmin> CreateAdminUser(store::Database& db, oauth::UserStore& users,
                                     oauth::audit::AuditLog& audit, const Clock& clock,
                                     Random& random, std::string_view user_id,
                                     std::string_view actor, const std::string& password_file);

// At server start: when bootstrap.client_id is empty and the store has no user and no client
// besides `builtin_client_id`, creates `admin` (CreateAdminUser, actor "first-run") and logs
// `first_run.admin_created` with the file's path. Returns the created user, or nullopt when the
// store was not empty or another instance won the race.
Result<std::optional<CreatedAdmin>> EnsureFirstRunAdmin(const Config& config, store::Database& db,
                                                        oauth::UserStore& users,
                                                        oauth::ClientStore& clients,
                                                        oauth::audit::AuditLog& audit,
                                                        const Clock& clock, Random& random,
                                                        std::string_view builtin_client_id);

}  // namespace portcullis::app
