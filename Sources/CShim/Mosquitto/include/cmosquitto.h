#ifndef CWAUTH_CMOSQUITTO_H
#define CWAUTH_CMOSQUITTO_H

/* The broker's plugin API, for the plugin target only. */

#include <stddef.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

/* mosquitto_log_printf is variadic; Swift cannot call it. Handed a format and a C string, the
 * broker formats nothing when the level is off. */
static inline void cwauth_log(int level, const char *message) {
    mosquitto_log_printf(level, "cwauth: %s", message);
}

#endif
