extension CollectorThread {
    /// Runs blocking work on the thread and returns its result to an async caller.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(CollectorError) -> T) async throws(CollectorError) -> T {
        let result: Result<T, CollectorError> = await withCheckedContinuation { continuation in
            async {
                do throws(CollectorError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
