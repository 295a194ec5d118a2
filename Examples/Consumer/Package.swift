// swift-tools-version: 6.0
//
// A tiny package that depends on ConvEngine by path, as any other package would by URL: it proves that
// the library builds and links as a dependency. Build and run it from the repository root with
// `make consumer` (scratch path Examples/Consumer/.build-consumer).
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        // From another repository (no release is tagged yet, so a branch):
        // .package(url: "https://github.com/<owner>/ConvEngine", branch: "main")
        .package(name: "ConvEngine", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [.product(name: "ConvEngine", package: "ConvEngine")],
            path: "Sources/Consumer"
        ),
    ],
    swiftLanguageModes: [.v6]
)
