import ArgumentParser
import AuthCore

// AuthCore's enums as option values (`--op readWrite`, `--context http`), spelled as they are stored.
extension Operation: ExpressibleByArgument {}
extension PermissionContext: ExpressibleByArgument {}
extension Access: ExpressibleByArgument {}
