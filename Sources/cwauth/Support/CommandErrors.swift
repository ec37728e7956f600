import ArgumentParser
import AuthCore
import CWAuthCA
import CWAuthServer

/// A failure the CLI finds itself (bad input, a file it cannot read); the message says what to fix.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Wraps a command body: any failure is reported (see `Failure`) and becomes a non-zero exit.
func runCommand(_ global: GlobalOptions, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Failure.report(describe(error), json: global.json)
        throw ExitCode.failure
    }
}

func describe(_ error: any Error) -> String {
    switch error {
    case let e as StoreError: return e.description
    case let e as AuthCore.ValidationError: return e.description
    case let e as CLIError: return e.description
    case let e as CAError: return e.description
    case let e as CSRError: return e.description
    case let e as DecodingError: return DocumentFormat.describe(e)
    default: return String(describing: error)
    }
}

/// How a failed command tells its caller. The one line on stderr is always there, for people and logs.
/// With --json the same message also goes to stdout as the REST API's error object, `{"error": "…"}`:
/// stdout is where a script reads a command's JSON, so it gets JSON whether the command worked or not.
enum Failure {
    static func report(_ message: String, json: Bool) {
        Output.error(message)
        if json { try? Output.json(Representation.error(message)) }
    }
}
