#include "strata_crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int strata_crc32c_hardware(void)
{
    static int known = -1;
    if (known < 0) known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return known;
}

/* The crc32 instruction computes CRC-32C (Castagnoli) on the reflected register, the same
 * register the table path keeps, so the two paths give the same bits at every length. */
__attribute__((target("sse4.2"))) uint32_t strata_crc32c_fold(uint32_t crc, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n > 0) {
        c32 = _mm_crc32_u8(c32, *p++);
        n--;
    }
    return c32;
}
#else
int strata_crc32c_hardware(void) { return 0; }

uint32_t strata_crc32c_fold(uint32_t crc, const void *bytes, size_t n)
{
    (void)bytes;
    (void)n;
    return crc;
}
#endif
