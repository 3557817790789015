#ifndef CAUDIT_NETLINK_H
#define CAUDIT_NETLINK_H
/* Header-only shim: exposes <linux/netlink.h> and <linux/audit.h> to Swift and wraps the
 * function-like macros Swift cannot import. Nothing here allocates or keeps state. */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/audit.h>

_Static_assert(sizeof(struct nlmsghdr) == 16, "nlmsghdr is 16 bytes on every Linux ABI");
_Static_assert(sizeof(struct audit_rule_data) == 1040, "audit_rule_data fixed part is 1040 bytes");

static inline uint32_t caudit_nlmsg_align(uint32_t len) { return NLMSG_ALIGN(len); }
static inline uint32_t caudit_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
static inline uint32_t caudit_nlmsg_length(uint32_t len) { return NLMSG_LENGTH(len); }
static inline uint32_t caudit_nlmsg_space(uint32_t len) { return NLMSG_SPACE(len); }

/* The netlink multicast group bit for AUDIT_NLGRP_READLOG (an enum in the header). */
static inline uint32_t caudit_readlog_group_mask(void) { return 1u << (AUDIT_NLGRP_READLOG - 1); }

/* recvmmsg(2) and struct mmsghdr are GNU extensions that Swift's Glibc module does not export
 * (it is built without _GNU_SOURCE). The same layout under our own name, bound to glibc's symbol. */
struct caudit_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
extern int caudit_recvmmsg(int fd, struct caudit_mmsghdr *vector, unsigned int count, int flags, void *timeout)
    __asm__("recvmmsg");

#endif
