/*
 * privacy.h — who may see a user's email address, and how a front finds a
 * user by one.
 *
 * An address is private by default: it is shown to its own user, to an
 * admin acting as one (a session or password of an admin, or a token with
 * the admin scope), and to everyone else only when the user chose to show
 * it (store_user.show_email). A lookup by address finds a user only for a
 * caller who may see that address, so no answer maps an address to the
 * account that holds it. Every front asks here; none compares addresses
 * itself.
 */
#ifndef DEPOT_PRIVACY_H
#define DEPOT_PRIVACY_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/store.h"
#include "auth.h"
#include "core.h"

/* May who see the address of user user_id, who chose `shown`? who NULL: anyone at all (a page
 * cached for everyone). */
bool privacy_email_visible(const principal *who, int64_t user_id, bool shown);
/* u's address if who may see it, else NULL (borrowed from u). */
const char *privacy_user_email(const principal *who, const store_user *u);
/* The same for a package owner's row. */
const char *privacy_owner_email(const principal *who, const store_owner *o);

/* A user by username (case-insensitive), or by an address who may see (as above); never a
 * disabled account. 404 "no user '<login>'" otherwise, so an unknown address and a hidden one
 * answer alike. */
int privacy_find_user(core *c, arena *a, const principal *who, const char *login, store_user *out, derr *e);

/* Sets whether who's own user shows the address to everyone, audited as user.show_email or
 * user.hide_email. An account setting: a password, a session, or a token with the admin scope
 * (403 for other tokens, 401 without a credential). */
int privacy_set_show_email(core *c, const principal *who, bool show, const char *ip, derr *e);

#endif
