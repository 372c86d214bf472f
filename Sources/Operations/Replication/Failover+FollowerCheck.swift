import RedisClient

extension Failover {
    /// Refuses, before anything is changed, a failover after which a server told to follow
    /// `newMaster` could not: the new master needs a password and the follower has no
    /// `masterauth` (or one that is not the password redkeep itself logs in with), or the
    /// new master is reached over TLS and the follower has `tls-replication no`.
    ///
    /// Without this check the failover would run every step, then wait out its whole
    /// `--timeout` for a link that can never come up, and undo everything: a demoted
    /// master without `masterauth` is the usual case, since a master needs none until it
    /// is demoted. A follower whose CONFIG GET is refused (renamed, ACL) is not refused:
    /// the returned notes say it could not be checked.
    static func checkFollowersCanFollow(_ newMaster: ReplicationServer, followers: [ReplicationServer],
                                        pool: Connections) async throws(ReplicationError) -> [String] {
        let password = newMaster.configuration.password
        let usesTLS = newMaster.configuration.tls != nil
        guard password != nil || usesTLS else { return [] }
        var notes: [String] = []
        for follower in followers {
            let settings: [String: String]
            do {
                settings = try await pool.on(follower, "CONFIG GET masterauth masteruser tls-replication", limit: .seconds(2)) {
                    var found = try await $0.configGet("master*")
                    found.merge(try await $0.configGet("tls-replication")) { first, _ in first }
                    return found
                }
            } catch let error as ReplicationError {
                throw error
            } catch {
                notes.append("could not check that \(follower.label) can log in to \(newMaster.label) (CONFIG GET: \(error)); if its link does not come up, set its masterauth/tls-replication")
                continue
            }
            if let password {
                let masterauth = settings["masterauth"] ?? ""
                guard !masterauth.isEmpty else {
                    throw ReplicationError(.unsafe, "refusing the failover: \(follower.label) would follow \(newMaster.label), which requires a password, but \(follower.name) has no masterauth, so its link could never come up (nothing was changed; CONFIG SET masterauth on \(follower.name) first)", server: follower.label)
                }
                let masteruser = settings["masteruser"] ?? ""
                let ownUser = newMaster.configuration.username ?? ""
                let sameUser = masteruser == ownUser || (masteruser.isEmpty && ownUser == "default")
                if sameUser && masterauth != password.revealed {
                    throw ReplicationError(.unsafe, "refusing the failover: \(follower.label)'s masterauth is not the password redkeep uses for \(newMaster.label)\(ownUser.isEmpty ? "" : " (user \(ownUser))"), so its link could never come up (nothing was changed; CONFIG SET masterauth on \(follower.name) first)", server: follower.label)
                }
            }
            if usesTLS && settings["tls-replication"]?.lowercased() == "no" {
                throw ReplicationError(.unsafe, "refusing the failover: \(newMaster.label) speaks TLS but \(follower.label) has tls-replication no, so it would connect in plain text and its link could never come up (nothing was changed; CONFIG SET tls-replication yes on \(follower.name) first)", server: follower.label)
            }
        }
        return notes
    }
}
