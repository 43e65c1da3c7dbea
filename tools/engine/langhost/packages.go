package main

// The packages a Python program needs, as upstream's Python host finds them: every distribution
// installed for the program's interpreter that ships a pulumi-plugin.json in its top-level
// package (as Pulumi's Python SDKs and this project's wheel do) or whose name starts with
// "pulumi-". The file names the plugin, its version and where to download it; a package without
// one is the plugin named after it ("pulumi-aws" -> "aws") at the distribution's version.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"waba-webhooks/tools/engine/hostkit"
)

// distributionsScript prints, for each distribution the interpreter has installed, its version
// and the pulumi-plugin.json of its top-level package ("" when it has none), as JSON.
const distributionsScript = `import importlib.metadata, importlib.util, json, os
found = {}
for dist in importlib.metadata.distributions():
    name = dist.metadata["Name"]
    if not name or name in found:
        continue
    path = ""
    try:
        spec = importlib.util.find_spec(name.replace("-", "_"))
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = os.path.join(str(location), "pulumi-plugin.json")
            if os.path.isfile(candidate):
                path = candidate
                break
    except Exception:
        pass
    found[name] = {"version": dist.version, "pluginJson": path}
print(json.dumps(found))
`

// withoutPlugins are distributions named pulumi-* that have no plugin (upstream's list).
var withoutPlugins = map[string]bool{"pulumi-policy": true, "pulumi-esc-sdk": true}

// plainVersion is a release version: one to three dot-separated numbers.
var plainVersion = regexp.MustCompile(`^\d+(\.\d+){0,2}$`)

type distribution struct {
	Version    string `json:"version"`
	PluginJSON string `json:"pluginJson"`
}

// GetRequiredPackages lists the provider plugins of the packages the program's interpreter has
// installed, for the engine to install before the program runs.
func (h *pythonHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	python, venv, err := resolvePython(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, python, "-c", distributionsScript)
	cmd.Env = venvEnv(os.Environ(), venv)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the packages installed for %s: %w", python, err)
	}
	var dists map[string]distribution
	if err := json.Unmarshal(out, &dists); err != nil {
		return nil, fmt.Errorf("listing the packages installed for %s: %w", python, err)
	}
	names := make([]string, 0, len(dists))
	for name := range dists {
		names = append(names, name)
	}
	sort.Strings(names)

	packages := []*pulumirpc.PackageDependency{}
	for _, name := range names {
		pkg, err := requiredPackage(normalizeName(name), dists[name])
		if err != nil {
			return nil, err
		}
		if pkg != nil {
			packages = append(packages, pkg)
		}
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// requiredPackage is the plugin distribution `name` needs, or nil when it needs none.
func requiredPackage(name string, dist distribution) (*pulumirpc.PackageDependency, error) {
	if withoutPlugins[name] {
		return nil, nil
	}
	var meta plugin.PulumiPluginJSON
	if dist.PluginJSON != "" {
		data, err := os.ReadFile(dist.PluginJSON)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", dist.PluginJSON, err)
		}
		if !meta.Resource {
			return nil, nil
		}
	} else if !strings.HasPrefix(name, "pulumi-") {
		return nil, nil
	}
	if meta.Name == "" {
		meta.Name = strings.TrimPrefix(name, "pulumi-")
	}
	if meta.Version == "" {
		// Upstream also turns PEP 440 pre-releases (1.2.3a4) into plugin versions; we take
		// release versions only and skip the others, as upstream does for what it cannot parse.
		if !plainVersion.MatchString(dist.Version) {
			return nil, nil
		}
		segments := strings.Split(dist.Version, ".")
		for len(segments) < 3 {
			segments = append(segments, "0")
		}
		meta.Version = strings.Join(segments, ".")
	}
	return hostkit.ResourcePackage(meta.Name, meta.Version, meta.Server), nil
}

// normalizeName is a distribution name as PEP 503 normalizes it (pip's `list` gives these).
func normalizeName(name string) string {
	return regexp.MustCompile(`[-_.]+`).ReplaceAllString(strings.ToLower(name), "-")
}
