import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings that keep a long-running bot small. Looked up with `dlsym`, so on
/// other C libraries (musl, Darwin) every call is a no-op.
public enum MallocTuning {
    #if canImport(Glibc)
    private typealias MalloptFunction = @convention(c) (Int32, Int32) -> Int32
    private typealias MallocTrimFunction = @convention(c) (Int) -> Int32

    /// `M_ARENA_MAX` from `<malloc.h>`.
    private static let arenaMaxParameter: Int32 = -8

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let sym = dlsym(handle, name) else { return nil }
        return unsafeBitCast(sym, to: type)
    }
    #endif

    /// Caps the number of malloc arenas. glibc gives each thread that allocates its own arena
    /// (up to 8 per core), and every arena keeps freed memory of its own; a bot whose work
    /// hops between the cooperative pool, the HTTP thread and database threads needs few.
    /// Call it first thing in `main`, before other threads start.
    /// - Returns: whether the setting was applied.
    @discardableResult
    public static func limitArenas(_ count: Int32) -> Bool {
        #if canImport(Glibc)
        guard let mallopt = symbol("mallopt", as: MalloptFunction.self) else { return false }
        return mallopt(arenaMaxParameter, count) == 1
        #else
        return false
        #endif
    }

    /// Gives freed heap memory back to the system (`malloc_trim(0)`), in every arena.
    /// - Returns: whether any memory was released.
    @discardableResult
    public static func trim() -> Bool {
        #if canImport(Glibc)
        guard let trim = symbol("malloc_trim", as: MallocTrimFunction.self) else { return false }
        return trim(0) == 1
        #else
        return false
        #endif
    }
}
