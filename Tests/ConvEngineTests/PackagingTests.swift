// Packaging: the license, the changelog and the version agree, and the example consumer package depends on
// this one the way another package would. (`make consumer`, a stage of `make test`, builds and runs it.)
import ConvEngine
import Foundation
import Testing

@Suite("packaging")
struct PackagingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("the version is major.minor.patch and is the changelog's latest release")
    func versionMatchesChangelog() throws {
        #expect(LibraryVersion.string == "\(LibraryVersion.major).\(LibraryVersion.minor).\(LibraryVersion.patch)")
        let changelog = try Self.text("CHANGELOG.md")
        let releases = changelog.split(separator: "\n").filter { $0.hasPrefix("## ") && !$0.contains("Unreleased") }
        let latest = try #require(releases.first)
        #expect(latest.hasPrefix("## \(LibraryVersion.string) - "), "\(latest)")
        let date = latest.split(separator: " ").last.map(String.init) ?? ""
        #expect(date.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil, "release date \(date)")
    }

    @Test("LICENSE is the full Apache License 2.0")
    func license() throws {
        let license = try Self.text("LICENSE")
        for phrase in ["Apache License", "Version 2.0, January 2004", "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
                       "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"] {
            #expect(license.contains(phrase), "LICENSE lacks \(phrase)")
        }
        #expect(license.count > 11_000)
    }

    @Test("the library target depends only on CBLAS; tools and the demo are separate targets")
    func libraryDependencies() throws {
        let manifest = try Self.text("Package.swift")
        #expect(manifest.contains(#".library(name: "ConvEngine", targets: ["ConvEngine"])"#))
        let target = try #require(manifest.range(of: #"name: "ConvEngine",\s*dependencies: \[([^\]]*)\]"#,
                                                 options: .regularExpression))
        let dependencies = manifest[target]
        #expect(dependencies.contains(#""CBLAS""#))
        for other in ["ArgumentParser", "ConvDemoKit", "swift-docc-plugin"] {
            #expect(!dependencies.contains(other), "the library must not depend on \(other)")
        }
        #expect(!manifest.contains("unsafeFlags("), "packages with unsafe flags cannot be dependencies")
    }

    @Test("the example consumer depends on ConvEngine by path and calls it")
    func consumerPackage() throws {
        let manifest = try Self.text("Examples/Consumer/Package.swift")
        #expect(manifest.contains(#"path: "../..""#))
        #expect(manifest.contains(#".product(name: "ConvEngine", package: "ConvEngine")"#))
        let main = try Self.text("Examples/Consumer/Sources/Consumer/main.swift")
        #expect(main.contains("import ConvEngine"))
        #expect(main.contains("engine.forward("))
        let makefile = try Self.text("Makefile")
        for target in ["demo:", "docs:", "consumer:", "Examples/Consumer", ".build-consumer"] {
            #expect(makefile.contains(target), "Makefile lacks \(target)")
        }
    }

    @Test("the documentation catalog has its landing page and both articles")
    func documentationCatalog() throws {
        let landing = try Self.text("Sources/ConvEngine/ConvEngine.docc/ConvEngine.md")
        #expect(landing.hasPrefix("# ``ConvEngine``"))
        for article in ["GettingStarted", "TheMathAndTheLowering"] {
            #expect(landing.contains("<doc:\(article)>"))
            #expect(FileManager.default.fileExists(
                atPath: Self.root.appendingPathComponent("Sources/ConvEngine/ConvEngine.docc/\(article).md").path))
        }
    }
}
