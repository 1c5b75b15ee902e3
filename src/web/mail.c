/*
 * mail.c — sending one plain-text mail through the SMTP server named by
 * --smtp-url, with libcurl (already linked for S3). smtp:// upgrades to TLS
 * when the server offers STARTTLS; smtps:// is TLS from the start;
 * credentials, when needed, go in the URL (smtp://user:pass@host:587).
 *
 * Only addresses that passed account_check_email reach here, and the
 * server name is checked at start, so no header can be split with a line
 * break. Sending blocks for at most MAIL_TIMEOUT seconds, so the routes that
 * send mail run on the worker pool.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../lib/buf.h"
#include "../lib/crypto.h"
#include "../lib/log.h"
#include "web.h"

#define MAIL_TIMEOUT 20L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

bool web_mail_on(req *r)
{
    return r->cfg->smtp_url && *r->cfg->smtp_url;
}

struct reader {
    const char *p;
    size_t left;
};

static size_t read_cb(char *out, size_t size, size_t nitems, void *ud)
{
    struct reader *rd = ud;
    size_t n = size * nitems;
    if (n > rd->left)
        n = rd->left;
    memcpy(out, rd->p, n);
    rd->p += n;
    rd->left -= n;
    return n;
}

int web_mail_send(req *r, const char *to, const char *subject, const char *body, derr *e)
{
    if (!web_mail_on(r))
        return derr_set(e, 503, "unavailable", "this server has no mail server set up (--smtp-url)");
    pthread_once(&curl_once, curl_init);
    const char *host = req_host(r);
    const char *from = *r->cfg->smtp_from ? r->cfg->smtp_from : arena_printf(r->a, "depot@%s", host);
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    unsigned char rnd[12];
    random_bytes(rnd, sizeof rnd);
    char id[25];
    hex_encode(rnd, sizeof rnd, id);

    buf msg;
    buf_init(&msg, 64 * 1024);
    buf_printf(
        &msg,
        "Date: %s\r\nFrom: \"%s\" <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@%s>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
        "Auto-Submitted: auto-generated\r\n\r\n",
        date, r->cfg->server_name, from, to, subject, id, host);
    /* The body with CRLF line ends (libcurl dot-stuffs lines that start with '.'). */
    for (const char *p = body; *p; p++) {
        if (*p == '\n')
            buf_append(&msg, "\r\n", 2);
        else if (*p != '\r')
            buf_append(&msg, p, 1);
    }
    buf_append(&msg, "\r\n", 2);

    CURL *c = curl_easy_init();
    if (!c) {
        buf_free(&msg);
        return derr_set(e, 500, "internal", "cannot start the mail client");
    }
    struct reader rd = {msg.data, msg.len};
    struct curl_slist *rcpt = curl_slist_append(NULL, arena_printf(r->a, "<%s>", to));
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, r->cfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, arena_printf(r->a, "<%s>", from));
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(c, CURLOPT_READDATA, &rd);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, MAIL_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (strncmp(r->cfg->smtp_url, "smtp://", 7) == 0)
        curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    buf_free(&msg);
    if (rc != CURLE_OK) {
        log_error("cannot send mail", "request_id", r->request_id, "error",
                  *errbuf ? errbuf : curl_easy_strerror(rc), NULL);
        return derr_set(e, 503, "unavailable", "the mail could not be sent; try again later");
    }
    log_info("mail sent", "request_id", r->request_id, "subject", subject, NULL);
    return 0;
}
