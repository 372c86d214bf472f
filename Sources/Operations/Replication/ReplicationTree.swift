import RedisClient

/// One server of a replication tree, as `replicas` shows it.
public struct ReplicationNode: Sendable {
    /// Its address (as its master lists it, or as it was reached).
    public var endpoint: RedisEndpoint
    /// 0 for the top of the tree, 1 for its replicas, ...
    public var depth: Int
    /// For each level above it (and its own), whether that node is its parent's last child:
    /// what a tree drawing needs.
    public var lastFlags: [Bool]
    /// `master`, `replica`, or `unreachable`.
    public var role: String
    /// A master's `master_repl_offset`, a replica's `slave_repl_offset`.
    public var offset: Int?
    /// The top's offset minus this one's, in bytes.
    public var lagBytes: Int?
    /// Seconds since its master last heard from it (its master's `lag=`).
    public var lagSeconds: Int?
    /// Its state as its master lists it (`online`, `wait_bgsave`, `send_bulk`...).
    public var state: String?
    /// A replica's link to its master: `up` or `down`.
    public var link: String?
    /// A full sync from its master is running.
    public var syncInProgress: Bool
    /// The server `replicas` was asked about.
    public var isOrigin: Bool
    /// Why it could not be read, for an unreachable node.
    public var problem: String?

    /// `├─ `, `│  └─ `...: the drawing before its name.
    public var treePrefix: String {
        guard depth > 0 else { return "" }
        var text = ""
        for last in lastFlags.dropFirst().dropLast() { text += last ? "   " : "│  " }
        text += lastFlags.last! ? "└─ " : "├─ "
        return text
    }
}

/// The replication tree around a server: up through its masters to the top, then down
/// through every replica each server lists, every level of a chain.
public enum ReplicationTree {
    /// Discovers the tree. Servers found on the way are reached with `origin`'s credentials;
    /// one that does not answer is shown as `unreachable` rather than failing the whole.
    /// Throws only when `origin` itself does not answer.
    public static func discover(from origin: ReplicationServer, maxDepth: Int = 8, maxNodes: Int = 256) async throws(ReplicationError) -> [ReplicationNode] {
        let originConnection = try await origin.open()
        let originState: ReplicationState
        do { originState = try await originConnection.replicationState() } catch {
            throw ReplicationError(.connection, "\(origin.label) does not answer INFO replication: \(error.message)", server: origin.label, underlying: error)
        }
        var opened: [RedisConnection] = []
        defer { let list = opened; Task { for c in list { await c.close() } } }

        // Up: follow master_host:master_port to the top (or to one that does not answer).
        var top = (endpoint: origin.endpoint, state: Optional(originState), problem: String?.none)
        var highestReachable = (endpoint: origin.endpoint, state: originState)
        var seen = [origin.endpoint]
        var hops = 0
        while let state = top.state, state.isReplica, let up = state.master, hops < maxDepth,
              !seen.contains(where: { sameServer($0, up) }) {
            hops += 1
            seen.append(up)
            do {
                let connection = try await origin.sibling(up).open(connectTimeout: .seconds(1), commandTimeout: .seconds(3))
                opened.append(connection)
                let state = try await connection.replicationState()
                top = (up, state, nil)
                highestReachable = (up, state)
            } catch {
                top = (up, nil, "\(error)")
            }
        }

        // Down: depth first, so the list reads as a tree.
        var nodes: [ReplicationNode] = []
        var visited: [RedisEndpoint] = []
        func visit(_ endpoint: RedisEndpoint, state: ReplicationState?, problem: String?, depth: Int, lastFlags: [Bool],
                   listed: ReplicaEntry?, topOffset: Int?) async {
            visited.append(endpoint)
            var node = ReplicationNode(endpoint: endpoint, depth: depth, lastFlags: lastFlags,
                                       role: state?.roleName ?? "unreachable", offset: state?.offset, lagBytes: nil,
                                       lagSeconds: listed?.lag, state: listed?.state, link: state?.link,
                                       syncInProgress: state?.syncInProgress ?? false,
                                       isOrigin: sameServer(endpoint, origin.endpoint), problem: problem)
            if let topOffset, let offset = state?.offset, depth > 0 { node.lagBytes = topOffset - offset }
            nodes.append(node)
            guard let state, depth < maxDepth, nodes.count < maxNodes else { return }
            let children = state.replicas.filter { entry in
                !visited.contains { sameServer($0, .tcp(host: entry.host, port: entry.port)) }
            }
            for (i, entry) in children.enumerated() {
                let child = RedisEndpoint.tcp(host: entry.host, port: entry.port)
                var childState: ReplicationState?
                var childProblem: String?
                if sameServer(child, origin.endpoint) {
                    childState = originState
                } else {
                    do {
                        let connection = try await origin.sibling(child).open(connectTimeout: .seconds(1), commandTimeout: .seconds(3))
                        opened.append(connection)
                        childState = try await connection.replicationState()
                    } catch {
                        childProblem = "\(error)"
                    }
                }
                await visit(child, state: childState, problem: childProblem, depth: depth + 1,
                            lastFlags: lastFlags + [i == children.count - 1], listed: entry, topOffset: topOffset)
            }
        }
        await visit(top.endpoint, state: top.state, problem: top.problem, depth: 0, lastFlags: [true], listed: nil,
                    topOffset: top.state?.isReplica == false ? top.state?.offset : nil)
        // The top does not answer: draw the highest server that does under it, with its
        // replicas (the origin among them).
        if top.state == nil {
            await visit(highestReachable.endpoint, state: highestReachable.state, problem: nil, depth: 1,
                        lastFlags: [true, true], listed: nil, topOffset: nil)
        }
        // The origin was not reached from the top (its master does not list it yet): add it.
        if !nodes.contains(where: \.isOrigin) {
            await visit(origin.endpoint, state: originState, problem: nil, depth: 0, lastFlags: [true], listed: nil, topOffset: nil)
        }
        return nodes
    }
}
