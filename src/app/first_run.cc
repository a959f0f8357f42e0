#include "app/first_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "app/store_open.h"
#include "common/log.h"
#include "common/secret.h"
#include "oauth/credentials/secret_hash.h"

namespace portcullis::app {
namespace {

constexpr std::string_view kFileName = "admin-password";

// Writes `text` to `path` with mode 0600: created so, or truncated and chmod-ed when it exists
// (a file left by an earlier store keeps no wider mode).
Status WritePrivateFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(Error::Internal("cannot write " + path));
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0)
      ok = false;
    else
      done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Fail(Error::Internal("cannot write " + path));
  return {};
}

}  // namespace

std::string AdminPasswordFile(const Config& c) {
  if (!c.console.admin_password_file.empty()) return c.console.admin_password_file;
  std::filesystem::path dir;
  if (std::string db = SqlitePath(c.store.url); !db.empty() && db != ":memory:") {
    dir = std::filesystem::path(db).parent_path();
  } else if (!c.keys.master_key_file.empty()) {
    dir = std::filesystem::path(c.keys.master_key_file).parent_path();
  } else {
    return {};  // no directory of the operator's to put it in
  }
  return (dir / kFileName).string();
}

Result<CreatedAdmin> CreateAdminUser(store::Database& db, oauth::UserStore& users,
                                     oauth::audit::AuditLog& audit, const Clock& clock,
                                     Random& random, std::string_view user_id,
                                     std::string_view actor, const std::string& password_file) {
  Secret password(random.Token(24));
  auto hash = oauth::HashPassword(password.Reveal());
  if (!hash) return Fail(std::move(hash.error()));
  oauth::User u;
  u.user_id = std::string(user_id);
  u.user_type = "admin";
  u.roles = "admin";
  // Unique among users; the first-run user has no mailbox of its own (RFC 2606 .invalid).
  u.email = std::string(user_id) + "@portcullis.invalid";
  u.first_name = "Portcullis";
  u.last_name = "Administrator";
  u.password_hash = std::move(*hash);
  u.password_change_required = true;
  u.created_at = u.updated_at = clock.Now();
  if (auto st = oauth::ValidateUser(u); !st) return Fail(std::move(st.error()));
  auto st = db.Transact("user.create_admin", [&](store::Tx& tx) -> Status {
    if (auto s = users.Insert(tx, u); !s) return s;
    return audit.Record(tx, u.created_at,
                        {std::string(actor), "user.create", "user", u.user_id, std::nullopt,
                         boost::json::value(oauth::UserToJson(u))});
  });
  if (!st) return Fail(std::move(st.error()));
  if (auto w = WritePrivateFile(password_file, std::string(password.Reveal()) + "\n"); !w) {
    return Fail(Error::Internal(
        "the user " + u.user_id + " was created but its password could not be written to " +
        password_file + "; set one with `portcullis user set-password " + u.user_id + "`"));
  }
  return CreatedAdmin{u.user_id, password_file};
}

Result<std::optional<CreatedAdmin>> EnsureFirstRunAdmin(const Config& config, store::Database& db,
                                                        oauth::UserStore& users,
                                                        oauth::ClientStore& clients,
                                                        oauth::audit::AuditLog& audit,
                                                        const Clock& clock, Random& random,
                                                        std::string_view builtin_client_id) {
  if (!config.bootstrap.client_id.empty()) return std::optional<CreatedAdmin>();
  auto some_users = users.List("", 0, 1);
  if (!some_users) return Fail(std::move(some_users.error()));
  if (some_users->total > 0) return std::optional<CreatedAdmin>();
  auto others = db.TransactValue<int64_t>("client.count", [&](store::Tx& tx) -> Result<int64_t> {
    auto n = clients.Count(tx, "");
    if (!n) return Fail(std::move(n.error()));
    auto builtin = clients.Load(tx, builtin_client_id);
    if (!builtin) return Fail(std::move(builtin.error()));
    return *n - (builtin->has_value() ? 1 : 0);
  });
  if (!others) return Fail(std::move(others.error()));
  if (*others > 0) return std::optional<CreatedAdmin>();
  const std::string file = AdminPasswordFile(config);
  if (file.empty()) {
    // PostgreSQL with the master key inline: no directory is the operator's, and a password in
    // whatever the working directory is would be easy to lose or to leak.
    log::Warn("first_run.skipped",
              {{"message", "the store is empty but there is no place for the admin password"},
               {"hint",
                "set console.admin_password_file (or keys.master_key_file), or run `portcullis "
                "user create --admin --password-file FILE`"}});
    return std::optional<CreatedAdmin>();
  }
  auto created = CreateAdminUser(db, users, audit, clock, random, "admin", "first-run", file);
  if (!created) {
    // Another instance on the same store was first: it wrote the file.
    if (created.error().code == "ERR12020") return std::optional<CreatedAdmin>();
    return Fail(std::move(created.error()));
  }
  log::Warn("first_run.admin_created",
            {{"user_id", created->user_id},
             {"password_file", created->password_file},
             {"message",
              "sign in to /console as admin with the password in this file; you will choose a new "
              "one at the first sign-in"}});
  return std::optional<CreatedAdmin>(std::move(*created));
}

}  // namespace portcullis::app
