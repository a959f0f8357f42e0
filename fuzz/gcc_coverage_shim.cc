// libFuzzer coverage for g++ builds. clang 14 (the only clang here) cannot compile this C++23
// code base against libstdc++ 12 (no std::expected), so fuzz builds use g++ with
// -fsanitize-coverage=trace-pc,trace-cmp and clang's libFuzzer runtime. libFuzzer 14 refuses
// trace-pc callbacks, so the link wraps them (-Wl,--wrap=__sanitizer_cov_trace_pc) into this
// shim (itself not instrumented: no_sanitize_coverage), which hashes each instrumented block's
// return address into 64 Ki 8-bit counters that libFuzzer reads like clang's inline-8bit-counters.
// trace-cmp goes to libFuzzer directly.

#include <cstddef>
#include <cstdint>

extern "C" void __sanitizer_cov_8bit_counters_init(uint8_t* begin, uint8_t* end);
extern "C" void __sanitizer_cov_pcs_init(const uintptr_t* begin, const uintptr_t* end);

namespace {

constexpr size_t kCounters = size_t{1} << 16;
uint8_t counters[kCounters];
uintptr_t pcs[2 * kCounters];  // {pc, flags} pairs; the "pc" is the bucket number

__attribute__((constructor, no_sanitize_coverage)) void RegisterCounters() {
  for (size_t i = 0; i < kCounters; ++i) pcs[2 * i] = i + 1;
  __sanitizer_cov_8bit_counters_init(counters, counters + kCounters);
  __sanitizer_cov_pcs_init(pcs, pcs + 2 * kCounters);
}

}  // namespace

extern "C" __attribute__((no_sanitize_address, no_sanitize_undefined, no_sanitize_coverage)) void
__wrap___sanitizer_cov_trace_pc() {
  auto pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  counters[(pc ^ (pc >> 16)) & (kCounters - 1)]++;
}

// g++ also traces floating-point comparisons, which libFuzzer has no hooks for.
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
