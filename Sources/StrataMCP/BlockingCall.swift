import Dispatch
import StrataCore

/// Runs a blocking engine call on a Dispatch thread and awaits it, so the cooperative pool's
/// few threads (two on a two-core machine) keep serving the transport while a recall embeds
/// and searches. `strata mcp` uses it; `strata serve` runs its calls on its own bounded queue.
public enum BlockingCall {
    private static let queue = DispatchQueue(label: "strata.mcp.engine", attributes: .concurrent)

    /// Runs `body` on a Dispatch thread; its error is rethrown as it was.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws(StrataError) -> T) async throws(StrataError) -> T {
        let result: Result<T, StrataError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(StrataError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}
