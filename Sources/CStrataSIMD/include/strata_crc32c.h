#ifndef STRATA_CRC32C_H
#define STRATA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** 1 when this CPU has the SSE4.2 crc32 instruction (decided once, at the first call). */
int strata_crc32c_hardware(void);

/** Folds n bytes into a CRC-32C register `crc` (already inverted: pass ~previous, invert the
 *  result) with the SSE4.2 crc32 instruction, 8 bytes a step. Call only when
 *  strata_crc32c_hardware() is 1. */
uint32_t strata_crc32c_fold(uint32_t crc, const void *bytes, size_t n);

#endif
