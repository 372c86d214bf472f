import Foundation
import NIOCore
import NIOPosix
import Operations
import RESP
import RedisClient

/// How a run of statements ended.
public enum RunOutcome: Sendable, Equatable {
    /// Every statement ran (errors under `on-error continue` included).
    case completed
    /// `exit CODE` ran.
    case exit(Int32)
    /// An error stopped the run (under `on-error stop`, or a syntax error).
    case failed(ShellError)

    /// The process exit code this outcome stands for.
    public var exitCode: Int32 {
        switch self {
        case .completed: return 0
        case .exit(let code): return code
        case .failed(let error): return error.exitCode
        }
    }

    public static func == (a: RunOutcome, b: RunOutcome) -> Bool { a.exitCode == b.exitCode }
}

/// The redkeep language's interpreter: variables, named connections, local servers, and
/// the evaluation of statements from the prompt, `-c`, piped input and script files.
///
/// One interpreter runs one session. It is an actor so that a statement can be cancelled
/// (Ctrl-C) from another thread while it runs.
///
/// The actor runs on one NIO event loop, and its connections are opened on the same loop:
/// a reply then resumes the statement on the thread that read it, with no hop to another
/// executor. On the generic executor each command cost two trips through the loop's task
/// queue, about a fifth of a sequential SET's CPU time.
public actor Interpreter {
    /// The loop this actor and its connections run on: the interpreter borrows its
    /// executor, so a statement and its replies stay on one thread.
    let home: EventLoopIsolation
    public nonisolated var unownedExecutor: UnownedSerialExecutor { home.unownedExecutor }

    /// How a session starts out.
    public struct Configuration: Sendable {
        /// Where values and errors go.
        public var output: any ShellOutput
        /// How values are shown: redis-cli's look, raw, or JSON.
        public var outputMode: OutputMode
        /// ANSI colour in human output.
        public var color: Bool
        /// `option on-error continue` from the start.
        public var continueOnError: Bool
        /// `option echo on` from the start: each statement is shown before it runs.
        public var echo: Bool
        /// The script's name and arguments: `$0`, `$1`..`$9`, `$#`.
        public var arguments: [String]
        /// True at the prompt: errors are shown and the session goes on.
        public var interactive: Bool
        /// The environment, for `--password-env` and the Lab's binary.
        public var environment: [String: String]
        /// Where a Redis command goes when no connection is open (the redkeep binary sets
        /// 127.0.0.1:6379, as redis-cli); nil: such a command is an error.
        public var defaultAddress: String?

        /// A configuration with the defaults of a non-interactive run.
        public init(output: any ShellOutput = StandardOutput(), outputMode: OutputMode = .raw, color: Bool = false,
                    continueOnError: Bool = false, echo: Bool = false, arguments: [String] = [],
                    interactive: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) {
            self.output = output
            self.outputMode = outputMode
            self.color = color
            self.continueOnError = continueOnError
            self.echo = echo
            self.arguments = arguments
            self.interactive = interactive
            self.environment = environment
        }
    }

    var configuration: Configuration
    var variables: [String: RESPValue] = [:]
    var connections = ConnectionTable()
    var lab: Lab?
    /// Statements typed at the prompt go here while `record` is on.
    var recordPath: String?
    /// Commands collected by the innermost `pipeline { }`, with the connection each goes to.
    var collecting: [(connection: String?, command: PreparedCommand)]?
    /// How many enclosing captures (`let`, `$(...)`) keep inner statements from printing.
    var quiet = 0
    /// Set by a `multi { }` inside a `transaction` when EXEC came back nil (a watched key changed).
    var execAborted = false
    var transactionDepth = 0
    /// The directory of the script running now, for `source` of relative paths.
    var scriptDirectory: String?
    /// The current server's command names, for completion (asked for once).
    var redisCommandNames: [String]?
    /// Where Redis statements are encoded, reused from one statement to the next.
    var encodingBuffer = ByteBufferAllocator().buffer(capacity: 256)
    /// Roll-forward collectors running in the background (`chunk start`), by name.
    var collectors: [String: BackgroundCollector] = [:]
    /// Output waiting to be written (see ``emit(_:)``).
    let outputQueue: OutputQueue
    /// The connection a statement waits on, closed when the run is cancelled.
    let commandInFlight = CommandInFlight()

    /// Creates an interpreter.
    public init(_ configuration: Configuration) {
        self.configuration = configuration
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        self.home = EventLoopIsolation(loop)
        self.outputQueue = OutputQueue(loop: loop, output: configuration.output)
    }

    // MARK: - Running

    /// Parses and runs `text` (named `name` in error messages; `firstLine` is the number
    /// of its first line when it is a piece of a longer input). With `showingValues`
    /// false, values are not printed (errors are).
    public func run(_ text: String, name: String, firstLine: Int = 1, showingValues: Bool = true) async -> RunOutcome {
        if !showingValues { quiet += 1 }
        let outcome = await withTaskCancellationHandler {
            await parseAndRun(text, name: name, firstLine: firstLine)
        } onCancel: { [commandInFlight] in
            commandInFlight.abort()
        }
        if !showingValues { quiet -= 1 }
        finishOutput()
        return outcome
    }

    private func parseAndRun(_ text: String, name: String, firstLine: Int) async -> RunOutcome {
        let file = SourceFile(name: name, text: text, firstLine: firstLine)
        let statements: [Statement]
        do {
            statements = try Parser.parse(file)
        } catch {
            report(error)
            return configuration.interactive ? .completed : .failed(error)
        }
        if name.hasPrefix("/") || name.hasSuffix(".rk") {
            scriptDirectory = (name as NSString).deletingLastPathComponent
        }
        // Statements typed at the prompt, or arriving on standard input, are what `record` keeps.
        return await run(statements, recording: name == "<prompt>" || name == "<stdin>")
    }

    /// Runs a script file with its arguments as `$1`..`$9`.
    public func runFile(_ path: String) async -> RunOutcome {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let failure = ShellError(.usage, "cannot read the script \(path): \(Self.describe(error))")
            report(failure)
            finishOutput()
            return .failed(failure)
        }
        // A #! line is a comment already; nothing to strip.
        return await run(text, name: path)
    }

    func run(_ statements: [Statement], recording: Bool) async -> RunOutcome {
        for (index, statement) in statements.enumerated() {
            if Task.isCancelled { return .failed(ShellError(.script, "interrupted")) }
            do {
                let value = try await execute(statement)
                if let value {
                    // Before a plain command that is sent at once, the value is written by
                    // that send, while its reply is on the way (see sendRedis).
                    let sentNext = collecting == nil && index + 1 < statements.count
                        && statements[index + 1].kind == .redis(literal: true)
                    show(value, verbatim: statement.printsVerbatim, writtenByNextCommand: sentNext)
                }
                if recording { record(statement) }
            } catch let signal as ExitSignal {
                return .exit(signal.code)
            } catch {
                var failure = shellError(error, at: statement.location)
                if Task.isCancelled { failure = ShellError(.script, "interrupted", at: statement.location) }
                report(failure)
                if failure.kind == .incomplete || failure.kind == .syntax { return configuration.interactive ? .completed : .failed(failure) }
                if !configuration.interactive && !configuration.continueOnError { return .failed(failure) }
            }
        }
        return .completed
    }

    /// Stops the servers this session started (unless `keepServers`) and closes every
    /// connection.
    public func shutdown(keepServers: Bool) async {
        await stopCollectors()
        await connections.closeAll()
        if let lab, !keepServers { await lab.shutdown() }
        finishOutput()
    }

    // MARK: - Output
    //
    // Values, notes and errors are queued and written in the order they were produced
    // (see OutputQueue): by a task on the interpreter's loop, which runs it while the
    // next statement's command is on its way to the server, or by that command's send.

    /// Queues `item` to be written after everything queued before it.
    func emit(_ item: OutputQueue.Item) {
        outputQueue.append(item)
    }

    /// Writes everything queued by ``emit(_:)``, and what the output held back.
    func finishOutput() {
        outputQueue.writeQueued()
        configuration.output.flush()
    }

    /// Prints a statement's value in the current output mode; `verbatim` as redis-cli
    /// prints INFO (see ``Statement/printsVerbatim``). `writtenByNextCommand` when the
    /// next statement sends a command right away and writes the value meanwhile: one task
    /// less per statement of a script of plain commands.
    func show(_ value: RESPValue, verbatim: Bool = false, writtenByNextCommand: Bool = false) {
        guard quiet == 0 else { return }
        let formatter = ReplyFormatter(mode: configuration.outputMode, color: configuration.color)
        outputQueue.append(.value(value, formatter, verbatim: verbatim), writtenByCaller: writtenByNextCommand)
    }

    /// Prints a line of text (echo, notes), unless a capture is running.
    func say(_ text: String) {
        guard quiet == 0 else { return }
        emit(.text(text + "\n"))
    }

    /// Prints an error on standard error, in red on a terminal.
    func report(_ error: ShellError) {
        let text = configuration.color ? "\u{1B}[31m(error)\u{1B}[0m \(error)" : "(error) \(error)"
        emit(.error(text + "\n"))
    }

    // MARK: - Errors

    /// Any error as a ShellError with the right kind (and so exit code) and location.
    func shellError(_ error: any Error, at location: SourceLocation?) -> ShellError {
        switch error {
        case let e as ShellError:
            return e.located(at: location)
        case let e as RedisClientError:
            return ShellError(ShellError.kind(of: e), e.message, at: location)
        case let e as LabError:
            return ShellError.from(e, doing: "", at: location)
        case is CancellationError:
            return ShellError(.script, "interrupted", at: location)
        default:
            return ShellError(.internal, Self.describe(error), at: location)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CocoaError, let path = e.userInfo[NSFilePathErrorKey] as? String {
            switch e.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file: \(path)"
            case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied: \(path)"
            default: break
            }
        }
        return (error as NSError).localizedDescription
    }
}

/// `exit CODE` on its way out of every block.
struct ExitSignal: Error { let code: Int32 }

/// `abort "why"` on its way out to the enclosing transaction.
struct AbortSignal: Error { let reason: String; let location: SourceLocation }
