#pragma once
// The participation hook of back-channel logout: an AuthCodeStore that, when a code issued
// within an SSO session (AuthCode::sid set) is stored, records its client as a participant of
// that session (BackchannelLogout::Record). Everything else passes through to the wrapped store.
//
// The composition root hands this to the authorization service instead of the plain code store,
// so the code service needs no change to take part. A participant that cannot be recorded fails
// the code's issuance: a client that was never told of a sign-out would keep a session the user
// ended.
//
// Borrows `inner` and `backchannel`; they must outlive it. Thread-safe as they are.

#include "oauth/code/code_store.h"
#include "oauth/logout/backchannel.h"

namespace portcullis::oauth {

class ParticipantRecordingCodeStore final : public AuthCodeStore {
 public:
  ParticipantRecordingCodeStore(AuthCodeStore& inner, BackchannelLogout& backchannel)
      : inner_(inner), backchannel_(backchannel) {}

  Status Insert(const AuthCode& code) override {
    if (auto st = inner_.Insert(code); !st) return st;
    return backchannel_.Record(code.sid, code.client_id, code.user_id);
  }
  Result<std::optional<AuthCode>> Consume(store::Tx& tx, std::string_view code_hash,
                                          std::string_view client_id, std::string_view dpop_jkt,
                                          int64_t now) override {
    return inner_.Consume(tx, code_hash, client_id, dpop_jkt, now);
  }
  Result<std::optional<AuthCodeState>> Find(store::Tx& tx, std::string_view code_hash) override {
    return inner_.Find(tx, code_hash);
  }
  Status RecordIssued(store::Tx& tx, std::string_view code_hash, std::string_view access_jti,
                      int64_t access_exp, std::string_view family_id) override {
    return inner_.RecordIssued(tx, code_hash, access_jti, access_exp, family_id);
  }
  Status ExpireForUser(store::Tx& tx, std::string_view user_id, int64_t now) override {
    return inner_.ExpireForUser(tx, user_id, now);
  }
  Status ExpireForUserClient(store::Tx& tx, std::string_view user_id, std::string_view client_id,
                             int64_t now) override {
    return inner_.ExpireForUserClient(tx, user_id, client_id, now);
  }
  Status DeleteForUser(store::Tx& tx, std::string_view user_id) override {
    return inner_.DeleteForUser(tx, user_id);
  }
  Status DeleteForClient(store::Tx& tx, std::string_view client_id) override {
    return inner_.DeleteForClient(tx, client_id);
  }
  Status PurgeExpired(store::Tx& tx, int64_t cutoff) override {
    return inner_.PurgeExpired(tx, cutoff);
  }

 private:
  AuthCodeStore& inner_;
  BackchannelLogout& backchannel_;
};

}  // namespace portcullis::oauth
