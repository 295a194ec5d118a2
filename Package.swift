// swift-tools-version: 6.0
//
// ConvEngine: 2-D convolution on the CPU, lowered to GEMM (OpenBLAS).
//
// The library target depends on nothing but the `CBLAS` system library (OpenBLAS found through
// pkg-config, `apt-get install libopenblas-dev pkg-config` on Debian/Ubuntu) and the standard
// library/Foundation, and passes no unsafe compiler flags, so other packages can depend on it.
// Executables (the benchmark) may use swift-argument-parser.
import PackageDescription

let package = Package(
    name: "ConvEngine",
    products: [
        .library(name: "ConvEngine", targets: ["ConvEngine"]),
        // NumPy `.npy` and `.npz` reading and writing (NPYArray, NPZArchive) and gzip, on top of the core library.
        .library(name: "ConvEngineNPY", targets: ["ConvEngineNPY"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Only for `make docs` (swift package generate-documentation); the library does not use it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(
            name: "ConvEngine",
            dependencies: ["CBLAS"],
            path: "Sources/ConvEngine"
        ),
        // zlib (found through pkg-config, `apt-get install zlib1g-dev`), for `.npz` and gzip in ConvEngineNPY
        // only: the core library does not depend on it.
        .systemLibrary(
            name: "CZlib",
            path: "Sources/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // `.npy`, `.npz` and gzip IO: depends on the core library for `ConvScalar` only, on Foundation and on zlib.
        .target(
            name: "ConvEngineNPY",
            dependencies: ["ConvEngine", "CZlib"],
            path: "Sources/ConvEngineNPY"
        ),
        .executableTarget(
            name: "convbench",
            dependencies: [
                "ConvEngine",
                "BenchChart",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ConvBench"
        ),
        // The SVG charts of `make bench` and `make compare` (a library so that ConvToolsTests can check them).
        .target(
            name: "BenchChart",
            path: "Benchmarks/Chart"
        ),
        // `convchart`: draws `make compare`'s chart from compare.py's merged JSON.
        .executableTarget(
            name: "convchart",
            dependencies: [
                "BenchChart",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/ConvChart"
        ),
        // `convmemcheck`: resident memory over 10,000 forward+backward calls, in its own process (`make test`).
        .executableTarget(
            name: "convmemcheck",
            dependencies: ["ConvEngine"],
            path: "Sources/ConvMemoryCheck"
        ),
        // `conv`: forward, backward and check on .npy files (see `conv --help`).
        .executableTarget(
            name: "conv",
            dependencies: [
                "ConvEngine",
                "ConvEngineNPY",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/conv"
        ),
        // The training example (`make demo`): its loop lives in ConvDemoKit so DemoTests can run it too.
        // Neither is part of the library product.
        .target(
            name: "ConvDemoKit",
            dependencies: ["ConvEngine"],
            path: "Sources/ConvDemoKit"
        ),
        .executableTarget(
            name: "demo",
            dependencies: [
                "ConvDemoKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/ConvDemo"
        ),
        // The Fashion-MNIST training example (`make train`): data, pooling, linear layer, loss, network and
        // trainer in FashionMNISTKit so FashionMNISTTests can run them; neither is part of a library product.
        .target(
            name: "FashionMNISTKit",
            dependencies: ["ConvEngine", "ConvEngineNPY"],
            path: "Sources/FashionMNISTKit"
        ),
        .executableTarget(
            name: "fashion-mnist",
            dependencies: [
                "FashionMNISTKit",
                "ConvEngine",
                "ConvEngineNPY",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/FashionMNIST"
        ),
        .testTarget(
            name: "FashionMNISTTests",
            dependencies: ["FashionMNISTKit", "ConvEngine", "ConvEngineNPY"],
            path: "Tests/FashionMNISTTests",
            exclude: ["Traces"]  // the committed PyTorch loss trace (Traces/README.md says how to regenerate it)
        ),
        .testTarget(
            name: "ConvEngineTests",
            dependencies: ["ConvEngine", "ConvEngineNPY"],
            path: "Tests/ConvEngineTests",
            exclude: ["Golden"]
        ),
        // `.npy` IO (reads the golden files in Tests/ConvEngineTests/Golden).
        .testTarget(
            name: "ConvEngineNPYTests",
            dependencies: ["ConvEngine", "ConvEngineNPY"],
            path: "Tests/ConvEngineNPYTests",
            // Archives: zip files given to the .npy reader by mistake (Archives/make_archives.py);
            // Compressed: numpy.savez / savez_compressed archives and gzip files (Compressed/make_compressed.py).
            exclude: ["Archives", "Compressed"]
        ),
        // The tools: `conv`, `demo`, `convbench` and `convchart` run as subprocesses (found next to the test
        // bundle, which every test target shares), the training example's loop (ConvDemoKit) and the charts.
        .testTarget(
            name: "ConvToolsTests",
            dependencies: ["ConvEngine", "ConvEngineNPY", "ConvDemoKit", "BenchChart"],
            path: "Tests/ConvToolsTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
