import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOSSL

/// `--tls-cert` / `--tls-key`: the server's certificate chain and private key, loaded and checked before
/// the server listens, so a bad file is one clear line at startup instead of a failed handshake later.
public struct ServerTLS: Sendable {
    let configuration: TLSConfiguration

    /// Reads both PEM files and checks that the key belongs to the first certificate of the chain.
    public static func load(certificateFile: String, keyFile: String) throws(ServerSetupError) -> ServerTLS {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(try SetupFile.read(certificateFile, option: "--tls-cert"))
        } catch let error as ServerSetupError {
            throw error
        } catch {
            throw ServerSetupError("--tls-cert \(certificateFile): not a PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")")
        }
        guard !chain.isEmpty else {
            throw ServerSetupError("--tls-cert \(certificateFile): no PEM certificate in it (expected \"-----BEGIN CERTIFICATE-----\")")
        }
        let keyBytes = try SetupFile.read(keyFile, option: "--tls-key")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            let text = String(decoding: keyBytes, as: UTF8.self)
            let encrypted = text.contains("BEGIN ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
            throw ServerSetupError(encrypted
                ? "--tls-key \(keyFile): the key is encrypted; cwauth serve needs it without a passphrase (openssl pkey -in KEY -out PLAIN)"
                : "--tls-key \(keyFile): not a PEM private key (expected \"-----BEGIN PRIVATE KEY-----\" or an RSA/EC key)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // Building the context is where BoringSSL compares the key with the certificate.
        do {
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw ServerSetupError("--tls-key \(keyFile) does not belong to the certificate in --tls-cert \(certificateFile) (or the chain is unusable: \(error))")
        }
        return ServerTLS(configuration: configuration)
    }
}

/// Why a file given to `cwauth serve` cannot be used; the message names the option and the file.
public struct ServerSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The small files `cwauth serve` reads at startup (PEM files, the metrics token).
enum SetupFile {
    /// A PEM file or a token is a few kilobytes; a bigger one is the wrong file (or /dev/zero).
    static let maxBytes = 1 << 20

    /// The whole file, or the reason it cannot be read (missing, permissions, a directory).
    static func read(_ path: String, option: String) throws(ServerSetupError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServerSetupError("\(option) \(path): cannot open it (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ServerSetupError("\(option) \(path): cannot read it (\(String(cString: strerror(errno))))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= maxBytes else {
                throw ServerSetupError("\(option) \(path): over \(maxBytes / 1024) KiB: the wrong file?")
            }
        }
        guard !bytes.isEmpty else { throw ServerSetupError("\(option) \(path): the file is empty") }
        return bytes
    }
}

extension ServerState {
    /// `--metrics-token-file`: one line, the token Prometheus sends as `Authorization: Bearer TOKEN`.
    public static func metricsToken(fromFile path: String) throws(ServerSetupError) -> String {
        let text = String(decoding: try SetupFile.read(path, option: "--metrics-token-file"), as: UTF8.self)
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard token.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }) else {
            throw ServerSetupError("--metrics-token-file \(path): the token must be one line of visible ASCII characters")
        }
        guard token.count >= 32 else {
            throw ServerSetupError("--metrics-token-file \(path): the token is \(token.count) characters, at least 32 are needed (e.g. openssl rand -hex 32 > \(path))")
        }
        return token
    }
}
