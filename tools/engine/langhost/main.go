// Command pulumi-language-python is this project's own minimal Pulumi language host for Python.
//
// Upstream's host lives in a Go module (sdk/python/cmd/pulumi-language-python/v3) that the Go module
// proxy available to us refuses to serve, so we implement the small part of the LanguageRuntime gRPC
// contract that `pulumi preview/up/refresh/destroy` need. The Python half of the host — the
// `pulumi-language-python-exec` script shipped in the sdk/v3 module — does the real work; this binary
// only starts it with the right interpreter, flags and environment.
//
// Supported Pulumi.yaml runtime options: `virtualenv` (resolved against the project root) and
// `toolchain: pip|uv` (uv implies virtualenv `.venv`, as the dynamic-provider launcher script assumes).
// `pulumi install` installs a program's requirements.txt into its virtualenv, and a plugin's
// (plugin.go), as upstream's host does; `pulumi package add` generates and links a Python SDK
// (link.go). The packages a program needs are the pulumi-plugin.json files of the
// distributions its interpreter has installed (packages.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"waba-webhooks/tools/engine/hostkit"
)

// execScript is the Python entry point shipped next to this binary by tools/install-engine.
const execScript = "pulumi-language-python-exec"

func main() {
	hostkit.Main("pulumi-language-python", &pythonHost{})
}

type pythonHost struct {
	hostkit.Base
}

func (h *pythonHost) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python, _, err := resolvePython(req.GetInfo())
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", python, err)
	}
	ver := strings.TrimSpace(strings.TrimPrefix(string(out), "Python "))
	return &pulumirpc.AboutResponse{Executable: python, Version: ver}, nil
}

// InstallDependencies installs what a plugin (is_plugin: the engine installs a Python source
// plugin, plugin.go) or a program needs, as upstream's host does: for a program, with upstream's
// toolchain package, it makes the program's virtualenv (its `virtualenv` option; none: the
// ambient Python's site-packages) with `python3 -m venv`, updates pip, setuptools and wheel
// there and pip-installs requirements.txt (`pulumi install`, and `pulumi package add` after
// Link). Only the pip toolchain is supported.
func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	if req.GetIsPlugin() {
		return installPluginDependencies(req, stream)
	}
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return err
	}
	if opts.Toolchain != toolchain.Pip {
		return errors.New("installing a program's dependencies with toolchain uv is not supported by " +
			"this language host (use pip)")
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(stream, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	fmt.Fprint(stdout, "Installing dependencies...\n\n")
	if err := tc.InstallDependencies(stream.Context(), req.GetInfo().GetProgramDirectory(),
		req.GetUseLanguageVersionTools(), true /* showOutput */, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprint(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

// programOptions are the program's runtime options as upstream's toolchain package takes them:
// its root and folder, the `virtualenv` option as written, and the toolchain (pip when none is
// named).
func programOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := info.GetOptions().GetFields()
	options := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Virtualenv: stringOpt(opts, "virtualenv"),
		Toolchain:  toolchain.Pip,
	}
	switch tc := stringOpt(opts, "toolchain"); tc {
	case "", "pip":
	case "uv":
		options.Toolchain = toolchain.Uv
	default:
		return options, fmt.Errorf("runtime option toolchain: %q is not supported by this language host "+
			"(use pip or uv with a prepared virtualenv)", tc)
	}
	return options, nil
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	python, venv, err := resolvePython(info)
	if err != nil {
		return nil, err
	}
	script, err := findExecScript()
	if err != nil {
		return nil, err
	}

	// Older engines send only the deprecated Program field; newer ones send ProgramInfo.
	program := req.GetProgram() //nolint:staticcheck // fallback for engines without ProgramInfo
	rootDir := req.GetPwd()
	if info != nil {
		program = filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
		rootDir = info.GetRootDirectory()
	}

	// -u: unbuffered, so the program's prints interleave correctly with engine output.
	args := []string{"-u", script,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		// The exec script calls int() on this, so it must always be present.
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--monitor", req.GetMonitorAddress(),
	}
	// Optional ones are left out when empty so the SDK sees None rather than "".
	for _, opt := range [][2]string{
		{"--organization", req.GetOrganization()},
		{"--root_directory", rootDir},
		{"--engine", h.EngineAddress},
		{"--tracing", h.Tracing},
	} {
		if opt[1] != "" {
			args = append(args, opt[0], opt[1])
		}
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	configEnv, err := hostkit.ConfigEnv(req)
	if err != nil {
		return nil, err
	}

	return h.Execute(ctx, python, func(runCtx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(runCtx, python, args...)
		cmd.Dir = req.GetPwd()
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // the engine relays our streams to the user
		cmd.Env = append(venvEnv(os.Environ(), venv), configEnv...)
		return cmd
	}), nil
}

// resolvePython returns the interpreter to use and the absolute virtualenv directory ("" if none).
func resolvePython(info *pulumirpc.ProgramInfo) (python, venv string, err error) {
	opts := info.GetOptions().GetFields()
	venv = stringOpt(opts, "virtualenv")
	switch tc := stringOpt(opts, "toolchain"); tc {
	case "", "pip":
	case "uv":
		if venv == "" {
			venv = ".venv"
		}
	default:
		return "", "", fmt.Errorf("runtime option toolchain: %q is not supported by this language host "+
			"(use pip or uv with a prepared virtualenv)", tc)
	}

	if venv == "" {
		// Same override the dynamic-provider launcher script honours.
		if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
			return cmd, "", nil
		}
		return "python3", "", nil
	}
	if !filepath.IsAbs(venv) {
		base := info.GetRootDirectory()
		if base == "" {
			base = info.GetProgramDirectory()
		}
		venv = filepath.Join(base, venv)
	}
	python = filepath.Join(venv, "bin", "python")
	if _, statErr := os.Stat(python); statErr != nil {
		return "", "", fmt.Errorf("the virtualenv %s (runtime option 'virtualenv' in Pulumi.yaml) has no bin/python; "+
			"create it first: python3 -m venv %s && %s -m pip install pulumi", venv, venv, python)
	}
	return python, venv, nil
}

func stringOpt(opts map[string]*structpb.Value, key string) string {
	if v, ok := opts[key]; ok {
		return v.GetStringValue()
	}
	return ""
}

// venvEnv activates venv in env the way `source bin/activate` would.
func venvEnv(env []string, venv string) []string {
	if venv == "" {
		return env
	}
	path := filepath.Join(venv, "bin")
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		switch {
		case strings.HasPrefix(kv, "PYTHONHOME="), strings.HasPrefix(kv, "VIRTUAL_ENV="):
			// dropped: they would point python at another installation
		case strings.HasPrefix(kv, "PATH="):
			if old := strings.TrimPrefix(kv, "PATH="); old != "" {
				path += string(os.PathListSeparator) + old
			}
		default:
			out = append(out, kv)
		}
	}
	return append(out, "PATH="+path, "VIRTUAL_ENV="+venv)
}

// findExecScript looks next to this binary first (that is how tools/install-engine lays out the
// bin directory), then on PATH.
func findExecScript() (string, error) {
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			candidate := filepath.Join(filepath.Dir(self), execScript)
			if _, err := os.Stat(candidate); err == nil {
				return candidate, nil
			}
		}
	}
	if p, err := exec.LookPath(execScript); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found next to pulumi-language-python or on PATH; re-run tools/install-engine",
		execScript)
}
