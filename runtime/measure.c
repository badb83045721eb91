/*
 * measure: runs one benchmark execution and measures it.
 *
 *   measure [--timeout SECS] [--linger SECS] [--cpus LIST] [--nothp] [--no-cgroup] [--stdin FILE]
 *           [--env-file FILE] --stdout FILE --stderr FILE --result FILE|- -- argv...
 *
 *   measure --serve
 *
 * --env-file: the benchmark's complete environment, as NUL-terminated NAME=VALUE entries; the
 * file is removed as soon as it was read. Remote backends use it so that no environment value
 * ever appears in a command line (/proc/PID/cmdline is readable by every user).
 *
 * --serve: a long-lived helper that measures one execution after another on request, so an
 * execution costs a fork and an exec instead of starting a helper each time. Requests come on
 * standard input, each a frame: its length in bytes as decimal digits and a newline, then that
 * many bytes of NUL-terminated strings: the benchmark's environment entries (NAME=VALUE), an
 * empty string, then the arguments of the one-shot form above (--result is ignored,
 * --env-file not taken; a `--cwd DIR` option sets the benchmark's working directory). For each
 * request one result line (the JSON object below and a newline) is written to standard output
 * before the next request is read; a request that cannot be parsed gets {"requestError":"..."}. The benchmark's
 * standard input is /dev/null unless --stdin is given. The helper exits at the end of its
 * input, and after an interrupt (once the interrupted execution's result is written).
 * A request with `--hold TOKEN` (a positive integer) is forked and set up at once but starts
 * (its clock, then its exec) only once TOKEN arrives on descriptor 3 (see GO_FD); infra sends
 * it the next execution that way while the current one runs. An interrupt while it waits
 * stops it unstarted: its result says "notStarted":true.
 * Each execution is measured exactly as by the one-shot form: the rusage figures are those of
 * the processes of its own tree, summed (and maxrss maximised) from wait4 as each is reaped.
 *
 * If the process that started the helper dies (even by SIGKILL), the helper kills the whole
 * tree at once (PR_SET_PDEATHSIG) and exits.
 *
 * Why a separate C helper: ru_maxrss survives exec, so a child forked from a large process
 * (node) reports the parent's size. This helper is small and static; it forks the benchmark,
 * becomes the subreaper of the whole tree, and adds up the rusage wait4 reports for each process
 * of the tree as it is reaped (for the whole tree: each process's figures include those of its
 * own children that it waited for), until every one of them has been reaped. Where a cgroup memory controller is usable the tree also gets
 * a fresh cgroup whose kernel-measured peak is reported.
 *
 * What the figures mean:
 *   runtime    wall-clock seconds from just before the benchmark's exec until the main process
 *              is reaped (the setup before exec, e.g. joining the cgroup, is not included, nor
 *              are descendants that outlive the main process)
 *   utime, stime, minflt, majflt, nvcsw, nivcsw
 *              sums over every process of the tree that was waited for (RUSAGE_CHILDREN's meaning)
 *   maxrss     KiB: the peak resident set size of the largest single process of the tree
 *              (RUSAGE_CHILDREN semantics: a maximum over processes, not a sum; two 50 MiB
 *              processes running at once report 50 MiB)
 *   cgroupPeak KiB, where a cgroup memory controller is usable: the peak memory of the whole
 *              tree together, as the kernel charged it to the execution's cgroup; it includes
 *              page cache (e.g. files the benchmark wrote) and kernel memory
 *   stdoutSize, stderrSize
 *              bytes in the benchmark's output files after it ended (-1: not there)
 *   outputFsFull
 *              whether the file system of its standard output file had no space left then
 *   lingering  processes still running `--linger` seconds (default 10) after the main process
 *              exited, which were then killed; descendants that finish within the grace
 *              period are simply waited for
 *
 * The result is one JSON object, written to --result (atomically: temp name + rename) or, with
 * `--result -`, to the helper's standard output (the benchmark's output goes to its files).
 * Exit status of the helper itself: 0 when a result was written, 2 for usage errors,
 * 3 when the result could not be written.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

/*
 * Served helpers only: where infra sends the go of a held execution (see --hold). A held
 * request's child is forked and set up (cgroup, working directory, output files) as soon as
 * the request is read, usually while infra still records the previous execution, and waits
 * on this descriptor until infra has written that record; only then is the clock started and
 * the program executed. So what is measured is unchanged, and the record of one execution is
 * still written before the next one starts.
 */
#define GO_FD 3
/* Grace period between forwarding an interrupt to the tree and killing it. */
#define INTERRUPT_GRACE_SECONDS 2.0
/* Interval at which a tree that was killed is killed again until every process is reaped. */
#define REKILL_INTERVAL_SECONDS 0.05
/* Default grace period for descendants still running after the main process exited. */
#define DEFAULT_LINGER_SECONDS 10.0

struct options {
    double timeout; /* 0: none */
    double linger;
    const char *cpus;
    int nothp;
    int nocgroup;
    const char *stdin_path;
    char **envp; /* from --env-file; NULL: the helper's own environment */
    const char *stdout_path;
    const char *stderr_path;
    const char *result_path;
    const char *cwd; /* NULL: the helper's own */
    int serve;       /* stdin: /dev/null unless given */
    unsigned long long hold; /* served: the request's token; 0: start at once */
    /* served, held and prepared ahead: the helper's own go for it (a pipe), else -1 */
    int self_go_r, self_go_w;
    /* served: where and how to write the record of a clean execution (see write_record) */
    const char *record_file, *record_head, *record_middle, *record_tail;
    char **argv;
};

enum cgroup_kind { CG_NONE, CG_V1, CG_V2 };

struct cgroup {
    enum cgroup_kind kind;
    char dir[4096];
    char procs[4200];
    char join[4200]; /* where the benchmark writes "0" to move itself in */
    char peak[4200];
};

static void usage(void) {
    fprintf(stderr,
            "usage: measure [--timeout SECS] [--linger SECS] [--cpus LIST] [--nothp] [--no-cgroup]\n"
            "               [--stdin FILE] [--env-file FILE] --stdout FILE --stderr FILE --result FILE|- -- argv...\n");
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* NUL-terminated NAME=VALUE entries -> a NULL-terminated environment; the file is removed. */
static char **read_env_file(const char *path) {
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "measure: cannot read the environment file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    unlink(path);
    size_t size = 0, cap = 4096;
    char *buf = malloc(cap);
    for (size_t n; buf && (n = fread(buf + size, 1, cap - size, f)) > 0;) {
        size += n;
        if (size == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) return NULL;
    size_t count = 0;
    for (size_t i = 0; i < size; i++) count += buf[i] == 0;
    char **env = calloc(count + 1, sizeof *env);
    if (!env) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < size && k < count; k++) {
        env[k] = buf + i;
        i += strlen(buf + i) + 1;
    }
    return env;
}

/* Parses argv[first..argc-1]; in serve mode --env-file is not taken (the request has the environment). */
static int parse_options(int argc, char **argv, int first, int serve, struct options *o) {
    memset(o, 0, sizeof *o);
    o->self_go_r = o->self_go_w = -1;
    o->linger = DEFAULT_LINGER_SECONDS;
    o->serve = serve;
    int i = first;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "--nothp") == 0) {
            o->nothp = 1;
        } else if (strcmp(a, "--no-cgroup") == 0) {
            o->nocgroup = 1;
        } else if (next == NULL) {
            return -1;
        } else if (strcmp(a, "--timeout") == 0) {
            char *end;
            o->timeout = strtod(next, &end);
            if (*end || o->timeout < 0) return -1;
            i++;
        } else if (strcmp(a, "--linger") == 0) {
            char *end;
            o->linger = strtod(next, &end);
            if (*end || end == next || o->linger < 0) return -1;
            i++;
        } else if (strcmp(a, "--cpus") == 0) {
            o->cpus = next, i++;
        } else if (strcmp(a, "--stdin") == 0) {
            o->stdin_path = next, i++;
        } else if (strcmp(a, "--cwd") == 0) {
            o->cwd = next, i++;
        } else if (strcmp(a, "--env-file") == 0 && !serve) {
            o->envp = read_env_file(next);
            if (!o->envp) return -1;
            i++;
        } else if (strcmp(a, "--hold") == 0 && serve) {
            char *end;
            o->hold = strtoull(next, &end, 10);
            if (*end || end == next || o->hold == 0) return -1;
            i++;
        } else if (strcmp(a, "--record") == 0 && serve) {
            o->record_file = next, i++;
        } else if (strcmp(a, "--record-head") == 0 && serve) {
            o->record_head = next, i++;
        } else if (strcmp(a, "--record-middle") == 0 && serve) {
            o->record_middle = next, i++;
        } else if (strcmp(a, "--record-tail") == 0 && serve) {
            o->record_tail = next, i++;
        } else if (strcmp(a, "--stdout") == 0) {
            o->stdout_path = next, i++;
        } else if (strcmp(a, "--stderr") == 0) {
            o->stderr_path = next, i++;
        } else if (strcmp(a, "--result") == 0) {
            o->result_path = next, i++; /* served: the result goes back on the pipe whatever it says */
        } else {
            return -1;
        }
    }
    if (i >= argc || !o->stdout_path || !o->stderr_path || (!serve && !o->result_path)) return -1;
    if (o->record_file && (!o->record_head || !o->record_middle || !o->record_tail)) return -1;
    o->argv = &argv[i];
    return 0;
}

/* "0,2-3" -> CPU set; returns -1 on a malformed list. */
static int parse_cpus(const char *s, cpu_set_t *set) {
    CPU_ZERO(set);
    while (*s) {
        char *end;
        long lo = strtol(s, &end, 10), hi = lo;
        if (end == s || lo < 0) return -1;
        s = end;
        if (*s == '-') {
            hi = strtol(s + 1, &end, 10);
            if (end == s + 1 || hi < lo) return -1;
            s = end;
        }
        for (long c = lo; c <= hi && c < CPU_SETSIZE; c++) CPU_SET((int)c, set);
        if (*s == ',') s++;
        else if (*s) return -1;
    }
    return 0;
}

/* ---- cgroups ------------------------------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    return (int)n;
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/*
 * Mount points of the cgroup2 hierarchy and of the v1 memory controller ("" where absent),
 * from one read of /proc/self/mountinfo.
 */
static void find_mounts(char *v2, char *v1, size_t size) {
    v2[0] = v1[0] = 0;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        /* id parent major:minor root mountpoint options [optional...] - fstype source superoptions */
        char *sep = strstr(line, " - ");
        if (!sep) continue;
        char mnt[1024], fstype[64], source[512], super[1024] = "";
        if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1) continue;
        if (sscanf(sep + 3, "%63s %511s %1023s", fstype, source, super) < 2) continue;
        if (!v2[0] && strcmp(fstype, "cgroup2") == 0) snprintf(v2, size, "%s", mnt);
        if (!v1[0] && strcmp(fstype, "cgroup") == 0 && strstr(super, "memory")) snprintf(v1, size, "%s", mnt);
    }
    fclose(f);
}

/* Our own cgroup paths ("/" where not listed), from /proc/self/cgroup ("0::" for v2, "memory" for v1). */
static void own_cgroups(char *v2, char *v1, size_t size) {
    snprintf(v2, size, "/");
    snprintf(v1, size, "/");
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) return;
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':');
        if (!c1) continue;
        char *c2 = strchr(c1 + 1, ':');
        if (!c2) continue;
        *c2 = 0;
        const char *controllers = c1 + 1;
        if (strncmp(line, "0:", 2) == 0 && *controllers == 0) snprintf(v2, size, "%s", c2 + 1);
        else if (strstr(controllers, "memory")) snprintf(v1, size, "%s", c2 + 1);
    }
    fclose(f);
}

/* Where execution cgroups are made: found once (the mounts and our own place in them). */
struct cgroup_root {
    enum cgroup_kind kind;
    char base[3072];
};

static int try_cgroup_root(struct cgroup_root *root, int v2, const char *mnt, const char *own) {
    if (!mnt[0]) return -1;
    snprintf(root->base, sizeof root->base, "%s%s", mnt, own);
    /* in a namespace the listed path may not exist under the mount: use the mount itself */
    if (!exists(root->base)) snprintf(root->base, sizeof root->base, "%s", mnt);
    if (v2) {
        /* a v2 child cgroup only gets memory accounting if the parent delegates it */
        char path[3200], controllers[512];
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", root->base);
        if (read_file(path, controllers, sizeof controllers) < 0 || !strstr(controllers, "memory")) return -1;
    }
    root->kind = v2 ? CG_V2 : CG_V1;
    return 0;
}

static void cgroup_root_find(struct cgroup_root *root, int disabled) {
    root->kind = CG_NONE;
    if (disabled) return;
    char mnt2[1024], mnt1[1024], own2[2048], own1[2048];
    find_mounts(mnt2, mnt1, sizeof mnt2);
    own_cgroups(own2, own1, sizeof own2);
    if (try_cgroup_root(root, 1, mnt2, own2) == 0) return;
    if (try_cgroup_root(root, 0, mnt1, own1) == 0) return;
    root->kind = CG_NONE;
}

/*
 * Removes the execution cgroups of helpers that no longer run (killed outright, they could not
 * remove their own): `infra-measure-PID` or `infra-measure-PID-N` whose PID is gone. A cgroup
 * still holding a process is not removable, so nothing in use is touched.
 */
static void cgroup_remove_stale(const struct cgroup_root *root) {
    if (root->kind == CG_NONE) return;
    DIR *d = opendir(root->base);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid = 0, used = 0;
        if (sscanf(e->d_name, "infra-measure-%d%n", &pid, &used) != 1 || pid <= 0) continue;
        if (e->d_name[used] != 0 && e->d_name[used] != '-') continue;
        if (kill(pid, 0) == 0 || errno != ESRCH) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root->base, e->d_name);
        rmdir(path);
    }
    closedir(d);
}

/* A fresh cgroup for one execution, named after this process and `serial`; kind CG_NONE if none. */
static void cgroup_create(const struct cgroup_root *root, struct cgroup *cg, unsigned long serial) {
    cg->kind = CG_NONE;
    if (root->kind == CG_NONE) return;
    int v2 = root->kind == CG_V2;
    if (serial) snprintf(cg->dir, sizeof cg->dir, "%s/infra-measure-%d-%lu", root->base, (int)getpid(), serial);
    else snprintf(cg->dir, sizeof cg->dir, "%s/infra-measure-%d", root->base, (int)getpid());
    if (mkdir(cg->dir, 0755) < 0) return;
    snprintf(cg->procs, sizeof cg->procs, "%s/cgroup.procs", cg->dir);
    /*
     * v1 moves a single thread through "tasks" without the global lock that moving a whole
     * process through cgroup.procs takes (its write waits for an RCU grace period: 1-15 ms on
     * a busy machine, against about 0.1 ms). The benchmark is single-threaded at that point,
     * so its thread is the whole process.
     */
    snprintf(cg->join, sizeof cg->join, "%s/%s", cg->dir, v2 ? "cgroup.procs" : "tasks");
    snprintf(cg->peak, sizeof cg->peak, "%s/%s", cg->dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes");
    if (!exists(cg->peak)) {
        rmdir(cg->dir);
        return;
    }
    cg->kind = root->kind;
}

/* Peak in KiB, or -1. */
static long long cgroup_peak(const struct cgroup *cg) {
    char buf[64];
    if (cg->kind == CG_NONE || read_file(cg->peak, buf, sizeof buf) <= 0) return -1;
    return strtoll(buf, NULL, 10) / 1024;
}

static void cgroup_remove(const struct cgroup *cg) {
    if (cg->kind == CG_NONE) return;
    for (int i = 0; i < 100; i++) {
        if (rmdir(cg->dir) == 0 || errno == ENOENT) return;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

/* ---- the process tree -------------------------------------------------------------- */

/*
 * The live (not zombie) descendants of this process. As the subreaper, every orphan of the
 * tree is reparented to us, so following parent links from /proc finds the whole tree,
 * including daemons that left the process group and the session. Returns how many were
 * stored in pids/groups (at most max).
 */
struct proc_entry {
    pid_t pid, ppid, pgrp;
    char state;
};

#define MAX_PROCS 32768
#define MAX_TREE 4096

/*
 * Scratch space for walking /proc, mapped only while a tree is killed: pages the helper
 * touched stay in its resident set, and every benchmark forked later would start its maxrss
 * from there.
 */
struct scratch {
    struct proc_entry all[MAX_PROCS];
    int slot[65536];
    unsigned char in_tree[MAX_PROCS];
    pid_t pids[MAX_TREE], groups[MAX_TREE];
};

static pid_t ahead_child(void);

/* The next execution, prepared ahead (see struct request), is left out: it is not of the tree. */
static int descendants(struct scratch *sc, pid_t *pids, pid_t *groups, int max) {
    struct proc_entry *all = sc->all;
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_PROCS) {
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        if (read_file(path, buf, sizeof buf) <= 0) continue;
        char *rp = strrchr(buf, ')'); /* the command name may contain spaces and parens */
        if (!rp) continue;
        struct proc_entry *p = &all[n];
        int ppid, pgrp;
        if (sscanf(rp + 1, " %c %d %d", &p->state, &ppid, &pgrp) != 3) continue;
        p->pid = (pid_t)atoi(e->d_name);
        p->ppid = (pid_t)ppid;
        p->pgrp = (pid_t)pgrp;
        n++;
    }
    closedir(d);
    /* index by pid (open addressing), then follow each process's parent links up to us */
    int *slot = sc->slot;
    memset(slot, -1, sizeof sc->slot);
    for (int i = 0; i < n; i++) {
        unsigned h = (unsigned)all[i].pid & 65535u;
        while (slot[h] >= 0) h = (h + 1) & 65535u;
        slot[h] = i;
    }
    pid_t self = getpid();
    unsigned char *in_tree = sc->in_tree;
    for (int i = 0; i < n; i++) {
        in_tree[i] = 0;
        pid_t up = all[i].ppid;
        for (int depth = 0; up > 1 && depth < 256; depth++) {
            if (up == self) {
                in_tree[i] = 1;
                break;
            }
            unsigned h = (unsigned)up & 65535u;
            while (slot[h] >= 0 && all[slot[h]].pid != up) h = (h + 1) & 65535u;
            if (slot[h] < 0) break;
            up = all[slot[h]].ppid;
        }
    }
    int count = 0;
    for (int i = 0; i < n && count < max; i++) {
        if (!in_tree[i] || all[i].state == 'Z' || all[i].state == 'X' || all[i].pid == ahead_child()) continue;
        pids[count] = all[i].pid;
        groups[count] = all[i].pgrp;
        count++;
    }
    return count;
}

/*
 * Kills the main child's process group, every process still in the cgroup, and every live
 * descendant (and its group, as it may have made a new one). Returns how many live
 * descendants there were.
 */
static int kill_tree(pid_t child, int sig, const struct cgroup *cg) {
    pid_t self = getpid(), own_group = getpgrp();
    struct scratch *sc = mmap(NULL, sizeof *sc, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int n = 0;
    pid_t *pids = NULL, *groups = NULL;
    if (sc != MAP_FAILED) {
        pids = sc->pids, groups = sc->groups;
        n = descendants(sc, pids, groups, MAX_TREE); /* before killing, so the count is of the living */
    }
    kill(-child, sig);
    kill(child, sig);
    if (cg->kind != CG_NONE) {
        FILE *f = fopen(cg->procs, "re");
        if (f) {
            long p;
            while (fscanf(f, "%ld", &p) == 1)
                if (p > 1 && p != self) kill((pid_t)p, sig);
            fclose(f);
        }
    }
    for (int i = 0; i < n; i++) {
        if (groups[i] > 1 && groups[i] != own_group) kill(-groups[i], sig);
        kill(pids[i], sig);
    }
    if (sc != MAP_FAILED) munmap(sc, sizeof *sc);
    /* the scratch raised this process's peak RSS, which the next benchmark would inherit
     * through exec (see run_execution): reset it ("5" since Linux 4.0) */
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, "5", 1) < 0) { /* an older kernel: the peak stays */ }
        close(fd);
    }
    return n;
}

/* Child side: report a setup problem to the parent over the status pipe. */
static void report(int fd, char kind, const char *what, int err) {
    char msg[1024];
    int n = snprintf(msg, sizeof msg, "%c%s: %s\n", kind, what, strerror(err));
    if (n > 0 && write(fd, msg, (size_t)n) < 0) { /* nothing more we can do */ }
}

static void redirect(int status_fd, const char *path, int flags, int target, const char *what) {
    int fd = open(path, flags, 0644);
    if (fd < 0) {
        report(status_fd, 'E', what, errno);
        _exit(127);
    }
    if (fd != target) {
        dup2(fd, target);
        close(fd);
    }
}

/*
 * A held execution's child, fully set up, waits here for infra's go: its token (8 bytes, the
 * request's --hold value in host byte order) on GO_FD. Tokens of requests that never got a
 * child (a malformed one) are skipped. Returns -1 when infra closed the descriptor instead.
 */
static int wait_for_go(unsigned long long token, int self_go) {
    for (;;) {
        if (self_go >= 0) {
            /* prepared ahead: the helper's own go (it wrote the record before) or infra's */
            struct pollfd p[2] = {{GO_FD, POLLIN, 0}, {self_go, POLLIN, 0}};
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            if (p[1].revents) {
                char c;
                return read(self_go, &c, 1) == 1 ? 0 : -1;
            }
        }
        unsigned long long got;
        size_t have = 0;
        while (have < sizeof got) {
            ssize_t n = read(GO_FD, (char *)&got + have, sizeof got - have);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return -1;
            have += (size_t)n;
        }
        if (got == token) return 0;
    }
}

static void child_main(const struct options *o, const struct cgroup *cg, int status_fd,
                       const sigset_t *oldmask, pid_t parent) {
    setpgid(0, 0);
    /* if the helper is killed outright, do not leave the benchmark running unmeasured */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(127);
    if (cg->kind != CG_NONE) {
        int fd = open(cg->join, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) report(status_fd, 'W', "joining the cgroup", errno);
        if (fd >= 0) close(fd);
    }
    if (o->cpus) {
        cpu_set_t set;
        if (parse_cpus(o->cpus, &set) < 0 || sched_setaffinity(0, sizeof set, &set) < 0) {
            report(status_fd, 'E', "setting the CPU affinity", errno ? errno : EINVAL);
            _exit(127);
        }
    }
    if (o->nothp && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0) {
        report(status_fd, 'E', "disabling transparent huge pages", errno);
        _exit(127);
    }
    if (o->cwd && chdir(o->cwd) < 0) {
        report(status_fd, 'E', "entering the working directory", errno);
        _exit(127);
    }
    if (o->stdin_path || o->serve)
        redirect(status_fd, o->stdin_path ? o->stdin_path : "/dev/null", O_RDONLY, 0, "opening the standard input file");
    redirect(status_fd, o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 1, "opening the standard output file");
    redirect(status_fd, o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 2, "opening the standard error file");
    signal(SIGPIPE, SIG_DFL);
    signal(SIGTERM, SIG_DFL); /* a serving helper's handlers (exec would reset them too) */
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if (o->hold && wait_for_go(o->hold, o->self_go_r) < 0) {
        report(status_fd, 'C', "not started", EPIPE);
        _exit(125);
    }
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    /* the clock starts here, after the setup above (joining a cgroup can take milliseconds) */
    char stamp[96];
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    int len = snprintf(stamp, sizeof stamp, "T%.9f %lld.%06ld\n", now(), (long long)wall.tv_sec, wall.tv_nsec / 1000);
    if (write(status_fd, stamp, (size_t)len) < 0) { /* the parent then uses the fork time */ }
    /* execvp looks the program up on the PATH of `environ` (execvpe would use the helper's
     * own): under vfork this assigns the parent's variable, which the parent restores */
    if (o->envp) environ = o->envp;
    execvp(o->argv[0], o->argv);
    char what[600];
    snprintf(what, sizeof what, "cannot execute '%s'", o->argv[0]);
    report(status_fd, 'E', what, errno);
    _exit(errno == ENOENT ? 127 : 126);
}

/* ---- result -------------------------------------------------------------------------- */

/* A result under construction, in a fixed buffer (no allocation while measuring). */
struct out {
    char buf[16384];
    size_t len;
};

static void out_printf(struct out *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, sizeof b->buf - b->len, fmt, ap);
    va_end(ap);
    if (n > 0) b->len = b->len + (size_t)n < sizeof b->buf ? b->len + (size_t)n : sizeof b->buf - 1;
}

static void json_string(struct out *b, const char *s) {
    if (!s) {
        out_printf(b, "null");
        return;
    }
    out_printf(b, "\"");
    for (; *s && b->len < sizeof b->buf - 16; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') out_printf(b, "\\%c", c);
        else if (c == '\n') out_printf(b, "\\n");
        else if (c < 0x20) out_printf(b, "\\u%04x", c);
        else b->buf[b->len++] = (char)c;
    }
    b->buf[b->len] = 0;
    out_printf(b, "\"");
}

static double tv_seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* rusage of the reaped processes of one tree: sums, and the largest maxrss (RUSAGE_CHILDREN's meaning) */
struct usage {
    double utime, stime;
    long maxrss, minflt, majflt, nvcsw, nivcsw;
};

static void add_usage(struct usage *u, const struct rusage *ru) {
    u->utime += tv_seconds(ru->ru_utime);
    u->stime += tv_seconds(ru->ru_stime);
    if (ru->ru_maxrss > u->maxrss) u->maxrss = ru->ru_maxrss;
    u->minflt += ru->ru_minflt;
    u->majflt += ru->ru_majflt;
    u->nvcsw += ru->ru_nvcsw;
    u->nivcsw += ru->ru_nivcsw;
}

/* Set by the signal handler while a serving helper waits for a request. */
static volatile sig_atomic_t idle_signal = 0;
static void on_idle_signal(int sig) {
    idle_signal = sig;
}

static void serve_housekeeping(void);

/* ppoll for input on `fd` with the interrupt signals let through (their handler sets idle_signal). */
static int poll_input(int fd, const struct timespec *timeout) {
    struct pollfd pfd = {fd, POLLIN, 0};
    sigset_t open_mask;
    sigemptyset(&open_mask);
    sigaddset(&open_mask, SIGCHLD);
    return ppoll(&pfd, 1, timeout, &open_mask);
}

/* Waits until `fd` is readable; -1 when an interrupt arrived first. */
static int wait_readable(int fd) {
    for (;;) {
        if (poll_input(fd, NULL) >= 0 || errno != EINTR) return 0; /* the read that follows reports an error */
        if (idle_signal) return -1;
    }
}

/*
 * A held execution's child shares this process's memory like a vfork child (no page tables
 * copied, no copy-on-write faults: a fork here took about 0.1 ms more), but has a stack of its
 * own and runs beside this process, which goes on while the child waits for its go. child_main
 * is written for that too: it only reads what this process leaves alone until the child has
 * exec'd (its options and cgroup, `environ`, set beforehand), writes its own stack only, and
 * its file descriptors are its own (no CLONE_FILES).
 */
struct held_start {
    const struct options *o;
    const struct cgroup *cg;
    int status_fd, other_fd, self_go_w;
    const sigset_t *oldmask;
    pid_t parent;
};
static char held_stack[256 * 1024] __attribute__((aligned(16)));
static int held_child(void *arg) {
    const struct held_start *h = arg;
    close(h->other_fd);
    if (h->self_go_w >= 0) close(h->self_go_w); /* so that its go pipe ends when the helper's end does */
    child_main(h->o, h->cg, h->status_fd, h->oldmask, h->parent);
    return 127;
}

/*
 * What the record of a served execution takes from its result (see write_record): whether it
 * ended cleanly, and its figures as the result gives them.
 */
struct outcome {
    /* exit status 0; no signal, timeout, interrupt, exec error or lingering process; both
     * output files empty (nothing for infra to parse); space left on the output's file system */
    int clean;
    char runtime[40], utime[40], stime[40], started_at[40];
    long maxrss, minflt, majflt, nvcsw, nivcsw;
    long long peak; /* -1: none */
};
static struct outcome last_outcome;

/* A result not yet sent, of an execution whose record the helper wrote (see write_record). */
static struct out *deferred;
static int deferred_failed;
static void flush_deferred(void);

/*
 * Runs one execution of o->argv in the cgroup `cg` (CG_NONE: none) and writes its result as
 * one JSON object into `b`. `parent` is the process whose death ends the helper; `waitset`
 * holds the blocked signals it waits for, `oldmask` what the benchmark gets. Returns -1 if
 * the benchmark could not be forked, else whether an interrupt arrived (1) or not (0).
 */
/*
 * Serving helpers only: the next request, read while the current execution runs and, if held,
 * launched at once (set up and waiting for its go) — see struct request.
 */
static void ahead_reaped(int status, const struct rusage *ru);
static int only_child(pid_t pid);
/* The signals the helper waits for, as a descriptor (serving helpers; else -1). */
static int signal_fd = -1;
static int wait_served(const struct timespec *timeout);

/* An execution's process, forked or cloned, not yet waited for. */
struct launched {
    pid_t child;
    int status_fd;     /* read end of the status pipe */
    double start, started_at; /* replaced by the child's time stamp right before exec */
    /* prepared ahead and reaped while the execution before it ran (its set-up failed) */
    int reaped, status;
    struct rusage ru;
};

/* The helper's own environment (a child's exec may set `environ` to the benchmark's). */
static char **helper_environ;

/*
 * Forks (or, for a held execution, clones) the process of one execution and sets it up; see
 * child_main. Returns 0, or -1 if it could not be forked.
 */
static int launch(const struct options *o, const struct cgroup *cg, const sigset_t *oldmask, struct launched *l) {
    int status_pipe[2];
    memset(l, 0, sizeof *l);
    if (pipe2(status_pipe, O_CLOEXEC) < 0) {
        perror("measure: pipe");
        return -1;
    }
    pid_t self = getpid();
    l->start = now();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    l->started_at = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
    /*
     * vfork, not fork: the child borrows this process's memory until it execs, so no page
     * tables are copied and neither side takes copy-on-write faults (about a quarter of a
     * millisecond per execution, most of what the helper added to an exec). The parent is
     * suspended until the exec, as it would wait on the status pipe anyway. child_main is
     * written for this: system calls and stack buffers only, no allocation, no assignment
     * to anything outside its own frame but `environ` (restored in run_execution), handlers
     * reset before signals are unblocked, and it never returns. ru_maxrss starts from this
     * process's peak either way (exec keeps the old memory's high-water mark), which
     * kill_tree keeps small.
     */
    pid_t child;
    if (o->hold) {
        /* the child's exec looks the program up on this PATH; restored once it has exec'd */
        if (o->envp) environ = o->envp;
        /* read by the child while this process goes on: not on this stack */
        static struct held_start h;
        h = (struct held_start){o, cg, status_pipe[1], status_pipe[0], o->self_go_w, oldmask, self};
        child = clone(held_child, held_stack + sizeof held_stack, CLONE_VM | SIGCHLD, &h);
    } else {
        child = vfork();
        if (child == 0) {
            close(status_pipe[0]);
            child_main(o, cg, status_pipe[1], oldmask, self);
        }
    }
    if (child < 0) {
        perror("measure: fork");
        environ = helper_environ;
        close(status_pipe[0]);
        close(status_pipe[1]);
        return -1;
    }
    /* the child made its own group before it exec'd (vfork: it ran first), so the group
     * exists before we may need to kill it */
    close(status_pipe[1]);
    l->child = child;
    l->status_fd = status_pipe[0];
    return 0;
}

/*
 * Runs one execution of o->argv in the cgroup `cg` (CG_NONE: none) and writes its result as
 * one JSON object into `b`; `pre`: its process, already launched (prepared ahead), or NULL.
 * `parent` is the process whose death ends the helper; `waitset` holds the blocked signals it
 * waits for, `oldmask` what the benchmark gets. Returns -1 if the benchmark could not be
 * forked, else whether an interrupt arrived (1) or not (0).
 */
static int run_execution(const struct options *o, const struct cgroup *cg, pid_t parent, const sigset_t *waitset,
                         const sigset_t *oldmask, struct out *b, struct launched *pre) {
    struct launched own;
    struct launched *l = pre ? pre : &own;
    if (!pre && launch(o, cg, oldmask, &own) < 0) return -1;
    pid_t child = l->child;
    double start = l->start, started_at = l->started_at;
    const int status_fd = l->status_fd;

    /* The pipe closes on exec (success) or on exit (setup failure). */
    char messages[2048] = "", exec_error[2048] = "";
    size_t got = 0;
    int interrupted_before = 0;
    for (;;) {
        /* a held child may wait long for its go: an interrupt meanwhile stops it unstarted */
        if (o->hold && !interrupted_before && wait_readable(status_fd) < 0) {
            interrupted_before = 1;
            kill(-child, SIGKILL);
            kill(child, SIGKILL);
            continue;
        }
        ssize_t n = read(status_fd, messages + got, sizeof messages - 1 - got);
        if (n > 0 && got + (size_t)n < sizeof messages - 1) {
            got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    close(status_fd);
    /* the result of the execution before, which waited for this one's start */
    flush_deferred();
    messages[got] = 0;
    environ = helper_environ; /* the child set the benchmark's (see child_main); it has exec'd or exited */
    /* a go of its own (prepared ahead) is not needed any more */
    if (o->self_go_w >= 0) close(o->self_go_w), close(o->self_go_r);
    int cgroup_failed = 0, stamped = 0, not_started = 0;
    char *save = NULL;
    for (char *line = strtok_r(messages, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == 'T') {
            char *rest;
            start = strtod(line + 1, &rest);
            started_at = strtod(rest, NULL);
            stamped = 1;
        } else if (line[0] == 'C') {
            not_started = 1;
        } else if (line[0] == 'W') {
            cgroup_failed = 1;
        } else if (line[0] == 'E' && !exec_error[0]) {
            snprintf(exec_error, sizeof exec_error, "%s", line + 1);
        }
    }
    if (interrupted_before && !stamped) not_started = 1;
    /* a served helper tidies up (the previous cgroup, the next one) while the benchmark runs */
    if (o->serve) serve_housekeeping();

    /*
     * Wait for the whole tree. Deadlines: the timeout (from the start), the end of the grace
     * period for descendants still running after the main process exited, the end of the
     * grace period after an interrupt, and then re-kills until everything is reaped.
     */
    struct usage u = {0};
    double end = 0, timeout_at = o->timeout > 0 ? start + o->timeout : 0, kill_at = timeout_at;
    int main_status = 0, main_done = 0, timed_out = 0, interrupted = interrupted_before, killing = interrupted_before,
        lingering = 0;
    if (interrupted_before) kill_at = now() + REKILL_INTERVAL_SECONDS;
    if (l->reaped) {
        /* prepared ahead, its set-up failed while the execution before it ran */
        add_usage(&u, &l->ru);
        end = now();
        main_status = l->status;
        main_done = 1;
    }
    for (;;) {
        int st;
        struct rusage ru;
        pid_t p = wait4(-1, &st, WNOHANG, &ru);
        if (p > 0 && p == ahead_child()) {
            /* the next execution, prepared ahead: not part of this tree */
            ahead_reaped(st, &ru);
            continue;
        }
        if (p > 0) {
            add_usage(&u, &ru);
            if (p == child) {
                end = now();
                main_status = st;
                main_done = 1;
                double linger_at = end + o->linger;
                if (!killing && !interrupted && (kill_at == 0 || linger_at < kill_at)) kill_at = linger_at;
            }
            continue;
        }
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break; /* ECHILD: the whole tree is gone */
        /* what is left may be the next execution alone, waiting for its go */
        if (main_done && ahead_child() && only_child(ahead_child())) break;

        double t = now();
        if (kill_at > 0 && t >= kill_at) {
            int live = kill_tree(child, SIGKILL, cg);
            if (!killing && !interrupted) {
                /* once the main process is done, what is left is lingering, not a timeout */
                if (main_done) lingering = live;
                else timed_out = 1;
            }
            killing = 1;
            kill_at = t + REKILL_INTERVAL_SECONDS;
            continue;
        }
        struct timespec ts, *tsp = NULL;
        if (kill_at > 0) {
            double left = kill_at - t;
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            tsp = &ts;
        }
        int sig;
        if (signal_fd >= 0) {
            sig = wait_served(tsp);
        } else {
            siginfo_t info;
            sig = sigtimedwait(waitset, &info, tsp);
        }
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
            /* an interrupt: pass it on, and kill what is left after a grace period */
            interrupted = 1;
            kill_tree(child, sig, cg);
            /* no grace when our parent died: nobody waits for the result */
            double grace = getppid() != parent ? 0 : INTERRUPT_GRACE_SECONDS;
            if (!killing && (kill_at == 0 || kill_at > now() + grace)) kill_at = now() + grace;
        }
    }
    if (!main_done) end = now();
    long long peak = cgroup_failed ? -1 : cgroup_peak(cg);
    /* what infra would otherwise ask the file system for itself after every execution */
    struct stat out_st, err_st;
    long long out_size = stat(o->stdout_path, &out_st) == 0 ? (long long)out_st.st_size : -1;
    long long err_size = stat(o->stderr_path, &err_st) == 0 ? (long long)err_st.st_size : -1;
    struct statvfs fs;
    int fs_full = statvfs(o->stdout_path, &fs) == 0 && fs.f_blocks > 0 && (geteuid() == 0 ? fs.f_bfree : fs.f_bavail) == 0;

    int exit_code = -1, signo = 0;
    if (WIFEXITED(main_status)) exit_code = WEXITSTATUS(main_status);
    else if (WIFSIGNALED(main_status)) signo = WTERMSIG(main_status);
    struct outcome *oc = &last_outcome;
    oc->clean = exit_code == 0 && !signo && !timed_out && !interrupted && !exec_error[0] && !lingering && !not_started &&
                out_size <= 0 && err_size <= 0 && !fs_full;
    snprintf(oc->runtime, sizeof oc->runtime, "%.6f", end - start);
    snprintf(oc->utime, sizeof oc->utime, "%.6f", u.utime);
    snprintf(oc->stime, sizeof oc->stime, "%.6f", u.stime);
    snprintf(oc->started_at, sizeof oc->started_at, "%.6f", started_at);
    oc->maxrss = u.maxrss, oc->minflt = u.minflt, oc->majflt = u.majflt, oc->nvcsw = u.nvcsw, oc->nivcsw = u.nivcsw;
    oc->peak = peak;
    b->len = 0;
    out_printf(b, "{\"exitCode\":");
    if (exit_code >= 0) out_printf(b, "%d", exit_code);
    else out_printf(b, "null");
    out_printf(b, ",\"signal\":");
    if (signo) {
        char name[32];
        const char *abbrev = sigabbrev_np(signo);
        if (abbrev) snprintf(name, sizeof name, "SIG%s", abbrev);
        else snprintf(name, sizeof name, "SIG%d", signo);
        json_string(b, name);
        out_printf(b, ",\"signalDescription\":");
        json_string(b, strsignal(signo));
    } else {
        out_printf(b, "null");
    }
    out_printf(b, ",\"timedOut\":%s,\"interrupted\":%s,\"execError\":", timed_out ? "true" : "false",
               interrupted ? "true" : "false");
    json_string(b, exec_error[0] ? exec_error : NULL);
    out_printf(b,
               ",\"runtime\":%s,\"utime\":%s,\"stime\":%s,\"maxrss\":%ld,\"minflt\":%ld,"
               "\"majflt\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld,\"cgroupPeak\":",
               oc->runtime, oc->utime, oc->stime, u.maxrss, u.minflt, u.majflt, u.nvcsw, u.nivcsw);
    if (peak >= 0) out_printf(b, "%lld", peak);
    else out_printf(b, "null");
    out_printf(b, ",\"cgroup\":");
    json_string(b, cg->kind == CG_V2 ? "v2" : cg->kind == CG_V1 ? "v1" : NULL);
    out_printf(b, ",\"lingering\":%d,\"startedAt\":%s,\"notStarted\":%s,\"stdoutSize\":%lld,\"stderrSize\":%lld,"
               "\"outputFsFull\":%s}\n",
               lingering, oc->started_at, not_started ? "true" : "false", out_size, err_size, fs_full ? "true" : "false");
    return interrupted;
}

/*
 * Blocks the signals the helper waits for and ties it to its parent: if whoever started us
 * dies, even by SIGKILL, the tree is stopped at once (a benchmark must not go on unmeasured
 * and compete with the next run after infra is gone). Returns the parent's pid.
 */
static pid_t helper_setup(sigset_t *waitset, sigset_t *oldmask) {
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    sigemptyset(waitset);
    sigaddset(waitset, SIGCHLD);
    sigaddset(waitset, SIGTERM);
    sigaddset(waitset, SIGINT);
    sigaddset(waitset, SIGHUP);
    sigprocmask(SIG_BLOCK, waitset, oldmask);
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent) kill(getpid(), SIGTERM);
    return parent;
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int check_cpus(const struct options *o) {
    cpu_set_t set;
    if (o->cpus && parse_cpus(o->cpus, &set) < 0) return -1;
    return 0;
}

/* ---- serving requests ---------------------------------------------------------------- */

/*
 * Execution cgroups of a serving helper: a fresh one per execution (a reused one would still
 * be charged for the page cache of earlier executions). The next one is made, and the last
 * one removed, when nothing else waits: while a benchmark runs or while no request is there.
 */
static struct cgroup_root serve_root;
static struct cgroup spare, retired;
static unsigned long serial = 1;
static int want_spare = 1;

static void serve_housekeeping(void) {
    if (retired.kind != CG_NONE) cgroup_remove(&retired);
    retired.kind = CG_NONE;
    if (want_spare && spare.kind == CG_NONE) cgroup_create(&serve_root, &spare, serial++);
}

/* ---- records written by the helper ------------------------------------------------------ */

/*
 * A served run whose executions are one after another (infra's serial runs) lets the helper
 * write the record of an execution that ended cleanly itself, so the next one starts without
 * the round trip through infra (its wake-up, its record, its go): the request then carries
 * `--record FILE` (the run's records.jsonl) and the record's text around what only the helper
 * knows: `--record-head` (up to the start time's opening quote), `--record-middle` (from its
 * closing quote up to the measured fields), `--record-tail` (infra's other fields and the
 * closing braces). The helper puts in the start time as infra would write it (ISO 8601, the
 * millisecond truncated) and the measured fields as a JavaScript number would print them, so
 * the line is the one infra would have written; infra checks that it is. Anything else than a
 * clean end (see struct outcome) is left to infra, as before. Only one process writes the file
 * at a time: infra writes while no served execution that may record itself is running.
 *
 * Once the record is written, the request after it (already waiting behind it, usually) starts
 * at once, held or not: infra, told so by the result ("recorded"), sends no go for it. That
 * result is written once the next execution has started (or when no request waits).
 */
static int record_fd = -1;
static char record_path[4096];

/* A "%.6f" figure as JSON.stringify prints the number it parses to (trailing zeros dropped). */
static void js_number(struct out *b, const char *fixed) {
    size_t n = strlen(fixed);
    if (strchr(fixed, '.')) {
        while (n > 0 && fixed[n - 1] == '0') n--;
        if (n > 0 && fixed[n - 1] == '.') n--;
    }
    out_printf(b, "%.*s", (int)n, fixed);
}

/* The record's start time as JavaScript's Date(startedAt * 1000).toISOString() gives it. */
static int iso_time(char *dst, size_t size, const char *started_at) {
    double ms = strtod(started_at, NULL) * 1000.0;
    long long t = (long long)ms; /* a Date's time value is truncated to the millisecond */
    time_t secs = (time_t)(t / 1000);
    struct tm tm;
    if (t < 0 || !gmtime_r(&secs, &tm)) return -1;
    return snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                    tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(t % 1000));
}

/*
 * Appends the record of a clean execution (with --record) to its file, in one write, and adds
 * `"recorded":{"record":...,"at":OFFSET,"length":BYTES}` to its result in `b`. Returns 0 when
 * written. A write that fails leaves the file as it was and `"recordError":"..."` in the
 * result: infra then writes the record (and meets the same error, which stops the run).
 */
static int write_record(const struct options *o, const struct outcome *oc, struct out *b) {
    if (!o->record_file || !oc->clean || b->len < 2 || b->buf[b->len - 2] != '}') return -1;
    size_t room = sizeof b->buf - b->len;
    if (strlen(o->record_head) + strlen(o->record_middle) + strlen(o->record_tail) + 512 > room) return -1;
    char iso[64];
    if (iso_time(iso, sizeof iso, oc->started_at) < 0) return -1;
    const char *err = NULL;
    if (record_fd < 0 || strcmp(record_path, o->record_file) != 0) {
        if (record_fd >= 0) close(record_fd);
        record_fd = open(o->record_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        snprintf(record_path, sizeof record_path, "%s", o->record_file);
        if (record_fd < 0) err = strerror(errno);
    }
    size_t result_len = b->len - 2; /* without its closing brace and newline */
    b->len = result_len;
    if (!err) {
        out_printf(b, ",\"recorded\":{\"record\":");
        size_t rec = b->len;
        out_printf(b, "%s%s%s", o->record_head, iso, o->record_middle);
        out_printf(b, "\"runtime\":");
        js_number(b, oc->runtime);
        out_printf(b, ",\"utime\":");
        js_number(b, oc->utime);
        out_printf(b, ",\"stime\":");
        js_number(b, oc->stime);
        out_printf(b, ",\"maxrss\":%ld,\"minflt\":%ld,\"majflt\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld", oc->maxrss,
                   oc->minflt, oc->majflt, oc->nvcsw, oc->nivcsw);
        if (oc->peak >= 0) out_printf(b, ",\"cgroupPeak\":%lld", oc->peak);
        out_printf(b, "%s", o->record_tail);
        size_t len = b->len - rec;
        off_t at = lseek(record_fd, 0, SEEK_END);
        struct iovec iov[2] = {{b->buf + rec, len}, {"\n", 1}};
        ssize_t n = at < 0 ? -1 : writev(record_fd, iov, 2);
        if (n == (ssize_t)(len + 1)) {
            out_printf(b, ",\"at\":%lld,\"length\":%zu}}\n", (long long)at, len + 1);
            return 0;
        }
        err = n < 0 ? strerror(errno) : "the record was written only in part";
        if (n > 0 && ftruncate(record_fd, at) < 0) { /* infra's own write then fails the same way */ }
        b->len = result_len;
    }
    out_printf(b, ",\"recordError\":");
    json_string(b, err);
    out_printf(b, "}\n");
    return -1;
}

static void flush_deferred(void) {
    if (!deferred) return;
    if (write_all(1, deferred->buf, deferred->len) < 0) deferred_failed = 1;
    deferred = NULL;
}

/* Standard input, buffered; requests arrive one at a time, but may be split across reads. */
struct input {
    char *buf;
    size_t cap, start, end;
};
static int input_eof; /* read ahead: the end of standard input was seen */

/* Reads until `want` bytes are buffered; 0 at the end of input, -1 when interrupted. */
static int fill(struct input *in, size_t want) {
    if (input_eof && in->end - in->start < want) return 0;
    while (in->end - in->start < want) {
        if (in->start > 0) {
            memmove(in->buf, in->buf + in->start, in->end - in->start);
            in->end -= in->start;
            in->start = 0;
        }
        if (in->end == in->cap || want > in->cap) {
            size_t cap = in->cap * 2 > want ? in->cap * 2 : want + 4096;
            char *b = realloc(in->buf, cap);
            if (!b) return 0;
            in->buf = b, in->cap = cap;
        }
        /* wait with the interrupt signals unblocked, so one ends an idle helper; nothing there
         * yet: tidy up before waiting (a request already sent is served first) */
        struct timespec zero = {0, 0};
        int ready = poll_input(0, &zero);
        if (ready == 0) {
            flush_deferred(); /* no request waits: the last result goes out now */
            serve_housekeeping();
            ready = poll_input(0, NULL);
        }
        if (ready < 0) {
            if (errno == EINTR && idle_signal) return -1;
            if (errno == EINTR) continue;
            return 0;
        }
        ssize_t n = read(0, in->buf + in->end, in->cap - in->end);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        in->end += (size_t)n;
    }
    return 1;
}

/* The next request's payload (NUL-terminated strings), its length in *len; NULL at the end. */
static char *next_request(struct input *in, size_t *len, int *bad) {
    *bad = 0;
    size_t digits = 0;
    for (;;) {
        if (fill(in, digits + 1) <= 0) return NULL;
        char c = in->buf[in->start + digits];
        if (c == '\n') break;
        if (c < '0' || c > '9' || digits > 9) {
            *bad = 1;
            return NULL;
        }
        digits++;
    }
    size_t n = 0;
    for (size_t i = 0; i < digits; i++) n = n * 10 + (size_t)(in->buf[in->start + i] - '0');
    in->start += digits + 1;
    if (fill(in, n) <= 0) return NULL; /* the payload stays in place until the next call */
    char *payload = in->buf + in->start;
    in->start += n;
    *len = n;
    return payload;
}

static void request_error(struct out *b, const char *what) {
    flush_deferred(); /* it may be in `b` */
    b->len = 0;
    out_printf(b, "{\"requestError\":");
    json_string(b, what);
    out_printf(b, "}\n");
}

/*
 * Splits a payload into the environment (up to the empty string) and an argument vector whose
 * first slot is a program name, as parse_options expects; both NULL-terminated, in one array.
 */
static int split_request(char *payload, size_t len, char ***envp, char ***argv, int *argc) {
    if (len == 0 || payload[len - 1] != 0) return -1;
    size_t count = 0;
    for (size_t i = 0; i < len; i++) count += payload[i] == 0;
    char **all = calloc(count + 2, sizeof *all);
    if (!all) return -1;
    size_t k = 0, args = 0;
    for (size_t i = 0; i < len; k++) {
        char *token = payload + i;
        i += strlen(token) + 1;
        if (args) {
            all[k + 1] = token;
        } else if (*token == 0) {
            all[k] = NULL;
            all[k + 1] = "measure";
            args = k + 1;
        } else {
            all[k] = token;
        }
    }
    if (!args) {
        free(all);
        return -1;
    }
    *envp = all;
    *argv = &all[args];
    *argc = (int)(k + 1 - args);
    return 0;
}

/*
 * A request and its execution, in serving helpers. While one execution runs, the next request
 * is read as soon as it arrives (infra sends a held one then) and, if held, launched at once:
 * its process is set up (cgroup, working directory, output files) and waits for its go, so
 * that none of that lies between the end of the execution before it and its start. Its go is
 * infra's token as for any held execution, or, when the helper wrote the record of the
 * execution before (write_record), the helper's own (a byte on a pipe of its own).
 *
 * Reaping: the running execution's loop waits for every process of its tree with wait4(-1),
 * and the waiting process is a child too: that loop keeps its status apart if it ends (its
 * set-up failed), ends once it is the only child left (/proc/self/task/PID/children), and
 * kill_tree leaves it alone. Where that file is missing, nothing is launched ahead.
 */
enum request_state { REQ_NONE, REQ_PARSED, REQ_LAUNCHED, REQ_BAD };
struct request {
    enum request_state state;
    char *payload; /* its own copy: the input buffer moves */
    char **all;    /* split_request's array (environment and arguments) */
    struct options o;
    struct cgroup cg;
    struct launched l;
    const char *error; /* REQ_BAD */
};
static struct request requests[2];
/* Where the next request goes when read ahead (NULL: not now). */
static struct request *ahead;
static struct input in;
static int children_file_ok;
static sigset_t serve_oldmask;

static pid_t ahead_child(void) {
    return ahead && ahead->state == REQ_LAUNCHED && !ahead->l.reaped ? ahead->l.child : 0;
}

static void ahead_reaped(int status, const struct rusage *ru) {
    ahead->l.reaped = 1;
    ahead->l.status = status;
    ahead->l.ru = *ru;
}

/* Whether `pid` is this process's only child. */
static int only_child(pid_t pid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int n = read_file(path, buf, sizeof buf);
    if (n < 0) return 0;
    char *p = buf, *end;
    for (long c; (c = strtol(p, &end, 10)), end != p; p = end)
        if (c != pid) return 0;
    return 1;
}

/* Reads what standard input has (poll said it has something); a complete frame's payload, else NULL. */
static char *ready_request(struct input *in, size_t *len) {
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->end == in->cap) {
        char *b = realloc(in->buf, in->cap * 2);
        if (!b) return NULL;
        in->buf = b, in->cap *= 2;
    }
    ssize_t n = read(0, in->buf + in->end, in->cap - in->end);
    if (n == 0) input_eof = 1;
    if (n > 0) in->end += (size_t)n;
    size_t i = in->start, value = 0;
    for (; i < in->end && in->buf[i] != '\n'; i++) {
        if (in->buf[i] < '0' || in->buf[i] > '9' || i - in->start > 9) return NULL; /* next_request says so */
        value = value * 10 + (size_t)(in->buf[i] - '0');
    }
    if (i == in->end || i == in->start || in->end - (i + 1) < value) return NULL;
    in->start = i + 1 + value;
    *len = value;
    return in->buf + i + 1;
}

/* A request's payload, copied, split and parsed into `r` (REQ_PARSED, or REQ_BAD with why). */
static void parse_request(struct request *r, const char *payload, size_t len) {
    memset(r, 0, sizeof *r);
    r->payload = malloc(len ? len : 1);
    if (!r->payload) {
        r->state = REQ_BAD, r->error = "out of memory";
        return;
    }
    memcpy(r->payload, payload, len);
    char **envp, **argv;
    int argc;
    r->state = REQ_BAD;
    if (split_request(r->payload, len, &envp, &argv, &argc) < 0) {
        r->error = "malformed request: expected environment entries, an empty string, then arguments";
        return;
    }
    r->all = envp;
    if (parse_options(argc, argv, 1, 1, &r->o) < 0) {
        r->error = "malformed request: unknown option or missing value";
    } else if (check_cpus(&r->o) < 0) {
        r->error = "malformed CPU list (expected e.g. 0,2-3)";
    } else {
        r->o.envp = envp;
        r->state = REQ_PARSED;
    }
}

static void free_request(struct request *r) {
    free(r->all);
    free(r->payload);
    memset(r, 0, sizeof *r);
    r->state = REQ_NONE;
}

/* The execution's cgroup: the spare one made beforehand, or a new one (none with --no-cgroup). */
static void take_cgroup(struct request *r) {
    if (r->o.nocgroup) {
        r->cg.kind = CG_NONE;
    } else if (spare.kind != CG_NONE) {
        r->cg = spare;
        spare.kind = CG_NONE;
    } else {
        cgroup_create(&serve_root, &r->cg, serial++);
    }
}

/* The next request has arrived while an execution runs: read it and, if held, launch it. */
static void take_ahead(void) {
    size_t len;
    char *payload = ready_request(&in, &len);
    if (!payload) return;
    struct request *r = ahead;
    parse_request(r, payload, len);
    if (r->state != REQ_PARSED || !r->o.hold || !children_file_ok) return;
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) return; /* launched once the running one is done, as before */
    take_cgroup(r);
    r->o.self_go_r = go[0], r->o.self_go_w = go[1];
    if (launch(&r->o, &r->cg, &serve_oldmask, &r->l) < 0) {
        close(go[0]), close(go[1]);
        r->o.self_go_r = r->o.self_go_w = -1;
        if (r->cg.kind != CG_NONE) spare = r->cg; /* still unused */
        return;
    }
    r->state = REQ_LAUNCHED;
}

/*
 * Waits for one of the helper's signals (returned; 0 for SIGCHLD or none) until `timeout`,
 * taking the next request ahead if it arrives meanwhile.
 */
static int wait_served(const struct timespec *timeout) {
    struct pollfd p[2] = {{signal_fd, POLLIN, 0}, {0, POLLIN, 0}};
    int watch = ahead && ahead->state == REQ_NONE && !input_eof;
    int r = ppoll(p, watch ? 2 : 1, timeout, NULL);
    if (r <= 0) return 0;
    if (watch && p[1].revents) take_ahead();
    int sig = 0;
    if (p[0].revents) {
        struct signalfd_siginfo si;
        while (read(signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
            if (si.ssi_signo != SIGCHLD) sig = (int)si.ssi_signo;
    }
    return sig;
}

/* A request read ahead and launched that will not run (the helper ends): stopped and reaped. */
static void abandon(struct request *r) {
    if (r->state == REQ_LAUNCHED) {
        if (!r->l.reaped) {
            kill(-r->l.child, SIGKILL);
            kill(r->l.child, SIGKILL);
            waitpid(r->l.child, NULL, 0);
        }
        close(r->l.status_fd);
        close(r->o.self_go_r), close(r->o.self_go_w);
        environ = helper_environ;
        cgroup_remove(&r->cg);
    }
    free_request(r);
}

static int serve(void) {
    sigset_t waitset;
    pid_t parent = helper_setup(&waitset, &serve_oldmask);
    helper_environ = environ;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_idle_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal_fd = signalfd(-1, &waitset, SFD_CLOEXEC | SFD_NONBLOCK);
    char children[64];
    snprintf(children, sizeof children, "/proc/self/task/%d/children", (int)getpid());
    children_file_ok = signal_fd >= 0 && access(children, R_OK) == 0;

    cgroup_root_find(&serve_root, 0);
    cgroup_remove_stale(&serve_root);
    /* the go of held executions: not for the benchmarks (absent when infra gave none) */
    if (fcntl(GO_FD, F_SETFD, FD_CLOEXEC) < 0) { /* --hold then fails at the child's read */ }
    spare.kind = retired.kind = CG_NONE;
    static struct out b;
    in = (struct input){malloc(65536), 65536, 0, 0};
    if (!in.buf) return 3;
    int status = 0;
    /* the last execution's record was written here: the next one starts without a go */
    int self_released = 0;
    int current = 0;
    for (;;) {
        struct request *r = &requests[current], *next = &requests[1 - current];
        if (r->state == REQ_NONE) {
            size_t len;
            int bad;
            char *payload = next_request(&in, &len, &bad);
            if (!payload) {
                if (bad) fprintf(stderr, "measure: malformed request frame (expected: length, newline, payload)\n");
                status = bad ? 2 : 0;
                break;
            }
            parse_request(r, payload, len);
        }
        if (r->state == REQ_BAD) {
            request_error(&b, r->error);
            free_request(r);
            if (write_all(1, b.buf, b.len) < 0) {
                status = 3;
                break;
            }
            continue;
        }
        if (r->state == REQ_PARSED) {
            if (self_released) r->o.hold = 0;
            take_cgroup(r);
        }
        self_released = 0;
        ahead = signal_fd >= 0 ? next : NULL;
        int res = run_execution(&r->o, &r->cg, parent, &waitset, &serve_oldmask, &b, r->state == REQ_LAUNCHED ? &r->l : NULL);
        ahead = NULL;
        if (res < 0) request_error(&b, "cannot fork the benchmark");
        if (deferred_failed) status = 3;
        if (res == 0 && write_record(&r->o, &last_outcome, &b) == 0) {
            deferred = &b; /* sent once the next execution has started */
            self_released = 1;
            /* the next one, set up already, starts now */
            if (next->state == REQ_LAUNCHED && write(next->o.self_go_w, "g", 1) != 1) { /* it then waits for infra */ }
        } else if (write_all(1, b.buf, b.len) < 0) {
            status = 3;
        }
        /* removed, and the next made, once nothing waits (serve_housekeeping) */
        if (retired.kind != CG_NONE) cgroup_remove(&retired);
        retired = r->cg;
        want_spare = !r->o.nocgroup && status == 0 && res == 0;
        free_request(r);
        if (res != 0 || status) break; /* an interrupt ends the helper: nothing more will come */
        if (next->state != REQ_NONE) current = 1 - current;
    }
    flush_deferred();
    abandon(&requests[1 - current]);
    abandon(&requests[current]);
    want_spare = 0;
    serve_housekeeping();
    cgroup_remove(&spare);
    free(in.buf);
    return status;
}

/* ---- one execution ------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--serve") == 0) return serve();
    struct options o;
    if (parse_options(argc, argv, 1, 0, &o) < 0) {
        usage();
        return 2;
    }
    if (check_cpus(&o) < 0) {
        fprintf(stderr, "measure: malformed CPU list '%s' (expected e.g. 0,2-3)\n", o.cpus);
        return 2;
    }
    sigset_t waitset, oldmask;
    pid_t parent = helper_setup(&waitset, &oldmask);

    struct cgroup_root root;
    struct cgroup cg;
    cgroup_root_find(&root, o.nocgroup);
    cgroup_create(&root, &cg, 0);

    static struct out b;
    helper_environ = environ;
    int r = run_execution(&o, &cg, parent, &waitset, &oldmask, &b, NULL);
    cgroup_remove(&cg);
    if (r < 0) return 3;

    /* to standard output in one write, or to a file atomically */
    if (strcmp(o.result_path, "-") == 0) {
        if (write_all(1, b.buf, b.len) < 0) {
            fprintf(stderr, "measure: cannot write the result to standard output: %s\n", strerror(errno));
            return 3;
        }
        return 0;
    }
    /* an existing path that is not a regular file (a device such as /dev/null, a FIFO, a
     * symbolic link) is written through: renaming over it would replace it with a plain file */
    struct stat st;
    if (lstat(o.result_path, &st) == 0 && !S_ISREG(st.st_mode)) {
        int dfd = open(o.result_path, O_WRONLY | O_CLOEXEC);
        if (dfd < 0 || write_all(dfd, b.buf, b.len) < 0 || close(dfd) < 0) {
            fprintf(stderr, "measure: cannot write %s: %s\n", o.result_path, strerror(errno));
            return 3;
        }
        return 0;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", o.result_path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, b.buf, b.len) < 0 || close(fd) < 0 || rename(tmp, o.result_path) < 0) {
        fprintf(stderr, "measure: cannot write %s: %s\n", o.result_path, strerror(errno));
        if (fd >= 0) unlink(tmp);
        return 3;
    }
    return 0;
}
