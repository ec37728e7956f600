import AuthCore

/// The JSON shape of each concept, written once: the REST API's bodies (docs/openapi.json) and the CLI's
/// `--json` output are both built here, so a field has one name and one spelling of "no value" everywhere.
/// Times are ISO-8601 UTC (`ISOTime`); a field without a value is an explicit null, never left out, so a
/// reader finds every field whichever case it is in.
public enum Representation {}
