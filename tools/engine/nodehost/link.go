package main

// `pulumi package add` for a Node.js program, as upstream's Node.js host does it at the engine's
// version: the engine asks GeneratePackage for the SDK (upstream's generator, pkg/v3/codegen/nodejs,
// of the CLI's version; a local SDK, whose package.json compiles it when it is installed), copies it
// to the program's sdks/<name>, asks Link to make it a dependency of the program, then
// InstallDependencies (main.go) to install it. Link, with upstream's npm package, writes the SDK
// as a `file:` dependency into package.json with the program's package manager (for npm, also
// into `allowScripts`, so that its install script runs) and answers the import line to print.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"waba-webhooks/tools/engine/sdkgen"
)

// GeneratePackage writes the Node.js SDK of the request's schema into the request's folder, local
// (built from its TypeScript when installed) when the request says so, as `pulumi package add` does.
func (h *nodeHost) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return sdkgen.GeneratePackage(req, func(pkg *schema.Package, extraFiles map[string][]byte,
		loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return codegen.GeneratePackage("pulumi-language-nodejs", pkg, extraFiles,
			req.GetLocalDependencies(), req.GetLocal(), loader)
	})
}

// Link adds each of the request's SDK folders (relative to the program) to the program's
// package.json under its npm name (the schema's language.nodejs.packageName, else @pulumi/<name>),
// and answers how to import them: `import * as` for TypeScript (the `typescript` option, a
// `tsconfig` option or a tsconfig.json at or above the program) or a package of type module,
// `require` otherwise.
func (h *nodeHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return nil, err
	}
	loader, closeLoader, err := sdkgen.Loader(req)
	if err != nil {
		return nil, err
	}
	defer closeLoader()
	pm, err := npm.ResolvePackageManager(opts.packagemanager, info.GetProgramDirectory())
	if err != nil {
		return nil, err
	}

	isTypeScript := opts.typescript || opts.tsconfig != ""
	if !isTypeScript {
		if _, err := fsutil.Searchup(info.GetProgramDirectory(), "tsconfig.json"); err == nil {
			isTypeScript = true
		}
	}
	moduleSyntax := isTypeScript || isModulePackage(info.GetProgramDirectory())

	var imports strings.Builder
	for _, dep := range req.GetPackages() {
		pkg, ref, err := sdkgen.Linked(ctx, loader, dep.GetPackage(), "nodejs", codegen.Importer)
		if err != nil {
			return nil, err
		}
		name := npmName(pkg)
		if err := pm.Link(ctx, info.GetProgramDirectory(), name, dep.GetPath()); err != nil {
			return nil, err
		}
		importName := cgstrings.Camel(ref.Name())
		if moduleSyntax {
			fmt.Fprintf(&imports, "  import * as %s from \"%s\";\n", importName, name)
		} else {
			fmt.Fprintf(&imports, "  const %s = require(\"%s\");\n", importName, name)
		}
	}
	instructions := "You can import the SDK in your JavaScript code with:\n\n"
	if isTypeScript {
		instructions = "You can import the SDK in your TypeScript code with:\n\n"
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions + imports.String()}, nil
}

// isModulePackage tells whether the package.json at or above dir says `"type": "module"`.
func isModulePackage(dir string) bool {
	manifest, err := npm.SearchupPackageManifest(dir)
	if err != nil {
		return false
	}
	data, _, err := npm.ReadPackageManifest(filepath.Dir(manifest))
	if err != nil {
		return false
	}
	kind, _ := data["type"].(string)
	return kind == "module"
}

// npmName is the name the package's Node.js SDK has on npm.
func npmName(pkg *schema.Package) string {
	if info, ok := pkg.Language["nodejs"].(codegen.NodePackageInfo); ok && info.PackageName != "" {
		return info.PackageName
	}
	if pkg.Namespace != "" {
		return "@" + pkg.Namespace + "/" + pkg.Name
	}
	return "@pulumi/" + pkg.Name
}
