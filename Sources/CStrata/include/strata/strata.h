/*
 * strata/strata.h: the whole published C API of Strata.
 *
 * Include this file only. What is not declared in these headers is not API.
 */
#ifndef STRATA_H
#define STRATA_H

#include "version.h"
#include "status.h"
#include "engine.h"
#include "plugin.h"
#include "vector_store.h"
#include "embedder.h"
#include "summarizer.h"
#include "memory_kernel.h"
#include "kernel.h"

#endif /* STRATA_H */
