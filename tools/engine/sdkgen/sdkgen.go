// Package sdkgen is what our Python and Node.js language hosts share for `pulumi package add`
// (and `pulumi package gen-sdk`), as upstream's hosts do it at the engine's version:
// GeneratePackage binds the schema the engine sends and writes what upstream's generator for the
// language makes of it; Linked loads, through the engine's schema loader, the package a Link
// request names, so a host can tell the name its language's package manager knows it by. Each
// host adds only its generator, its package manager and its import instructions.
package sdkgen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Generator is upstream's code generator of one language: the files of the SDK of `pkg`, by
// path relative to the SDK's folder.
type Generator func(pkg *schema.Package, extraFiles map[string][]byte,
	loader schema.ReferenceLoader) (map[string][]byte, error)

// GeneratePackage answers the engine's GeneratePackage: the request's schema, bound with
// dangling references allowed and a loader that asks the engine's (the request's LoaderTarget)
// for other packages, goes through `generate`, and its files are written under the request's
// folder. A schema that does not bind comes back as diagnostics, not as an error.
func GeneratePackage(
	req *pulumirpc.GeneratePackageRequest, generate Generator,
) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(loader), schema.ValidationOptions{
		AllowDanglingReferences: true,
	})
	if err != nil {
		return nil, err
	}
	rpcDiags := plugin.HclDiagnosticsToRPCDiagnostics(diags)
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiags}, nil
	}

	files, err := generate(pkg, req.GetExtraFiles(), schema.NewCachedLoader(loader))
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("could not create output directory %s: %w", filepath.Dir(name), err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, fmt.Errorf("could not write output file %s: %w", name, err)
		}
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: rpcDiags}, nil
}

// Loader is the engine's schema loader that a Link request names (its LoaderTarget), cached;
// close it when the request is answered.
func Loader(req *pulumirpc.LinkRequest) (schema.Loader, func(), error) {
	client, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, nil, err
	}
	return schema.NewCachedLoader(client), func() { _ = client.Close() }, nil
}

// Linked is the package `dep` of a Link request (its name, version, download location and
// parameterization, as the engine describes it), loaded with `loader`, with `language`'s
// settings of its schema imported by `importer`. A version that is not semver is left out, as
// upstream's hosts do.
func Linked(ctx context.Context, loader schema.Loader, dep *pulumirpc.PackageDependency,
	language string, importer schema.Language,
) (*schema.Package, schema.PackageReference, error) {
	descriptor := &schema.PackageDescriptor{
		Name:        dep.GetName(),
		Version:     semverOrNil(dep.GetVersion()),
		DownloadURL: dep.GetServer(),
	}
	if p := dep.GetParameterization(); p != nil {
		descriptor.Parameterization = &schema.ParameterizationDescriptor{Name: p.GetName(), Value: p.GetValue()}
		if v := semverOrNil(p.GetVersion()); v != nil {
			descriptor.Parameterization.Version = *v
		}
	}
	ref, err := schema.LoadPackageReferenceV2(ctx, loader, descriptor)
	if err != nil {
		return nil, nil, err
	}
	pkg, err := ref.Definition()
	if err != nil {
		return nil, nil, err
	}
	if err := pkg.ImportLanguages(map[string]schema.Language{language: importer}); err != nil {
		return nil, nil, err
	}
	return pkg, ref, nil
}

func semverOrNil(version string) *semver.Version {
	v, err := semver.New(version)
	if err != nil {
		return nil
	}
	return v
}
