import Foundation
import S3

/// `lease.json`: who writes a bucket archive, until when.
struct S3Lease: Codable {
    /// The writer's id: `host:pid:random`.
    var holder: String
    /// Seconds since 1970 after which the lease may be taken over.
    var expiresAt: Double

    enum CodingKeys: String, CodingKey {
        case holder
        case expiresAt = "expires_at"
    }
}

extension S3IndexWriter {
    /// Creates the lease (`If-None-Match: *`); takes over an expired one, or a live one
    /// held under this writer's own id (left by an earlier attempt of the same collector
    /// whose release failed); refuses any other live one.
    func acquireLease() throws(ArchiveError) {
        let name = s3.describe(S3IndexReader.leaseKey)
        for _ in 0..<3 {
            do {
                try s3.write(S3IndexReader.leaseKey, bytes: try leaseBytes(), replacing: false)
                return
            } catch {
                guard error.kind == .invalidRequest else { throw error }
                guard let lease = try readLease() else { continue }
                let now = Date().timeIntervalSince1970
                if lease.holder == holder {
                    // Ours: the id is one uploader's, which runs one writer at a time.
                    try s3.write(S3IndexReader.leaseKey, bytes: try leaseBytes(), replacing: true)
                    return
                }
                guard lease.expiresAt < now else {
                    let until = Date(timeIntervalSince1970: lease.expiresAt).formatted(.iso8601)
                    throw ArchiveError(.locked, "the archive \(s3.location) is in use by another writer: \(lease.holder) holds its lease (\(name)) until \(until), renewing it while it runs; stop that collector (or prune or mark) first", object: name)
                }
                // The holder stopped renewing (it died): the lease is free to take.
                try s3.delete([S3IndexReader.leaseKey])
            }
        }
        throw ArchiveError(.locked, "the archive \(s3.location) is contended: its lease (\(name)) changed hands while this writer tried to take it", object: name)
    }

    /// The lease as stored; nil when there is none.
    func readLease() throws(ArchiveError) -> S3Lease? {
        guard let bytes = try s3.read(S3IndexReader.leaseKey) else { return nil }
        let name = s3.describe(S3IndexReader.leaseKey)
        guard let lease = try? JSONDecoder().decode(S3Lease.self, from: Data(bytes)) else {
            throw ArchiveError(.damaged, "\(name): not a valid lease; if no collector runs, delete it", object: name)
        }
        return lease
    }

    func leaseBytes() throws(ArchiveError) -> [UInt8] {
        let lease = S3Lease(holder: holder, expiresAt: Date().timeIntervalSince1970 + leaseDuration)
        do { return Array(try JSONEncoder().encode(lease)) } catch {
            throw ArchiveError(.invalidRequest, "cannot encode the lease of \(s3.location): \(error)")
        }
    }

    /// Starts the helper thread renewing the lease until ``close()``.
    func startRenewing() {
        let thread = Thread { [weak self] in
            ThreadName.setCurrent("redkeep-s3-lease")
            while let self, self.renewOnce() {}
        }
        thread.name = "redkeep-s3-lease"
        thread.start()
    }

    /// Waits one interval, then renews; false once closed or the lease is lost.
    func renewOnce() -> Bool {
        guard waitForRenewal() else { return false }
        do {
            guard let lease = try readLease(), lease.holder == holder else {
                loseLease("the lease of \(s3.location) (\(s3.describe(S3IndexReader.leaseKey))) was taken by another writer; this writer stops")
                return false
            }
            try s3.write(S3IndexReader.leaseKey, bytes: try leaseBytes(), replacing: true)
        } catch {
            // The store is unreachable for now: try again next interval. The segments'
            // conditional writes keep the index safe should the lease expire meanwhile.
        }
        return true
    }
}
