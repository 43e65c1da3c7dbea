package main

// The plugins a Go program needs, found as upstream's host finds them: each module its go.mod
// requires is located (`go list -m -json`; the vendor directory in vendor mode; `go mod download`
// for one not yet in the module cache), and a module holding a pulumi-plugin.json that says
// `"resource": true` is a provider SDK: the package it names, at the version it names (else the
// module's), is one the program needs. A generated SDK such as sdk/go holds one under its
// package directory (sdk/go/whatsapp/pulumi-plugin.json).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	goversion "go/version"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/executable"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// minGo is the oldest Go upstream's host accepts for its module commands.
const minGo = "go1.14"

// modInfo is what `go list -m -json` and `go mod download -json` both say of a module.
type modInfo struct {
	Path    string
	Version string
	Dir     string // empty when the module is not in the module cache (or vendor/)
}

// goBinary is the `go` on PATH, if it is at least minGo.
func goBinary() (string, error) {
	gobin, err := executable.FindExecutable("go")
	if err != nil {
		return "", fmt.Errorf("couldn't find go binary: %w", err)
	}
	out, err := exec.Command(gobin, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("determining go version: %w", err)
	}
	have := strings.TrimSpace(string(out))
	if goversion.Compare(have, minGo) < 0 {
		return "", fmt.Errorf("go version must be %s or higher (%s detected)",
			strings.TrimPrefix(minGo, "go"), strings.TrimPrefix(have, "go"))
	}
	return gobin, nil
}

// loadGomod finds and parses the go.mod of the module holding programDir (which may be a
// subdirectory of it), ignoring any go.work: only this one module counts.
func loadGomod(gobin, programDir string) (string, *modfile.File, error) {
	cmd := exec.Command(gobin, "list", "-m", "-f", "{{.GoMod}}")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Dir = programDir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, fmt.Errorf("go list -m: %w", err)
	}
	modPath := string(bytes.TrimSpace(out))
	if modPath == "" {
		return "", nil, fmt.Errorf("no go.mod file found: %v", programDir)
	}
	body, err := os.ReadFile(modPath)
	if err != nil {
		return "", nil, err
	}
	f, err := modfile.Parse(modPath, body, nil)
	if err != nil {
		return "", nil, fmt.Errorf("parse: %w", err)
	}
	return filepath.Dir(modPath), f, nil
}

// goModules runs `go ARGS... PATHS...` in dir and decodes the stream of JSON modules it prints.
func goModules(ctx context.Context, gobin, dir string, args, paths []string) ([]modInfo, error) {
	cmd := exec.CommandContext(ctx, gobin, append(args, paths...)...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var modules []modInfo
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var m modInfo
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode module info: %w", err)
		}
		modules = append(modules, m)
	}
	return modules, nil
}

// findModuleSources locates the source of each module path; modules it cannot locate are left
// out. In vendor mode (moduleDir/vendor exists) only vendor/ is looked at, nothing downloaded.
func findModuleSources(ctx context.Context, gobin, moduleDir string, paths []string) ([]modInfo, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	modules, err := goModules(ctx, gobin, moduleDir, []string{"list", "-m", "-json"}, paths)
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	vendor := filepath.Join(moduleDir, "vendor")
	if _, err := os.Stat(vendor); err == nil {
		for i, m := range modules {
			if m.Dir == "" {
				if _, err := os.Stat(filepath.Join(vendor, m.Path)); err == nil {
					modules[i].Dir = filepath.Join(vendor, m.Path)
				}
			}
		}
		return located(modules), nil
	}
	var missing []string
	index := map[string]int{}
	for i, m := range modules {
		index[m.Path] = i
		if m.Dir == "" {
			missing = append(missing, m.Path)
		}
	}
	if len(missing) > 0 {
		downloaded, err := goModules(ctx, gobin, moduleDir, []string{"mod", "download", "-json"}, missing)
		if err != nil {
			return nil, fmt.Errorf("go mod download: %w", err)
		}
		for _, m := range downloaded {
			if i, ok := index[m.Path]; ok && modules[i].Dir == "" {
				modules[i].Dir = m.Dir
			}
		}
	}
	return located(modules), nil
}

func located(modules []modInfo) []modInfo {
	var found []modInfo
	for _, m := range modules {
		if m.Dir != "" {
			found = append(found, m)
		}
	}
	return found
}

// pluginJSON is the module's pulumi-plugin.json, looked for where upstream looks (the module's
// root, go/, go/*/, */), or nil.
func (m modInfo) pluginJSON() (*plugin.PulumiPluginJSON, error) {
	paths := []string{filepath.Join(m.Dir, "pulumi-plugin.json"), filepath.Join(m.Dir, "go", "pulumi-plugin.json")}
	for _, pattern := range []string{filepath.Join(m.Dir, "go", "*", "pulumi-plugin.json"),
		filepath.Join(m.Dir, "*", "pulumi-plugin.json")} {
		if found, err := filepath.Glob(pattern); err == nil {
			paths = append(paths, found...)
		}
	}
	for _, path := range paths {
		found, err := plugin.LoadPulumiPluginJSON(path)
		if os.IsNotExist(err) {
			continue
		}
		return found, err
	}
	return nil, nil
}

// normalizeVersion turns a module version into a plugin version; a pseudo-version (a commit
// after a tag) stands for the release before it.
func normalizeVersion(version string) (string, error) {
	v, err := semver.ParseTolerant(version)
	if err != nil {
		return "", errors.New("module does not have semver compatible version")
	}
	if module.IsPseudoVersion(version) {
		if v.Major == 0 && v.Minor == 0 && v.Patch == 0 {
			return "", errors.New("invalid pseudoversion with no prior tag")
		}
		patch := v.Patch
		if patch > 0 {
			patch--
		}
		version = fmt.Sprintf("v%v.%v.%v", v.Major, v.Minor, patch)
	}
	return version, nil
}

// pkg is the package the module provides, or an error if it provides none.
func (m modInfo) pkg() (*pulumirpc.PackageDependency, error) {
	found, err := m.pluginJSON()
	if err != nil {
		return nil, fmt.Errorf("failed to load pulumi-plugin.json: %w", err)
	}
	if found == nil || !found.Resource {
		return nil, errors.New("module is not a pulumi provider")
	}
	name := found.Name
	if name == "" { // github.com/pulumi/pulumi-aws/sdk/... => aws
		parts := strings.Split(m.Path, "/")
		if len(parts) < 3 || !strings.Contains(parts[2], "-") {
			return nil, errors.New("no plugin name in pulumi-plugin.json or the module path")
		}
		name = strings.SplitN(parts[2], "-", 2)[1]
	}
	version := m.Version
	if found.Version != "" {
		version = found.Version
	}
	if version, err = normalizeVersion(version); err != nil {
		return nil, err
	}
	parameterization := func(p *plugin.PulumiParameterizationJSON) *pulumirpc.PackageParameterization {
		if p == nil {
			return nil
		}
		return &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return &pulumirpc.PackageDependency{
		Name: name, Version: version, Kind: "resource", Server: found.Server,
		Parameterization: parameterization(found.Parameterization),
		Extension:        parameterization(found.ExtensionParameterization),
	}, nil
}

// requiredPackages are the packages of the program's required modules. A program outside a Go
// module, or whose modules cannot be listed, needs none (upstream is as lenient).
func requiredPackages(ctx context.Context, programDir string) ([]*pulumirpc.PackageDependency, error) {
	gobin, err := goBinary()
	if err != nil {
		return nil, err
	}
	moduleDir, gomod, err := loadGomod(gobin, programDir)
	if err != nil {
		return nil, nil
	}
	paths := make([]string, 0, len(gomod.Require))
	for _, r := range gomod.Require {
		paths = append(paths, r.Mod.Path)
	}
	modules, err := findModuleSources(ctx, gobin, moduleDir, paths)
	if err != nil {
		return nil, nil
	}
	packages := []*pulumirpc.PackageDependency{}
	for _, m := range modules {
		if p, err := m.pkg(); err == nil {
			packages = append(packages, p)
		}
	}
	return packages, nil
}

func (h *goHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := requiredPackages(ctx, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// GetRequiredPlugins answers the same packages as plugins, for an engine that asks the older
// question (upstream's host answers Unimplemented, and v3.277.0's engine asks
// GetRequiredPackages first).
func (h *goHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := requiredPackages(ctx, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Version: p.GetVersion(), Kind: p.GetKind(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// GetProgramDependencies lists the go.mod's requirements (`pulumi about`): the direct ones, or
// all with TransitiveDependencies; a module replaced by another has no version of its own.
func (h *goHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	gobin, err := goBinary()
	if err != nil {
		return nil, err
	}
	_, gomod, err := loadGomod(gobin, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, fmt.Errorf("load go.mod: %w", err)
	}
	replaced := map[string]bool{}
	for _, r := range gomod.Replace {
		replaced[strings.TrimRight(r.Old.Path, "/")] = true
	}
	var deps []*pulumirpc.DependencyInfo
	for _, r := range gomod.Require {
		if r.Indirect && !req.GetTransitiveDependencies() {
			continue
		}
		version := r.Mod.Version
		if replaced[strings.TrimRight(r.Mod.Path, "/")] {
			version = ""
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: r.Mod.Path, Version: version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}
