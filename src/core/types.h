/*
 * types.h — the rows core hands to fronts, under core's names.
 *
 * Fronts and http speak to the registry only through core (packages.h, catalog.h, uploads.h,
 * accounts.h ...). What they read back are the store's rows and the blob store's readers; this
 * header names them once, so that no front includes a store or blob header or names their
 * interfaces (scripts/check-banned holds them to it). The layouts and the ownership rules are
 * the store's and the blob store's (store/store.h, blob/blob.h): strings live in the arena the
 * caller passed.
 */
#ifndef DEPOT_CORE_TYPES_H
#define DEPOT_CORE_TYPES_H

#include "../blob/blob.h"
#include "../store/store.h"

typedef store_user user_row;
typedef store_token token_row;
typedef store_key key_row;
typedef store_package package_row;
typedef store_version version_row;
typedef store_dep dep_row;
typedef store_owner owner_row;
typedef store_tag tag_row;
typedef store_version_status version_status;
typedef store_day_count day_count;
typedef store_totals registry_totals;
typedef store_audit_row audit_row;
typedef store_upload upload_row;
/* A search: the fields of store_search (ecosystem, query, keyword, category, tag, sort, offset,
 * limit). */
typedef store_search package_query;

/* Where stored bytes (a tarball, a docs file) can be read from, to answer a client: an open fd,
 * a stream still arriving from a remote store, or a presigned URL. The reader owns what its kind
 * names until it is handed to resp_content (http.h) or closed with content_close. */
typedef blob_reader content_reader;
typedef blob_stream content_stream;
#define CONTENT_FD BLOB_READER_FD
#define CONTENT_STREAM BLOB_READER_STREAM
#define CONTENT_REDIRECT BLOB_READER_REDIRECT
#define CONTENT_STREAM_END BLOB_STREAM_END
#define CONTENT_STREAM_ERROR BLOB_STREAM_ERROR

/* Releases what a reader holds, whatever its kind; NULL and an emptied reader are fine. */
void content_close(content_reader *r);

#endif
