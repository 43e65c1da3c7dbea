package main

// `pulumi package add` for a Python program, as upstream's Python host does it at the engine's
// version: the engine asks GeneratePackage for the SDK (upstream's generator, pkg/v3/codegen/python,
// of the CLI's version), copies it to the program's sdks/<name>, asks Link to make it a
// dependency of the program, then InstallDependencies (main.go) to install it. Link, with upstream's
// toolchain package, puts the SDK's folder on a line of its own in requirements.txt (replacing a
// line of the same package or path) and answers the import line to print.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"

	"waba-webhooks/tools/engine/sdkgen"
)

// GeneratePackage writes the Python SDK of the request's schema into the request's folder.
func (h *pythonHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return sdkgen.GeneratePackage(req, func(pkg *schema.Package, extraFiles map[string][]byte,
		loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return codegen.GeneratePackage("pulumi-language-python", pkg, extraFiles, loader)
	})
}

// Link adds each of the request's SDK folders (relative to the program) to the program's
// requirements.txt under its Python package name (the schema's language.python.packageName, else
// pulumi_<name>), and answers how to import them.
func (h *pythonHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	info := req.GetInfo()
	opts, err := programOptions(info)
	if err != nil {
		return nil, err
	}
	if opts.Toolchain != toolchain.Pip {
		return nil, errors.New("linking a package with toolchain uv is not supported by this language " +
			"host (use pip)")
	}
	loader, closeLoader, err := sdkgen.Loader(req)
	if err != nil {
		return nil, err
	}
	defer closeLoader()

	packages := map[string]string{} // Python package name -> SDK folder
	var imports strings.Builder
	for _, dep := range req.GetPackages() {
		if dep.GetPackage().GetName() == "pulumi" {
			packages["pulumi"] = dep.GetPath()
			continue
		}
		pkg, ref, err := sdkgen.Linked(ctx, loader, dep.GetPackage(), "python", codegen.Importer)
		if err != nil {
			return nil, err
		}
		importName := strings.ReplaceAll(ref.Name(), "-", "_")
		packageName := codegen.PyPack(ref.Namespace(), ref.Name())
		if info, ok := pkg.Language["python"].(codegen.PackageInfo); ok && info.PackageName != "" {
			importName, packageName = info.PackageName, info.PackageName
		}
		packages[packageName] = dep.GetPath()
		fmt.Fprintf(&imports, "  import %s as %s\n", packageName, importName)
	}

	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.LinkPackages(ctx, packages); err != nil {
		return nil, fmt.Errorf("linking packages: %w", err)
	}
	instructions := "You can import the SDK in your Python code with:\n\n"
	if len(req.GetPackages()) > 1 {
		instructions = "You can import the SDKs in your Python code with:\n\n"
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions + imports.String()}, nil
}
