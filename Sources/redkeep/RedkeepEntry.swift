import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Operations
import Shell

@main
enum RedkeepEntry {
    static func main() {
        // Swift tasks run on NIO's event loops, so a reply resumes its statement on the
        // thread that read it (no hop per command). The main thread is left to readline.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let arguments = Array(CommandLine.arguments.dropFirst())
        let options: CommandLineOptions
        do {
            options = try CommandLineOptions.parse(arguments)
        } catch {
            if CommandLineOptions.exitCode(for: error) == .success {
                // --generate-completion-script prints the script ArgumentParser writes.
                if arguments.contains(where: { $0.hasPrefix("--generate-completion-script") }) {
                    print(CommandLineOptions.fullMessage(for: error, columns: 100))
                } else {
                    print(CommandLineOptions.helpAbstract + "\n\n" + CommandLineOptions.helpMessage(columns: 100))
                }
                exit(0)
            }
            FileHandle.standardError.write(Data("redkeep: \(CommandLineOptions.message(for: error))\nusage: \(CommandLineOptions.usageString())\n".utf8))
            exit(1)
        }
        // The script and its arguments are captured as they are (so `redkeep s.rk --x`
        // passes --x to the script), which would also capture a mistyped option of ours.
        if let first = options.script.first, first.hasPrefix("-") {
            if first == "--help" {
                print(CommandLineOptions.helpAbstract + "\n\n" + CommandLineOptions.helpMessage(columns: 100))
                exit(0)
            }
            FileHandle.standardError.write(Data("redkeep: Unknown option '\(first)'\nusage: \(CommandLineOptions.usageString())\n".utf8))
            exit(1)
        }
        if options.version {
            print("redkeep \(CommandLineOptions.version)")
            exit(0)
        }
        if options.password != nil {
            // As redis-cli warns; the argument is then blanked so ps shows it no longer.
            FileHandle.standardError.write(Data("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n".utf8))
            CommandLinePassword.scrub()
        }
        exit(Session(options).run())
    }
}
