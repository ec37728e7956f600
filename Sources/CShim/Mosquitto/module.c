/* SwiftPM builds a C target from at least one source file; everything of this module is in
 * include/cmosquitto.h (static inline), so the plugin links no broker symbol it does not use. */
