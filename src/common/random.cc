#include "common/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "common/encoding.h"

namespace portcullis {
namespace {

// Small requests (ids, jtis, nonces) come from a per-thread buffer refilled 1 KiB at a time: one
// RAND_bytes call per ~60 token ids instead of one each (each call takes the DRBG's lock and its
// fork check, a getpid system call). The bytes are the same DRBG's output either way; each
// served byte is wiped from the buffer at once. A forked child drops what its parent had
// buffered (pthread_atfork below), so the two never hand out the same bytes.
constexpr size_t kBuffered = 1024;
constexpr size_t kMaxBufferedRequest = 64;

std::atomic<unsigned> fork_generation{0};
[[maybe_unused]] const int atfork_registered =
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });

void RandBytes(void* out, size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    // Without entropy nothing we issue is safe; this is not recoverable.
    throw std::runtime_error("RAND_bytes failed");
  }
}

struct ThreadBuffer {
  unsigned char bytes[kBuffered];
  size_t pos = kBuffered;  // bytes before pos were served (and wiped)
  unsigned generation = 0;
  ~ThreadBuffer() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

class OpenSslRandom final : public Random {
 public:
  void Fill(void* out, size_t n) override {
    if (n > kMaxBufferedRequest) return RandBytes(out, n);
    thread_local ThreadBuffer buf;
    const unsigned generation = fork_generation.load(std::memory_order_relaxed);
    if (buf.generation != generation || kBuffered - buf.pos < n) {
      RandBytes(buf.bytes, kBuffered);
      buf.pos = 0;
      buf.generation = generation;
    }
    std::memcpy(out, buf.bytes + buf.pos, n);
    OPENSSL_cleanse(buf.bytes + buf.pos, n);
    buf.pos += n;
  }
};

}  // namespace

std::string Random::Token(size_t bytes) {
  if (bytes <= kMaxBufferedRequest) {
    unsigned char buf[kMaxBufferedRequest];
    Fill(buf, bytes);
    std::string out = Base64UrlEncode(std::string_view(reinterpret_cast<char*>(buf), bytes));
    OPENSSL_cleanse(buf, bytes);
    return out;
  }
  std::string buf(bytes, '\0');
  Fill(buf.data(), bytes);
  return Base64UrlEncode(buf);
}

std::string Random::Uuid() {
  uint8_t b[16];
  Fill(b, sizeof b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

Random& Random::System() {
  static OpenSslRandom random;
  return random;
}

}  // namespace portcullis
