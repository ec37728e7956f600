import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum LogLevel: Sendable {
    case debug, info, notice, warning, error
}

/// The answer to a CONNECT's username and password.
public enum AuthAnswer: Equatable, Sendable {
    case allow
    case deny
    /// Not known yet: the password is being verified off the broker's thread. The connection is
    /// closed without an answer and the client's reconnect is answered from the cache.
    case comeBack
    /// Not known yet, and the broker can wait (Mosquitto 2.1's delayed basic auth): the answer for
    /// this client id comes from `takeLateAnswers()`.
    case later
}

/// The answer to a login the broker was told to wait for.
public struct LateAnswer: Equatable, Sendable {
    public let clientId: String
    public let allowed: Bool
}

/// Everything the Mosquitto plugin decides, without any broker type: the plugin only translates
/// C events into these calls and return values back into MOSQ_ERR_* codes.
///
/// The broker calls from one thread today; the snapshot is still swapped whole
/// (`ServingSnapshot`), so a check on another thread would see either the old or the new policy,
/// never a mix.
public final class BrokerCore: Sendable {
    public typealias Logger = @Sendable (LogLevel, String) -> Void

    private let current: ServingSnapshot
    private let state: Mutex<State>
    private let log: Logger
    /// plugin_opt_log_denials, read on the hot path without taking the state lock.
    private let logDenials: Atomic<Bool>
    /// Explaining a denial runs the reference matcher over the user's roles (milliseconds for large
    /// roles): only this many are explained per second, the rest are counted.
    private let explanations = DenialBudget()
    /// ACL answers, counted on the hot path without a lock or a locked instruction: the broker calls
    /// from one thread, and were that to change, a count could be lost, never memory corrupted.
    private let aclAllowedCount = Atomic<UInt64>(0)
    private let aclDeniedCount = Atomic<UInt64>(0)

    /// Mutable, non-hot-path state: the store connection, caches, health.
    struct State {
        var options: PluginOptions
        var store: Store?
        /// The database file (and its -wal) the store has, or last had, open: tells a replaced file.
        var files: DatabaseFiles.OpenFiles?
        /// The replacement last reported, so that a file that cannot be opened yet is reported once.
        var replacementSaid: FileIdentity?
        var lastProbe: UInt64 = 0
        var lastHousekeeping: UInt64 = 0
        var health: Health = .ok
        var windowWasOpen = false
        var authenticator: Authenticator
        var gate: RegistryGate
        /// A snapshot being built on its own thread (large policies only).
        var build: SnapshotBuild?
        /// Logins refused by the password throttle since the last report, by scope.
        var throttled = ReasonTally(intervalNanos: DenialBudget.reportIntervalNanos)
        /// The registry window as last read from the store itself (see `windowOpenedSinceSnapshot`).
        var freshWindow = RegistryWindow(openUntil: 0)
        var lastWindowRead: UInt64 = 0
        /// Notice lines for registrations refused as invalid: a few, then one per second; the gate counts the rest.
        var invalidLogBudget = TokenBucket(perSecond: 1, burst: 5)
        /// Notice lines for registry writes that waited long for a lock: one, then one per 10 s.
        var lockLogBudget = TokenBucket(perSecond: 0.1, burst: 1)
        /// Said once each time the pending table fills up.
        var tableFullSaid = false
        /// Said once: a listener skips plugin authentication (see `admitsUnauthenticated`).
        var warnedSkippedAuthentication = false
        /// Passwords being verified off the broker's thread, and how many per address.
        var verifying = Set<VerificationKey>()
        var verifyingPerAddress: [String: Int] = [:]
        var verifyingPerUsername: [String: Int] = [:]
        /// Logins asked to come back while their password was verified elsewhere, by reason.
        var comeBack = ReasonTally(intervalNanos: 10_000_000_000)
        /// With late answers: the client ids waiting for each verification, and answers ready.
        var waiting: [VerificationKey: [String]] = [:]
        var waitingCount = 0
        var lateAnswers: [LateAnswer] = []
        /// Counters published on `$SYS` (the ACL's are the atomics above).
        var stats = BrokerStats()
        var lastStatsPublished: UInt64 = 0
        /// When the serving snapshot was swapped in, and when the change it answers was seen.
        var installedAt = Clock.monotonicNanos()
        var changeSeenAt: UInt64 = 0
        /// Registrations dropped by gates replaced on a reload.
        var droppedByEarlierGates: UInt64 = 0
    }

    struct VerificationKey: Hashable {
        let username: String
        let digest: [UInt8]
    }

    /// Logins the broker may be told to wait for at once; past it, clients are asked to come back.
    static let maxWaiting = 4096

    /// Room in the verifier's queue (its inbox), shared by every address.
    static let verifierCapacity = 1024

    /// Checks one address may have queued at once: at least 4, and up to a quarter of the room left,
    /// so a gateway with many devices behind one address (or a fleet reconnecting after a restart)
    /// uses an idle verifier, while a few addresses can never fill the queue. The verifier serves
    /// the addresses in turn (`FairQueue`), so a long queue from one address delays another
    /// address's check by one hash at most.
    static func verificationsAllowed(perAddressQueued queued: Int, total: Int) -> Bool {
        queued < max(4, (verifierCapacity - total) / 4)
    }

    /// Threads verifying passwords: one per core but the broker's own (at least 1, at most 4), so
    /// that hashing a cold storm never takes the core the broker's thread runs on.
    static let verifierThreads = max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) - 1))

    /// Checks of one username queued at once: a guesser gets two hashes of its guesses in flight,
    /// whatever the number of its addresses; the device itself needs one.
    static let verificationsPerUsername = 2

    /// The threads of the plugin's own (see `BackgroundWorker`): set up once, stopped in deinit.
    private let registryWriter: RegistryWriter?
    private let verifier: BackgroundWorker<PasswordCheck, Verified>?
    /// Frees replaced snapshots: a million rules take a good part of a second to free.
    private let reaper: BackgroundWorker<Retired, Never>?

    /// A replaced snapshot on its way to the reaper, which lets go of it by setting nil.
    final class Retired: @unchecked Sendable {
        var snapshot: Snapshot?
        init(_ snapshot: Snapshot) { self.snapshot = snapshot }
    }

    struct Verified: Sendable {
        let check: PasswordCheck
        let ok: Bool
    }

    enum Health: Equatable {
        case ok
        case failing(String)
    }

    /// Opens the store and builds the first snapshot. Throws when the database is missing or not
    /// ours: the broker must refuse to start rather than run unprotected.
    /// Whether the broker can hold a login until the plugin answers (Mosquitto 2.1's
    /// MOSQ_ERR_AUTH_DELAYED); else a login past the hash budget is asked to come back.
    public let answersLater: Bool

    public init(options: PluginOptions, log: @escaping Logger, answersLater: Bool = false) throws(StoreError) {
        self.log = log
        self.answersLater = answersLater
        self.nextTickMs = options.probeIntervalMs
        self.logDenials = Atomic(options.logDenials)
        let opened = try DatabaseFiles.reopen(path: options.databasePath, actor: "broker", busyTimeoutMs: 50, previous: nil)
        let store = opened.store
        let version = try store.policyVersion()
        let snapshot = try SnapshotBuild.buildAndWait(path: options.databasePath, version: version)
        self.current = ServingSnapshot(snapshot)
        self.state = Mutex(State(options: options, store: store, files: opened.files,
                                 authenticator: Self.authenticator(options),
                                 gate: RegistryGate(limits: Self.limits(options))))
        registryWriter = Self.started("registry writes", log) { () throws(WorkerError) in try RegistryWriter(path: options.databasePath) }
        verifier = Self.started("password verification", log) { () throws(WorkerError) in
            try BackgroundWorker(capacity: Self.verifierCapacity, threads: Self.verifierThreads,
                                 lane: { $0.address }) { check in
                Verified(check: check, ok: check.verify())
            }
        }
        reaper = Self.started("snapshot release", log) { () throws(WorkerError) in
            try BackgroundWorker(capacity: 4) { (old: Retired) -> Never? in
                // The broker's thread may still hold a copy for the few instructions after handing
                // it over; waiting a moment makes this thread the one that frees it.
                usleep(100_000)
                old.snapshot = nil
                Memory.returnFreePages()
                return nil
            }
        }
        log(.notice, "loaded \(snapshot.users.count) users, \(snapshot.roleNames.count) roles from \(options.databasePath)")
        Self.warnIfNotCompiled(snapshot, log)
        Self.warnOfUnusableHashes(snapshot, was: .empty, log)
    }

    /// A worker thread, or nil (that work then stays on the broker's thread, or is not done) when
    /// the system has no thread to give.
    private static func started<T>(_ purpose: String, _ log: Logger, _ make: () throws(WorkerError) -> T) -> T? {
        do { return try make() } catch {
            log(.warning, "no thread for \(purpose) (\(error)); doing without it")
            return nil
        }
    }

    /// The broker thread's share of hashing, at this machine's measured PBKDF2 speed.
    private static func authenticator(_ options: PluginOptions) -> Authenticator {
        let budget = options.hashBudgetMs >= 1000 ? nil
            : HashBudget.milliseconds(options.hashBudgetMs, nanosPerIteration: PasswordHash.measuredNanosPerIteration)
        return Authenticator(ttlSeconds: options.authCacheSeconds, hashBudget: budget)
    }

    static func limits(_ options: PluginOptions) -> RegistryGate.Limits {
        RegistryGate.Limits(maxPending: options.maxPending, perSecond: options.registryRatePerSecond)
    }

    /// The snapshot in force right now.
    public var snapshot: Snapshot { current.snapshot }

    // MARK: - authentication

    /// Whether to let the client in. Unknown users are refused (and, while the registration window
    /// is open, recorded as pending requests).
    public func authenticate(username: String?, password: String?, clientId: String, address: String) -> AuthAnswer {
        authenticate(username: username, password: password, clientId: clientId, address: address, certificate: nil).answer
    }

    /// The answer to a CONNECT, and the username the broker must give the client: a certificate
    /// login that sent none takes the certificate's CN (nil: leave the client's username as it is).
    public struct AuthOutcome: Equatable, Sendable {
        public let answer: AuthAnswer
        public let setUsername: String?

        static let deny = AuthOutcome(answer: .deny, setUsername: nil)
    }

    /// `certificate`: what the client's TLS certificate says, when it presented one. The broker's
    /// TLS listener (`require_certificate`, `cafile` = the cwauth CA) has verified it already; here
    /// it must also be the certificate issued to that user and not revoked. A certificate user logs
    /// in by certificate only; a password user needs its password whatever certificate it presents.
    public func authenticate(username: String?, password: String?, clientId: String, address: String,
                             certificate: PeerCertificate?) -> AuthOutcome {
        let snapshot = self.snapshot
        let sent = username.flatMap { $0.isEmpty ? nil : $0 }
        if let certificate {
            guard case let .read(commonName, sha256) = certificate else {
                return denied("auth deny: client \(clientId) (\(address)) presented a certificate without a single readable CN")
            }
            let name = sent ?? commonName
            if let user = snapshot.user(name), user.authMethod == .certificate {
                return certificateLogin(snapshot, user, commonName: commonName, sha256: sha256, sentUsername: sent != nil,
                                        clientId: clientId, address: address)
            }
            guard sent != nil else {
                return denied("auth deny: client \(clientId) (\(address)) sent no username and its certificate names "
                              + "\(Validation.printable(commonName)): \(Self.whoIsNot(snapshot.user(commonName)))")
            }
            // A username of a password user: the certificate only got the client through TLS.
        }
        guard let username = sent else {
            return denied("auth deny: client \(clientId) sent no username")
        }
        if let user = snapshot.user(username), user.authMethod == .certificate {
            return denied("auth deny: \(username) logs in with its certificate only (client \(clientId), \(address))")
        }
        if let owner = foreignOwner(snapshot, username: username, clientId: clientId) {
            return denied("auth deny: \(username) may not use client id \(Validation.printable(clientId)): it belongs to user \(owner)")
        }
        return AuthOutcome(answer: passwordLogin(snapshot, username: username, password: password, clientId: clientId, address: address),
                           setUsername: nil)
    }

    /// A client the broker connected without asking for BASIC_AUTH (Mosquitto 2.1 tells the plugin,
    /// MOSQ_EVT_CONNECT): a TLS listener with `use_identity_as_username` or `use_subject_as_username`
    /// took its username from the certificate and skipped plugin authentication. It may stay only if
    /// a certificate login would have admitted it: the username is the certificate's CN, an enabled
    /// certificate user, presenting its recorded, unrevoked certificate. False: disconnect it.
    public func admitsUnauthenticated(username: String?, clientId: String, address: String,
                                      certificate: PeerCertificate) -> Bool {
        warnSkippedAuthenticationOnce()
        let outcome: AuthOutcome
        let snapshot = self.snapshot
        if case let .read(commonName, sha256) = certificate {
            let user = snapshot.user(commonName)
            if let user, user.authMethod == .certificate {
                outcome = username == commonName
                    ? certificateLogin(snapshot, user, commonName: commonName, sha256: sha256, sentUsername: true,
                                       clientId: clientId, address: address)
                    : denied("auth deny: client \(clientId) (\(address)) connected without authentication as "
                             + "\(Validation.printable(username ?? "")) with a certificate for \(commonName) "
                             + "(use_subject_as_username names the whole subject)")
            } else {
                outcome = denied("auth deny: client \(clientId) (\(address)) connected without authentication; its certificate "
                                 + "names \(Validation.printable(commonName)): \(Self.whoIsNot(user))")
            }
        } else {
            outcome = denied("auth deny: client \(clientId) (\(address)) connected without authentication with a certificate "
                             + "without a single readable CN")
        }
        return outcome.answer == .allow
    }

    /// Why a certificate's CN is not a certificate user: `user` is the user of that name, if any.
    private static func whoIsNot(_ user: UserEntry?) -> String {
        user == nil ? "no user of that name" : "a password user, which must send its password"
    }

    /// Once per plugin: the operator set a listener option that bypasses authentication.
    private func warnSkippedAuthenticationOnce() {
        let first = state.withLock { state -> Bool in
            defer { state.warnedSkippedAuthentication = true }
            return !state.warnedSkippedAuthentication
        }
        if first {
            log(.warning, "a listener connects clients without plugin authentication (use_identity_as_username or "
                + "use_subject_as_username): cwauth checks their certificates as they connect and disconnects the ones it "
                + "did not issue to an enabled certificate user; remove the option (see docs/certificates.md)")
        }
    }

    private func denied(_ line: String) -> AuthOutcome {
        log(.debug, line)
        state.withLock { $0.stats.authDenied &+= 1 }
        return .deny
    }

    /// The user owning the client id, when that is another user than `username` (see `ClientIds`).
    private func foreignOwner(_ snapshot: Snapshot, username: String, clientId: String) -> String? {
        guard snapshot.user(username) != nil,
              let owner = ClientIds.owner(of: clientId, exists: { snapshot.user($0) != nil }), owner != username else { return nil }
        return owner
    }

    /// No hashing and no throttle: the certificate was verified by TLS, so all that is left is
    /// comparing it with what was issued.
    private func certificateLogin(_ snapshot: Snapshot, _ user: UserEntry, commonName: String, sha256: [UInt8], sentUsername: Bool,
                                  clientId: String, address: String) -> AuthOutcome {
        let name = user.username
        guard commonName == name else {
            return denied("auth deny: \(name) (client \(clientId), \(address)) presented a certificate for "
                          + "\(Validation.printable(commonName))")
        }
        let fingerprint = Fingerprint.hex(sha256)
        guard user.certificates.contains(fingerprint) else {
            return denied("auth deny: \(name) (client \(clientId), \(address)) presented a certificate that is revoked "
                          + "or was never issued to it (sha256 \(fingerprint))")
        }
        guard user.enabled else { return denied("auth deny: \(name) is disabled (client \(clientId))") }
        if let owner = foreignOwner(snapshot, username: name, clientId: clientId) {
            return denied("auth deny: \(name) may not use client id \(Validation.printable(clientId)): it belongs to user \(owner)")
        }
        log(.debug, "auth allow: \(name) by certificate (client \(clientId))")
        state.withLock { $0.stats.authAllowed &+= 1 }
        return AuthOutcome(answer: .allow, setUsername: sentUsername ? nil : name)
    }

    private func passwordLogin(_ snapshot: Snapshot, username: String, password: String?, clientId: String,
                               address: String) -> AuthAnswer {
        settleVerifications(snapshot)
        let (decision, backoffs, cached) = state.withLock { state in
            let hits = state.authenticator.cacheHits
            let decision = state.authenticator.authenticate(snapshot, username: username, password: password ?? "", address: address)
            switch decision {
            case let .throttled(scope, _):
                state.throttled.count(scope.description)
                state.stats.authThrottled &+= 1
            case .allowed: state.stats.authAllowed &+= 1
            case .wrongPassword, .userDisabled, .unknownUser: state.stats.authDenied &+= 1
            case .verifyElsewhere: break
            }
            return (decision, state.authenticator.lastBackoffs, state.authenticator.cacheHits != hits)
        }
        logBackoffs(backoffs)
        switch decision {
        case .allowed:
            log(.debug, "auth allow: \(username) (client \(clientId)\(cached ? ", from cache" : ""))")
            return .allow
        case let .verifyElsewhere(check):
            return verifyElsewhere(check, clientId: clientId)
        case .wrongPassword:
            log(.debug, "auth deny: wrong password for \(username) (client \(clientId), \(address))")
        case .userDisabled:
            log(.debug, "auth deny: \(username) is disabled (client \(clientId))")
        case let .throttled(scope, wait):
            log(.debug, "auth deny: \(username) (client \(clientId), \(address)) throttled by \(scope) for \(Self.seconds(wait)) s more")
        case .unknownUser:
            log(.debug, "auth deny: unknown user \(username) (client \(clientId), \(address))")
            if snapshot.registry.isOpen() || windowOpenedSinceSnapshot() {
                recordRegistration(RegistrationAttempt(username: username, password: password ?? "",
                                                       clientId: clientId, address: address))
            }
        }
        return .deny
    }

    /// Over the broker thread's hashing budget (a cold reconnect storm): the verifier thread checks
    /// the password while the broker waits for the answer or the client is asked to come back. Each
    /// check is queued once, and only a few per address, so one client cannot keep the verifier from
    /// everyone else.
    private func verifyElsewhere(_ check: PasswordCheck, clientId: String) -> AuthAnswer {
        guard let verifier else { return .deny }
        let key = VerificationKey(username: check.username, digest: check.digest)
        let answer = state.withLock { state -> AuthAnswer in
            let waits = answersLater && state.waitingCount < Self.maxWaiting
            if state.verifying.contains(key) {
                if !waits { state.comeBack.count("already being verified") }
            } else {
                let queued = state.verifyingPerAddress[check.address, default: 0]
                guard Self.verificationsAllowed(perAddressQueued: queued, total: state.verifying.count) else {
                    state.comeBack.count("address has its share of the verifier queue")
                    return .comeBack
                }
                guard state.verifyingPerUsername[check.username, default: 0] < Self.verificationsPerUsername else {
                    state.comeBack.count("username has \(Self.verificationsPerUsername) checks queued")
                    return .comeBack
                }
                guard verifier.submit(check) else {
                    state.comeBack.count("verifier queue full")
                    return .comeBack
                }
                state.verifying.insert(key)
                state.verifyingPerAddress[check.address, default: 0] += 1
                state.verifyingPerUsername[check.username, default: 0] += 1
                if !waits { state.comeBack.count("verified off the broker thread") }
            }
            guard waits else { return .comeBack }
            state.waiting[key, default: []].append(clientId)
            state.waitingCount += 1
            return .later
        }
        log(.debug, "auth later: \(check.username) (client \(clientId)): password checked off the broker thread, "
            + (answer == .later ? "the broker waits" : "client asked to reconnect"))
        return answer
    }

    /// Files what the verifier thread found, so that the clients' next attempts hit the cache.
    private func settleVerifications(_ snapshot: Snapshot) {
        guard let verifier else { return }
        let done = verifier.takeOutputs()
        guard !done.isEmpty else { return }
        let backoffs = state.withLock { state -> [PasswordThrottle.BackoffStarted] in
            var started: [PasswordThrottle.BackoffStarted] = []
            for item in done {
                let key = VerificationKey(username: item.check.username, digest: item.check.digest)
                state.verifying.remove(key)
                Self.countDown(&state.verifyingPerAddress, item.check.address)
                Self.countDown(&state.verifyingPerUsername, item.check.username)
                started += state.authenticator.settle(item.check, verified: item.ok, snapshot: snapshot)
                if let clients = state.waiting.removeValue(forKey: key) {
                    state.waitingCount -= clients.count
                    let user = snapshot.user(item.check.username)
                    let allowed = item.ok && user?.enabled == true && user?.encodedHash == item.check.encodedHash
                    state.lateAnswers += clients.map { LateAnswer(clientId: $0, allowed: allowed) }
                    if allowed { state.stats.authAllowed &+= UInt64(clients.count) } else { state.stats.authDenied &+= UInt64(clients.count) }
                }
            }
            return started
        }
        logBackoffs(backoffs)
    }

    /// One check fewer queued under `key`; a key with none left leaves the table.
    private static func countDown(_ counts: inout [String: Int], _ key: String) {
        if let n = counts[key] { counts[key] = n > 1 ? n - 1 : nil }
    }

    private func logBackoffs(_ backoffs: [PasswordThrottle.BackoffStarted]) {
        for backoff in backoffs {
            log(.notice, "auth: \(backoff.scope) \(backoff.key) backs off for \(Self.seconds(backoff.backoffNanos)) s after "
                + "\(backoff.failures) failed password checks; attempts are refused without checking until then")
        }
    }

    /// Whole seconds, rounded up: what a log line tells a person.
    static func seconds(_ nanos: UInt64) -> UInt64 { (nanos + 999_999_999) / 1_000_000_000 }

    /// The snapshot learns of `cwauth registry unlock` on the next probe; a device that knocks in
    /// between is let in on the store's own word. One small read, at most every 50 ms, so unknown
    /// users with the window closed still cost next to nothing.
    private func windowOpenedSinceSnapshot(now: UInt64 = Clock.monotonicNanos()) -> Bool {
        state.withLock { state in
            guard state.options.registryEnabled, let store = state.store else { return false }
            if now &- state.lastWindowRead >= 50_000_000 || state.lastWindowRead == 0 {
                state.lastWindowRead = now
                state.freshWindow = (try? store.registryWindow()) ?? RegistryWindow(openUntil: 0)
            }
            return state.freshWindow.isOpen()
        }
    }

    /// Queues the attempt for the registry writer; the broker's thread never writes it itself.
    private func recordRegistration(_ attempt: RegistrationAttempt) {
        state.withLock { state in
            guard state.options.registryEnabled else { return }
            switch state.gate.admit(username: attempt.username, password: attempt.password) {
            case .record: break
            case .ignore: return
            case let .invalid(reason):
                if state.invalidLogBudget.take(now: Clock.monotonicNanos()) {
                    log(.notice, "registry: not recording client \(Validation.printable(attempt.clientId)) (\(attempt.address)): \(reason)")
                }
                return
            }
            guard let registryWriter, registryWriter.submit(attempt, maxPending: state.options.maxPending) else {
                state.gate.count("write queue full")
                return
            }
        }
    }

    /// Logs what the registry writer did since the last call.
    private func reportRegistryWrites(_ state: inout State, now: UInt64) {
        guard let registryWriter else { return }
        for written in registryWriter.takeWritten() {
            let attempt = written.attempt
            if let setAside = written.setAside { logSetAside(setAside, state.options.databasePath) }
            if written.nanos >= 1_000_000_000, state.lockLogBudget.take(now: now) {
                log(.notice, "registry: a registration waited \(written.nanos / 1_000_000) ms for the database "
                    + "(another process holds its write lock); up to \(RegistryWriter.capacity) wait in a queue, the rest are dropped")
            }
            switch written.result {
            case .success(.recorded):
                state.stats.registryRecorded &+= 1
                state.tableFullSaid = false
                log(.notice, "registry: new request from \(attempt.username) (client \(attempt.clientId), \(attempt.address))")
            case .success(.updated):
                state.stats.registryRecorded &+= 1
                log(.debug, "registry: \(attempt.username) knocked again")
            case .success(.conflict):
                state.stats.registryRecorded &+= 1
                log(.notice, "registry: CONFLICT for \(attempt.username): a different password from client \(attempt.clientId), \(attempt.address)")
            case .success(.tableFull):
                state.gate.count("pending table full")
                if !state.tableFullSaid {
                    state.tableFullSaid = true
                    log(.notice, "registry: pending table full (\(state.options.maxPending) requests); new ones are dropped "
                        + "until requests are allowed, denied or expire")
                }
            case .success(.blocked): state.gate.count("blocked username")
            case .success(.windowClosed), .success(.rejected), .success(.userExists): break
            case let .failure(error):
                state.gate.count(error.isBusy ? "database locked for \(RegistryWriter.busyTimeoutMs / 1000) s" : "database error")
            }
        }
    }

    /// Answers for logins the broker was told to wait for, verified since the last call; each says
    /// allowed only for a right password of an enabled user whose hash has not changed meanwhile.
    public func takeLateAnswers() -> [LateAnswer] {
        state.withLock { state in
            defer { state.lateAnswers = [] }
            return state.lateAnswers
        }
    }

    /// Waits for the plugin's own threads to finish what they were given and files their results
    /// as a tick would (tests and tools: the broker never waits).
    func settleBackgroundWork() {
        _ = registryWriter?.waitUntilIdle()
        _ = verifier?.waitUntilIdle()
        settleVerifications(snapshot)
        state.withLock { reportRegistryWrites(&$0, now: Clock.monotonicNanos()) }
    }

    // MARK: - authorisation (the hot path)

    /// MOSQ_EVT_ACL_CHECK on the broker's own C strings: no String, no allocation unless a denial is
    /// logged. `username` nil (anonymous client) is denied; unsubscribe is always allowed.
    public func aclCheck(username: UnsafePointer<CChar>?, clientId: UnsafePointer<CChar>?,
                         topic: UnsafePointer<CChar>, access: BrokerAccess) -> Bool {
        guard BrokerSemantics.needsPermission(access) else { return true }
        guard let username else {
            Self.bump(aclDeniedCount)
            return false
        }
        return current.withSnapshot { snapshot in
            let allowed = snapshot.allows(username: Self.bytes(username),
                                          clientId: clientId.map(Self.bytes) ?? UnsafeBufferPointer(start: nil, count: 0),
                                          subject: Self.bytes(topic), access: access)
            if allowed { Self.bump(aclAllowedCount) } else { Self.bump(aclDeniedCount) }
            if !allowed && logDenials.load(ordering: .relaxed) && explanations.admit() {
                logDenial(snapshot, String(cString: username), clientId.map { String(cString: $0) } ?? "", String(cString: topic), access)
            }
            return allowed
        }
    }

    @inline(__always)
    private static func bump(_ counter: borrowing Atomic<UInt64>) {
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    /// `aclCheck` on Strings (tests, tools): the same byte path.
    public func aclCheck(username: String?, clientId: String, topic: String, access: BrokerAccess) -> Bool {
        topic.withCString { t in
            clientId.withCString { c in
                guard let username else { return aclCheck(username: nil, clientId: c, topic: t, access: access) }
                return username.withCString { u in aclCheck(username: u, clientId: c, topic: t, access: access) }
            }
        }
    }

    /// The reason comes from the explaining (slower) matcher: only denials that are logged pay for it.
    private func logDenial(_ snapshot: Snapshot, _ username: String, _ clientId: String, _ topic: String, _ access: BrokerAccess) {
        let decision = snapshot.brokerDecision(username: username, clientId: clientId, topic: topic, access: access)
        log(.debug, "acl deny \(access): \(username) (client \(clientId)) on \(topic): \(decision.reason)")
    }

    /// MOSQ_EVT_MESSAGE: `body` gets the user's publish prefix; nil (and no call) when there is none,
    /// which is every message of a user without a prefix, so that path stays free of allocations.
    public func withPublishPrefix<R>(username: UnsafePointer<CChar>?, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard let username else { return nil }
        // Without any prefix in the policy, a publish costs no look-up (not even the username's length).
        return current.withSnapshot { snapshot in
            snapshot.hasPublishPrefixes ? snapshot.withPublishPrefix(username: Self.bytes(username), body) : nil
        }
    }

    @inline(__always)
    static func bytes(_ string: UnsafePointer<CChar>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: UnsafeRawPointer(string).assumingMemoryBound(to: UInt8.self), count: strlen(string))
    }

    /// Whether the user has a publish prefix (its wills need telling apart from its publishes).
    public func hasPublishPrefix(username: UnsafePointer<CChar>?) -> Bool {
        withPublishPrefix(username: username) { _ in true } ?? false
    }

    // MARK: - live changes

    /// How soon the broker should tick again: Mosquitto 2.1 ticks a plugin only when its loop
    /// wakes or when the plugin asks, so live changes need a tick per probe interval.
    public let nextTickMs: Int

    /// Called on every broker loop pass; does real work at most every probe interval.
    /// Returns the usernames whose clients must be disconnected.
    public func tick(now: UInt64 = Clock.monotonicNanos()) -> [String] {
        // A waiting login is answered on the first pass after its verification, not a probe later.
        if answersLater { settleVerifications(snapshot) }
        let due = state.withLock { state -> Bool in
            let interval = UInt64(state.options.probeIntervalMs) * 1_000_000
            guard now &- state.lastProbe >= interval else { return false }
            state.lastProbe = now
            return true
        }
        guard due else { return [] }
        for old in current.takeParked() { retire(old) }
        explanations.refill(now: now)
        settleVerifications(snapshot)
        return state.withLock { state -> [String] in
            let kicks = probe(&state, force: false)
            reportWindow(&state)
            reportRegistryWrites(&state, now: now)
            housekeeping(&state, now: now)
            return kicks
        }
    }

    /// The counters as they stand (`BrokerStats`).
    public func stats(now: UInt64 = Clock.monotonicNanos()) -> BrokerStats {
        state.withLock { currentStats(&$0, snapshot, now: now) }
    }

    /// The `$SYS` messages to publish, every plugin_opt_sys_interval seconds (empty in between, and
    /// when the option is 0).
    public func statsDue(now: UInt64 = Clock.monotonicNanos()) -> [(topic: String, payload: String)] {
        let snapshot = self.snapshot
        return state.withLock { state in
            let interval = UInt64(state.options.sysIntervalSeconds) * 1_000_000_000
            guard interval > 0, now &- state.lastStatsPublished >= interval || state.lastStatsPublished == 0 else { return [] }
            state.lastStatsPublished = now
            return currentStats(&state, snapshot, now: now).messages
        }
    }

    private func currentStats(_ state: inout State, _ snapshot: Snapshot, now: UInt64) -> BrokerStats {
        var stats = state.stats
        stats.aclAllowed = aclAllowedCount.load(ordering: .relaxed)
        stats.aclDenied = aclDeniedCount.load(ordering: .relaxed)
        stats.registryDropped = state.droppedByEarlierGates &+ state.gate.droppedTotal
        stats.rules = snapshot.aclRuleCount
        stats.users = snapshot.users.count
        stats.lastReloadAgeSeconds = (now &- min(now, state.installedAt)) / 1_000_000_000
        return stats
    }

    /// Broker reload (SIGHUP): take new options, reopen, rebuild the snapshot.
    public func reload(options newOptions: PluginOptions?) -> [String] {
        state.withLock { state -> [String] in
            if let newOptions {
                if newOptions.databasePath != state.options.databasePath {
                    state.store = nil
                    state.files = nil
                }
                state.options = newOptions
                logDenials.store(newOptions.logDenials, ordering: .relaxed)
                state.authenticator = Self.authenticator(newOptions)
                state.droppedByEarlierGates &+= state.gate.droppedTotal
                state.gate = RegistryGate(limits: Self.limits(newOptions))
            } else {
                state.authenticator.clear()
            }
            log(.notice, "reload: login cache and back-offs cleared, \(state.options.databasePath) read again")
            return probe(&state, force: true)
        }
    }

    private func probe(_ state: inout State, force: Bool) -> [String] {
        let path = state.options.databasePath
        if let build = state.build {
            if force {
                build.join()
                state.build = nil
            } else {
                return collect(build, &state)
            }
        }
        guard let identity = FileIdentity(path: path) else {
            fail(&state, "database \(path) is missing; serving the last good snapshot")
            return []
        }
        guard access(path, R_OK | W_OK) == 0 else {
            fail(&state, "database \(path) is not readable and writable; serving the last good snapshot")
            return []
        }
        var forceReload = force
        let replaced = state.files.map { $0.database != identity } ?? false
        if state.store == nil || replaced {
            if replaced, state.replacementSaid != identity, let before = state.files {
                state.replacementSaid = identity
                log(.warning, "database \(path) was replaced by another file (\(before.database) is now \(identity)): "
                    + "reopening it, without the previous file's write-ahead log")
            }
            // The old connection goes first: nothing of this process holds the previous file's log
            // while the new file is opened.
            state.store = nil
            do {
                let opened = try DatabaseFiles.reopen(path: path, actor: "broker", busyTimeoutMs: 50, previous: state.files)
                if let setAside = opened.setAside { logSetAside(setAside, path) }
                state.store = opened.store
                state.files = opened.files
                forceReload = true
            } catch {
                fail(&state, "\(error.description); serving the last good snapshot")
                return []
            }
        } else if let store = state.store, let problem = DatabaseFiles.headerProblem(store.db) {
            // Damage to the open file itself (SQLite may go on answering from its cache for a while).
            fail(&state, "database \(path) has a corrupt header: \(problem); serving the last good snapshot", level: .warning)
            return []
        }
        guard let store = state.store else { return [] }
        do {
            let version = try store.policyVersion()
            let old = self.snapshot
            if !forceReload && version == old.version && state.health == .ok { return [] }
            state.changeSeenAt = Clock.monotonicNanos()
            if old.aclRuleCount + old.users.count >= state.options.backgroundBuildSize {
                // Large policy: build it beside the broker's loop; a later tick swaps it in. A forced
                // reload (SIGHUP) waits for it, on that thread all the same (see `buildAndWait`).
                guard force else {
                    state.build = try SnapshotBuild(path: path, version: version, previous: old)
                    return []
                }
                return install(try SnapshotBuild.buildAndWait(path: path, version: version), &state)
            }
            return install(Snapshot(policy: try store.loadPolicy(), version: version), &state)
        } catch {
            fail(&state, "\(error.description); serving the last good snapshot")
            return []
        }
    }

    /// Swaps in a snapshot built on its thread once it is done; until then the current one serves.
    private func collect(_ build: SnapshotBuild, _ state: inout State) -> [String] {
        guard let outcome = build.finished else { return [] }
        build.join()
        state.build = nil
        switch outcome {
        case let .success(fresh):
            return install(fresh, &state, changes: build.userChanges(from: snapshot))
        case let .failure(error):
            fail(&state, "\(error.description); serving the last good snapshot")
            return []
        }
    }

    /// The swap costs O(changed users) on the broker's thread when a build thread found the changes
    /// (`changes`), O(users) otherwise (small policies); freeing the old snapshot (O(rules)) is left
    /// to the reaper thread.
    private func install(_ fresh: Snapshot, _ state: inout State, changes found: Snapshot.UserChanges? = nil) -> [String] {
        let (old, parked) = current.replace(with: fresh)
        if case .failing = state.health { log(.notice, "database \(state.options.databasePath) is readable again") }
        state.health = .ok
        state.installedAt = Clock.monotonicNanos()
        state.stats.rebuilds &+= 1
        state.stats.lastBuildMs = (state.installedAt &- state.changeSeenAt) / 1_000_000
        log(.info, "reloaded: \(fresh.users.count) users, \(fresh.roleNames.count) roles, \(fresh.aclRuleCount) rules")
        Self.warnIfNotCompiled(fresh, log)
        Self.warnOfUnusableHashes(fresh, was: old, log)
        let changes = found ?? old.userChanges(in: fresh)
        for name in changes.changed { state.authenticator.forget(username: name) }
        let kicks = changes.kick
        for name in kicks { log(.notice, "disconnecting \(name): account removed, disabled, re-keyed (new password, certificate revoked) or lost a role") }
        if !parked { retire(old) }
        return kicks
    }

    /// Hands a replaced snapshot to the reaper (a million rules take a good part of a second to free).
    private func retire(_ old: Snapshot) {
        if let reaper, !reaper.submit(Retired(old)) { log(.debug, "reload: old snapshot freed on the broker thread (reaper busy)") }
    }

    /// Said when the set changes, not on every reload: the operator learns who cannot log in and why.
    private static func warnOfUnusableHashes(_ snapshot: Snapshot, was old: Snapshot, _ log: Logger) {
        let unusable = snapshot.unusableHashes
        guard !unusable.isEmpty, unusable != old.unusableHashes else { return }
        let names = unusable.prefix(5).map { Validation.printable($0) }.joined(separator: ", ")
        let more = unusable.count > 5 ? " and \(unusable.count - 5) more" : ""
        let who = unusable.count == 1 ? "1 user cannot" : "\(unusable.count) users cannot"
        log(.warning, "\(who) log in: their password hash is malformed or costs more than "
            + "\(PasswordHash.iterationRange.upperBound) iterations (\(names)\(more)); set a new password with cwauth user passwd")
    }

    private static func warnIfNotCompiled(_ snapshot: Snapshot, _ log: Logger) {
        guard !snapshot.isCompiled else { return }
        log(.warning, "the policy has more than \(EdgeTag.firstReserved) distinct topic levels: ACL checks use the slow reference matcher")
    }

    /// A build thread runs this library's code: it must be over before the plugin is unloaded.
    deinit {
        registryWriter?.stop()
        verifier?.stop()
        reaper?.stop()
        state.withLock { $0.build?.join() }
    }

    /// The window opens and closes by database writes, but also by the clock: say so in the broker log.
    private func reportWindow(_ state: inout State) {
        let window = snapshot.registry
        let open = window.isOpen()
        guard open != state.windowWasOpen else { return }
        state.windowWasOpen = open
        log(.notice, open ? "registry: window open for \(window.secondsLeft()) s" : "registry: window closed")
    }

    private func housekeeping(_ state: inout State, now: UInt64) {
        if let line = state.gate.report(now: now) { log(.notice, line) }
        if let line = explanations.report(now: now) { log(.notice, line) }
        reportThrottled(&state, now: now)
        if let (total, parts) = state.comeBack.report(now: now) {
            log(.notice, "auth: asked \(total) login(s) to reconnect while passwords are verified off the broker thread "
                + "(its budget is plugin_opt_hash_budget_ms per second; \(parts))")
        }
        guard now &- state.lastHousekeeping >= 60_000_000_000 || state.lastHousekeeping == 0 else { return }
        state.lastHousekeeping = now
        guard state.health == .ok, state.options.registryEnabled, let store = state.store else { return }
        if let purged = try? store.purgeStalePending(), purged > 0 {
            log(.notice, "registry: purged \(purged) request(s) not seen for 24 h")
        }
    }

    /// At most once a minute: how many logins the throttle refused without checking their password.
    private func reportThrottled(_ state: inout State, now: UInt64) {
        guard let (total, parts) = state.throttled.report(now: now) else { return }
        log(.notice, "auth: refused \(total) login attempt(s) without checking the password while backing off (\(parts))")
    }

    /// Logs a failure once per change of state, not once per probe.
    private func fail(_ state: inout State, _ message: String, level: LogLevel = .error) {
        if state.health != .failing(message) { log(level, message) }
        state.health = .failing(message)
    }

    private func logSetAside(_ setAside: String, _ path: String) {
        log(.warning, "database \(path): the previous file's write-ahead log was moved to \(setAside), "
            + "so that it is not replayed onto the new file")
    }
}
