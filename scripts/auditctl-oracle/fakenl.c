// LD_PRELOAD shim: replaces auditctl's NETLINK_AUDIT socket with a local socketpair so that
// rule blobs can be captured (ADD/DEL) and fake rule lists replayed (LIST) without ever
// touching the kernel's audit state. Dev tool only.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/audit.h>

static int peer_of[4096]; static int peer_fd = -1;
#define IS_FAKE(fd) ((fd) >= 0 && (fd) < 4096 && peer_of[fd] > 0)
#define SELECT(fd) (peer_fd = peer_of[fd])

int socket(int domain, int type, int protocol) {
    static int (*real)(int,int,int);
    if (!real) real = dlsym(RTLD_NEXT, "socket");
    if (domain == AF_NETLINK && protocol == NETLINK_AUDIT) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_DGRAM | (type & (SOCK_CLOEXEC|SOCK_NONBLOCK)), 0, sv) < 0) return -1;
        if (sv[0] < 4096) peer_of[sv[0]] = sv[1];
        return sv[0];
    }
    return real(domain, type, protocol);
}

int bind(int fd, const struct sockaddr *a, socklen_t l) {
    static int (*real)(int,const struct sockaddr*,socklen_t);
    if (!real) real = dlsym(RTLD_NEXT, "bind");
    if (IS_FAKE(fd)) return 0;
    return real(fd, a, l);
}

static void reply(int type, unsigned flags, unsigned seq, const void *payload, size_t plen) {
    char buf[16 + 70000];
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (plen > 70000) plen = 70000;
    h->nlmsg_len = NLMSG_LENGTH(plen);
    h->nlmsg_type = type; h->nlmsg_flags = flags; h->nlmsg_seq = seq; h->nlmsg_pid = 0;
    memcpy(buf + 16, payload, plen);
    send(peer_fd, buf, NLMSG_ALIGN(h->nlmsg_len), 0);
}

static void ack(unsigned seq, const struct nlmsghdr *req, int err) {
    struct nlmsgerr e; memset(&e, 0, sizeof e);
    e.error = err; e.msg = *req;
    reply(NLMSG_ERROR, 0, seq, &e, sizeof e);
}

static int unhex(int c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }

static void handle(const void *buf, size_t len) {
    const struct nlmsghdr *h = buf;
    if (len < 16) return;
    const unsigned char *p = (const unsigned char *)buf + 16;
    size_t plen = h->nlmsg_len > 16 ? h->nlmsg_len - 16 : 0;
    if (plen > len - 16) plen = len - 16;
    const char *out = getenv("FAKENL_OUT");
    FILE *f = out ? fopen(out, "a") : NULL;
    if (f) {
        fprintf(f, "%u ", h->nlmsg_type);
        for (size_t i = 0; i < plen; i++) fprintf(f, "%02x", p[i]);
        fprintf(f, "\n"); fclose(f);
    }
    switch (h->nlmsg_type) {
    case AUDIT_GET: {
        struct audit_status s; memset(&s, 0, sizeof s);
        s.enabled = 1; s.failure = 1; s.backlog_limit = 8192; s.feature_bitmap = 0x7f;
        reply(AUDIT_GET, 0, h->nlmsg_seq, &s, sizeof s);
        if (h->nlmsg_flags & NLM_F_ACK) ack(h->nlmsg_seq, h, 0);
        break; }
    case AUDIT_LIST_RULES: {
        const char *rules = getenv("FAKENL_RULES");
        FILE *r = rules ? fopen(rules, "r") : NULL;
        static char line[200000]; static unsigned char blob[100000];
        while (r && fgets(line, sizeof line, r)) {
            size_t n = 0;
            for (char *c = line; c[0] && c[1] && c[0] != '\n'; c += 2) blob[n++] = unhex(c[0]) << 4 | unhex(c[1]);
            if (n) reply(AUDIT_LIST_RULES, NLM_F_MULTI, h->nlmsg_seq, blob, n);
        }
        if (r) fclose(r);
        reply(NLMSG_DONE, NLM_F_MULTI, h->nlmsg_seq, "\0\0\0\0", 4);
        break; }
    default: {
        const char *e = getenv("FAKENL_ERRNO");
        ack(h->nlmsg_seq, h, e ? -atoi(e) : 0);
        break; }
    }
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *a, socklen_t l) {
    static ssize_t (*real)(int,const void*,size_t,int,const struct sockaddr*,socklen_t);
    if (!real) real = dlsym(RTLD_NEXT, "sendto");
    if (IS_FAKE(fd)) { SELECT(fd); handle(buf, len); return len; }
    return real(fd, buf, len, flags, a, l);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    static ssize_t (*real)(int,const void*,size_t,int);
    if (!real) real = dlsym(RTLD_NEXT, "send");
    if (IS_FAKE(fd)) { SELECT(fd); handle(buf, len); return len; }
    return real(fd, buf, len, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *m, int flags) {
    static ssize_t (*real)(int,const struct msghdr*,int);
    if (!real) real = dlsym(RTLD_NEXT, "sendmsg");
    if (IS_FAKE(fd)) {
        SELECT(fd); char b[70000]; size_t n = 0;
        for (size_t i = 0; i < m->msg_iovlen; i++) {
            size_t c = m->msg_iov[i].iov_len; if (n + c > sizeof b) c = sizeof b - n;
            memcpy(b + n, m->msg_iov[i].iov_base, c); n += c;
        }
        handle(b, n); return n;
    }
    return real(fd, m, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *a, socklen_t *l) {
    static ssize_t (*real)(int,void*,size_t,int,struct sockaddr*,socklen_t*);
    if (!real) real = dlsym(RTLD_NEXT, "recvfrom");
    if (IS_FAKE(fd)) {
        ssize_t r = real(fd, buf, len, flags, NULL, NULL);
        if (a && l) {
            struct sockaddr_nl nl; memset(&nl, 0, sizeof nl); nl.nl_family = AF_NETLINK;
            memcpy(a, &nl, *l < sizeof nl ? *l : sizeof nl); *l = sizeof nl;
        }
        return r;
    }
    return real(fd, buf, len, flags, a, l);
}
int close(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "close");
    if (IS_FAKE(fd)) { real(peer_of[fd]); peer_of[fd] = 0; }
    return real(fd);
}
