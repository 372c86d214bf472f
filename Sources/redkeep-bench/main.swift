import NIOCore
import NIOPosix

// Run Swift tasks on NIO's event loops: a reply then resumes its caller on the thread
// that read it, with no hop to another thread pool (redkeep itself does the same).
NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
await RedkeepBench.main()
