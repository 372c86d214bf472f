import ArgumentParser
import Foundation
import Operations
import RESP

/// `servers`: what `start` started in this session, data servers and object stores.
struct Servers: ShellCommand {
    static let configuration = CommandConfiguration(
        commandName: "servers", abstract: "List the local servers and object stores this session started, running or stopped.")

    func run(in interpreter: Interpreter, _ invocation: CommandInvocation) async throws -> RESPValue? {
        await interpreter.labListing()
    }
}

extension Interpreter {
    /// `stop`, `crash` and `restart` of a Lab object store (`start NAME --s3`). Stop waits
    /// for `weed` to exit (it takes seconds after SIGTERM) and keeps the folder: `weed`
    /// hangs when its folder goes while it runs, and `restart` finds the objects there.
    /// The session's AWS_* variables keep naming the store (same port and keys on restart).
    func objectStoreAction(_ name: String, _ action: LabAction, lab: Lab, at location: SourceLocation) async throws -> RESPValue? {
        guard let store = await lab.objectStore(name) else { return nil }
        do throws(LabError) {
            switch action {
            case .stop:
                let wasRunning = store.isRunning
                try await lab.stopObjectStore(name)
                return .report([
                    ("stopped", .text(name)),
                    ("pid", .integer(Int64(store.pid))),
                    ("was_running", .boolean(wasRunning)),
                    ("endpoint", .text(store.endpoint.description)),
                    ("dir", .text(store.directory + " (kept until the end of the run, for restart)")),
                ])
            case .crash:
                guard store.isRunning else { throw LabError(.notRunning, "cannot crash the object store \(name): it is not running", server: name) }
                await store.kill()
                return nil
            case .restart:
                if store.isRunning { try await lab.stopObjectStore(name) }
                let again = try await lab.restartObjectStore(name)
                return .report([("name", .text(name)), ("url", .text(again.url ?? "")), ("endpoint", .text(again.endpoint.description)),
                                ("pid", .integer(Int64(again.pid)))])
            }
        } catch {
            throw ShellError(.script, error.message, at: location)
        }
    }

    /// One report per local server and object store, in that order.
    func labListing() async -> RESPValue {
        guard let lab else { return .array([]) }
        var rows: [RESPValue] = []
        for server in await lab.servers {
            let role = server.sentinelOf.map { "sentinel of \($0)" } ?? server.replicaOf.map { "replica of \($0)" } ?? "master"
            rows.append(.report([
                ("name", .text(server.name)), ("kind", .text("redis")), ("address", .text(server.endpoint.description)),
                ("running", .boolean(await lab.isRunning(server.name))), ("role", .text(role)), ("dir", .text(server.directory)),
            ]))
        }
        for (name, store) in await lab.objectStoresByName {
            rows.append(.report([
                ("name", .text(name)), ("kind", .text("object store")), ("address", .text(store.endpoint.description)),
                ("running", .boolean(store.isRunning)), ("url", .text(store.url ?? "")), ("dir", .text(store.directory)),
            ]))
        }
        return .array(rows)
    }
}
