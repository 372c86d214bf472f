/// The error replies of a pipeline sent with
/// ``RedisConnection/pipelineCountingErrors(encoded:count:)``.
public struct PipelineErrorCount: Sendable, Equatable {
    /// How many first error messages are kept.
    public static let kept = 8

    /// One error reply and the index (from 0) of the command it answers.
    public struct ErrorReply: Sendable, Equatable {
        /// The command's place in the pipeline, from 0.
        public let index: Int
        /// The error message, without its leading `-`.
        public let message: String
    }

    /// How many replies were errors.
    public var errors = 0
    /// The first ``kept`` error replies, in order.
    public var firstErrors: [ErrorReply] = []
    /// The index (from 0) of every error reply, in order: for a caller whose commands
    /// stand for different amounts of work (an MSET carrying many SETs).
    public var errorIndexes: [Int] = []

    /// No errors.
    public init() {}
}
