/*
 * core_int.h — the layout of struct core, for core/ itself and for the
 * command-line tools (cli/) that open one and work on the store directly
 * (fsck, backup, migrations, admin). Fronts and http never include it.
 */
#ifndef DEPOT_CORE_INT_H
#define DEPOT_CORE_INT_H

#include "../blob/blob.h"
#include "../store/store.h"
#include "core.h"

struct core {
    const config *cfg;
    store *st;
    blob_store *blobs;
    unsigned char jwt_key[64];
    size_t jwt_keylen;
};

#endif
