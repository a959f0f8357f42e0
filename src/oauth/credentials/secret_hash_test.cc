#include "oauth/credentials/secret_hash.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "common/encoding.h"
#include "oauth/credentials/token_hash.h"

namespace portcullis::oauth {
namespace {

// light-oauth2's seed rows (reference §2.4, §3.1): user `admin` with password `123456`, and the
// seeded clients' secret `f6h1FTI8Q3-7UScPZDzfXA`. The salt is the UTF-8 text of Java's
// Arrays.toString of 16 random bytes: the first decodes to "[94, -77, 120, -120, 47, 23, ...]".
constexpr std::string_view kAdminPasswordHash =
    "1000:5b39342c202d37372c203132302c202d3132302c2034372c2032332c2034352c202d34342c202d31362c"
    "2034372c202d35392c202d35362c2039302c202d352c202d38322c202d32385d:949e6fcf9c4bb8a3d6a8c141a3"
    "a9182a572fb95fe8ccdc93b54ba53df8ef2e930f7b0348590df0d53f242ccceeae03aef6d273a34638b49c559ada"
    "110ec06992";
constexpr std::string_view kSeedClientSecretHash =
    "1000:5b37332c202d36362c202d36392c203131362c203132362c2036322c2037382c20342c202d37382c202d31"
    "31352c202d35332c202d34352c202d342c202d3132322c203130322c2033325d:29ad1fe88d66584c4d279a6f58"
    "277858298dbf9270ffc0de4317a4d38ba4b41f35f122e0825c466f2fa14d91e17ba82b1a2f2a37877a2830fae297"
    "3076d93cc2";

SecretHasher Hasher(char fill = 'k') { return SecretHasher(Secret(std::string(32, fill))); }

TEST(SecretHasher, DigestIsKeyedAndVerifies) {
  auto h = Hasher();
  std::string d = h.Digest("s3cret");
  EXPECT_TRUE(d.starts_with("hs256$"));
  EXPECT_EQ(d.size(), 6u + 43u);
  EXPECT_TRUE(h.Verify("s3cret", d));
  EXPECT_FALSE(h.Verify("s3cret ", d));
  EXPECT_FALSE(h.Verify("", d));
  // Another pepper gives another digest: a stolen table is useless without the pepper.
  EXPECT_NE(Hasher('x').Digest("s3cret"), d);
  EXPECT_FALSE(Hasher('x').Verify("s3cret", d));
}

// The digest is HMAC-SHA-256 (RFC 2104): stored digests from any earlier build must keep
// verifying. RFC 4231 §4.3 and §4.7 (a key longer than the block), then libsodium's HMAC
// (which computed the digests before) for peppers and secrets around the block size.
TEST(SecretHasher, DigestIsHmacSha256) {
  auto hex = [](std::string_view h) { return *HexDecode(h); };
  EXPECT_EQ(SecretHasher(Secret("Jefe")).Digest("what do ya want for nothing?"),
            "hs256$" + Base64UrlEncode(hex(
                           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")));
  EXPECT_EQ(SecretHasher(Secret(std::string(131, '\xaa')))
                .Digest("Test Using Larger Than Block-Size Key - Hash Key First"),
            "hs256$" + Base64UrlEncode(hex(
                           "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")));
  for (size_t pepper_len : {32, 63, 64, 65, 200}) {
    std::string pepper;
    for (size_t i = 0; i < pepper_len; ++i) pepper.push_back(static_cast<char>(i * 7 + 3));
    SecretHasher h{Secret(pepper)};
    for (size_t secret_len : {0, 1, 43, 55, 56, 64, 119, 1000}) {
      std::string secret(secret_len, 's');
      crypto_auth_hmacsha256_state st;
      crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(pepper.data()),
                                  pepper.size());
      crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                                    secret.size());
      unsigned char mac[crypto_auth_hmacsha256_BYTES];
      crypto_auth_hmacsha256_final(&st, mac);
      EXPECT_EQ(h.Digest(secret),
                "hs256$" + Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), 32)))
          << pepper_len << " " << secret_len;
      // A copy shares the keyed state and agrees.
      SecretHasher copy = h;
      EXPECT_EQ(copy.Digest(secret), h.Digest(secret));
    }
  }
}

TEST(SecretHasher, RejectsUnknownAndMalformedStoredForms) {
  auto h = Hasher();
  EXPECT_FALSE(h.Verify("x", ""));
  EXPECT_FALSE(h.Verify("x", "x"));
  EXPECT_FALSE(h.Verify("x", "hs256$"));
  EXPECT_FALSE(h.Verify("x", "$argon2id$v=19$m=19456,t=2,p=1$abc$def"));
  EXPECT_FALSE(h.Verify("x", "1000:zz:00"));
  EXPECT_FALSE(h.Verify("x", "1000:00"));
  EXPECT_FALSE(h.Verify("x", "99999999:00:00"));  // iteration count beyond the cap
}

TEST(Pbkdf2, VerifiesLightOauth2SeedRows) {
  EXPECT_TRUE(IsLegacyPbkdf2(kAdminPasswordHash));
  EXPECT_TRUE(VerifyPbkdf2("123456", kAdminPasswordHash));
  EXPECT_FALSE(VerifyPbkdf2("1234567", kAdminPasswordHash));
  EXPECT_TRUE(VerifyPbkdf2("f6h1FTI8Q3-7UScPZDzfXA", kSeedClientSecretHash));
  EXPECT_FALSE(VerifyPbkdf2("f6h1FTI8Q3-7UScPZDzfXa", kSeedClientSecretHash));
  // Through the client-secret and password entry points too.
  EXPECT_TRUE(Hasher().Verify("f6h1FTI8Q3-7UScPZDzfXA", kSeedClientSecretHash));
  EXPECT_TRUE(VerifyPassword("123456", kAdminPasswordHash));
  EXPECT_TRUE(PasswordNeedsRehash(kAdminPasswordHash));
}

TEST(Pbkdf2, UpperCaseHexAndRoundTrip) {
  std::string upper(kAdminPasswordHash);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(VerifyPbkdf2("123456", upper));
  std::string h = HashPbkdf2ForTest("pw", "[1, -2, 3]", 1000);
  EXPECT_TRUE(h.starts_with("1000:5b312c202d322c20335d:"));
  EXPECT_TRUE(VerifyPbkdf2("pw", h));
  EXPECT_FALSE(VerifyPbkdf2("pW", h));
}

TEST(Argon2id, HashVerifyAndRehash) {
  auto h = HashPassword("correct horse battery staple");
  ASSERT_TRUE(h) << h.error().detail;
  EXPECT_TRUE(h->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *h;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *h));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *h));
  EXPECT_FALSE(PasswordNeedsRehash(*h));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*HashPassword("correct horse battery staple"), *h);
  EXPECT_FALSE(VerifyPassword("x", "$argon2id$garbage"));
  EXPECT_TRUE(PasswordNeedsRehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"));
}

TEST(TokenHash, IsSha256Base64Url) {
  // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
  EXPECT_EQ(TokenHash("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  EXPECT_EQ(TokenHash("").size(), 43u);
}

}  // namespace
}  // namespace portcullis::oauth
