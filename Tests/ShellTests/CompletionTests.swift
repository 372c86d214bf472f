import Testing

@testable import Shell

@Suite struct CompletionTests {
    let snapshot = CompletionSnapshot(connections: ["master", "replica"], redisCommands: ["get", "getrange", "set"])

    @Test func firstWordOffersRedkeepWordsAndRedisCommands() {
        #expect(snapshot.candidates(before: "", word: "con") == ["connect", "connections"])
        #expect(snapshot.candidates(before: "", word: "ge") == ["get", "getrange"])
        #expect(snapshot.candidates(before: "", word: "GE") == ["GET", "GETRANGE"])
    }

    @Test func connectionNames() {
        #expect(snapshot.candidates(before: "use ", word: "") == ["master", "replica"])
        #expect(snapshot.candidates(before: "crash ", word: "re") == ["replica"])
        #expect(snapshot.candidates(before: "", word: "@m") == ["@master"])
    }

    @Test func optionsOfTheCommand() {
        let options = snapshot.candidates(before: "start r1 ", word: "--a")
        #expect(options == ["--aof", "--aof-timestamps"])
        #expect(snapshot.candidates(before: "wait-until $x == 1 ", word: "--t") == ["--timeout"])
    }
}
