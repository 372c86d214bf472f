/// Help for the statements the evaluator handles itself (their syntax is not options).
enum LanguageHelp {
    static let entries: [CommandEntry] = [
        .syntax("let", "let NAME = STATEMENT | let NAME = WORD",
                "Keep a value in a variable.",
                """
                let n = INCR counter        keeps the reply; $n, ${n} give it back
                let info = INFO replication  INFO becomes a map: ${info.role}
                let key = user:42           a single word is kept as text
                let t = redis TIME          a one-word Redis command runs with redis
                let r = pipeline { ... }    a block statement's value
                ${name.field} and ${name[0]} reach into maps and arrays (0-based, negative from the end).
                """),
        .syntax("if", "if EXPR { ... } [else if EXPR { ... }] [else { ... }]",
                "Run a block when a condition holds.",
                """
                Conditions: A == B, !=, <, <=, >, >= (as numbers when both are numbers), A contains B,
                A matches GLOB, exists NAME, not E, E and E, E or E, ( E ). A lone value is true unless
                it is nil, empty, 0, false or no.
                """),
        .syntax("repeat", "repeat N { ... }", "Run a block N times.", "N may be a variable: repeat $count { INCR hits }"),
        .syntax("for", "for NAME in WORD... { ... }", "Run a block once per word.",
                "An array substituted whole gives one round per element: for k in $(KEYS user:*) { DEL $k }"),
        .syntax("assert", "assert EXPR [MESSAGE]", "Stop the script (exit 3) when a condition does not hold.",
                "The error names the file, line and column and shows the operands' values."),
        .syntax("wait-until", "wait-until EXPR [--timeout 10s] [--every 50ms]",
                "Wait until a condition holds, checking it again and again.",
                "Fails (exit 3) when the timeout (1ms to 7d) passes with the condition still false; it bounds the whole wait, a blocking condition included. --every is 1ms to 1h.",
                options: ["--timeout", "--every"]),
        .syntax("pipeline", "pipeline { ... }", "Send every command of the block in one write, then read every reply.",
                "The value is the array of replies, error replies in their places. Variables cannot hold replies inside the block (they are not known until it ends)."),
        .syntax("multi", "multi { ... }", "MULTI, the block's commands (each answered QUEUED), EXEC.",
                "The value is EXEC's reply. MULTI typed without a block goes to Redis as it is, and the prompt shows (TX)."),
        .syntax("transaction", "transaction --watch KEY... [--retries N] [--timeout 10s] { ... }",
                "WATCH keys, run the body, and run it again while a watched key changes before EXEC.",
                """
                The body reads and decides; its multi { } block writes. When EXEC is aborted because a watched
                key changed, the whole body runs again (up to --retries, default 100, within --timeout).
                abort "why" gives up cleanly. The value is a report: status (committed or aborted), attempts,
                result or reason. Running out of retries is an error (exit 3).
                """, options: ["--watch", "--retries", "--timeout"]),
        .syntax("abort", "abort [WHY]", "Give up the enclosing transaction cleanly (UNWATCH).", "Its report says status aborted and the reason."),
        .syntax("exit", "exit [CODE]", "End the script (or the prompt) with an exit code (default 0).",
                "CODE goes from 0 to 255 (a process exits with only the low 8 bits of its code)."),
        .syntax("redis", "redis CMD [ARG...]", "Send a Redis command whose name a redkeep word shadows.",
                "redis SAVE, redis ECHO hi, redis FAILOVER. Any other command needs no prefix."),
        .syntax("@NAME", "@NAME STATEMENT", "Send a statement to the connection NAME instead of the current one.",
                "@replica GET k, @master INFO replication."),
    ]
}
