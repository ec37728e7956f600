#ifndef CWAUTH_CMOSQUITTO_H
#define CWAUTH_CMOSQUITTO_H

/* The broker's plugin API, for the plugin target only. */

#include <stddef.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* mosquitto_log_printf is variadic; Swift cannot call it. Handed a format and a C string, the
 * broker formats nothing when the level is off. */
static inline void cwauth_log(int level, const char *message) {
    mosquitto_log_printf(level, "cwauth: %s", message);
}

/* What the client's TLS certificate says, for certificate logins: its single subject CN into `cn`
 * (NUL-terminated, at most cn_size - 1 bytes) and the SHA-256 of its DER into `sha256` (32 bytes).
 * Returns 0 when the client presented no certificate, 1 when both were read, -1 when there is a
 * certificate but no single CN of plain text (none, several, an embedded NUL, too long) or no digest:
 * the caller refuses such a client. libcrypto is linked already (passwords); the certificate the
 * broker hands out is a new reference, freed here. */
static inline int cwauth_peer_certificate(struct mosquitto *client, char *cn, int cn_size, unsigned char *sha256) {
    X509 *cert = (X509 *)mosquitto_client_certificate(client);
    if (cert == NULL) return 0;
    int rc = -1;
    X509_NAME *name = X509_get_subject_name(cert);
    unsigned int length = 0;
    if (name != NULL
        && X509_NAME_entry_count(name) > 0
        && X509_NAME_get_index_by_NID(name, NID_commonName, -1) >= 0
        && X509_NAME_get_index_by_NID(name, NID_commonName, X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0
        && X509_digest(cert, EVP_sha256(), sha256, &length) == 1 && length == 32) {
        int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, cn_size);
        if (n > 0 && n < cn_size - 1 && strlen(cn) == (size_t)n) rc = 1;
    }
    X509_free(cert);
    return rc;
}

/* Mosquitto 2.1 events the 2.0 headers this module builds against do not have; the plugin
 * registers them only on a 2.1 broker (see BrokerGeneration). Layouts from 2.1's mosquitto/broker.h:
 * MOSQ_EVT_CLIENT_OFFLINE's data has the layout of MOSQ_EVT_DISCONNECT's. */
enum { CWAUTH_EVT_CONNECT = 11, CWAUTH_EVT_CLIENT_OFFLINE = 28 };

struct cwauth_evt_connect {
    void *future;
    struct mosquitto *client;
    void *future2[4];
};

#endif
