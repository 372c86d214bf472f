import Operations
import RESP
import Testing

@testable import Shell

/// `chunk start|run --upload-priority`: refused where there is no upload to lower (a
/// folder archive, a --replica collector) or for an unknown value, before anything
/// connects; explained by `help`; and shown by `chunk status` with why it could not be set.
/// `--spool` and `--s3-endpoint` are refused with a folder archive the same way.
@Suite struct ChunkUploadPriorityTests {
    @Test func refusedWithoutAnUploadOrWithAnUnknownValue() async {
        for action in ["start", "run"] {
            let folder = await runScript("chunk \(action) --archive /tmp/redkeep-nowhere --upload-priority idle")
            #expect(folder.outcome.exitCode == 1, "\(folder.err)")
            #expect(folder.err.contains("--upload-priority is for an s3:// archive, whose chunks are uploaded from a spool; the archive /tmp/redkeep-nowhere is a folder"), "\(folder.err)")
            let replica = await runScript("chunk \(action) --archive s3://bucket/p/ --replica --upload-priority low")
            #expect(replica.outcome.exitCode == 1)
            #expect(replica.err.contains("a --replica collector writes to the archive itself"), "\(replica.err)")
            let unknown = await runScript("chunk \(action) --archive s3://bucket/p/ --upload-priority lowest")
            #expect(unknown.outcome.exitCode == 1)
            #expect(unknown.err.contains("--upload-priority takes normal, low or idle, not \"lowest\""), "\(unknown.err)")
        }
    }

    @Test func theS3OnlyOptionsAreRefusedWithAFolderArchive() async {
        for action in ["start", "run"] {
            for option in ["--spool /tmp/redkeep-spool-nowhere", "--s3-endpoint http://127.0.0.1:1"] {
                let folder = await runScript("chunk \(action) --archive /tmp/redkeep-nowhere \(option)")
                #expect(folder.outcome.exitCode == 1, "\(folder.err)")
                let name = option.split(separator: " ")[0]
                #expect(folder.err.contains("\(name) is for an s3:// archive; the archive /tmp/redkeep-nowhere is a folder"), "\(folder.err)")
            }
        }
    }

    @Test func helpExplainsIt() async {
        let help = await runScript("help chunk start")
        #expect(help.out.contains("--upload-priority") && help.out.contains("SCHED_IDLE"), "\(help.out)")
    }

    @Test func statusShowsThePriorityInEffectAndWhyNotTheOneAsked() {
        var status = CollectorStatus(name: "m", source: "127.0.0.1:6379", archive: "s3://bucket/m/")
        status.upload = ArchiveUploadStatus(spool: "/var/spool/m")
        status.upload?.priority = .idle
        let set = Interpreter.statusReport(status)
        #expect(set.field("upload_priority") == .simple("idle"))
        #expect(set.field("upload_priority_problem") == .null)

        status.upload?.priority = .normal
        status.upload?.priorityProblem = "--upload-priority idle could not be set for the upload thread: sched_setscheduler(SCHED_IDLE): Operation not permitted; shipping runs at normal priority"
        let failed = Interpreter.statusReport(status)
        #expect(failed.field("upload_priority") == .simple("normal"))
        #expect(failed.field("upload_priority_problem") == .simple(status.upload!.priorityProblem!))

        let folder = Interpreter.statusReport(CollectorStatus(name: "f", source: "127.0.0.1:6379", archive: "/archives/f"))
        #expect(folder.field("upload_priority") == nil, "a folder archive has no upload")
    }
}
