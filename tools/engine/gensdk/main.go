// Command waba-gensdk writes a Pulumi package's Node.js or Go SDK from its schema.json.
//
//	waba-gensdk -lang nodejs -schema provider/waba_webhooks/plugin/schema.json -out sdk/nodejs
//	waba-gensdk -lang go -schema provider/waba_webhooks/plugin/schema.json -out sdk/go
//
// `pulumi package gen-sdk` would ask the language host for this (its GeneratePackage call), and
// upstream's Node.js and Go hosts are not available here (tools/engine/nodehost and gohost are our
// own, and run programs only). The generators themselves are Go libraries, pkg/v3/codegen/nodejs
// and pkg/v3/codegen/go, of the same pkg/v3 version as the test engine's CLI: this program binds
// the schema with pkg/v3/codegen/schema and hands the bound package to one, as the language host
// would.
//
// Upstream's Go generator writes a go.mod only for packages that support `pulumi package pack`;
// for ours it writes the package (under the last element of the schema's language.go
// importBasePath) and pulumi-plugin.json. This program adds a go.mod at the root: the schema's
// language.go modulePath, requiring github.com/pulumi/pulumi/sdk/v3 at the CLI's version. Its
// go.sum, and the rest of its requirements, are `go mod tidy`'s (tools/gen-sdk runs it).
//
// The schema must be self-contained (no other package's types): any package reference fails.
// The output directory must be empty or absent; tools/gen-sdk generates into a new directory and
// swaps it in, so files the generator no longer writes disappear.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	"golang.org/x/mod/modfile"
)

// tool names the generator in the header of every file it writes.
const tool = "tools/gen-sdk"

// pulumiSDK is the Go module of Pulumi's Go SDK, which a generated Go SDK requires.
const pulumiSDK = "github.com/pulumi/pulumi/sdk/v3"

// goDirective is the go.mod `go` line written for the Go SDK; `go mod tidy` raises it to what
// its requirements need.
const goDirective = "1.25"

// generators are the languages this program writes an SDK in.
var generators = map[string]func(*schema.Package, schema.ReferenceLoader) (map[string][]byte, error){
	"nodejs": func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error) {
		return nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
	},
	"go": generateGo,
}

func main() {
	lang := flag.String("lang", "nodejs", "the SDK's language: nodejs or go")
	schemaPath := flag.String("schema", "", "the package's schema.json")
	outDir := flag.String("out", "", "the directory to write the SDK into (empty or absent)")
	flag.Parse()
	generator, known := generators[*lang]
	if *schemaPath == "" || *outDir == "" || flag.NArg() != 0 || !known {
		fmt.Fprintln(os.Stderr, "usage: waba-gensdk [-lang nodejs|go] -schema SCHEMA.json -out DIR")
		os.Exit(2)
	}
	n, err := generate(*schemaPath, *outDir, generator)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waba-gensdk: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "waba-gensdk: wrote %d files to %s\n", n, *outDir)
}

func generate(schemaPath, outDir string,
	generator func(*schema.Package, schema.ReferenceLoader) (map[string][]byte, error),
) (int, error) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return 0, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return 0, fmt.Errorf("%s: %w", schemaPath, err)
	}
	if entries, err := os.ReadDir(outDir); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("%s is not empty", outDir)
	}

	loader := noPackages{}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	for _, d := range diags {
		fmt.Fprintf(os.Stderr, "%s: %s\n", schemaPath, d.Error())
	}
	if err != nil {
		return 0, fmt.Errorf("binding %s: %w", schemaPath, err)
	}
	if diags.HasErrors() {
		return 0, fmt.Errorf("%s does not bind (see above)", schemaPath)
	}

	files, err := generator(pkg, loader)
	if err != nil {
		return 0, fmt.Errorf("generating the SDK: %w", err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(outDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// generateGo is upstream's Go SDK of the package, with a go.mod at its root (see the package
// comment).
func generateGo(pkg *schema.Package, _ schema.ReferenceLoader) (map[string][]byte, error) {
	files, err := gogen.GeneratePackage(tool, pkg, nil)
	if err != nil {
		return nil, err
	}
	if _, ok := files["go.mod"]; ok {
		return files, nil // a packable package: upstream wrote it
	}
	info, _ := pkg.Language["go"].(gogen.GoPackageInfo) // bound by GeneratePackage
	if info.ModulePath == "" {
		return nil, errors.New("the schema's language.go has no modulePath (the Go SDK's go.mod names it)")
	}
	if version.Version == "" {
		return nil, errors.New("this waba-gensdk has no version stamped (tools/install-engine sets it " +
			"to the CLI's, which the Go SDK's go.mod requires of " + pulumiSDK + ")")
	}
	var mod modfile.File
	for _, step := range []error{
		mod.AddModuleStmt(info.ModulePath),
		mod.AddGoStmt(goDirective),
		mod.AddRequire(pulumiSDK, version.Version),
	} {
		if step != nil {
			return nil, fmt.Errorf("writing go.mod: %w", step)
		}
	}
	if files["go.mod"], err = mod.Format(); err != nil {
		return nil, fmt.Errorf("writing go.mod: %w", err)
	}
	return files, nil
}

// noPackages is the schema loader of a self-contained schema: it knows no other package.
type noPackages struct{}

var errNoPackages = errors.New("this schema may not refer to other packages (waba-gensdk loads none)")

func (noPackages) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: %w", name, errNoPackages)
}

func (noPackages) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: %w", d.Name, errNoPackages)
}

func (noPackages) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: %w", name, errNoPackages)
}

func (noPackages) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: %w", d.Name, errNoPackages)
}
