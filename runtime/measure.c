/*
 * measure: runs one benchmark execution and measures it.
 *
 *   measure [--timeout SECS] [--linger SECS] [--cpus LIST] [--nothp] [--no-cgroup] [--stdin FILE]
 *           [--env-file FILE] --stdout FILE --stderr FILE --result FILE|- -- argv...
 *
 * --env-file: the benchmark's complete environment, as NUL-terminated NAME=VALUE entries; the
 * file is removed as soon as it was read. Remote backends use it so that no environment value
 * ever appears in a command line (/proc/PID/cmdline is readable by every user).
 *
 * If the process that started the helper dies (even by SIGKILL), the helper kills the whole
 * tree at once (PR_SET_PDEATHSIG) and exits.
 *
 * Why a separate C helper: ru_maxrss survives exec, so a child forked from a large process
 * (node) reports the parent's size. This helper is small and static; it forks the benchmark,
 * becomes the subreaper of the whole tree, and reads rusage over all descendants once every
 * one of them has been reaped. Where a cgroup memory controller is usable the tree also gets
 * a fresh cgroup whose kernel-measured peak is reported.
 *
 * What the figures mean:
 *   runtime    wall-clock seconds from just before the benchmark's exec until the main process
 *              is reaped (the setup before exec, e.g. joining the cgroup, is not included, nor
 *              are descendants that outlive the main process)
 *   utime, stime, minflt, majflt, nvcsw, nivcsw
 *              sums over every process of the tree that was waited for (RUSAGE_CHILDREN)
 *   maxrss     KiB: the peak resident set size of the largest single process of the tree
 *              (RUSAGE_CHILDREN semantics: a maximum over processes, not a sum; two 50 MiB
 *              processes running at once report 50 MiB)
 *   cgroupPeak KiB, where a cgroup memory controller is usable: the peak memory of the whole
 *              tree together, as the kernel charged it to the execution's cgroup; it includes
 *              page cache (e.g. files the benchmark wrote) and kernel memory
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#ifndef PR_SET_CHILD_SUBREAPER
#define PR_SET_CHILD_SUBREAPER 36
#endif

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

static int parse_options(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->linger = DEFAULT_LINGER_SECONDS;
    int i = 1;
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
        } else if (strcmp(a, "--env-file") == 0) {
            o->envp = read_env_file(next);
            if (!o->envp) return -1;
            i++;
        } else if (strcmp(a, "--stdout") == 0) {
            o->stdout_path = next, i++;
        } else if (strcmp(a, "--stderr") == 0) {
            o->stderr_path = next, i++;
        } else if (strcmp(a, "--result") == 0) {
            o->result_path = next, i++;
        } else {
            return -1;
        }
    }
    if (i >= argc || !o->stdout_path || !o->stderr_path || !o->result_path) return -1;
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

static int try_cgroup(struct cgroup *cg, int v2, const char *mnt, const char *own) {
    char base[3072];
    if (!mnt[0]) return -1;
    snprintf(base, sizeof base, "%s%s", mnt, own);
    /* in a namespace the listed path may not exist under the mount: use the mount itself */
    if (!exists(base)) snprintf(base, sizeof base, "%s", mnt);
    if (v2) {
        /* a v2 child cgroup only gets memory accounting if the parent delegates it */
        char path[3200], controllers[512];
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", base);
        if (read_file(path, controllers, sizeof controllers) < 0 || !strstr(controllers, "memory")) return -1;
    }
    snprintf(cg->dir, sizeof cg->dir, "%s/infra-measure-%d", base, (int)getpid());
    if (mkdir(cg->dir, 0755) < 0) return -1;
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
        return -1;
    }
    cg->kind = v2 ? CG_V2 : CG_V1;
    return 0;
}

static void cgroup_setup(struct cgroup *cg, int disabled) {
    cg->kind = CG_NONE;
    if (disabled) return;
    char mnt2[1024], mnt1[1024], own2[2048], own1[2048];
    find_mounts(mnt2, mnt1, sizeof mnt2);
    own_cgroups(own2, own1, sizeof own2);
    if (try_cgroup(cg, 1, mnt2, own2) == 0) return;
    try_cgroup(cg, 0, mnt1, own1);
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

static int descendants(pid_t *pids, pid_t *groups, int max) {
    static struct proc_entry all[32768];
    int n = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < (int)(sizeof all / sizeof all[0])) {
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
    static int slot[65536];
    memset(slot, -1, sizeof slot);
    for (int i = 0; i < n; i++) {
        unsigned h = (unsigned)all[i].pid & 65535u;
        while (slot[h] >= 0) h = (h + 1) & 65535u;
        slot[h] = i;
    }
    pid_t self = getpid();
    static unsigned char in_tree[sizeof all / sizeof all[0]];
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
        if (!in_tree[i] || all[i].state == 'Z' || all[i].state == 'X') continue;
        pids[count] = all[i].pid;
        groups[count] = all[i].pgrp;
        count++;
    }
    return count;
}

#define MAX_TREE 4096

/*
 * Kills the main child's process group, every process still in the cgroup, and every live
 * descendant (and its group, as it may have made a new one). Returns how many live
 * descendants there were.
 */
static int kill_tree(pid_t child, int sig, const struct cgroup *cg) {
    pid_t self = getpid(), own_group = getpgrp();
    static pid_t pids[MAX_TREE], groups[MAX_TREE];
    int n = descendants(pids, groups, MAX_TREE); /* before killing, so the count is of the living */
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
    if (o->stdin_path) redirect(status_fd, o->stdin_path, O_RDONLY, 0, "opening the standard input file");
    redirect(status_fd, o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 1, "opening the standard output file");
    redirect(status_fd, o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 2, "opening the standard error file");
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, oldmask, NULL);
    /* the clock starts here, after the setup above (joining a cgroup can take milliseconds) */
    char stamp[64];
    int len = snprintf(stamp, sizeof stamp, "T%.9f\n", now());
    if (write(status_fd, stamp, (size_t)len) < 0) { /* the parent then uses the fork time */ }
    if (o->envp) environ = o->envp; /* execvp looks up the program on this environment's PATH */
    execvp(o->argv[0], o->argv);
    char what[600];
    snprintf(what, sizeof what, "cannot execute '%s'", o->argv[0]);
    report(status_fd, 'E', what, errno);
    _exit(errno == ENOENT ? 127 : 126);
}

/* ---- result -------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static double tv_seconds(struct timeval tv) {
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    struct options o;
    if (parse_options(argc, argv, &o) < 0) {
        usage();
        return 2;
    }
    if (o.cpus) {
        cpu_set_t set;
        if (parse_cpus(o.cpus, &set) < 0) {
            fprintf(stderr, "measure: malformed CPU list '%s' (expected e.g. 0,2-3)\n", o.cpus);
            return 2;
        }
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    struct cgroup cg;
    cgroup_setup(&cg, o.nocgroup);

    sigset_t waitset, oldmask;
    sigemptyset(&waitset);
    sigaddset(&waitset, SIGCHLD);
    sigaddset(&waitset, SIGTERM);
    sigaddset(&waitset, SIGINT);
    sigaddset(&waitset, SIGHUP);
    sigprocmask(SIG_BLOCK, &waitset, &oldmask);
    /*
     * If whoever started us dies, even by SIGKILL, stop the tree at once: a benchmark must not
     * go on unmeasured (and compete with the next run) after infra is gone.
     */
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    if (getppid() != parent) kill(getpid(), SIGTERM);

    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) < 0) {
        perror("measure: pipe");
        cgroup_remove(&cg);
        return 3;
    }

    pid_t self = getpid();
    double start = now(); /* replaced by the child's time stamp right before exec */
    pid_t child = fork();
    if (child < 0) {
        perror("measure: fork");
        cgroup_remove(&cg);
        return 3;
    }
    if (child == 0) {
        close(status_pipe[0]);
        child_main(&o, &cg, status_pipe[1], &oldmask, self);
    }
    setpgid(child, child); /* also here, so the group exists before we may need to kill it */
    close(status_pipe[1]);

    /* The pipe closes on exec (success) or on exit (setup failure). */
    char messages[2048] = "", exec_error[2048] = "";
    size_t got = 0;
    for (;;) {
        ssize_t n = read(status_pipe[0], messages + got, sizeof messages - 1 - got);
        if (n > 0 && got + (size_t)n < sizeof messages - 1) {
            got += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    close(status_pipe[0]);
    messages[got] = 0;
    int cgroup_failed = 0;
    for (char *line = strtok(messages, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == 'T') start = strtod(line + 1, NULL);
        else if (line[0] == 'W') cgroup_failed = 1;
        else if (line[0] == 'E' && !exec_error[0]) snprintf(exec_error, sizeof exec_error, "%s", line + 1);
    }

    /*
     * Wait for the whole tree. Deadlines: the timeout (from the start), the end of the grace
     * period for descendants still running after the main process exited, the end of the
     * grace period after an interrupt, and then re-kills until everything is reaped.
     */
    double end = 0, timeout_at = o.timeout > 0 ? start + o.timeout : 0, kill_at = timeout_at;
    int main_status = 0, main_done = 0, timed_out = 0, interrupted = 0, killing = 0, lingering = 0;
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p > 0) {
            if (p == child) {
                end = now();
                main_status = st;
                main_done = 1;
                double linger_at = end + o.linger;
                if (!killing && !interrupted && (kill_at == 0 || linger_at < kill_at)) kill_at = linger_at;
            }
            continue;
        }
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break; /* ECHILD: the whole tree is gone */

        double t = now();
        if (kill_at > 0 && t >= kill_at) {
            int live = kill_tree(child, SIGKILL, &cg);
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
        siginfo_t info;
        int sig = sigtimedwait(&waitset, &info, tsp);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
            /* an interrupt: pass it on, and kill what is left after a grace period */
            interrupted = 1;
            kill_tree(child, sig, &cg);
            /* no grace when our parent died: nobody waits for the result */
            double grace = getppid() != parent ? 0 : INTERRUPT_GRACE_SECONDS;
            if (!killing && (kill_at == 0 || kill_at > now() + grace)) kill_at = now() + grace;
        }
    }
    if (!main_done) end = now();

    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    long long peak = cgroup_failed ? -1 : cgroup_peak(&cg);
    cgroup_remove(&cg);

    /* to standard output (one write when the buffer is flushed), or to a file atomically */
    int to_stdout = strcmp(o.result_path, "-") == 0;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", o.result_path, (int)getpid());
    FILE *f = to_stdout ? stdout : fopen(tmp, "we");
    if (!f) {
        fprintf(stderr, "measure: cannot write %s: %s\n", tmp, strerror(errno));
        return 3;
    }
    int exit_code = -1, signo = 0;
    if (WIFEXITED(main_status)) exit_code = WEXITSTATUS(main_status);
    else if (WIFSIGNALED(main_status)) signo = WTERMSIG(main_status);
    fputs("{\"exitCode\":", f);
    if (exit_code >= 0) fprintf(f, "%d", exit_code);
    else fputs("null", f);
    fputs(",\"signal\":", f);
    if (signo) {
        char name[32];
        const char *abbrev = sigabbrev_np(signo);
        if (abbrev) snprintf(name, sizeof name, "SIG%s", abbrev);
        else snprintf(name, sizeof name, "SIG%d", signo);
        json_string(f, name);
        fputs(",\"signalDescription\":", f);
        json_string(f, strsignal(signo));
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\"timedOut\":%s,\"interrupted\":%s,\"execError\":", timed_out ? "true" : "false",
            interrupted ? "true" : "false");
    json_string(f, exec_error[0] ? exec_error : NULL);
    fprintf(f,
            ",\"runtime\":%.6f,\"utime\":%.6f,\"stime\":%.6f,\"maxrss\":%ld,\"minflt\":%ld,"
            "\"majflt\":%ld,\"nvcsw\":%ld,\"nivcsw\":%ld,\"cgroupPeak\":",
            end - start, tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt,
            ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw);
    if (peak >= 0) fprintf(f, "%lld", peak);
    else fputs("null", f);
    fputs(",\"cgroup\":", f);
    json_string(f, cg.kind == CG_V2 ? "v2" : cg.kind == CG_V1 ? "v1" : NULL);
    fprintf(f, ",\"lingering\":%d}\n", lingering);
    if (to_stdout) {
        if (fflush(f) != 0) {
            fprintf(stderr, "measure: cannot write the result to standard output: %s\n", strerror(errno));
            return 3;
        }
        return 0;
    }
    if (fclose(f) != 0 || rename(tmp, o.result_path) != 0) {
        fprintf(stderr, "measure: cannot write %s: %s\n", o.result_path, strerror(errno));
        unlink(tmp);
        return 3;
    }
    return 0;
}
