/*
 * privacy.c — the one rule for showing email addresses (privacy.h).
 */
#include "privacy.h"
#include "core_int.h"

#include <strings.h>

bool privacy_email_visible(const principal *who, int64_t user_id, bool shown)
{
    if (shown)
        return true;
    if (!who || who->kind == CRED_NONE)
        return false;
    return who->user_id == user_id || (who->is_admin && principal_can(who, "admin"));
}

const char *privacy_user_email(const principal *who, const store_user *u)
{
    return privacy_email_visible(who, u->id, u->show_email) ? u->email : NULL;
}

const char *privacy_owner_email(const principal *who, const store_owner *o)
{
    return privacy_email_visible(who, o->user_id, o->show_email) ? o->email : NULL;
}

int privacy_find_user(core *c, arena *a, const principal *who, const char *login, store_user *out, derr *e)
{
    int rc = login ? store_call(c->st, user_by_login, a, login, out, e) : STORE_NOT_FOUND;
    if (rc == STORE_ERROR)
        return -1;
    /* Found by its username, or by an address the caller may see. */
    bool named = rc == STORE_OK && strcasecmp(out->username, login) == 0;
    bool addressed = rc == STORE_OK && !named && privacy_user_email(who, out) != NULL;
    if ((!named && !addressed) || out->disabled)
        return derr_set(e, 404, "not_found", "no user '%.100s'", login ? login : "");
    return 0;
}

int privacy_set_show_email(core *c, const principal *who, bool show, const char *ip, derr *e)
{
    if (who->kind == CRED_NONE)
        return derr_set(e, 401, "unauthorized", "a credential is needed");
    if (who->kind == CRED_TOKEN && !principal_can(who, "admin"))
        return derr_set(e, 403, "forbidden",
                        "account settings need a password, a session, or a token with the admin scope");
    int rc = store_call(c->st, user_set_show_email, who->user_id, show, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "your account no longer exists");
    if (rc != STORE_OK)
        return -1;
    core_audit(c, who->user_id, show ? "user.show_email" : "user.hide_email", who->username, NULL, ip);
    return 0;
}
