import Foundation
import RedisClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fetches a server's snapshot the way a replica (or `redis-cli --rdb`) gets it: on a
/// dedicated connection, `REPLCONF rdb-only 1` (Redis 7+; older servers refuse it and
/// stream the replication after the RDB, which is simply not read), `REPLCONF capa eof`,
/// then `SYNC`. The server answers with `$<length>\r\n` and the RDB (disk-based sync), or
/// `$EOF:<40-byte mark>\r\n`, the RDB and the mark again (diskless sync), possibly after
/// `\n` keep-alives. The bytes are written durably (``DurableFile``) with a `.sha256`
/// beside them.
public enum ReplicationSnapshotFetch {
    /// Fetches into `folder/fileName`. Throws naming the server and the step; leaves
    /// nothing behind on failure.
    public static func fetch(_ configuration: RedisConnectionConfiguration, to folder: String, fileName: String,
                             timeout: Duration) async throws(PersistenceError) -> SnapshotCopy.Result {
        let endpoint = configuration.endpoint
        let deadline = ContinuousClock.now + timeout
        // Blocking socket calls, bounded by poll: run off the cooperative pool.
        let result: Result<SnapshotCopy.Result, PersistenceError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Result { () throws(PersistenceError) in
                    let socket = try RawSocket(endpoint, deadline: deadline)
                    defer { socket.close() }
                    if let password = configuration.password {
                        var auth = ["AUTH"]
                        if let user = configuration.username { auth.append(user) }
                        auth.append(password.revealed)
                        try socket.send(auth)
                        let line = try socket.readLine()
                        guard line.hasPrefix("+") else {
                            throw PersistenceError(.connection, "AUTH on \(endpoint) was refused: \(line.dropFirst())")
                        }
                    }
                    for option in [["REPLCONF", "rdb-only", "1"], ["REPLCONF", "capa", "eof"]] {
                        try socket.send(option)
                        _ = try socket.readLine()  // older servers refuse rdb-only: fine
                    }
                    try socket.send(["SYNC"])
                    var header = ""
                    repeat { header = try socket.readLine() } while header.isEmpty  // keep-alive newlines
                    guard header.hasPrefix("$") else {
                        throw PersistenceError(.failed, "SYNC on \(endpoint) was refused: \(header.hasPrefix("-") ? String(header.dropFirst()) : header)")
                    }
                    let target = folder + "/" + fileName
                    try SnapshotCopy.refuseExisting(target)
                    var mark: [UInt8]?
                    var length = 0
                    if header.hasPrefix("$EOF:") {
                        mark = Array(header.dropFirst(5).utf8)
                        guard mark!.count == 40 else { throw PersistenceError(.failed, "SYNC on \(endpoint): bad end mark in \"\(header)\"") }
                    } else {
                        guard let n = Int(header.dropFirst()), n >= 0 else {
                            throw PersistenceError(.failed, "SYNC on \(endpoint): bad length line \"\(header)\"")
                        }
                        length = n
                    }
                    // The transfer's own errors abort the durable write (which then removes
                    // its temporary file) and are rethrown as they were.
                    var failure: PersistenceError?
                    let digest: String
                    do throws(DurableFile.WriteError) {
                        digest = try DurableFile.write(to: target) { sink throws(DurableFile.WriteError) in
                            do throws(PersistenceError) {
                                if let mark { try socket.copyUntilMark(mark, into: &sink) } else { try socket.copy(length, into: &sink) }
                            } catch {
                                failure = error
                                throw DurableFile.WriteError(path: target, reason: error.message)
                            }
                        }
                    } catch {
                        if let failure { throw failure }
                        throw SnapshotCopy.copyError(target, error)
                    }
                    return try SnapshotCopy.finish(target, digest: digest, source: "replication from \(endpoint)")
                })
            }
        }
        return try result.get()
    }
}

/// A blocking socket whose every wait is bounded by one deadline (poll), with a read
/// buffer for lines. Used only by ``ReplicationSnapshotFetch``.
final class RawSocket {
    let endpoint: RedisEndpoint
    let deadline: ContinuousClock.Instant
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var start = 0

    init(_ endpoint: RedisEndpoint, deadline: ContinuousClock.Instant) throws(PersistenceError) {
        self.endpoint = endpoint
        self.deadline = deadline
        switch endpoint {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw fail("open a socket") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                throw PersistenceError(.connection, "cannot connect to \(path): the socket path is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connectSocket(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
            guard rc == 0 else { throw fail("connect to") }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw PersistenceError(.connection, "cannot connect to \(endpoint): \(String(cString: gai_strerror(rc)))")
            }
            defer { freeaddrinfo(list) }
            var reason = "no address"
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let a = entry {
                let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
                if s >= 0 {
                    Self.limitConnect(s, deadline)
                    if connectSocket(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { fd = s; break }
                    reason = String(cString: strerror(errno))
                    closeDescriptor(s)
                }
                entry = a.pointee.ai_next
            }
            guard fd >= 0 else { throw PersistenceError(.connection, "cannot connect to \(endpoint) for SYNC: \(reason)") }
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// Linux bounds connect(2) by SO_SNDTIMEO: the connect waits no longer than the deadline.
    static func limitConnect(_ fd: Int32, _ deadline: ContinuousClock.Instant) {
        let left = max(ContinuousClock.now.duration(to: deadline), .milliseconds(1))
        var limit = timeval(tv_sec: Int(left.components.seconds), tv_usec: Int(left.components.attoseconds / 1_000_000_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() {
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
    }

    private func fail(_ what: String) -> PersistenceError {
        PersistenceError(.connection, "cannot \(what) \(endpoint) for SYNC: \(String(cString: strerror(errno)))")
    }

    /// Sends a command as a RESP array.
    func send(_ words: [String]) throws(PersistenceError) {
        var bytes = Array("*\(words.count)\r\n".utf8)
        for w in words { bytes += Array("$\(w.utf8.count)\r\n".utf8) + Array(w.utf8) + [13, 10] }
        var offset = 0
        while offset < bytes.count {
            try waitFor(Int16(POLLOUT), "send \(words[0]) to")
            let n = bytes.withUnsafeBytes { sendBytes(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; throw fail("send \(words[0]) to") }
            offset += n
        }
    }

    /// Waits until the socket is ready, or throws at the deadline.
    private func waitFor(_ events: Int16, _ what: String) throws(PersistenceError) {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else {
                throw PersistenceError(.timeout, "cannot \(what) \(endpoint): the snapshot transfer did not finish in time")
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(min(left.wholeMilliseconds + 1, 1000))
            let rc = poll(&p, 1, ms)
            if rc < 0 { if errno == EINTR { continue }; throw fail(what) }
            if rc > 0 { return }
        }
    }

    /// Reads more bytes into the buffer; throws when the server closed the connection.
    private func fill() throws(PersistenceError) {
        if start > 0 && start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 }
        try waitFor(Int16(POLLIN), "read the snapshot from")
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == EINTR { return }
            throw fail("read the snapshot from")
        }
        guard n > 0 else {
            throw PersistenceError(.connection, "\(endpoint) closed the connection in the middle of the snapshot transfer")
        }
        buffer.append(contentsOf: chunk[0..<n])
    }

    /// One line without its `\r\n` (or `\n`, for keep-alives).
    func readLine() throws(PersistenceError) -> String {
        while true {
            if let nl = buffer[start...].firstIndex(of: 10) {
                var end = nl
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = nl + 1
                return line
            }
            guard buffer.count - start < 64 * 1024 else {
                throw PersistenceError(.failed, "\(endpoint) sent a line longer than 64 KiB where a reply was expected")
            }
            try fill()
        }
    }

    /// Writes the next `n` buffered bytes to `sink`.
    private func drain(_ n: Int, into sink: inout DurableFile.Sink) throws(PersistenceError) {
        let from = start
        let failure: DurableFile.WriteError? = buffer.withUnsafeBytes { all -> DurableFile.WriteError? in
            do throws(DurableFile.WriteError) { try sink.append(raw: UnsafeRawBufferPointer(rebasing: all[from..<from + n])); return nil } catch { return error }
        }
        if let failure { throw SnapshotCopy.copyError(failure.path, failure) }
        start += n
    }

    /// Copies exactly `count` bytes into `file`.
    func copy(_ count: Int, into sink: inout DurableFile.Sink) throws(PersistenceError) {
        var left = count
        while left > 0 {
            if start == buffer.count { try fill() }
            let n = min(left, buffer.count - start)
            try drain(n, into: &sink)
            left -= n
        }
    }

    /// Copies bytes into `file` until `mark` arrives (diskless sync's end), holding back
    /// the last 40 bytes in case they are the mark.
    func copyUntilMark(_ mark: [UInt8], into sink: inout DurableFile.Sink) throws(PersistenceError) {
        var first = true
        while true {
            if !first { try fill() }
            first = false
            let available = buffer.count - start
            if available >= mark.count, Array(buffer[(buffer.count - mark.count)...]) == mark {
                try drain(available - mark.count, into: &sink)
                start = buffer.count
                return
            }
            if available > mark.count {
                try drain(available - mark.count, into: &sink)
                buffer.removeFirst(start)
                start = 0
            }
        }
    }
}

// The system calls under names the class's own methods do not hide.
private func connectSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 { connect(fd, address, length) }
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
private func sendBytes(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int { send(fd, bytes, count, flags) }
