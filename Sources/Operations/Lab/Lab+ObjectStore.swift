import Foundation

extension Lab {
    /// Starts a local S3-compatible object store (SeaweedFS) called `name` in the Lab's
    /// folder, with `bucket` created, for rehearsing archives kept off the host. The
    /// returned store gives the `s3://` URL, the endpoint and the credentials to use;
    /// ``shutdown(keepFiles:grace:)`` stops it with the servers.
    @discardableResult
    public func startObjectStore(_ name: String, bucket: String = "redkeep",
                                 startTimeout: Duration = .seconds(30)) async throws(LabError) -> LocalObjectStore {
        guard Self.isValidName(name) else {
            throw LabError(.invalidName, "invalid object store name \"\(name)\": use letters, digits, '-' and '_'")
        }
        if let store = objectStores[name], store.isRunning {
            throw LabError(.alreadyExists, "an object store called \(name) is already running at \(store.endpoint)")
        }
        if let server = server(name) {
            throw LabError(.alreadyExists, "\(name) is already the name of a server (port \(server.port))")
        }
        let store = try await LocalObjectStore.start(directory: "\(root)/\(name)", bucket: bucket, startTimeout: startTimeout)
        objectStores[name] = store
        return store
    }

    /// The object store called `name`, if any.
    public func objectStore(_ name: String) -> LocalObjectStore? { objectStores[name] }

    /// Every object store started so far (running or stopped), by name.
    public var objectStoresByName: [(name: String, store: LocalObjectStore)] {
        objectStores.keys.sorted().map { ($0, objectStores[$0]!) }
    }

    /// Starts the stopped object store called `name` again, on its port and folder.
    public func restartObjectStore(_ name: String) async throws(LabError) -> LocalObjectStore {
        guard let store = objectStores[name] else { throw LabError(.notFound, "no object store called \(name)") }
        let again = try await store.restarted()
        objectStores[name] = again
        return again
    }

    /// Stops the object store called `name` (SIGTERM; `weed` takes a few seconds to exit)
    /// and waits for it to end. Its folder stays until the Lab shuts down, so that
    /// ``restartObjectStore(_:)`` finds its objects, and because `weed` hangs when its
    /// folder is removed while it runs.
    public func stopObjectStore(_ name: String) async throws(LabError) {
        guard let store = objectStores[name] else {
            let known = objectStores.keys.sorted()
            throw LabError(.notFound, "no object store called \(name) (\(known.isEmpty ? "none started" : "known: " + known.joined(separator: ", ")))")
        }
        await store.stop()
    }

    /// Stops every object store at once (each takes seconds to exit), then removes their
    /// folders unless `keepFiles`: only after the processes ended, since weed hangs when
    /// its folder goes first.
    func stopObjectStores(grace: Duration, keepFiles: Bool) async {
        let stores = Array(objectStores.values)
        await withTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { await store.stop(grace: grace) } }
        }
        guard !keepFiles else { return }
        for store in stores where !store.isRunning {
            try? FileManager.default.removeItem(atPath: store.directory)
        }
    }
}
