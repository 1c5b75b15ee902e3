/*
 * netaddr.h — IP addresses and networks, for --trusted-proxies: which peers may
 * tell depot, in X-Forwarded-For, the address of the client behind them.
 */
#ifndef DEPOT_NETADDR_H
#define DEPOT_NETADDR_H

#include <stddef.h>

#include "err.h"

#define NETADDR_MAX_NETS 32

typedef struct netaddr_net {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network bytes (4 used for IPv4) */
    int bits;               /* prefix length */
} netaddr_net;

typedef struct netaddr_list {
    int n;
    netaddr_net nets[NETADDR_MAX_NETS];
} netaddr_list;

/* Parses "ADDR[/BITS], ..." (IPv4 or IPv6, spaces allowed around commas; an
 * empty string is an empty list). Host bits set below the prefix are refused,
 * since they usually mean a typo. */
int netaddr_list_parse(const char *spec, netaddr_list *out, derr *e);

/* 1 when ip (text) is inside one of the networks; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) also matches IPv4 networks. 0 otherwise, and for text that
 * is not an address. */
int netaddr_list_contains(const netaddr_list *l, const char *ip);

/* The client's address for a request from `peer` carrying X-Forwarded-For
 * `xff` (may be NULL). When peer is a trusted proxy, the list is read from its
 * right end (the entry the nearest proxy appended) leftwards, skipping trusted
 * proxies; the first other address is the client. Anything unparsable stops
 * the walk at the last trusted hop. Writes the address into out (at least
 * INET6_ADDRSTRLEN bytes) and returns out. */
const char *netaddr_client(const netaddr_list *trusted, const char *peer, const char *xff, char *out,
                           size_t outlen);

#endif
