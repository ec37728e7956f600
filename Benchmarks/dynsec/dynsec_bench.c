/*
 * dynsec_bench: reference benchmark of Mosquitto's own dynamic-security
 * plugin ACL check (mosquitto_dynamic_security.so, Mosquitto 2.0.11).
 *
 * The harness plays the broker: it dlopen()s the plugin, provides the
 * broker-only functions the plugin imports (exported from this executable
 * with -rdynamic; the libmosquitto ones such as mosquitto_topic_matches_sub
 * come from -lmosquitto, OpenSSL from -lcrypto), calls mosquitto_plugin_init
 * with config_file=<copy of DIR/dynsec.json>, captures the MOSQ_EVT_ACL_CHECK
 * callback and calls it directly for every line of DIR/checks.tsv.
 *
 *   1. correctness: every decision must equal the `expected` column
 *      (MOSQ_ERR_SUCCESS = allow; MOSQ_ERR_ACL_DENIED / MOSQ_ERR_PLUGIN_DEFER = deny)
 *   2. timing: rounds over the check list, clock_gettime(CLOCK_MONOTONIC)
 *      around batches of 16 checks, ns/check = batch/16.
 *
 * stdout, one line:
 *   dynsec rules=<total permissions> checks=<n> median_ns=<x> p99_ns=<y> load_ms=<init>
 * Details go to stderr. Exit status 1 on any mismatch or setup error.
 *
 * Usage: dynsec_bench [options] DIR
 *   --plugin PATH     default /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so
 *   --min-checks N    stop timing after N checks ... (default 200000)
 *   --seconds S       ... or after S seconds, whichever first (default 2);
 *                     at least one full pass over the list is always timed
 *   --rules N         rules= value (default: total_permissions from DIR/meta.json)
 *   --verbose         show all plugin log lines
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define DEFAULT_PLUGIN "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
#define BATCH 16
#define MAX_EVT 32

/* The broker's client is opaque to plugins; this is all they can ask of ours. */
struct mosquitto {
	const char *id;
	const char *username;
};

static bool verbose = false;
static char tmp_cfg[4096], tmp_dir[4096];

static void remove_tmp(void)
{
	if(tmp_cfg[0]) unlink(tmp_cfg);
	if(tmp_dir[0]) rmdir(tmp_dir);
}
static struct {
	MOSQ_FUNC_generic_callback cb;
	void *userdata;
} callbacks[MAX_EVT];

/* ------------------------------------------------------------------------
 * Broker functions imported by the plugin
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

void mosquitto_log_printf(int level, const char *fmt, ...)
{
	va_list va;
	if(!verbose && !(level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))) return;
	fprintf(stderr, "[plugin log %d] ", level);
	va_start(va, fmt);
	vfprintf(stderr, fmt, va);
	va_end(va);
	fputc('\n', stderr);
}

const char *mosquitto_client_id(const struct mosquitto *client) { return client ? client->id : NULL; }
const char *mosquitto_client_username(const struct mosquitto *client) { return client ? client->username : NULL; }

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

/* Only used for $CONTROL replies, which this harness never triggers. The
 * broker owns payload and properties after the call. */
int mosquitto_broker_publish(const char *clientid, const char *topic, int payloadlen,
		void *payload, int qos, bool retain, mosquitto_property *properties)
{
	(void)clientid; (void)topic; (void)payloadlen; (void)qos; (void)retain;
	free(payload);
	mosquitto_property_free_all(&properties);
	return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------------
 * Harness
 * ------------------------------------------------------------------------ */

struct check {
	struct mosquitto client;
	struct mosquitto_evt_acl_check ed;
	bool expect_allow;
	int line;
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
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
	int rc = -1;

	if(!buf) return -1;
	fp = fopen(dst, "wb");
	if(fp){
		if(fwrite(buf, 1, len, fp) == len) rc = 0;
		if(fclose(fp) != 0) rc = -1;
	}
	free(buf);
	return rc;
}

static long rules_from_meta(const char *dir)
{
	char path[4096];
	char *buf, *p;
	long n = -1;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	buf = read_file(path, NULL);
	if(buf && (p = strstr(buf, "\"total_permissions\"")) && (p = strchr(p, ':'))){
		n = strtol(p + 1, NULL, 10);
	}
	free(buf);
	if(n >= 0) return n;

	/* no meta.json: count permissions in cwauth.json */
	snprintf(path, sizeof(path), "%s/cwauth.json", dir);
	buf = read_file(path, NULL);
	if(buf){
		n = 0;
		for(p = buf; (p = strstr(p, "\"resource\"")); p++) n++;
	}
	free(buf);
	return n;
}

static struct check *load_checks(const char *dir, size_t *count, char **storage)
{
	char path[4096];
	char *buf, *line, *next;
	size_t cap = 1024, n = 0;
	struct check *checks;
	int lineno = 0;

	snprintf(path, sizeof(path), "%s/checks.tsv", dir);
	buf = read_file(path, NULL);
	if(!buf){
		fprintf(stderr, "dynsec_bench: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	checks = calloc(cap, sizeof(*checks));
	for(line = buf; line && *line; line = next){
		char *f[5];
		int nf = 0;
		char *p = line;

		lineno++;
		next = strchr(line, '\n');
		if(next) *next++ = '\0';
		if(*line == '\0' || *line == '#') continue;
		while(nf < 5){
			f[nf++] = p;
			p = strchr(p, '\t');
			if(!p) break;
			*p++ = '\0';
		}
		if(nf != 5 || p){
			fprintf(stderr, "dynsec_bench: %s:%d: expected 5 tab-separated fields\n", path, lineno);
			exit(1);
		}
		if(n == cap){
			cap *= 2;
			checks = realloc(checks, cap * sizeof(*checks));
		}
		struct check *c = &checks[n];
		memset(c, 0, sizeof(*c));
		c->client.username = f[0];
		c->client.id = f[1];
		c->ed.client = &c->client;
		c->ed.topic = f[2];
		c->ed.payload = NULL;
		c->ed.payloadlen = 0;
		c->ed.qos = 0;
		c->ed.retain = false;
		if(!strcmp(f[3], "write")){
			c->ed.access = MOSQ_ACL_WRITE;
		}else if(!strcmp(f[3], "read")){
			c->ed.access = MOSQ_ACL_READ;
		}else{
			fprintf(stderr, "dynsec_bench: %s:%d: access must be write or read\n", path, lineno);
			exit(1);
		}
		if(!strcmp(f[4], "allow")){
			c->expect_allow = true;
		}else if(!strcmp(f[4], "deny")){
			c->expect_allow = false;
		}else{
			fprintf(stderr, "dynsec_bench: %s:%d: expected must be allow or deny\n", path, lineno);
			exit(1);
		}
		c->line = lineno;
		n++;
	}
	/* the event structs point into checks[], so fix up after the last realloc */
	for(size_t i = 0; i < n; i++) checks[i].ed.client = &checks[i].client;
	*count = n;
	*storage = buf;
	return checks;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct stats { double median, p99; size_t timed; };

/* Time checks idx[0..n) in rounds, BATCH checks per clock_gettime pair. */
static struct stats time_checks(struct check *checks, const size_t *idx, size_t n,
		MOSQ_FUNC_generic_callback cb, void *ud, size_t min_checks, double seconds)
{
	struct stats st = {0, 0, 0};
	size_t cap = 4096, ns = 0, pos = 0, done = 0;
	double *samples = malloc(cap * sizeof(double));
	double start = now_ns(), limit = seconds * 1e9;
	volatile int sink = 0;

	if(n == 0){
		free(samples);
		return st;
	}
	for(;;){
		double t0 = now_ns();
		for(int k = 0; k < BATCH; k++){
			sink += cb(MOSQ_EVT_ACL_CHECK, &checks[idx[pos]].ed, ud);
			if(++pos == n) pos = 0;
		}
		double t1 = now_ns();
		if(ns == cap){
			cap *= 2;
			samples = realloc(samples, cap * sizeof(double));
		}
		samples[ns++] = (t1 - t0) / BATCH;
		done += BATCH;
		if(done >= n && (done >= min_checks || t1 - start >= limit)) break;
	}
	(void)sink;
	qsort(samples, ns, sizeof(double), cmp_double);
	st.median = (ns % 2) ? samples[ns / 2] : (samples[ns / 2 - 1] + samples[ns / 2]) / 2;
	size_t k99 = (size_t)ceil(0.99 * (double)ns);
	st.p99 = samples[k99 ? k99 - 1 : 0];
	st.timed = done;
	free(samples);
	return st;
}

static void usage(void)
{
	fprintf(stderr, "usage: dynsec_bench [--plugin PATH] [--min-checks N] [--seconds S] [--rules N] [--verbose] DIR\n"
			"  DIR holds dynsec.json, checks.tsv and meta.json from Benchmarks/policy/gen_policy.py\n");
	exit(2);
}

int main(int argc, char *argv[])
{
	const char *plugin_path = DEFAULT_PLUGIN;
	const char *dir = NULL;
	size_t min_checks = 200000;
	double seconds = 2.0;
	long rules = -1;

	for(int i = 1; i < argc; i++){
		if(!strcmp(argv[i], "--plugin") && i + 1 < argc){
			plugin_path = argv[++i];
		}else if(!strcmp(argv[i], "--min-checks") && i + 1 < argc){
			min_checks = strtoull(argv[++i], NULL, 10);
		}else if(!strcmp(argv[i], "--seconds") && i + 1 < argc){
			seconds = atof(argv[++i]);
		}else if(!strcmp(argv[i], "--rules") && i + 1 < argc){
			rules = atol(argv[++i]);
		}else if(!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")){
			verbose = true;
		}else if(argv[i][0] == '-' || dir){
			usage();
		}else{
			dir = argv[i];
		}
	}
	if(!dir) usage();
	if(rules < 0) rules = rules_from_meta(dir);

	/* checks */
	size_t n = 0;
	char *storage = NULL;
	struct check *checks = load_checks(dir, &n, &storage);
	if(!checks) return 1;
	if(n == 0){
		fprintf(stderr, "dynsec_bench: no checks\n");
		return 1;
	}

	/* the plugin may rewrite its config file: give it a private copy */
	char tmpdir[] = "/tmp/dynsec_bench.XXXXXX";
	char cfg[4096], src[4096];
	if(!mkdtemp(tmpdir)){
		perror("mkdtemp");
		return 1;
	}
	snprintf(tmp_dir, sizeof(tmp_dir), "%s", tmpdir);
	atexit(remove_tmp);
	snprintf(src, sizeof(src), "%s/dynsec.json", dir);
	snprintf(cfg, sizeof(cfg), "%s/dynsec.json", tmpdir);
	if(copy_file(src, cfg) != 0){
		fprintf(stderr, "dynsec_bench: cannot copy %s to %s\n", src, cfg);
		return 1;
	}
	snprintf(tmp_cfg, sizeof(tmp_cfg), "%s", cfg);

	/* load the plugin the way the broker does */
	double t_dl = now_ns();
	void *lib = dlopen(plugin_path, RTLD_NOW | RTLD_GLOBAL);
	if(!lib){
		fprintf(stderr, "dynsec_bench: dlopen: %s\n", dlerror());
		return 1;
	}
	int (*plugin_version)(int, const int *) = (int (*)(int, const int *))dlsym(lib, "mosquitto_plugin_version");
	int (*plugin_init)(mosquitto_plugin_id_t *, void **, struct mosquitto_opt *, int) =
		(int (*)(mosquitto_plugin_id_t *, void **, struct mosquitto_opt *, int))dlsym(lib, "mosquitto_plugin_init");
	int (*plugin_cleanup)(void *, struct mosquitto_opt *, int) =
		(int (*)(void *, struct mosquitto_opt *, int))dlsym(lib, "mosquitto_plugin_cleanup");
	if(!plugin_version || !plugin_init){
		fprintf(stderr, "dynsec_bench: %s is not a version 5 plugin\n", plugin_path);
		return 1;
	}
	const int supported[] = {5, 4, 3, 2};
	int version = plugin_version(4, supported);
	if(version != 5){
		fprintf(stderr, "dynsec_bench: plugin wants interface version %d, need 5\n", version);
		return 1;
	}
	double dl_ms = (now_ns() - t_dl) / 1e6;

	static char plugin_id_storage[64]; /* opaque to the plugin */
	struct mosquitto_opt opts[1] = {{ (char *)"config_file", cfg }};
	void *plugin_userdata = NULL;
	double t0 = now_ns();
	int rc = plugin_init((mosquitto_plugin_id_t *)plugin_id_storage, &plugin_userdata, opts, 1);
	double load_ms = (now_ns() - t0) / 1e6;
	if(rc != MOSQ_ERR_SUCCESS){
		fprintf(stderr, "dynsec_bench: mosquitto_plugin_init: %s\n", mosquitto_strerror(rc));
		return 1;
	}
	MOSQ_FUNC_generic_callback acl_cb = callbacks[MOSQ_EVT_ACL_CHECK].cb;
	void *acl_ud = callbacks[MOSQ_EVT_ACL_CHECK].userdata;
	if(!acl_cb){
		fprintf(stderr, "dynsec_bench: plugin registered no ACL_CHECK callback (config not loaded?)\n");
		return 1;
	}
	fprintf(stderr, "dynsec_bench: dlopen %.1f ms, plugin_init (config load) %.1f ms, %zu checks, rules=%ld\n",
			dl_ms, load_ms, n, rules);

	/* sanity: the generated password hash is valid for dynsec's basic auth */
	if(callbacks[MOSQ_EVT_BASIC_AUTH].cb){
		struct mosquitto_evt_basic_auth ba;
		memset(&ba, 0, sizeof(ba));
		ba.client = &checks[0].client;
		ba.username = (char *)checks[0].client.username;
		ba.password = (char *)"bench-pass";
		int good = callbacks[MOSQ_EVT_BASIC_AUTH].cb(MOSQ_EVT_BASIC_AUTH, &ba, callbacks[MOSQ_EVT_BASIC_AUTH].userdata);
		ba.password = (char *)"wrong-pass";
		int bad = callbacks[MOSQ_EVT_BASIC_AUTH].cb(MOSQ_EVT_BASIC_AUTH, &ba, callbacks[MOSQ_EVT_BASIC_AUTH].userdata);
		fprintf(stderr, "dynsec_bench: basic auth %s/bench-pass -> %s, wrong password -> %s\n",
				ba.username, mosquitto_strerror(good), mosquitto_strerror(bad));
		if(good != MOSQ_ERR_SUCCESS || bad == MOSQ_ERR_SUCCESS){
			fprintf(stderr, "dynsec_bench: password hash not accepted by dynsec\n");
			return 1;
		}
	}

	/* 1. correctness */
	size_t mismatches = 0, n_allow = 0, n_deny_denied = 0, n_deny_defer = 0;
	size_t *idx_all = malloc(n * sizeof(size_t));
	size_t *idx_allow = malloc(n * sizeof(size_t));
	size_t *idx_deny = malloc(n * sizeof(size_t));
	size_t na = 0, nd = 0;
	for(size_t i = 0; i < n; i++){
		struct check *c = &checks[i];
		int r = acl_cb(MOSQ_EVT_ACL_CHECK, &c->ed, acl_ud);
		bool allow;
		if(r == MOSQ_ERR_SUCCESS){
			allow = true;
			n_allow++;
		}else if(r == MOSQ_ERR_ACL_DENIED){
			allow = false;
			n_deny_denied++;
		}else if(r == MOSQ_ERR_PLUGIN_DEFER){
			allow = false;
			n_deny_defer++;
		}else{
			fprintf(stderr, "dynsec_bench: checks.tsv:%d: unexpected rc %d (%s)\n", c->line, r, mosquitto_strerror(r));
			mismatches++;
			continue;
		}
		if(allow != c->expect_allow){
			if(mismatches < 10){
				fprintf(stderr, "dynsec_bench: MISMATCH checks.tsv:%d %s %s %s: dynsec %s, expected %s\n",
						c->line, c->client.username, c->ed.topic,
						c->ed.access == MOSQ_ACL_WRITE ? "write" : "read",
						allow ? "allow" : "deny", c->expect_allow ? "allow" : "deny");
			}
			mismatches++;
		}
		idx_all[i] = i;
		if(c->expect_allow) idx_allow[na++] = i;
		else idx_deny[nd++] = i;
	}
	fprintf(stderr, "dynsec_bench: correctness: %zu checks, allow=%zu deny=%zu (ACL_DENIED %zu, PLUGIN_DEFER %zu), mismatches=%zu\n",
			n, n_allow, n_deny_denied + n_deny_defer, n_deny_denied, n_deny_defer, mismatches);
	if(mismatches){
		fprintf(stderr, "dynsec_bench: decisions differ from checks.tsv, not timing\n");
		return 1;
	}

	/* 2. timing */
	struct stats all = time_checks(checks, idx_all, n, acl_cb, acl_ud, min_checks, seconds);
	struct stats sa = time_checks(checks, idx_allow, na, acl_cb, acl_ud, min_checks / 4, seconds / 4);
	struct stats sd = time_checks(checks, idx_deny, nd, acl_cb, acl_ud, min_checks / 4, seconds / 4);
	fprintf(stderr, "dynsec_bench: timed %zu checks (batches of %d); allow-only median %.0f ns p99 %.0f ns; deny-only median %.0f ns p99 %.0f ns\n",
			all.timed, BATCH, sa.median, sa.p99, sd.median, sd.p99);
	printf("dynsec rules=%ld checks=%zu median_ns=%.0f p99_ns=%.0f load_ms=%.1f\n",
			rules, n, all.median, all.p99, load_ms);
	fflush(stdout);

	if(plugin_cleanup) plugin_cleanup(plugin_userdata, opts, 1);
	free(idx_all);
	free(idx_allow);
	free(idx_deny);
	free(checks);
	free(storage);
	return 0;
}
