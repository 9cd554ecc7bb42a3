#ifndef CSTRATA_SHIM_H
#define CSTRATA_SHIM_H
/** Path of the shared object containing `address`, or NULL. Borrowed from the loader. */
const char *cstrata_image_path(const void *address);
#endif
