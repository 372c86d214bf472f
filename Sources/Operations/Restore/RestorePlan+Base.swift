extension RestorePlan {
    /// Checks that the base exists and matches its size and sha256 (read in pieces).
    /// Blocking: call it off the event loops.
    public func verifyBase() throws(RestoreError) {
        do { try ArchiveObjectCheck.verifyBase(generation, in: index.store) } catch {
            var failure = RestoreError(error)
            failure.message += "; nothing applied"
            throw failure
        }
    }
}
