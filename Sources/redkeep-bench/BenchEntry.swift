import NIOCore
import NIOPosix

@main
enum BenchEntry {
    static func main() async {
        // Run Swift tasks on NIO's event loops: a reply then resumes its caller on the
        // thread that read it, with no hop to another thread pool.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await RedkeepBench.main(nil)
    }
}
