/*
 * netaddr.c — see netaddr.h.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text → family and bytes; 0 on success. An IPv4-mapped IPv6 address becomes IPv4. */
static int parse_ip(const char *s, size_t n, int *family, unsigned char addr[16])
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, addr) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, sizeof mapped) == 0) {
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return 0;
    }
    return -1;
}

static int in_net(const netaddr_net *net, int family, const unsigned char *addr)
{
    if (net->family != family)
        return 0;
    int full = net->bits / 8, rest = net->bits % 8;
    if (memcmp(net->addr, addr, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((net->addr[full] & mask) != (addr[full] & mask))
            return 0;
    }
    return 1;
}

static const char *trim(const char *s, const char *end, const char **tail)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *tail = end;
    return s;
}

int netaddr_list_parse(const char *spec, netaddr_list *out, derr *e)
{
    memset(out, 0, sizeof *out);
    const char *p = spec ? spec : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *t_end;
        const char *t = trim(p, end, &t_end);
        if (t == t_end) {
            if (!comma && out->n > 0)
                break;
            return derr_set(e, 400, "config", "--trusted-proxies: an empty entry");
        }
        if (out->n == NETADDR_MAX_NETS)
            return derr_set(e, 400, "config", "--trusted-proxies: more than %d networks", NETADDR_MAX_NETS);
        netaddr_net *net = &out->nets[out->n];
        const char *slash = memchr(t, '/', (size_t)(t_end - t));
        const char *a_end = slash ? slash : t_end;
        if (parse_ip(t, (size_t)(a_end - t), &net->family, net->addr) < 0)
            return derr_set(e, 400, "config", "--trusted-proxies: '%.*s' is not an IP address or network",
                            (int)(t_end - t), t);
        int max = net->family == AF_INET ? 32 : 128;
        net->bits = max;
        if (slash) {
            char *stop;
            const char *b = slash + 1;
            long bits = (b < t_end && *b >= '0' && *b <= '9') ? strtol(b, &stop, 10) : -1;
            if (bits < 0 || bits > max || stop != t_end)
                return derr_set(e, 400, "config", "--trusted-proxies: '%.*s' has a bad prefix length (0-%d)",
                                (int)(t_end - t), t, max);
            net->bits = (int)bits;
            /* the network address itself must have no bits set past the prefix */
            for (int i = 0; i < max / 8; i++) {
                int keep = net->bits - i * 8;
                unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
                if (net->addr[i] & (unsigned char)~mask)
                    return derr_set(e, 400, "config",
                                    "--trusted-proxies: '%.*s' has host bits set (did you mean another prefix?)",
                                    (int)(t_end - t), t);
            }
        }
        out->n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

static int contains_n(const netaddr_list *l, const char *ip, size_t n)
{
    int family;
    unsigned char addr[16];
    if (parse_ip(ip, n, &family, addr) < 0)
        return 0;
    for (int i = 0; i < l->n; i++)
        if (in_net(&l->nets[i], family, addr))
            return 1;
    return 0;
}

int netaddr_list_contains(const netaddr_list *l, const char *ip)
{
    return ip ? contains_n(l, ip, strlen(ip)) : 0;
}

const char *netaddr_client(const netaddr_list *trusted, const char *peer, const char *xff, char *out,
                           size_t outlen)
{
    snprintf(out, outlen, "%s", peer);
    if (!xff || trusted->n == 0 || !netaddr_list_contains(trusted, peer))
        return out;
    const char *end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *t_end;
        const char *t = trim(start, end, &t_end);
        int family;
        unsigned char addr[16];
        if (parse_ip(t, (size_t)(t_end - t), &family, addr) < 0)
            return out; /* garbage: the last trusted hop is all we know */
        snprintf(out, outlen, "%.*s", (int)(t_end - t), t);
        if (!contains_n(trusted, t, (size_t)(t_end - t)))
            return out;
        end = start > xff ? start - 1 : xff;
    }
    return out;
}
