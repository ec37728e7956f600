import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks for a new password on the terminal, as mosquitto_passwd does: "Password: ", then
/// "Reenter password: ", nothing echoed. The prompts and the typing go through /dev/tty, so the
/// command's stdout (a redirected --json, say) gets neither.
enum TerminalPassword {
    /// Whether a person can be asked: the command's standard input is a terminal. A pipe or a file is a
    /// script, which must say where the password comes from rather than find the command waiting.
    static var canAsk: Bool { isatty(STDIN_FILENO) == 1 }

    static func askNew() throws -> String {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CLIError("cannot open the terminal to ask for the password (\(String(cString: strerror(errno)))): give --password-stdin")
        }
        defer { close(fd) }
        let (first, second) = try withoutEcho(fd) { () throws -> (String, String) in
            (try ask("Password: ", on: fd), try ask("Reenter password: ", on: fd))
        }
        guard first == second else { throw CLIError("the two passwords typed do not match; nothing changed") }
        return first
    }

    /// `body` with echo off. Echo goes off before the first prompt is shown, so nothing typed after it is
    /// ever echoed, and stays off until the last line is read. The terminal gets its settings back on
    /// every way out: return, error, and the signals that end the command (Ctrl-C, Ctrl-\, hangup, kill).
    private static func withoutEcho<T>(_ fd: Int32, _ body: () throws -> T) throws -> T {
        var saved = termios()
        guard tcgetattr(fd, &saved) == 0 else {
            throw CLIError("cannot read the terminal's settings (\(String(cString: strerror(errno)))): give --password-stdin")
        }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        EchoRestore.arm(fd: fd, saved: saved)
        defer {
            _ = tcsetattr(fd, TCSANOW, &saved)
            EchoRestore.disarm()
        }
        // TCSAFLUSH: anything typed ahead of the prompt, while echo was on, is not taken as the password.
        guard tcsetattr(fd, TCSAFLUSH, &quiet) == 0 else {
            throw CLIError("cannot turn off the terminal's echo (\(String(cString: strerror(errno)))): give --password-stdin")
        }
        return try body()
    }

    /// One line typed after `prompt`.
    private static func ask(_ prompt: String, on fd: Int32) throws -> String {
        put(prompt, fd)
        defer { put("\n", fd) } // the Enter that ended the line was not echoed either
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw CLIError("cannot read the password from the terminal (\(String(cString: strerror(errno))))") }
            if n == 0 {
                if bytes.isEmpty { throw CLIError("no password typed (end of input); nothing changed") }
                break
            }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func put(_ text: String, _ fd: Int32) {
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }
}

/// Echo is off only while a prompt waits. A signal that ends the process then would leave the shell
/// blind, so for that time the ending signals first put the saved settings back, then end the process
/// as they would have (the shell sees "killed by SIGINT", as for any Ctrl-C).
private enum EchoRestore {
    nonisolated(unsafe) static var fd: Int32 = -1
    nonisolated(unsafe) static var saved = termios()
    nonisolated(unsafe) static var previous: [(Int32, __sighandler_t?)] = []
    static let signals = [SIGINT, SIGQUIT, SIGHUP, SIGTERM]

    static func arm(fd: Int32, saved: termios) {
        self.saved = saved
        self.fd = fd
        previous = signals.map { ($0, signal($0, restoreAndEnd)) }
    }

    static func disarm() {
        for (number, handler) in previous { signal(number, handler) }
        previous = []
        fd = -1
    }
}

/// Only async-signal-safe calls: tcsetattr, write, signal, raise.
private func restoreAndEnd(_ number: Int32) {
    if EchoRestore.fd >= 0 {
        _ = tcsetattr(EchoRestore.fd, TCSANOW, &EchoRestore.saved)
        var newline = UInt8(ascii: "\n")
        _ = write(EchoRestore.fd, &newline, 1)
    }
    signal(number, SIG_DFL)
    raise(number)
}
