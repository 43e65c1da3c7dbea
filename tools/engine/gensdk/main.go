// Command waba-gensdk writes a Pulumi package's Node.js SDK from its schema.json.
//
//	waba-gensdk -schema provider/waba_webhooks/plugin/schema.json -out sdk/nodejs
//
// `pulumi package gen-sdk` would ask the language host for this (its GeneratePackage call), and
// upstream's Node.js host is not available here (tools/engine/nodehost is our own, and runs
// programs only). The generator itself is a Go library, pkg/v3/codegen/nodejs, of the same
// pkg/v3 version as the test engine's CLI: this program binds the schema with pkg/v3/codegen/schema
// and hands the bound package to it, as the language host would.
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
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// tool names the generator in the header of every file it writes.
const tool = "tools/gen-sdk"

func main() {
	schemaPath := flag.String("schema", "", "the package's schema.json")
	outDir := flag.String("out", "", "the directory to write the Node.js SDK into (empty or absent)")
	flag.Parse()
	if *schemaPath == "" || *outDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: waba-gensdk -schema SCHEMA.json -out DIR")
		os.Exit(2)
	}
	n, err := generate(*schemaPath, *outDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "waba-gensdk: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "waba-gensdk: wrote %d files to %s\n", n, *outDir)
}

func generate(schemaPath, outDir string) (int, error) {
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

	files, err := nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
	if err != nil {
		return 0, fmt.Errorf("generating the Node.js SDK: %w", err)
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
