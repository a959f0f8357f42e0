#include "store/sql/key_store.h"

namespace portcullis::store {

using oauth::KeyConflict;
using oauth::KeyNotFound;
using oauth::KeyStateChange;
using oauth::KeyStateName;
using oauth::ParseKeyState;
using oauth::SigningKeyRecord;

Status SqlKeyStore::Create(const SigningKeyRecord& r) {
  auto s = db_.Transact("keys.create", [&](store::Tx& tx) -> Status {
    auto n = tx.Exec(
        "INSERT INTO signing_keys (kid, alg, state, private_key_enc, public_jwk, certificate_pem,"
        " created_at, publish_at, activate_at, retired_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        {Text(r.kid), Text(jose::AlgName(r.alg)), Text(KeyStateName(r.state)),
         Text(r.private_key_encrypted), Text(r.public_jwk), Text(r.certificate_pem),
         Int(r.created_at), Int(r.publish_at), Int(r.activate_at), Int(r.retired_at),
         Int(r.expires_at)});
    if (!n) return Fail(n.error());
    return tx.Notify("key", r.kid);
  });
  if (!s && store::IsUniqueViolation(s.error())) return Fail(KeyConflict("kid exists: " + r.kid));
  return s;
}

Result<std::vector<SigningKeyRecord>> SqlKeyStore::List() {
  auto rows = db_.Query(
      "SELECT kid, alg, state, private_key_enc, public_jwk, certificate_pem, created_at,"
      " publish_at, activate_at, retired_at, expires_at FROM signing_keys ORDER BY created_at");
  if (!rows) return Fail(rows.error());
  std::vector<SigningKeyRecord> out;
  for (const auto& row : *rows) {
    SigningKeyRecord r;
    r.kid = row.Str(0);
    auto alg = jose::ParseAlg(row.Str(1));
    auto state = ParseKeyState(row.Str(2));
    if (!alg || !state) return Fail(Error::Internal("signing_keys: bad alg or state for " + r.kid));
    r.alg = *alg;
    r.state = *state;
    r.private_key_encrypted = row.Str(3);
    r.public_jwk = row.Str(4);
    r.certificate_pem = row.Str(5);
    r.created_at = row.Int(6);
    r.publish_at = row.Int(7);
    r.activate_at = row.Int(8);
    r.retired_at = row.Int(9);
    r.expires_at = row.Int(10);
    out.push_back(std::move(r));
  }
  return out;
}

Status SqlKeyStore::UpdateState(std::string_view kid, const KeyStateChange& c) {
  return db_.Transact("keys.update_state", [&](store::Tx& tx) -> Status {
    auto n = tx.Exec(
        "UPDATE signing_keys SET state = $3,"
        " retired_at = COALESCE($4, retired_at), expires_at = COALESCE($5, expires_at)"
        " WHERE kid = $1 AND state = $2",
        {Text(kid), Text(KeyStateName(c.from)), Text(KeyStateName(c.to)),
         store::OptInt(c.retired_at), store::OptInt(c.expires_at)});
    if (!n) return Fail(n.error());
    if (*n == 0) {
      auto exists = tx.QueryRow("SELECT state FROM signing_keys WHERE kid = $1", {Text(kid)});
      if (!exists) return Fail(exists.error());
      if (!*exists) return Fail(KeyNotFound(kid));
      return Fail(KeyConflict("key " + std::string(kid) + " is " + (*exists)->Str(0) + ", not " +
                              std::string(KeyStateName(c.from))));
    }
    return tx.Notify("key", kid);
  });
}

}  // namespace portcullis::store
