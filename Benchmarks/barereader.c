/* barereader: the fastest possible audit daemon, as the benchmark's yardstick. It registers as the
 * audit daemon, enlarges its socket buffer with SO_RCVBUFFORCE, and only receives datagrams with
 * recvmmsg, counting the SYSCALL records that carry the benchmark's magic a0 — no parsing, no
 * output. Whatever it cannot drain, no daemon can.
 *
 * With -o FILE it is the "bare writer": it also appends every record's text and a newline to FILE,
 * with one write per received batch, on the same thread. That is the least any daemon that keeps
 * the records in a file must do: no reassembly, no JSON.
 *
 * usage: barereader [-m MAGIC_HEX] [-s STATS_FILE] [-b RCVBUF_BYTES] [-o OUTPUT_FILE]
 * On SIGTERM/SIGINT it unregisters, writes `matched=N records=N enobufs=N last_ns=N` to the stats
 * file (or stdout) and exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 9216

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static int set_pid(int fd, uint32_t pid) {
    struct { struct nlmsghdr h; struct audit_status s; } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = AUDIT_SET;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.h.nlmsg_seq = pid ? 1 : 2;
    req.s.mask = AUDIT_STATUS_PID;
    req.s.pid = pid;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    return sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    const char *magic = "a0=7e57b00c", *stats = NULL, *output = NULL;
    int rcvbuf = 64 << 20, opt;
    char magicbuf[64];
    while ((opt = getopt(argc, argv, "m:s:b:o:")) != -1) {
        switch (opt) {
        case 'm': snprintf(magicbuf, sizeof magicbuf, "a0=%s", optarg); magic = magicbuf; break;
        case 's': stats = optarg; break;
        case 'o': output = optarg; break;
        case 'b': rcvbuf = atoi(optarg); break;
        default: fprintf(stderr, "usage: barereader [-m MAGIC_HEX] [-s STATS] [-b BYTES] [-o OUTPUT]\n"); return 2;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof local) != 0) { perror("netlink"); return 1; }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    if (set_pid(fd, getpid()) != 0) { perror("AUDIT_SET pid"); return 1; }
    static char buffers[BATCH][SLOT];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        iov[i].iov_base = buffers[i];
        iov[i].iov_len = SLOT;
        memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned long long matched = 0, records = 0, enobufs = 0, last_ns = 0;
    size_t magic_len = strlen(magic);
    int registered = 1;
    int out_fd = -1;
    static char text[BATCH * SLOT];
    if (output && (out_fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        perror(output);
        set_pid(fd, 0);
        return 1;
    }
    for (;;) {
        if (stop && registered) { set_pid(fd, 0); registered = 0; }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ready = poll(&p, 1, stop ? 200 : 100);
        if (ready == 0) { if (stop) break; continue; }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0) {
            if (errno == ENOBUFS) { enobufs++; continue; }
            if (errno == EINTR || errno == EAGAIN) continue;
            perror("recvmmsg");
            break;
        }
        size_t used = 0;
        for (int i = 0; i < n; i++) {
            struct nlmsghdr *h = (struct nlmsghdr *)buffers[i];
            size_t len = msgs[i].msg_len;
            if (out_fd >= 0 && len > NLMSG_HDRLEN && len <= SLOT) {
                memcpy(text + used, buffers[i] + NLMSG_HDRLEN, len - NLMSG_HDRLEN);
                used += len - NLMSG_HDRLEN;
                text[used++] = '\n';
            }
            if (len < NLMSG_HDRLEN || h->nlmsg_type != AUDIT_SYSCALL) { records++; continue; }
            records++;
            if (memmem(buffers[i] + NLMSG_HDRLEN, len - NLMSG_HDRLEN, magic, magic_len)) {
                matched++;
                struct timespec t;
                clock_gettime(CLOCK_REALTIME, &t);
                last_ns = (unsigned long long)t.tv_sec * 1000000000ULL + t.tv_nsec;
            }
        }
        if (used && write(out_fd, text, used) != (ssize_t)used) {
            perror("write");
            break;
        }
    }
    if (registered) set_pid(fd, 0);
    if (out_fd >= 0) close(out_fd);
    FILE *out = stats ? fopen(stats, "w") : stdout;
    if (!out) out = stdout;
    fprintf(out, "matched=%llu records=%llu enobufs=%llu last_ns=%llu\n", matched, records, enobufs, last_ns);
    if (out != stdout) fclose(out);
    return 0;
}
