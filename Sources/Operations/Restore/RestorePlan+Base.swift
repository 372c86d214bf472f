import Foundation

extension RestorePlan {
    /// Checks that the base file exists and matches its sha256 (it is read whole).
    public func verifyBase() throws(RestoreError) {
        let plan = self
        let path = plan.basePath
        guard FileManager.default.fileExists(atPath: path) else {
            throw RestoreError("the base of generation \(plan.generation.gen) is missing: \(path)")
        }
        let digest: String
        do { digest = try DurableFile.sha256(ofFile: path) } catch { throw RestoreError("cannot read the base \(path): \(error.reason)") }
        guard digest == plan.generation.sha256 else {
            throw RestoreError("the base \(path) does not match its sha256 (index \(plan.generation.sha256.prefix(12))..., file \(digest.prefix(12))...); nothing applied")
        }
    }
}
