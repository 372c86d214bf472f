import Foundation

/// Caps reads at a number of bytes per second: each read is charged, and ``delay()`` says
/// how long to wait before the next one so the average stays under the cap. Bursts are
/// allowed up to one second's worth, so a cap never slows down a collector that is idle
/// most of the time.
struct RateLimiter {
    let bytesPerSecond: Int?
    /// The moment from which the next read is allowed (monotonic seconds).
    private var allowedFrom: Double = 0

    init(bytesPerSecond: Int?) { self.bytesPerSecond = bytesPerSecond }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Charges `bytes` just read.
    mutating func charge(_ bytes: Int) {
        guard let rate = bytesPerSecond, rate > 0 else { return }
        let now = Self.now()
        allowedFrom = max(allowedFrom, now - 1) + Double(bytes) / Double(rate)
    }

    /// How long to wait before the next read.
    func delay() -> Duration {
        let wait = allowedFrom - Self.now()
        return wait > 0 ? .nanoseconds(Int64(wait * 1e9)) : .zero
    }

    /// Waits (blocking the calling thread: only on the collector's own thread) until
    /// the next read is allowed.
    func waitBlocking() {
        let d = delay()
        guard d > .zero else { return }
        var request = timespec(tv_sec: Int(d.components.seconds), tv_nsec: Int(d.components.attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
