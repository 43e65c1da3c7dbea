package main

// The packages a Node.js program needs, as upstream's Node.js host finds them: every package.json
// under a node_modules folder below the program's folder (following links, once per folder, and
// skipping policy packs) whose `pulumi` section says `resource: true` names a provider plugin:
// its `name` (else the package's unscoped name, for @pulumi/ packages), its `version` (else the
// package's) and its `server`, where the engine downloads it from.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"waba-webhooks/tools/engine/hostkit"
)

// packageJSON is what a package.json says about a plugin.
type packageJSON struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

// GetRequiredPackages lists the provider plugins of the packages in the program's node_modules,
// for the engine to install before the program runs. As upstream's host, it answers what it
// found even when some folder or package.json could not be read (those are only logged there).
func (h *nodeHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := packagesIn(req.GetInfo().GetProgramDirectory(), false, map[string]bool{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: while looking for plugins: %v\n", err)
	}
	if packages == nil {
		packages = []*pulumirpc.PackageDependency{}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// packagesIn walks dir; inNodeModules says whether dir is inside a node_modules folder.
func packagesIn(dir string, inNodeModules bool, visited map[string]bool) ([]*pulumirpc.PackageDependency, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if visited[dir] {
		return nil, nil
	}
	visited[dir] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	var errs []error
	for _, entry := range entries {
		path := filepath.Join(dir, entry.Name())
		isDir := entry.IsDir()
		if entry.Type()&os.ModeSymlink != 0 {
			if path, err = filepath.EvalSymlinks(path); err != nil {
				errs = append(errs, err)
				continue
			}
			info, err := os.Stat(path)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			isDir = info.IsDir()
		}
		switch {
		case isDir:
			// A policy pack's plugins are not the program's.
			if pack, err := workspace.DetectPolicyPackPathAt(path); err != nil || pack != "" {
				if err != nil {
					errs = append(errs, err)
				}
				continue
			}
			more, err := packagesIn(path, inNodeModules || filepath.Base(dir) == "node_modules", visited)
			if err != nil {
				errs = append(errs, err)
			}
			packages = append(packages, more...)
		case inNodeModules && entry.Name() == "package.json":
			pkg, err := requiredPackage(path)
			if err != nil {
				errs = append(errs, err)
			} else if pkg != nil {
				packages = append(packages, pkg)
			}
		}
	}
	return packages, errors.Join(errs...)
}

// requiredPackage is the plugin the package.json at path names, or nil when it names none.
func requiredPackage(path string) (*pulumirpc.PackageDependency, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var info packageJSON
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !info.Pulumi.Resource {
		return nil, nil
	}
	name := info.Pulumi.Name
	if name == "" {
		unscoped, ok := strings.CutPrefix(info.Name, "@pulumi/")
		if !ok {
			return nil, fmt.Errorf("%s: a package outside @pulumi/ must name its plugin "+
				"(the `name` of its `pulumi` section)", path)
		}
		name = unscoped
	}
	version := info.Pulumi.Version
	if version == "" {
		version = info.Version
	}
	if version == "" {
		return nil, fmt.Errorf("%s: no version", path)
	}
	return hostkit.ResourcePackage(name, version, info.Pulumi.Server), nil
}
