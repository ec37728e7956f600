import ArgumentParser
import AuthCore

/// A mistake in what the user asked for, said so they can fix it.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Wraps a command body: any failure becomes one line on stderr and a non-zero exit.
func runCommand(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        Output.error(describe(error))
        throw ExitCode.failure
    }
}

func describe(_ error: any Error) -> String {
    switch error {
    case let e as StoreError: return e.description
    case let e as AuthCore.ValidationError: return e.description
    case let e as CLIError: return e.description
    case let e as DecodingError: return DocumentFormat.describe(e)
    default: return String(describing: error)
    }
}
