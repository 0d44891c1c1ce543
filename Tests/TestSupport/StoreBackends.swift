import Foundation
import Logging
import Testing
import KafkaMock
import LocalFleet
import SwitchboardStore
import TestKit

/// The two store backends the conformance suite runs against.
public enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }
}

extension ThrowawayPostgres {
    /// The server of the enclosing ``UsesPostgres`` scope.
    @TaskLocal public static var current: ThrowawayPostgres?
}

/// Starts one throwaway PostgreSQL for the suite (or the single test) it marks and removes it afterwards.
public struct UsesPostgres: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await ThrowawayPostgres()
        defer { server.destroy() }
        try await ThrowawayPostgres.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == UsesPostgres {
    /// A throwaway PostgreSQL server for this suite (see ``ThrowawayPostgres``).
    public static var usesPostgres: UsesPostgres { UsesPostgres() }
}

/// A fresh, empty database location on `backend`.
public func freshDatabaseURL(_ backend: StoreBackend) throws -> DatabaseURL {
    switch backend {
    case .sqlite:
        return .sqlite(path: NSTemporaryDirectory() + "switchboard-test-\(UUID().uuidString.prefix(8)).sqlite")
    case .postgres:
        guard let server = ThrowawayPostgres.current else {
            throw ThrowawayPostgres.Unavailable(description: "no PostgreSQL in scope")
        }
        return try DatabaseURL(try server.createDatabase("t\(UUID().uuidString.prefix(8).lowercased())"))
    }
}

/// Runs `body` with a migrated store on a fresh database of `backend`.
public func withFreshStore<T: Sendable>(_ backend: StoreBackend, _ body: @Sendable (Store) async throws -> T)
    async throws -> T
{
    try await Store.withStore(try freshDatabaseURL(backend), logger: Logger(label: "test-store"), body)
}
