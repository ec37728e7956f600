/*
 * acl_bench: times the ACL check of any Mosquitto 2.0 (plugin interface v5)
 * plugin at the broker's boundary, the MOSQ_EVT_ACL_CHECK callback.
 *
 * The harness plays the broker: it dlopen()s the plugin, provides the
 * broker-only functions plugins import (exported from this executable with
 * -rdynamic; the libmosquitto ones such as mosquitto_topic_matches_sub come
 * from -lmosquitto, OpenSSL from -lcrypto), calls mosquitto_plugin_version and
 * mosquitto_plugin_init with the --opt options, captures the ACL callback and
 * calls it for every line of DIR/checks.tsv, as the broker would for a publish
 * (MOSQ_ACL_WRITE) or a delivery (MOSQ_ACL_READ).
 *
 *   1. correctness: every decision must equal the `expected` column
 *      (MOSQ_ERR_SUCCESS = allow; MOSQ_ERR_ACL_DENIED / MOSQ_ERR_PLUGIN_DEFER = deny)
 *   2. allocations: one full untimed pass over the allowed checks, then over
 *      the denied ones, counting malloc-family calls (alloc_count.c)
 *   3. timing: allowed and denied checks separately, each list in file order,
 *      clock_gettime(CLOCK_MONOTONIC) around batches of 16 checks,
 *      ns/check = batch/16; median and p99 over the batches. Each list is
 *      timed right after its allocation pass (which warms it).
 *
 * stdout, one line:
 *   label=L rules=N users=U checks=C allowed_checks= denied_checks= allow_median_ns= allow_p99_ns= deny_median_ns=
 *   deny_p99_ns= [mixed_median_ns= mixed_p99_ns=] allocs_per_allow= allocs_per_deny=
 *   allow_pass_logs= deny_pass_logs= deny_logged_checks= deny_unlogged_allocs= init_ms=
 *   init_allocs= peak_rss_mb=
 * (*_pass_logs: the plugin's log calls during the counted pass, dropped debug ones
 * included; deny_logged_checks made at least one; deny_unlogged_allocs: allocations
 * during the denied checks that logged nothing)
 * Details go to stderr. Exit status 1 on any mismatch or setup error, 2 on usage.
 *
 * Usage: acl_bench --plugin PATH [options] DIR
 *   --opt KEY=VALUE       plugin option (repeatable), e.g. database=/path/cwauth.db
 *   --opt-copy KEY=FILE   pass a private temporary copy of FILE as option KEY
 *                         (dynsec: config_file=DIR/dynsec.json; the plugin may rewrite it)
 *   --label NAME          first field of the output (default: the plugin's file name)
 *   --seconds S           time budget of each list (default 2); at least one
 *                         full pass over the list is always timed
 *   --max-checks N        ... and at most max(N, list length) checks (default 10000000)
 *   --mixed               also time all checks in file order (mixed_*; the in-core comparison)
 *   --only allow|deny     time (and count) only that list, e.g. under perf; the other reads 0
 *   --rules N             rules= value (default: total_permissions from DIR/meta.json)
 *   --verbose             also print the plugin's debug log lines (off, as in the
 *                         broker's default log_type, they are not even formatted)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "alloc_count.h"

#define BATCH 16
/* How often the timing loop lets a broker loop pass (MOSQ_EVT_TICK) happen, untimed. */
#define LOOP_PASS_NS 10000000ULL
#define MAX_EVT 32
#define MAX_OPTS 16
#define MAX_COPIES 4
#define PATH_LEN 4096

/* The broker's client is opaque to plugins; this is all they can ask of ours. */
struct mosquitto {
	const char *id;
	const char *username;
	const char *address;
};

struct check {
	struct mosquitto client;
	const char *topic;
	int access;
	bool expect_allow;
	int line;
};

struct list {
	size_t *idx;
	size_t n;
};

struct stats {
	double median;
	double p99;
	size_t timed;
	size_t samples;
};

struct config {
	const char *plugin_path;
	const char *dir;
	const char *label;
	double seconds;
	size_t max_checks;
	long rules;
	bool mixed;
	bool verify_only;
	const char *only;
	struct mosquitto_opt opts[MAX_OPTS];
	int opt_count;
};

typedef int (*plugin_version_fn)(int, const int *);
typedef int (*plugin_init_fn)(mosquitto_plugin_id_t *, void **, struct mosquitto_opt *, int);
typedef int (*plugin_cleanup_fn)(void *, struct mosquitto_opt *, int);

static bool verbose = false;
static uint64_t log_calls[2]; /* [0] suppressed debug lines, [1] printed lines */
static char tmp_dir[PATH_LEN];
static char tmp_files[MAX_COPIES][PATH_LEN];
static int tmp_file_count = 0;

static struct {
	MOSQ_FUNC_generic_callback cb;
	void *userdata;
} callbacks[MAX_EVT];

/* ------------------------------------------------------------------------
 * Broker functions imported by plugins (the union of what cwauth and
 * dynsec import: `nm -D --undefined-only PLUGIN | grep mosquitto_`)
 * ------------------------------------------------------------------------ */

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event,
		MOSQ_FUNC_generic_callback cb_func, const void *event_data, void *userdata)
{
	(void)identifier;
	(void)event_data;
	if(cb_func == NULL) return MOSQ_ERR_INVAL;
	if(event < 0 || event >= MAX_EVT) return MOSQ_ERR_NOT_SUPPORTED;
	if(callbacks[event].cb) return MOSQ_ERR_ALREADY_EXISTS;
	callbacks[event].cb = cb_func;
	callbacks[event].userdata = userdata;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event,
		MOSQ_FUNC_generic_callback cb_func, const void *event_data)
{
	(void)identifier;
	(void)event_data;
	if(event < 0 || event >= MAX_EVT || callbacks[event].cb != cb_func) return MOSQ_ERR_NOT_FOUND;
	callbacks[event].cb = NULL;
	callbacks[event].userdata = NULL;
	return MOSQ_ERR_SUCCESS;
}

void *mosquitto_calloc(size_t nmemb, size_t size) { return calloc(nmemb, size); }
void mosquitto_free(void *mem) { free(mem); }
void *mosquitto_malloc(size_t size) { return malloc(size); }
void *mosquitto_realloc(void *ptr, size_t size) { return realloc(ptr, size); }
char *mosquitto_strdup(const char *s) { return strdup(s); }

/* Like the broker with its default log_type (error, warning, notice,
 * information): a disabled level returns before anything is formatted. */
void mosquitto_log_printf(int level, const char *fmt, ...)
{
	va_list va;

	if(level == MOSQ_LOG_DEBUG && !verbose){
		log_calls[0]++;
		return;
	}
	log_calls[1]++;
	fprintf(stderr, "[plugin log %d] ", level);
	va_start(va, fmt);
	vfprintf(stderr, fmt, va);
	va_end(va);
	fputc('\n', stderr);
}

const char *mosquitto_client_id(const struct mosquitto *client) { return client ? client->id : NULL; }
const char *mosquitto_client_username(const struct mosquitto *client) { return client ? client->username : NULL; }
const char *mosquitto_client_address(const struct mosquitto *client) { return client ? client->address : NULL; }

/* The harness's clients connect without TLS: no peer certificate, and cwauth never renames them. */
void *mosquitto_client_certificate(const struct mosquitto *client) { (void)client; return NULL; }

int mosquitto_set_username(struct mosquitto *client, const char *username)
{
	(void)client;
	(void)username;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_kick_client_by_username(const char *username, bool with_will)
{
	(void)username;
	(void)with_will;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_kick_client_by_clientid(const char *clientid, bool with_will)
{
	(void)clientid;
	(void)with_will;
	return MOSQ_ERR_SUCCESS;
}

/* Only used for dynsec's $CONTROL replies, which this harness never triggers.
 * The broker owns payload and properties after the call. */
int mosquitto_broker_publish(const char *clientid, const char *topic, int payloadlen,
		void *payload, int qos, bool retain, mosquitto_property *properties)
{
	(void)clientid; (void)topic; (void)payloadlen; (void)qos; (void)retain;
	free(payload);
	mosquitto_property_free_all(&properties);
	return MOSQ_ERR_SUCCESS;
}

/* cwauth's counters on $SYS, published from its tick (which this harness never sends). */
int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen,
		const void *payload, int qos, bool retain, mosquitto_property *properties)
{
	(void)clientid; (void)topic; (void)payloadlen; (void)payload; (void)qos; (void)retain;
	mosquitto_property_free_all(&properties);
	return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *read_file(const char *path, size_t *len_out)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long len;

	if(!fp) return NULL;
	if(fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0){
		fclose(fp);
		return NULL;
	}
	buf = malloc((size_t)len + 1);
	if(buf && fread(buf, 1, (size_t)len, fp) != (size_t)len){
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if(buf){
		buf[len] = '\0';
		if(len_out) *len_out = (size_t)len;
	}
	return buf;
}

static int copy_file(const char *src, const char *dst)
{
	size_t len;
	char *buf = read_file(src, &len);
	FILE *fp;
	int rc = 1;

	if(!buf) return 1;
	fp = fopen(dst, "wb");
	if(fp){
		if(fwrite(buf, 1, len, fp) == len) rc = 0;
		if(fclose(fp) != 0) rc = 1;
	}
	free(buf);
	return rc;
}

static void remove_tmp(void)
{
	for(int i = 0; i < tmp_file_count; i++) unlink(tmp_files[i]);
	if(tmp_dir[0]) rmdir(tmp_dir);
}

/* A private copy of src in this run's temporary folder; its path, or NULL. */
static const char *private_copy(const char *src)
{
	char name[PATH_LEN];
	char *dst;

	if(tmp_file_count == MAX_COPIES) return NULL;
	if(!tmp_dir[0]){
		snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/acl_bench.XXXXXX");
		if(!mkdtemp(tmp_dir)){
			tmp_dir[0] = '\0';
			return NULL;
		}
		atexit(remove_tmp);
	}
	snprintf(name, sizeof(name), "%s", src);
	dst = tmp_files[tmp_file_count];
	snprintf(dst, PATH_LEN, "%s/%d-%s", tmp_dir, tmp_file_count, basename(name));
	if(copy_file(src, dst) != 0) return NULL;
	tmp_file_count++;
	return dst;
}

/* The integer after "key": in DIR/meta.json, or -1. */
static long meta_number(const char *dir, const char *key)
{
	char path[PATH_LEN], quoted[128];
	char *buf, *p;
	long n = -1;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	buf = read_file(path, NULL);
	if(buf && (p = strstr(buf, quoted)) && (p = strchr(p, ':'))){
		n = strtol(p + 1, NULL, 10);
	}
	free(buf);
	return n;
}

/* Peak resident set size of this process so far, in MB. */
static double peak_rss_mb(void)
{
	struct rusage ru;

	if(getrusage(RUSAGE_SELF, &ru) != 0) return -1.0;
	return (double)ru.ru_maxrss / 1024.0;
}

/* ------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------ */

/* Fills c from the 5 fields of one checks.tsv line; 0 or 1 on a bad field. */
static int parse_check(struct check *c, char *f[5], int lineno)
{
	memset(c, 0, sizeof(*c));
	c->client.username = f[0];
	c->client.id = f[1];
	c->client.address = "127.0.0.1";
	c->topic = f[2];
	c->line = lineno;
	if(!strcmp(f[3], "write")){
		c->access = MOSQ_ACL_WRITE;
	}else if(!strcmp(f[3], "read")){
		c->access = MOSQ_ACL_READ;
	}else if(!strcmp(f[3], "subscribe")){
		c->access = MOSQ_ACL_SUBSCRIBE;
	}else if(!strcmp(f[3], "unsubscribe")){
		c->access = MOSQ_ACL_UNSUBSCRIBE;
	}else{
		return 1;
	}
	if(!strcmp(f[4], "allow")){
		c->expect_allow = true;
	}else if(!strcmp(f[4], "deny")){
		c->expect_allow = false;
	}else{
		return 1;
	}
	return 0;
}

/* Splits line at tabs into exactly 5 fields; 0 on success. */
static int split_fields(char *line, char *f[5])
{
	char *p = line;
	int nf = 0;

	while(nf < 5){
		f[nf++] = p;
		p = strchr(p, '\t');
		if(!p) break;
		*p++ = '\0';
	}
	return (nf == 5 && p == NULL) ? 0 : 1;
}

/* DIR/checks.tsv; the strings point into *storage, which the caller frees. */
static struct check *load_checks(const char *dir, size_t *count, char **storage)
{
	char path[PATH_LEN];
	char *buf, *line, *next;
	size_t cap = 1024, n = 0;
	struct check *checks, *grown;
	int lineno = 0;

	snprintf(path, sizeof(path), "%s/checks.tsv", dir);
	buf = read_file(path, NULL);
	if(!buf){
		fprintf(stderr, "acl_bench: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	checks = calloc(cap, sizeof(*checks));
	if(!checks){
		free(buf);
		return NULL;
	}
	for(line = buf; line && *line; line = next){
		char *f[5];

		lineno++;
		next = strchr(line, '\n');
		if(next) *next++ = '\0';
		if(*line == '\0' || *line == '#') continue;
		if(n == cap){
			grown = realloc(checks, 2 * cap * sizeof(*checks));
			if(!grown) goto fail;
			checks = grown;
			cap *= 2;
		}
		if(split_fields(line, f) || parse_check(&checks[n], f, lineno)){
			fprintf(stderr, "acl_bench: %s:%d: expected user<TAB>client<TAB>topic<TAB>write|read|subscribe|unsubscribe<TAB>allow|deny\n",
					path, lineno);
			goto fail;
		}
		n++;
	}
	*count = n;
	*storage = buf;
	return checks;
fail:
	free(checks);
	free(buf);
	return NULL;
}

/* As the broker does (security.c, acl__check_callback): the event on the stack,
 * zeroed, then the client, topic and access; qos 0, no payload, no retain. */
static int call_acl(struct check *c)
{
	struct mosquitto_evt_acl_check ed;

	memset(&ed, 0, sizeof(ed));
	ed.client = &c->client;
	ed.topic = c->topic;
	ed.access = c->access;
	return callbacks[MOSQ_EVT_ACL_CHECK].cb(MOSQ_EVT_ACL_CHECK, &ed, callbacks[MOSQ_EVT_ACL_CHECK].userdata);
}

/* Every check against `expected`; fills the allow and deny lists. Returns the mismatches. */
static const char *access_name(int access)
{
	switch(access){
		case MOSQ_ACL_WRITE: return "write";
		case MOSQ_ACL_READ: return "read";
		case MOSQ_ACL_SUBSCRIBE: return "subscribe";
		case MOSQ_ACL_UNSUBSCRIBE: return "unsubscribe";
		default: return "?";
	}
}

static size_t verify(struct check *checks, size_t n, struct list *allow, struct list *deny)
{
	size_t mismatches = 0, n_denied = 0, n_defer = 0;

	for(size_t i = 0; i < n; i++){
		struct check *c = &checks[i];
		int r = call_acl(c);
		bool allowed = (r == MOSQ_ERR_SUCCESS);

		if(r == MOSQ_ERR_ACL_DENIED){
			n_denied++;
		}else if(r == MOSQ_ERR_PLUGIN_DEFER){
			n_defer++;
		}else if(r != MOSQ_ERR_SUCCESS){
			fprintf(stderr, "acl_bench: checks.tsv:%d: unexpected rc %d (%s)\n", c->line, r, mosquitto_strerror(r));
			mismatches++;
			continue;
		}
		if(allowed != c->expect_allow){
			if(mismatches < 10){
				fprintf(stderr, "acl_bench: MISMATCH checks.tsv:%d %s (client %s) %s %s: plugin %s, expected %s\n",
						c->line, c->client.username, c->client.id, c->topic, access_name(c->access),
						allowed ? "allow" : "deny", c->expect_allow ? "allow" : "deny");
			}
			mismatches++;
		}
		if(c->expect_allow){
			allow->idx[allow->n++] = i;
		}else{
			deny->idx[deny->n++] = i;
		}
	}
	fprintf(stderr, "acl_bench: correctness: %zu checks, %zu allow, %zu deny (ACL_DENIED %zu, PLUGIN_DEFER %zu), %zu mismatches\n",
			n, allow->n, deny->n, n_denied, n_defer, mismatches);
	return mismatches;
}

/* ------------------------------------------------------------------------
 * Measurements
 * ------------------------------------------------------------------------ */

struct pass_counts {
	uint64_t logs;            /* the plugin's log calls (any level, dropped debug ones included) */
	size_t logged_checks;     /* checks that made at least one log call */
	uint64_t unlogged_allocs; /* allocations during the checks that made none */
};

static void loop_pass(void);

/* One untimed pass over the list with the allocation counter on. Allocations
 * are also split by whether the check logged anything. A loop pass comes first,
 * as in the broker, where many pass between two such runs of checks. */
static double allocs_per_check(struct check *checks, const struct list *l, const char *name, struct pass_counts *pc)
{
	volatile int sink = 0;
	uint64_t dropped = log_calls[0], printed = log_calls[1];
	struct alloc_counts ac;

	memset(pc, 0, sizeof(*pc));
	if(l->n == 0) return 0.0;
	loop_pass();
	alloc_count_start();
	for(size_t i = 0; i < l->n; i++){
		uint64_t a0 = alloc_count_peek(), g0 = log_calls[0] + log_calls[1];
		sink += call_acl(&checks[l->idx[i]]);
		if(log_calls[0] + log_calls[1] != g0){
			pc->logged_checks++;
		}else{
			pc->unlogged_allocs += alloc_count_peek() - a0;
		}
	}
	ac = alloc_count_stop();
	(void)sink;
	dropped = log_calls[0] - dropped;
	printed = log_calls[1] - printed;
	pc->logs = dropped + printed;
	fprintf(stderr, "acl_bench: %s pass: %zu checks, %llu allocations, %llu frees (%.3f per check); "
			"other threads %llu; plugin log calls %llu (debug, dropped: %llu) from %zu checks; "
			"the %zu checks that logged nothing made %llu allocations\n",
			name, l->n, (unsigned long long)ac.allocs, (unsigned long long)ac.frees,
			(double)ac.allocs / (double)l->n, (unsigned long long)ac.other_allocs,
			(unsigned long long)pc->logs, (unsigned long long)dropped, pc->logged_checks,
			l->n - pc->logged_checks, (unsigned long long)pc->unlogged_allocs);
	return (double)ac.allocs / (double)l->n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void summarise(struct stats *st, double *samples, size_t ns)
{
	size_t k99;

	qsort(samples, ns, sizeof(double), cmp_double);
	st->samples = ns;
	st->median = (ns % 2) ? samples[ns / 2] : (samples[ns / 2 - 1] + samples[ns / 2]) / 2;
	k99 = (size_t)ceil(0.99 * (double)ns);
	st->p99 = samples[k99 ? k99 - 1 : 0];
}

/* Batches of BATCH checks from the list (wrapping), for `seconds`, at least one
 * full pass and at most max(max_checks, list length) checks. */
static int time_list(struct check *checks, const struct list *l, double seconds, size_t max_checks,
		struct stats *st)
{
	size_t limit_checks = (l->n > max_checks ? l->n : max_checks) + BATCH;
	size_t cap = limit_checks / BATCH + 1, ns = 0, pos = 0, done = 0;
	uint64_t start, last_pass, budget = (uint64_t)(seconds * 1e9);
	double *samples;
	volatile int sink = 0;

	memset(st, 0, sizeof(*st));
	if(l->n == 0) return MOSQ_ERR_SUCCESS;
	samples = malloc(cap * sizeof(double));
	if(!samples) return MOSQ_ERR_NOMEM;
	start = last_pass = now_ns();
	while(ns < cap){
		uint64_t t0 = now_ns(), t1;
		for(int k = 0; k < BATCH; k++){
			sink += call_acl(&checks[l->idx[pos]]);
			if(++pos == l->n) pos = 0;
		}
		t1 = now_ns();
		samples[ns++] = (double)(t1 - t0) / BATCH;
		done += BATCH;
		if(done >= l->n && (t1 - start >= budget || done >= limit_checks - BATCH)) break;
		/* The broker's loop ticks its plugins on every pass; here between batches, untimed. */
		if(t1 - last_pass >= LOOP_PASS_NS){
			loop_pass();
			last_pass = now_ns();
		}
	}
	(void)sink;
	st->timed = done;
	summarise(st, samples, ns);
	free(samples);
	return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------------
 * The plugin
 * ------------------------------------------------------------------------ */

static void *load_plugin(const char *path, plugin_init_fn *init, plugin_cleanup_fn *cleanup)
{
	const int supported[] = {5, 4, 3, 2};
	plugin_version_fn version;
	void *lib = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	int v;

	if(!lib){
		fprintf(stderr, "acl_bench: dlopen: %s\n", dlerror());
		return NULL;
	}
	version = (plugin_version_fn)dlsym(lib, "mosquitto_plugin_version");
	*init = (plugin_init_fn)dlsym(lib, "mosquitto_plugin_init");
	*cleanup = (plugin_cleanup_fn)dlsym(lib, "mosquitto_plugin_cleanup");
	if(!version || !*init){
		fprintf(stderr, "acl_bench: %s is not a version 5 plugin\n", path);
		return NULL;
	}
	v = version(4, supported);
	if(v != 5){
		fprintf(stderr, "acl_bench: plugin wants interface version %d, need 5\n", v);
		return NULL;
	}
	return lib;
}

/* If the plugin does basic auth: the generated password must pass, a wrong one not. */
/* The broker's loop ends a pass with MOSQ_EVT_TICK (Mosquitto 2.0: every pass). A plugin may
 * keep what it learnt during a pass until then (cwauth: which client is being taken over). */
static void loop_pass(void)
{
	struct mosquitto_evt_tick tick;

	if(!callbacks[MOSQ_EVT_TICK].cb) return;
	memset(&tick, 0, sizeof(tick));
	callbacks[MOSQ_EVT_TICK].cb(MOSQ_EVT_TICK, &tick, callbacks[MOSQ_EVT_TICK].userdata);
}

static int check_basic_auth(struct check *first)
{
	struct mosquitto_evt_basic_auth ba;
	int good, bad;

	if(!callbacks[MOSQ_EVT_BASIC_AUTH].cb) return MOSQ_ERR_SUCCESS;
	memset(&ba, 0, sizeof(ba));
	ba.client = &first->client;
	ba.username = (char *)first->client.username;
	ba.password = (char *)"bench-pass";
	good = callbacks[MOSQ_EVT_BASIC_AUTH].cb(MOSQ_EVT_BASIC_AUTH, &ba, callbacks[MOSQ_EVT_BASIC_AUTH].userdata);
	ba.password = (char *)"wrong-pass";
	bad = callbacks[MOSQ_EVT_BASIC_AUTH].cb(MOSQ_EVT_BASIC_AUTH, &ba, callbacks[MOSQ_EVT_BASIC_AUTH].userdata);
	fprintf(stderr, "acl_bench: basic auth %s/bench-pass -> %s, wrong password -> %s\n",
			ba.username, mosquitto_strerror(good), mosquitto_strerror(bad));
	if(good != MOSQ_ERR_SUCCESS || bad == MOSQ_ERR_SUCCESS){
		fprintf(stderr, "acl_bench: the plugin does not accept the generated password hash\n");
		return MOSQ_ERR_AUTH;
	}
	loop_pass();
	return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Options
 * ------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr, "usage: acl_bench --plugin PATH [--opt KEY=VALUE]... [--opt-copy KEY=FILE]... [--label NAME]\n"
			"                 [--seconds S] [--max-checks N] [--mixed] [--verify-only] [--only allow|deny] [--rules N] [--verbose] DIR\n"
			"  DIR holds checks.tsv and meta.json from Benchmarks/policy/gen_policy.py\n");
	exit(2);
}

/* KEY=VALUE into the option list; with copy, VALUE is a file passed as a private copy. */
static int add_opt(struct config *cfg, char *arg, bool copy)
{
	char *eq = strchr(arg, '=');
	const char *value;

	if(!eq || eq == arg || cfg->opt_count == MAX_OPTS) return MOSQ_ERR_INVAL;
	*eq = '\0';
	value = eq + 1;
	if(copy){
		value = private_copy(value);
		if(!value){
			fprintf(stderr, "acl_bench: cannot make a private copy of %s\n", eq + 1);
			return MOSQ_ERR_UNKNOWN;
		}
	}
	cfg->opts[cfg->opt_count].key = arg;
	cfg->opts[cfg->opt_count].value = (char *)value;
	cfg->opt_count++;
	return MOSQ_ERR_SUCCESS;
}

static void parse_args(struct config *cfg, int argc, char *argv[])
{
	for(int i = 1; i < argc; i++){
		bool more = (i + 1 < argc);
		if(!strcmp(argv[i], "--plugin") && more){
			cfg->plugin_path = argv[++i];
		}else if(!strcmp(argv[i], "--opt") && more){
			if(add_opt(cfg, argv[++i], false)) usage();
		}else if(!strcmp(argv[i], "--opt-copy") && more){
			if(add_opt(cfg, argv[++i], true)) exit(1);
		}else if(!strcmp(argv[i], "--label") && more){
			cfg->label = argv[++i];
		}else if(!strcmp(argv[i], "--seconds") && more){
			cfg->seconds = atof(argv[++i]);
		}else if(!strcmp(argv[i], "--max-checks") && more){
			cfg->max_checks = strtoull(argv[++i], NULL, 10);
		}else if(!strcmp(argv[i], "--rules") && more){
			cfg->rules = atol(argv[++i]);
		}else if(!strcmp(argv[i], "--only") && more){
			cfg->only = argv[++i];
			if(strcmp(cfg->only, "allow") && strcmp(cfg->only, "deny")) usage();
		}else if(!strcmp(argv[i], "--verify-only")){
			cfg->verify_only = true;
		}else if(!strcmp(argv[i], "--mixed")){
			cfg->mixed = true;
		}else if(!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")){
			verbose = true;
		}else if(argv[i][0] == '-' || cfg->dir){
			usage();
		}else{
			cfg->dir = argv[i];
		}
	}
	if(!cfg->dir || !cfg->plugin_path || cfg->seconds < 0) usage();
	if(!cfg->label){
		const char *slash = strrchr(cfg->plugin_path, '/');
		cfg->label = slash ? slash + 1 : cfg->plugin_path;
	}
	if(cfg->rules < 0) cfg->rules = meta_number(cfg->dir, "total_permissions");
}

/* ------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------ */

struct results {
	struct stats allow, deny, mixed;
	double allocs_allow, allocs_deny, init_ms;
	uint64_t init_allocs;
	struct pass_counts pass_allow, pass_deny;
	size_t n_allow, n_deny;
};

static void print_results(const struct config *cfg, size_t n, const struct results *r)
{
	printf("label=%s rules=%ld users=%ld checks=%zu allowed_checks=%zu denied_checks=%zu "
			"allow_median_ns=%.1f allow_p99_ns=%.1f deny_median_ns=%.1f deny_p99_ns=%.1f ",
			cfg->label, cfg->rules, meta_number(cfg->dir, "users"), n, r->n_allow, r->n_deny,
			r->allow.median, r->allow.p99, r->deny.median, r->deny.p99);
	if(cfg->mixed) printf("mixed_median_ns=%.1f mixed_p99_ns=%.1f ", r->mixed.median, r->mixed.p99);
	printf("allocs_per_allow=%.3f allocs_per_deny=%.3f allow_pass_logs=%llu deny_pass_logs=%llu "
			"deny_logged_checks=%zu deny_unlogged_allocs=%llu init_ms=%.1f init_allocs=%llu peak_rss_mb=%.0f\n",
			r->allocs_allow, r->allocs_deny, (unsigned long long)r->pass_allow.logs,
			(unsigned long long)r->pass_deny.logs, r->pass_deny.logged_checks,
			(unsigned long long)r->pass_deny.unlogged_allocs,
			r->init_ms, (unsigned long long)r->init_allocs, peak_rss_mb());
	fflush(stdout);
}

static int measure(const struct config *cfg, struct check *checks, size_t n, struct results *r)
{
	struct list allow = {0}, deny = {0}, all = {0};
	int rc = MOSQ_ERR_NOMEM;

	allow.idx = malloc(n * sizeof(size_t));
	deny.idx = malloc(n * sizeof(size_t));
	all.idx = malloc(n * sizeof(size_t));
	if(!allow.idx || !deny.idx || !all.idx) goto out;
	for(size_t i = 0; i < n; i++) all.idx[i] = i;
	all.n = n;
	rc = MOSQ_ERR_ACL_DENIED;
	if(verify(checks, n, &allow, &deny)){
		fprintf(stderr, "acl_bench: decisions differ from checks.tsv, not timing\n");
		goto out;
	}
	r->n_allow = allow.n;
	r->n_deny = deny.n;
	if(cfg->verify_only){
		rc = MOSQ_ERR_SUCCESS;
		goto out;
	}
	if(cfg->only && !strcmp(cfg->only, "deny")) allow.n = 0;
	if(cfg->only && !strcmp(cfg->only, "allow")) deny.n = 0;
	r->allocs_allow = allocs_per_check(checks, &allow, "allowed", &r->pass_allow);
	rc = time_list(checks, &allow, cfg->seconds, cfg->max_checks, &r->allow);
	if(rc) goto out;
	r->allocs_deny = allocs_per_check(checks, &deny, "denied", &r->pass_deny);
	rc = time_list(checks, &deny, cfg->seconds, cfg->max_checks, &r->deny);
	if(rc || !cfg->mixed) goto out;
	rc = time_list(checks, &all, cfg->seconds, cfg->max_checks, &r->mixed);
out:
	fprintf(stderr, "acl_bench: timed %zu allowed checks (%zu batches of %d), %zu denied (%zu batches)%s\n",
			r->allow.timed, r->allow.samples, BATCH, r->deny.timed, r->deny.samples,
			cfg->mixed ? ", and the mixed list" : "");
	free(allow.idx);
	free(deny.idx);
	free(all.idx);
	return rc;
}

int main(int argc, char *argv[])
{
	static char plugin_id_storage[64]; /* opaque to the plugin */
	struct config cfg = { .seconds = 2.0, .max_checks = 10000000, .rules = -1 };
	struct results res;
	plugin_init_fn plugin_init;
	plugin_cleanup_fn plugin_cleanup;
	void *plugin_userdata = NULL;
	struct alloc_counts ac;
	char *storage = NULL;
	struct check *checks;
	size_t n = 0;
	uint64_t t0;
	int rc;

	memset(&res, 0, sizeof(res));
	parse_args(&cfg, argc, argv);
	checks = load_checks(cfg.dir, &n, &storage);
	if(!checks) return 1;
	if(n == 0){
		fprintf(stderr, "acl_bench: no checks\n");
		return 1;
	}
	if(!load_plugin(cfg.plugin_path, &plugin_init, &plugin_cleanup)) return 1;

	alloc_count_start();
	t0 = now_ns();
	rc = plugin_init((mosquitto_plugin_id_t *)plugin_id_storage, &plugin_userdata, cfg.opts, cfg.opt_count);
	res.init_ms = (double)(now_ns() - t0) / 1e6;
	ac = alloc_count_stop();
	res.init_allocs = ac.allocs;
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "acl_bench: mosquitto_plugin_init: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	/* sanity: the interposer sees the plugin's own allocations */
	fprintf(stderr, "acl_bench: %s: plugin_init %.1f ms, %llu allocations seen by the interposer during init "
			"(%llu on other threads)%s\n", cfg.label, res.init_ms, (unsigned long long)ac.allocs,
			(unsigned long long)ac.other_allocs, ac.allocs ? "" : " -- NOT COUNTING, allocation figures are void");
	if(ac.allocs == 0) return 1;
	if(!callbacks[MOSQ_EVT_ACL_CHECK].cb){
		fprintf(stderr, "acl_bench: plugin registered no ACL_CHECK callback\n");
		return 1;
	}
	if(check_basic_auth(&checks[0]) != MOSQ_ERR_SUCCESS) return 1;

	rc = measure(&cfg, checks, n, &res);
	if(rc != MOSQ_ERR_SUCCESS) return 1;
	if(cfg.verify_only){
		printf("label=%s checks=%zu mismatches=0\n", cfg.label, n);
	}else{
		print_results(&cfg, n, &res);
	}

	if(plugin_cleanup) plugin_cleanup(plugin_userdata, cfg.opts, cfg.opt_count);
	free(checks);
	free(storage);
	return 0;
}
