/*
 * loadgen: end-to-end MQTT publish throughput against one broker (libmosquitto, pthreads).
 *
 *   loadgen -p PORT -t TOPICS [-h 127.0.0.1] [-n 20] [-s 1] [-d 5] [-P password]
 *           [-u subscriber-user] [-l payload-bytes] [-b batch] [-w window]
 *
 * TOPICS is a file of "username<TAB>topic" lines. Publisher i (0 <= i < n) connects as the
 * i-th distinct username of the file and publishes QoS 0 messages round-robin over that
 * user's topics, as fast as the broker takes them, for -d seconds. -s subscriber clients
 * (user -u) subscribe to "#" and count what the broker delivers during the window.
 *
 * Closed loop: publishers only write while fewer than -w messages are in flight (published
 * but not yet received by every subscriber). So the publish rate settles at the rate the
 * broker delivers: messages_per_second is the broker's end-to-end throughput (each message
 * passed its publish ACL check and, per subscriber, its delivery check), not how fast
 * kernel socket buffers fill. Run the broker with `max_queued_messages 0` so that QoS 0
 * messages are never dropped for a subscriber that falls behind for a moment.
 *
 * libmosquitto does CONNECT/CONNACK and SUBSCRIBE/SUBACK (and the DISCONNECT at the end).
 * During the window the clients use its socket (mosquitto_socket) directly: a publisher
 * writes batches of -b pre-encoded PUBLISH packets with poll()/write(), and a subscriber
 * reads in 64 KiB chunks and counts PUBLISH packets. libmosquitto's own per-message path
 * (one send() per publish, several small reads per delivery) costs more CPU than the
 * broker's and, with only 2 cores, would measure the client instead of the broker.
 *
 * After 0.5 s of warm-up the counts are taken over -d seconds.
 *
 * Output (stdout, one line):
 *   messages_per_second=X published_per_second=Y received=R published=P seconds=D
 * messages_per_second counts messages delivered to the subscribers per second (every one
 * passed the broker's publish check and its delivery check), divided by the number of
 * subscribers. Exit status 1 if a client cannot connect, nothing arrives, or on timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mosquitto.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PUB 256
#define MAX_SUB 16
#define MAX_TOPICS_PER_USER 64

static const char *host = "127.0.0.1";
static int port = 0;
static int npub = 20, nsub = 1;
static double seconds = 5.0;
static const char *password = "bench-pass";
static const char *sub_user = "bench-sub";
static int payload_len = 32;
static int batch_msgs = 32;           /* PUBLISH packets per write() */
static long long window = 4000;       /* max messages in flight (published, not yet received) */
static atomic_llong in_flight_published = 0;  /* messages whose batch a publisher started */
/* Publishers waiting for room in the window sleep on this; the subscriber signals deliveries. */
static pthread_mutex_t window_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t window_cv = PTHREAD_COND_INITIALIZER;

struct pub {
    char username[1024];
    char *topics[MAX_TOPICS_PER_USER];
    int ntopics;
    struct mosquitto *mosq;
    long long published;
    int connected;
    pthread_t th;
};

static struct pub pubs[MAX_PUB];
static int npubs_loaded = 0;

static atomic_int phase = 0;          /* 0 connecting, 1 running, 2 stopped */
static atomic_llong received = 0;     /* deliveries since the start (window accounting) */
static atomic_int ready = 0;          /* clients connected (and subscribed) */
static atomic_int failed = 0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg) {
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(1);
}

static void load_topics(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die("cannot open topics file");
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *tab = strchr(line, '\t');
        if (!tab || tab == line || !tab[1]) continue;
        *tab = 0;
        const char *user = line, *topic = tab + 1;
        struct pub *p = NULL;
        for (int i = 0; i < npubs_loaded; i++)
            if (strcmp(pubs[i].username, user) == 0) { p = &pubs[i]; break; }
        if (!p) {
            if (npubs_loaded == npub) continue;
            p = &pubs[npubs_loaded++];
            snprintf(p->username, sizeof p->username, "%s", user);
        }
        if (p->ntopics < MAX_TOPICS_PER_USER) p->topics[p->ntopics++] = strdup(topic);
    }
    fclose(f);
    if (npubs_loaded < npub) {
        fprintf(stderr, "loadgen: only %d distinct users in the topics file, %d wanted\n", npubs_loaded, npub);
        exit(1);
    }
}

static void on_connect_pub(struct mosquitto *m, void *obj, int rc) {
    (void)m;
    struct pub *p = obj;
    if (rc != 0) {
        fprintf(stderr, "loadgen: publisher %s refused: %s\n", p->username, mosquitto_connack_string(rc));
        atomic_store(&failed, 1);
        return;
    }
    p->connected = 1;
    atomic_fetch_add(&ready, 1);
}

/* Encodes one QoS 0 PUBLISH (MQTT 3.1.1) into buf; returns its length. */
static size_t encode_publish(unsigned char *buf, const char *topic, int plen) {
    size_t tlen = strlen(topic);
    size_t rem = 2 + tlen + (size_t)plen;
    size_t n = 0;
    buf[n++] = 0x30;
    do {
        unsigned char b = rem % 128;
        rem /= 128;
        if (rem) b |= 0x80;
        buf[n++] = b;
    } while (rem);
    buf[n++] = (unsigned char)(tlen >> 8);
    buf[n++] = (unsigned char)(tlen & 0xff);
    memcpy(buf + n, topic, tlen);
    n += tlen;
    memset(buf + n, 'x', (size_t)plen);
    return n + (size_t)plen;
}

static long long in_flight(void) {
    return atomic_load_explicit(&in_flight_published, memory_order_relaxed) -
           atomic_load_explicit(&received, memory_order_relaxed) / nsub;
}

/* Closed loop: blocks until the window has room for one more batch and takes it; false when
 * the run ends (or 10 ms pass) first. Passes the wake-up on while room remains. */
static int reserve_batch(void) {
    int ok = 0;
    pthread_mutex_lock(&window_mu);
    for (int tries = 0; tries < 10 && atomic_load_explicit(&phase, memory_order_relaxed) == 1; tries++) {
        if (in_flight() + batch_msgs <= window) {
            atomic_fetch_add_explicit(&in_flight_published, batch_msgs, memory_order_relaxed);
            ok = 1;
            if (in_flight() + batch_msgs <= window) pthread_cond_signal(&window_cv);
            break;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 1000000;
        if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&window_cv, &window_mu, &until);
    }
    pthread_mutex_unlock(&window_mu);
    return ok;
}

static int wait_fd(int fd, short events, int timeout_ms) {
    struct pollfd pfd = {.fd = fd, .events = events};
    return poll(&pfd, 1, timeout_ms);
}

static void *pub_main(void *arg) {
    struct pub *p = arg;
    while (!p->connected && !atomic_load(&failed)) {
        int rc = mosquitto_loop(p->mosq, 50, 1);
        if (rc != MOSQ_ERR_SUCCESS) { atomic_store(&failed, 1); return NULL; }
    }
    /* A batch of whole PUBLISH packets cycling over the user's topics. */
    unsigned char *batch = malloc((size_t)batch_msgs * (5 + 2 + 1024 + (size_t)payload_len));
    if (!batch) { atomic_store(&failed, 1); return NULL; }
    size_t len = 0;
    int t = 0;
    for (int i = 0; i < batch_msgs; i++) {
        len += encode_publish(batch + len, p->topics[t], payload_len);
        if (++t == p->ntopics) t = 0;
    }
    int fd = mosquitto_socket(p->mosq);
    while (atomic_load(&phase) == 0 && !atomic_load(&failed)) usleep(1000);
    size_t off = 0;  /* bytes of the current batch already written */
    while (atomic_load_explicit(&phase, memory_order_relaxed) == 1) {
        if (off == 0 && !reserve_batch()) continue;
        ssize_t w = write(fd, batch + off, len - off);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) { wait_fd(fd, POLLOUT, 10); continue; }
            if (errno == EINTR) continue;
            fprintf(stderr, "loadgen: publisher %s write: %s\n", p->username, strerror(errno));
            atomic_store(&failed, 1);
            break;
        }
        off += (size_t)w;
        if (off == len) { off = 0; p->published += batch_msgs; }
    }
    /* Finish the partial batch so the stream stays well-formed, then DISCONNECT. */
    if (!atomic_load(&failed)) {
        while (off > 0 && off < len) {
            ssize_t w = write(fd, batch + off, len - off);
            if (w > 0) off += (size_t)w;
            else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) wait_fd(fd, POLLOUT, 100);
            else break;
        }
        /* Partial-batch messages are not counted: published is a lower bound. */
        mosquitto_disconnect(p->mosq);
        mosquitto_loop(p->mosq, 10, 1);
    }
    free(batch);
    return NULL;
}

struct sub {
    struct mosquitto *mosq;
    int subscribed;
    pthread_t th;
};
static struct sub subs[MAX_SUB];

static void on_connect_sub(struct mosquitto *m, void *obj, int rc) {
    (void)obj;
    if (rc != 0) {
        fprintf(stderr, "loadgen: subscriber refused: %s\n", mosquitto_connack_string(rc));
        atomic_store(&failed, 1);
        return;
    }
    mosquitto_subscribe(m, NULL, "#", 0);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int qos_count, const int *granted) {
    (void)m; (void)mid;
    struct sub *s = obj;
    if (qos_count < 1 || granted[0] > 2) {
        fprintf(stderr, "loadgen: subscription to # refused\n");
        atomic_store(&failed, 1);
        return;
    }
    s->subscribed = 1;
    atomic_fetch_add(&ready, 1);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
    (void)m; (void)obj; (void)msg;
}

/* Counts PUBLISH packets in the raw byte stream (packets may span reads). */
static void *sub_main(void *arg) {
    struct sub *s = arg;
    while (!s->subscribed && !atomic_load(&failed) && atomic_load(&phase) < 2) {
        if (mosquitto_loop(s->mosq, 50, 1) != MOSQ_ERR_SUCCESS) { atomic_store(&failed, 1); return NULL; }
    }
    int fd = mosquitto_socket(s->mosq);
    static __thread unsigned char buf[65536];
    /* Parser state: 0 = expecting the fixed header's first byte, 1 = remaining-length bytes, 2 = skipping body. */
    int state = 0, type = 0, mult = 1;
    size_t remaining = 0;
    while (atomic_load_explicit(&phase, memory_order_relaxed) < 2) {
        if (wait_fd(fd, POLLIN, 20) <= 0) continue;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0) { fprintf(stderr, "loadgen: broker closed the subscriber\n"); atomic_store(&failed, 1); break; }
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
            fprintf(stderr, "loadgen: subscriber read: %s\n", strerror(errno));
            atomic_store(&failed, 1);
            break;
        }
        long long count = 0;
        size_t i = 0, n = (size_t)r;
        while (i < n) {
            if (state == 0) {
                type = buf[i++] >> 4;
                state = 1; remaining = 0; mult = 1;
            } else if (state == 1) {
                unsigned char b = buf[i++];
                remaining += (size_t)(b & 127) * (size_t)mult;
                mult *= 128;
                if (!(b & 128)) {
                    if (type == 3) count++;
                    state = remaining ? 2 : 0;
                }
            } else {
                size_t take = n - i < remaining ? n - i : remaining;
                i += take;
                remaining -= take;
                if (!remaining) state = 0;
            }
        }
        if (count) {
            atomic_fetch_add_explicit(&received, count, memory_order_relaxed);
            pthread_mutex_lock(&window_mu);
            pthread_cond_signal(&window_cv);
            pthread_mutex_unlock(&window_mu);
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *topics = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:t:n:s:d:P:u:l:b:w:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 't': topics = optarg; break;
        case 'n': npub = atoi(optarg); break;
        case 's': nsub = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'P': password = optarg; break;
        case 'u': sub_user = optarg; break;
        case 'l': payload_len = atoi(optarg); break;
        case 'b': batch_msgs = atoi(optarg); break;
        case 'w': window = atoll(optarg); break;
        default: die("usage: loadgen -p PORT -t TOPICS [-h host] [-n pubs] [-s subs] [-d seconds] [-P password] [-u subuser] [-l bytes]");
        }
    }
    if (!port || !topics) die("-p and -t are required");
    if (npub < 1 || npub > MAX_PUB || nsub < 1 || nsub > MAX_SUB) die("bad -n or -s");
    if (seconds <= 0 || seconds > 60) die("-d must be in (0, 60]");
    if (payload_len < 0 || payload_len > 4096) die("-l must be in [0, 4096]");
    if (batch_msgs < 1 || batch_msgs > 1024 || window < batch_msgs) die("need 1 <= -b <= 1024 and -w >= -b");
    load_topics(topics);
    mosquitto_lib_init();

    double deadline = now_s() + 10.0;   /* connecting is bounded too */
    char id[64];
    for (int i = 0; i < nsub; i++) {
        snprintf(id, sizeof id, "loadgen-sub-%d", i);
        subs[i].mosq = mosquitto_new(id, true, &subs[i]);
        if (!subs[i].mosq) die("mosquitto_new failed");
        mosquitto_username_pw_set(subs[i].mosq, sub_user, password);
        mosquitto_connect_callback_set(subs[i].mosq, on_connect_sub);
        mosquitto_subscribe_callback_set(subs[i].mosq, on_subscribe);
        mosquitto_message_callback_set(subs[i].mosq, on_message);
        if (mosquitto_connect(subs[i].mosq, host, port, 30) != MOSQ_ERR_SUCCESS) die("subscriber cannot connect");
        pthread_create(&subs[i].th, NULL, sub_main, &subs[i]);
    }
    for (int i = 0; i < npub; i++) {
        snprintf(id, sizeof id, "loadgen-pub-%d", i);
        pubs[i].mosq = mosquitto_new(id, true, &pubs[i]);
        if (!pubs[i].mosq) die("mosquitto_new failed");
        mosquitto_username_pw_set(pubs[i].mosq, pubs[i].username, password);
        mosquitto_connect_callback_set(pubs[i].mosq, on_connect_pub);
        if (mosquitto_connect(pubs[i].mosq, host, port, 30) != MOSQ_ERR_SUCCESS) die("publisher cannot connect");
        pthread_create(&pubs[i].th, NULL, pub_main, &pubs[i]);
    }
    while (atomic_load(&ready) < npub + nsub) {
        if (atomic_load(&failed)) { atomic_store(&phase, 2); die("a client failed to connect or subscribe"); }
        if (now_s() > deadline) { atomic_store(&phase, 2); die("timed out connecting"); }
        usleep(10000);
    }
    usleep(200000);  /* let the subscriptions settle */

    /* Warm up for 0.5 s (connections, caches, TCP windows), then count over the window. */
    atomic_store(&phase, 1);
    usleep(500000);
    long long rx0 = atomic_load(&received), pub0 = atomic_load(&in_flight_published);
    double t0 = now_s();
    usleep((useconds_t)(seconds * 1e6));
    long long rx = atomic_load(&received) - rx0, pubwin = atomic_load(&in_flight_published) - pub0;
    double elapsed = now_s() - t0;
    atomic_store(&phase, 2);

    for (int i = 0; i < npub; i++) pthread_join(pubs[i].th, NULL);
    for (int i = 0; i < nsub; i++) pthread_join(subs[i].th, NULL);
    for (int i = 0; i < nsub; i++) { mosquitto_disconnect(subs[i].mosq); mosquitto_destroy(subs[i].mosq); }
    for (int i = 0; i < npub; i++) mosquitto_destroy(pubs[i].mosq);
    mosquitto_lib_cleanup();

    printf("messages_per_second=%.0f published_per_second=%.0f received=%lld published=%lld seconds=%.2f\n",
           rx / elapsed / nsub, pubwin / elapsed, rx, pubwin, elapsed);
    if (atomic_load(&failed)) die("a client failed during the run");
    if (rx == 0) die("no message arrived (publishes denied?)");
    return 0;
}
