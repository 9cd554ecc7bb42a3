#define _GNU_SOURCE
#include <dlfcn.h>
#include "cstrata_shim.h"

const char *cstrata_image_path(const void *address) {
    Dl_info info;
    if (dladdr(address, &info) == 0) return 0;
    return info.dli_fname;
}
